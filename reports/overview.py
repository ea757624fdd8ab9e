"""The Meldpunt's overview of the whole area: grades, common problems, sectors, the trend.

The board wants to see the port area improve, per sector, without reading 400 reports. The
page shows the present (from the `Finding` table) and the past (replayed from the findings'
events by `reports.history`, so the last point of the trend is the present again).

Names: by default no company is named, and sectors with fewer than `MIN_GROUP` scanned
companies are put together under "other sectors", so that a board member cannot recognise a
company from a small sector's figures. `named=True` (`--named`) adds a table of all companies
for the Meldpunt's own use, and shows every sector as it is.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlmodel import Session, col, func, select

from exposure.models import CheckError, Company, Finding, utcnow
from exposure.severity import Severity
from reports import (
    area_problems,
    benchmark,
    coverage,
    history,
    render,
    scoring,
    svg,
    warning_effect,
    words,
)
from reports import calls as call_list
from reports.scoring import Grade, Item
from reports.specs import Specs

TREND_POINTS = 24


@dataclass(frozen=True, slots=True)
class SectorLine:
    label: str
    companies: int
    average: float | None  # None when the group is too small to show
    grades: Mapping[Grade, int]
    top_problem: str
    other: bool = False  # the combined small sectors


@dataclass(frozen=True, slots=True)
class TrendPoint:
    run_id: int
    at: datetime
    companies: int
    average: float | None
    grades: Mapping[Grade, int]
    by_severity: Mapping[Severity, int]  # open problems (one check id per company)
    critical_companies: int

    @property
    def problems(self) -> int:
        """Open problems that ask for action (info is inventory), as the report counts them."""
        return sum(n for s, n in self.by_severity.items() if s is not Severity.INFO)


@dataclass(frozen=True, slots=True)
class CompanyLine:
    id: str
    name: str
    sector: str
    points: int
    grade: Grade
    open_by_severity: Mapping[Severity, int]


@dataclass(frozen=True, slots=True)
class Overview:
    language: str
    generated_at: datetime
    meldpunt: render.Meldpunt
    named: bool
    companies_total: int  # active members
    companies_scanned: int
    average: float | None
    grades: Mapping[Grade, int]
    sectors: tuple[SectorLine, ...]
    trend: tuple[TrendPoint, ...]
    latest_run_at: datetime | None
    latest_run_errors: int
    min_group: int
    companies: tuple[CompanyLine, ...] = field(default=())  # only when named
    # Scanned, but no test completed: no grade, and left out of every grade figure.
    companies_untested: int = 0
    calls: call_list.CallList | None = None  # the morning call list; only when named
    # every open problem type by severity, and per sector the serious ones (never a top-N)
    problem_groups: tuple[area_problems.SeverityGroup, ...] = ()
    sector_shares: tuple[area_problems.SectorShare, ...] = ()
    effect: warning_effect.Effect | None = None  # proof that warnings work, per run


def build(
    session: Session,
    specs: Specs,
    language: str = "nl",
    *,
    named: bool = False,
    meldpunt: render.Meldpunt | None = None,
    now: datetime | None = None,
    points: int = TREND_POINTS,
    min_group: int = benchmark.MIN_GROUP,
) -> Overview:
    scanned = benchmark.scanned_scores(session)
    covered = coverage.of_companies(session, specs, scanned)
    scores = {cid: s for cid, s in scanned.items() if not covered[cid].nothing_tested}
    total = len(list(session.exec(select(Company.id).where(col(Company.active).is_(True)))))
    open_rows = list(
        session.exec(
            select(Finding.company_id, Finding.check_id, Finding.severity, Finding.title).where(
                Finding.status == "open"
            )
        )
    )
    open_rows = [r for r in open_rows if r[0] in scores]
    runs = history.runs_with_results(session)
    latest = runs[-1] if runs else None
    errors = (
        session.exec(
            select(func.count()).select_from(CheckError).where(CheckError.run_id == latest.id)
        ).one()
        if latest is not None
        else 0
    )
    return Overview(
        language=language,
        generated_at=now or utcnow(),
        meldpunt=meldpunt or render.Meldpunt(),
        named=named,
        companies_total=total,
        companies_scanned=len(scanned),
        companies_untested=len(scanned) - len(scores),
        average=scoring.average_points(s.score for s in scores.values()),
        grades=_grade_counts(s.score.grade for s in scores.values()),
        sectors=_sectors(scores, open_rows, specs, language, named, min_group),
        trend=tuple(_trend(session, specs, runs, points, set(scores))),
        latest_run_at=latest.at if latest else None,
        latest_run_errors=int(errors),
        min_group=min_group,
        companies=_company_lines(scores, open_rows, language) if named else (),
        calls=call_list.build(session, specs, language, now=now) if named else None,
        problem_groups=area_problems.grouped(open_rows, specs, language),
        sector_shares=area_problems.sector_shares(
            scores, open_rows, specs, language, named=named, min_group=min_group
        ),
        effect=warning_effect.build(session, most=points, active=set(scores)),
    )


def render_html(overview: Overview) -> str:
    return render.render(
        "overview.html.j2",
        overview.language,
        o=overview,
        charts=_charts(overview),
        morning=_morning_html(overview),
        aw=lambda key, **values: area_problems.w(key, overview.language, **values),
        ew=lambda key, **values: warning_effect.w(key, overview.language, **values),
        effect_summary=warning_effect.summary(overview.effect, overview.language)
        if overview.effect
        else "",
    )


def _morning_html(o: Overview) -> Markup:
    """The Meldpunt's morning sections at the top of the page (reports.calls)."""
    return call_list.render_html(o.calls) if o.calls is not None else Markup("")


