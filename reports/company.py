"""A company's own report: the view model built from the store, and its HTML.

The owner wants to know "how are we doing and what first"; the IT supplier wants the evidence.
`build` gathers everything for one company, and only for that company: its open findings with
the words of the checks that raised them, its grade (`reports.scoring`), what changed since its
previous scan (`reports.history`), and how it compares with the anonymous averages of its
sector and of the whole area (`reports.benchmark`). `render_html` turns that into one
self-contained page through the shared, autoescaping environment (`reports.render`).

Every string in the view model is plain text; the template escapes it. Nothing here builds
markup, so nothing here can forget to escape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlmodel import Session, col, select

from exposure.catalogue import Theme
from exposure.contract import Effort
from exposure.models import CheckError, Company, Finding, FindingEvent, Target, utcnow
from exposure.severity import Severity
from exposure.store.queries import FindingRow, list_findings
from reports import (
    benchmark,
    certainty,
    codes,
    coverage,
    discovered,
    history,
    render,
    scoring,
    svg,
    words,
)
from reports.hosts import display_host, public_evidence
from reports.scoring import Item, Score
from reports.specs import Specs

TOP_ACTIONS = 5
MAX_HOSTS_SHOWN = 4


class UnknownCompanyError(LookupError):
    """No company with this id: the CLI says so in one line."""


# --- the view model ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    id: str
    name: str
    sector: str
    sector_label: str
    domains: tuple[str, ...]
    addresses: tuple[str, ...]  # IPs and networks
    # `domains`: the registered domains, then the host names discovery found (with "gevonden via")


@dataclass(frozen=True, slots=True)
class HostFinding:
    """One finding: one problem on one host, with its evidence (appendix material)."""

    fingerprint: str
    check_id: str
    target: str
    discriminator: str
    severity: Severity
    status: str
    detail: str
    evidence: dict[str, object]
    first_seen: datetime
    last_seen: datetime
    accepted_reason: str = ""
    accepted_until: datetime | None = None
    # the host as the owner reads it where its target was found by discovery (issue #22):
    # `127.0.0.5 (gevonden via certificaatregistratie: vpn.bedrijf.nl)`; "" otherwise
    where: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem (one check id) on one or more hosts, in the owner's words."""

    check_id: str
    severity: Severity
    theme: Theme | None
    title: str
    risk: str
    remediation: str
    technical: str
    effort: Effort
    hosts: tuple[HostFinding, ...]
    since: datetime
    is_new: bool = False
    came_back: bool = False
    probable: bool = False  # rests on an open port alone: "waarschijnlijk" (reports.certainty)
    seen: tuple[str, ...] = ()  # for a probable problem: what exactly was seen, per host
    fixes: tuple[codes.Explained, ...] = ()  # each code in the evidence, with its one-line fix

    @property
    def targets(self) -> tuple[str, ...]:
        """The hosts as a person reads them (Unicode names for IDN domains)."""
        return tuple(dict.fromkeys(h.where or display_host(h.target) for h in self.hosts))


@dataclass(frozen=True, slots=True)
class ThemeSection:
    """One topic in one of three states (`reports.coverage`): green only when it passed."""

    theme: Theme | None
    title: str
    intro: str
    problems: tuple[Problem, ...]
    state: coverage.State
    passed: tuple[str, ...] = ()  # targets where every test of this topic completed cleanly
    untested: tuple[tuple[str, str], ...] = ()  # (target, reason in words)
    absent: tuple[str, ...] = ()  # targets with nothing there to test (no website at all)
    reason: str = ""  # why nothing of this topic could be tested (no target at all)

    @property
    def worst(self) -> Severity | None:
        return max((p.severity for p in self.problems), default=None)

    @property
    def is_passed(self) -> bool:
        return self.state is coverage.State.PASSED


@dataclass(frozen=True, slots=True)
class ActionView:
    rank: int
    check_id: str
    severity: Severity
    effort: Effort
    title: str
    remediation: str
    targets: tuple[str, ...]
    more_targets: int
    points: int


@dataclass(frozen=True, slots=True)
class Change:
    """A problem that is new, came back or was fixed since the previous scan."""

    check_id: str
    title: str
    targets: tuple[str, ...]
    severity: Severity