# --- internals -----------------------------------------------------------------------------------


def _grade_counts(grades: Iterable[Grade]) -> dict[Grade, int]:
    counts = Counter(grades)
    return {g: counts.get(g, 0) for g in Grade}


def _sectors(
    scores: Mapping[str, benchmark.CompanyScore],
    rows: Sequence[tuple[str, str, str, str]],
    specs: Specs,
    language: str,
    named: bool,
    min_group: int,
) -> tuple[SectorLine, ...]:
    groups = benchmark.by_sector(scores)
    small = [key for key, members in groups.items() if len(members) < min_group]
    lines: list[SectorLine] = []
    for key, members in sorted(groups.items()):
        if key in small and not named:
            continue
        label = (
            words.sector_label(members[0].sector, language)
            if key
            else words.ui("unknown_sector", language)
        )
        lines.append(_sector_line(label, members, rows, specs, language, min_group, named))
    if small and not named:
        members = [m for key in small for m in groups[key]]
        lines.append(
            _sector_line(
                words.ui("other_sectors", language),
                members,
                rows,
                specs,
                language,
                min_group,
                named,
                other=True,
            )
        )
    return tuple(lines)


def _sector_line(
    label: str,
    members: Sequence[benchmark.CompanyScore],
    rows: Sequence[tuple[str, str, str, str]],
    specs: Specs,
    language: str,
    min_group: int,
    named: bool,
    other: bool = False,
) -> SectorLine:
    ids = {m.company_id for m in members}
    problems = area_problems.counts([r for r in rows if r[0] in ids], specs, language)
    average = benchmark.average(members, 1 if named else min_group)
    return SectorLine(
        label=label,
        companies=len(members),
        average=average.points,
        grades=_grade_counts(m.score.grade for m in members),
        top_problem=problems[0].title if problems else "",
        other=other,
    )


def _trend(
    session: Session,
    specs: Specs,
    runs: Sequence[history.RunInfo],
    most: int,
    active: set[str],
) -> list[TrendPoint]:
    """The area's average and grades at past runs. A company is graded at a run only when that
    run tested something of it (`coverage.at_run_of_companies`): a night our resolver died must
    not show up as the whole area turning green."""
    points = []
    for snap in history.snapshots(session, history.sample(runs, most)):
        at_run = coverage.at_run_of_companies(session, specs, snap.run.id, snap.companies & active)
        companies = {cid for cid, cov in at_run.items() if not cov.nothing_tested}
        items: dict[str, list[Item]] = defaultdict(list)
        problems: dict[tuple[str, str], Severity] = {}  # one per check id and company
        for state in snap.findings:
            if state.key.company_id not in companies or state.status not in ("open", "accepted"):
                continue
            severity = Severity.parse(state.severity)
            items[state.key.company_id].append(
                Item(
                    state.key.check_id,
                    severity,
                    state.status,
                    state.status == "accepted",
                    state.key.target,
                )
            )
            if state.status == "open":
                key = (state.key.company_id, state.key.check_id)
                problems[key] = max(problems.get(key, Severity.INFO), severity)
        by_severity: Counter[Severity] = Counter(problems.values())
        scores = [scoring.score(items.get(c, [])) for c in sorted(companies)]
        points.append(
            TrendPoint(
                run_id=snap.run.id,
                at=snap.run.at,
                companies=len(scores),
                average=scoring.average_points(scores),
                grades=_grade_counts(s.grade for s in scores),
                by_severity={s: by_severity.get(s, 0) for s in reversed(Severity)},
                critical_companies=sum(1 for s in scores if s.worst is Severity.CRITICAL),
            )
        )
    return points