@dataclass(frozen=True, slots=True)
class Changes:
    previous_scan: datetime | None  # None: this is the first scan
    points_before: int | None
    grade_before: scoring.Grade | None
    new: tuple[Change, ...] = ()
    came_back: tuple[Change, ...] = ()
    resolved: tuple[Change, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.new or self.came_back or self.resolved)


@dataclass(frozen=True, slots=True)
class Comparison:
    sector_label: str
    sector: benchmark.Average | None  # None: the company has no sector
    area: benchmark.Average
    min_group: int


@dataclass(frozen=True, slots=True)
class Untested:
    target: str
    check: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class CompanyReport:
    """Everything the company page shows; values only, no markup."""

    language: str
    generated_at: datetime
    meldpunt: render.Meldpunt
    company: CompanyInfo
    scanned_at: datetime | None  # the latest complete scan of this company; None: never
    score: Score
    actions: tuple[ActionView, ...]
    more_actions: int
    sections: tuple[ThemeSection, ...]
    changes: Changes
    comparison: Comparison | None
    accepted: tuple[Problem, ...]
    appendix: tuple[Problem, ...]
    untested: tuple[Untested, ...]
    method: tuple[str, ...]
    coverage: coverage.Coverage = field(default_factory=lambda: coverage.Coverage(()))
    deductions: tuple[tuple[str, int], ...] = field(default=())  # (title, points lost)
    budget_relief: int = 0  # points given back because low problems have a budget
    floor_lift: int = 0  # points given back by the floor below 30 (scoring rule 5)

    @property
    def grade_color(self) -> str:
        return svg.GRADE_COLORS[self.score.grade]

    @property
    def graded(self) -> bool:
        """A grade only rests on tests that ran: nothing tested, no grade (never a perfect one)."""
        return self.scanned_at is not None and not self.coverage.nothing_tested


# --- building ------------------------------------------------------------------------------------


def build(
    session: Session,
    company_id: str,
    specs: Specs,
    language: str = "nl",
    *,
    meldpunt: render.Meldpunt | None = None,
    now: datetime | None = None,
    top: int = TOP_ACTIONS,
    min_group: int = benchmark.MIN_GROUP,
) -> CompanyReport:
    """The report of one company. Raises UnknownCompanyError for an unknown id."""
    company = session.get(Company, company_id)
    if company is None:
        raise UnknownCompanyError(f"unknown company {company_id!r}")
    # Inventory (no website at all) is a state of the topic (`reports.coverage`), not a problem.
    rows = [
        r
        for r in list_findings(session, company_id=company_id, status="all")
        if r.check_id not in coverage.INVENTORY_IDS
    ]
    current = [r for r in rows if r.status in ("open", "accepted")]
    runs = history.company_runs(session, company_id)
    latest = runs[-1] if runs else None
    previous = runs[-2] if len(runs) > 1 else None

    items = [_item(r) for r in current]
    score = scoring.score(items)
    ranked = scoring.rank_actions(items, specs.efforts())
    flags = _flags(session, company_id, latest, previous)
    labels = discovered.labels_by_target(session, company_id, language)
    shown = {r.target: _where(r, labels) for r in current if r.target_id in labels}
    problems = _problems([r for r in current if r.status == "open"], specs, language, flags, shown)
    accepted = _problems(
        [r for r in current if r.status == "accepted"], specs, language, flags, shown
    )
    errors = _errors(session, company_id, latest)
    covered = coverage.of_company(session, specs, company_id)

    return CompanyReport(
        language=language,
        generated_at=now or utcnow(),
        meldpunt=meldpunt or render.Meldpunt(),
        company=_company_info(session, company, language),
        scanned_at=latest.at if latest else None,
        score=score,
        actions=tuple(_action(a, specs, language, rows, shown) for a in ranked[:top]),
        more_actions=max(len(ranked) - top, 0),
        sections=_sections(problems, language, covered),
        changes=_changes(session, company_id, rows, previous, specs, language),
        comparison=(
            _comparison(session, specs, company, language, min_group)
            if latest and not covered.nothing_tested
            else None
        ),
        accepted=tuple(accepted),
        appendix=tuple(problems) + tuple(accepted),
        untested=tuple(
            Untested(
                e.target,
                specs.family_title(e.check_id, language),
                words.failure_reason(e.reason, language),
                e.message,
            )
            for e in errors
        ),
        method=tuple(scoring.method_text(language)),
        deductions=tuple(
            (specs.title(d.check_id, language, _stored_title(rows, d.check_id)), round(d.points))
            for d in score.deductions
            if d.points > 0
        ),
        budget_relief=round(sum(score.budget_relief.values())),
        floor_lift=_floor_lift(score),
        coverage=covered,
    )


def _floor_lift(score: scoring.Score) -> int:
    """What the floor of scoring rule 5 gave back, so that "where the points went" adds up."""
    lost = sum(round(d.points) for d in score.deductions if d.points > 0)
    raw = scoring.MAX_POINTS - lost + round(sum(score.budget_relief.values()))
    return max(score.points - raw, 0)


def render_html(report: CompanyReport, portal: object | None = None) -> str:
    """The self-contained HTML page of a report. `portal` (an `exposure.app.portal.pages.PortalView`)
    adds the portal's navigation and accept forms, and allows forms posting to the page's own
    site; without it the page has no form at all."""
    return render.render(
        "company.html.j2", report.language, report=report, charts=_charts(report), portal=portal
    )


# --- internals -----------------------------------------------------------------------------------


def _item(row: FindingRow) -> Item:
    return Item(
        row.check_id,
        Severity.parse(row.severity),
        row.status,
        row.status == "accepted",
        row.target,
    )


def _company_info(session: Session, company: Company, language: str) -> CompanyInfo:
    targets = list(
        session.exec(
            select(Target)
            .where(Target.company_id == company.id)
            .order_by(col(Target.kind), col(Target.value))
        )
    )
    found = discovered.labels(session, company.id, language)  # hosts discovery found (#22)
    shown = {t.value: found.get(t.value) or t.display or t.value for t in targets}
    names = ("domain", "host")  # registered domains, then the host names discovery found
    domains = tuple(shown[t.value] for t in sorted(targets, key=_name_order) if t.kind in names)
    addresses = tuple(shown[t.value] for t in targets if t.kind not in names)
    return CompanyInfo(
        id=company.id,
        name=company.name,
        sector=company.sector,
        sector_label=words.sector_label(company.sector, language) if company.sector else "",
        domains=domains,
        addresses=addresses,
    )


def _name_order(target: Target) -> tuple[int, str]:
    return (0 if target.kind == "domain" else 1, target.value)


@dataclass(frozen=True, slots=True)
class _Flags:
    """Which findings opened or came back at the latest scan (when there was one before)."""

    new: frozenset[int] = frozenset()
    came_back: frozenset[int] = frozenset()


def _window_events(
    session: Session, company_id: str, previous: history.RunInfo | None
) -> list[FindingEvent]:
    """The events of this company's findings after its previous scan, oldest first."""
    if previous is None:
        return []
    query = (
        select(FindingEvent)
        .join(Finding, col(Finding.id) == col(FindingEvent.finding_id))
        .where(Finding.company_id == company_id)
        .where(col(FindingEvent.run_id) > previous.id)
        .order_by(col(FindingEvent.at), col(FindingEvent.id))
    )
    return list(session.exec(query))


def _flags(
    session: Session,
    company_id: str,
    latest: history.RunInfo | None,
    previous: history.RunInfo | None,
) -> _Flags:
    if latest is None or previous is None:
        return _Flags()
    last: dict[int, str] = {}
    for event in _window_events(session, company_id, previous):
        if event.event in ("opened", "reopened", "resolved"):
            last[event.finding_id] = event.event
    return _Flags(
        new=frozenset(f for f, e in last.items() if e == "opened"),
        came_back=frozenset(f for f, e in last.items() if e == "reopened"),
    )


def _where(row: FindingRow, labels: Mapping[int, str]) -> str:
    label = labels.get(row.target_id) if row.target_id is not None else None
    return discovered.named(display_host(row.target), row.target, label)