def _company_lines(
    scores: Mapping[str, benchmark.CompanyScore],
    rows: Sequence[tuple[str, str, str, str]],
    language: str,
) -> tuple[CompanyLine, ...]:
    # Counted in problems (one check id per company, its worst host), as the report counts.
    worst: dict[tuple[str, str], Severity] = {}
    for company_id, check_id, sev, _title in rows:
        key = (company_id, check_id)
        worst[key] = max(worst.get(key, Severity.INFO), Severity.parse(sev))
    counts: dict[str, Counter[Severity]] = defaultdict(Counter)
    for (company_id, _check), severity in worst.items():
        counts[company_id][severity] += 1
    lines = [
        CompanyLine(
            id=s.company_id,
            name=s.name,
            sector=words.sector_label(s.sector, language) if s.sector else "",
            points=s.score.points,
            grade=s.score.grade,
            open_by_severity={sev: counts[s.company_id].get(sev, 0) for sev in reversed(Severity)},
        )
        for s in scores.values()
    ]
    # worst letter first, then lowest score: a capped C (a high problem) never sits below a B
    lines.sort(key=lambda line: (-line.grade.rank, line.points, line.name.lower(), line.id))
    return tuple(lines)


def _grade_pieces(grades: Mapping[Grade, int], language: str) -> list[tuple[str, float, str]]:
    return [(g.label(language), float(grades.get(g, 0)), svg.GRADE_COLORS[g]) for g in Grade]


def _charts(o: Overview) -> dict[str, Any]:
    lang = o.language
    charts: dict[str, Any] = {}
    charts["grades"] = svg.columns(
        [svg.Bar(g.value, o.grades.get(g, 0), svg.GRADE_COLORS[g]) for g in Grade],
        words.ui("by_grade", lang),
    )
    # the chart shows the serious problems; the table under it has every problem
    every = [p for g in o.problem_groups if g.severity in area_problems.SERIOUS for p in g.problems]
    if every:
        charts["problems"] = svg.hbars(
            [svg.Bar(p.title, p.companies, svg.SEVERITY_COLORS[p.severity]) for p in every],
            words.ui("common_problems", lang),
            maximum=max(o.companies_scanned, 1),
        )
    charts["sectors"] = {
        s.label: svg.share_bar(
            _grade_pieces(s.grades, lang), f"{words.ui('grades', lang)}: {s.label}"
        )
        for s in o.sectors
    }
    if o.effect is not None and len(o.effect.points) >= 2:  # one point is not a trend
        _effect_charts(o.effect, lang, charts)
    if len(o.trend) >= 2:
        labels = [warning_effect.point_label(p.at, lang) for p in o.trend]
        charts["trend_average"] = svg.line(
            [
                svg.Point(label, round(p.average) if p.average is not None else None)
                for label, p in zip(labels, o.trend, strict=True)
            ],
            words.ui("average_score", lang),
        )
        charts["trend_grades"] = svg.stacked(
            [
                (label, _grade_pieces(p.grades, lang))
                for label, p in zip(labels, o.trend, strict=True)
            ],
            words.ui("by_grade", lang),
        )
    return charts


def _effect_charts(effect: warning_effect.Effect, lang: str, charts: dict[str, Any]) -> None:
    """Charts of the warnings' effect: serious problems open, and fixed after a warning."""
    labels = [warning_effect.point_label(p.at, lang) for p in effect.points]
    highest = max(p.open_serious for p in effect.points)
    charts["effect_open"] = svg.line(
        [svg.Point(label, p.open_serious) for label, p in zip(labels, effect.points, strict=True)],
        warning_effect.w("chart_open", lang),
        high=float(max(5, math.ceil(highest * 1.2 / 5) * 5)),  # a round top: 5, 10, 15 ...
    )
    charts["effect_fixed"] = svg.columns(
        [
            svg.Bar(label, p.fixed_after_warning, svg.SEVERITY_COLORS[Severity.LOW])
            for label, p in zip(labels, effect.points, strict=True)
        ],
        warning_effect.w("chart_fixed", lang),
    )


__all__ = [
    "CompanyLine",
    "Overview",
    "SectorLine",
    "TrendPoint",
    "build",
    "render_html",
]