def _host(row: FindingRow, shown: Mapping[str, str]) -> HostFinding:
    return HostFinding(
        fingerprint=row.fingerprint,
        check_id=row.check_id,
        target=row.target,
        discriminator=row.discriminator,
        severity=Severity.parse(row.severity),
        status=row.status,
        detail=row.detail,
        evidence=public_evidence(row.evidence),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        accepted_reason=row.accepted_reason,
        accepted_until=row.accepted_until,
        where=shown.get(row.target, ""),
    )


def _problems(
    rows: Sequence[FindingRow],
    specs: Specs,
    language: str,
    flags: _Flags,
    shown: Mapping[str, str],
) -> list[Problem]:
    groups: dict[str, list[FindingRow]] = defaultdict(list)
    for row in rows:
        groups[row.check_id].append(row)
    problems = []
    for check_id, group in groups.items():
        hosts = sorted(group, key=lambda r: (-Severity.parse(r.severity).rank, r.target))
        probable = certainty.all_probable(r.evidence for r in group)
        title = specs.title(check_id, language, group[0].title)
        problems.append(
            Problem(
                check_id=check_id,
                severity=max(Severity.parse(r.severity) for r in group),
                theme=specs.theme(check_id),
                title=certainty.probable_title(title, language) if probable else title,
                risk=specs.risk(check_id, language),
                remediation=specs.remediation(check_id, language),
                technical=specs.technical(check_id, language),
                effort=specs.effort(check_id),
                hosts=tuple(_host(r, shown) for r in hosts),
                since=min(r.first_seen for r in group),
                is_new=any(r.id in flags.new for r in group),
                came_back=any(r.id in flags.came_back for r in group),
                probable=probable,
                fixes=codes.explain(specs.codes, check_id, (r.evidence for r in group), language),
                seen=tuple(
                    certainty.seen_line(r.evidence, display_host(r.target), language) for r in hosts
                )
                if probable
                else (),
            )
        )
    problems.sort(key=lambda p: (-p.severity.rank, p.title.lower(), p.check_id))
    return problems


def _errors(session: Session, company_id: str, latest: history.RunInfo | None) -> list[CheckError]:
    if latest is None:
        return []
    return list(
        session.exec(
            select(CheckError)
            .where(CheckError.run_id == latest.id)
            .where(CheckError.company_id == company_id)
            .order_by(col(CheckError.check_id), col(CheckError.target), col(CheckError.id))
        )
    )


def _sections(
    problems: Sequence[Problem], language: str, covered: coverage.Coverage
) -> tuple[ThemeSection, ...]:
    by_theme: dict[Theme | None, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_theme[problem.theme].append(problem)
    sections = []
    for theme in words.THEME_ORDER:
        cov = covered.theme(theme)
        # Open problems make it "findings"; only accepted risks left stays "findings" too
        # (never a pass), and the page says the problems were accepted.
        state = coverage.State.FINDINGS if by_theme.get(theme) else cov.state
        sections.append(
            ThemeSection(
                theme=theme,
                title=words.theme_title(theme, language),
                intro=words.theme_intro(theme, language),
                problems=tuple(by_theme.get(theme, ())),
                state=state,
                passed=tuple(display_host(t.target) for t in cov.having(coverage.State.PASSED)),
                absent=tuple(display_host(t.target) for t in cov.having(coverage.State.ABSENT)),
                untested=tuple(
                    (display_host(t.target), words.coverage_reason(t.reason, language))
                    for t in cov.not_tested
                ),
                reason=words.coverage_reason(cov.reason, language) if cov.reason else "",
            )
        )
    if by_theme.get(None):
        sections.append(
            ThemeSection(
                theme=None,
                title=words.theme_title(None, language),
                intro="",
                problems=tuple(by_theme[None]),
                state=coverage.State.FINDINGS,
            )
        )
    return tuple(sections)


def _stored_title(rows: Sequence[FindingRow], check_id: str) -> str:
    return next((r.title for r in rows if r.check_id == check_id and r.title), "")


def _action_title(check_id: str, specs: Specs, language: str, rows: Sequence[FindingRow]) -> str:
    title = specs.title(check_id, language, _stored_title(rows, check_id))
    group = [r.evidence for r in rows if r.check_id == check_id and r.status == "open"]
    return certainty.probable_title(title, language) if certainty.all_probable(group) else title


def _action(
    action: scoring.Action,
    specs: Specs,
    language: str,
    rows: Sequence[FindingRow],
    shown: Mapping[str, str],
) -> ActionView:
    return ActionView(
        rank=action.rank,
        check_id=action.check_id,
        severity=action.severity,
        effort=action.effort,
        title=_action_title(action.check_id, specs, language, rows),
        remediation=specs.remediation(action.check_id, language),
        targets=tuple(shown.get(t) or display_host(t) for t in action.targets[:MAX_HOSTS_SHOWN]),
        more_targets=max(len(action.targets) - MAX_HOSTS_SHOWN, 0),
        points=action.points,
    )


def _changes(
    session: Session,
    company_id: str,
    rows: Sequence[FindingRow],
    previous: history.RunInfo | None,
    specs: Specs,
    language: str,
) -> Changes:
    if previous is None:
        return Changes(previous_scan=None, points_before=None, grade_before=None)
    by_id = {r.id: r for r in rows}
    last: dict[int, FindingEvent] = {}
    for event in _window_events(session, company_id, previous):
        if event.event in ("opened", "reopened", "resolved"):
            last[event.finding_id] = event
    kinds: dict[str, dict[str, list[FindingRow]]] = {
        "opened": defaultdict(list),
        "reopened": defaultdict(list),
        "resolved": defaultdict(list),
    }
    for finding_id, event in last.items():
        row = by_id.get(finding_id)
        if row is None:
            continue
        # What happened must still be true: "fixed" only if it is resolved now, etc.
        if (event.event == "resolved") != (row.status == "resolved"):
            continue
        kinds[event.event][row.check_id].append(row)

    def changes(kind: str) -> tuple[Change, ...]:
        result = [
            Change(
                check_id=check_id,
                title=specs.title(check_id, language, group[0].title),
                targets=tuple(sorted({display_host(r.target) for r in group})),
                severity=max(Severity.parse(r.severity) for r in group),
            )
            for check_id, group in kinds[kind].items()
        ]
        return tuple(sorted(result, key=lambda c: (-c.severity.rank, c.title.lower())))

    before = history.snapshots(session, [previous], [company_id])
    items = [
        Item(
            s.key.check_id,
            Severity.parse(s.severity),
            s.status,
            s.status == "accepted",
            s.key.target,
        )
        for s in (before[0].findings if before else ())
    ]
    score_before = scoring.score(items)
    # No grade from a run that could test nothing of the company (never "was A" on no tests).
    graded_before = not coverage.at_run(session, specs, company_id, previous.id).nothing_tested
    return Changes(
        previous_scan=previous.at,
        points_before=score_before.points if graded_before else None,
        grade_before=score_before.grade if graded_before else None,
        new=changes("opened"),
        came_back=changes("reopened"),
        resolved=changes("resolved"),
    )


def _comparison(
    session: Session, specs: Specs, company: Company, language: str, min_group: int
) -> Comparison:
    scores = benchmark.graded_scores(session, specs)
    area = benchmark.average(scores.values(), min_group)
    sector: benchmark.Average | None = None
    if company.sector.strip():
        key = benchmark.sector_key(company.sector)
        group = [s for s in scores.values() if benchmark.sector_key(s.sector) == key]
        sector = benchmark.average(group, min_group)
    return Comparison(
        sector_label=words.sector_label(company.sector, language) if company.sector else "",
        sector=sector,
        area=area,
        min_group=min_group,
    )


def _charts(report: CompanyReport) -> dict[str, Markup]:
    charts: dict[str, Markup] = {}
    comparison = report.comparison
    if comparison is not None:
        lang = report.language
        bars = [
            svg.Bar(
                words.ui("you", lang),
                report.score.points,
                report.grade_color,
                strong=True,
            )
        ]
        if comparison.sector is not None and comparison.sector.points is not None:
            bars.append(
                svg.Bar(
                    f"{words.ui('sector_average', lang)} ({comparison.sector_label})",
                    round(comparison.sector.points),
                    svg.MUTED,
                )
            )
        if comparison.area.points is not None:
            bars.append(
                svg.Bar(words.ui("area_average", lang), round(comparison.area.points), svg.MUTED)
            )
        if len(bars) > 1:
            charts["comparison"] = svg.hbars(bars, words.ui("compare", lang), maximum=100)
    return charts
