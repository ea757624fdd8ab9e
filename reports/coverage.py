"""What was tested: per topic and per target, "passed", "findings" or "could not test".

Why this module exists: DESIGN.md ("What a verdict may claim") keeps three states apart, and a
report that only knows the findings cannot: a topic without findings looks green whether its
checks passed, timed out, or never applied (a company without a domain has no website to test).
One green tick over an untested website costs the Meldpunt more trust than a hundred correct
findings earn. So every output asks this module, and only a (topic, target) pair whose checks
all completed without a problem is `PASSED`.

The facts come from the store (targets, the company's latest complete scan per check family,
the `CheckError`s of that scan, the open and accepted findings) and from the installed checks
through `Specs` (which family applies to which target kind and covers which topic). Nothing here
renders text: reasons are codes that `reports.words.coverage_reason` turns into plain words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from exposure.catalogue import Theme
from exposure.models import CheckError, Finding, RunCompany, ScanRun, Target
from reports.specs import Specs

#: Themes in the order reports show them.
THEMES: tuple[Theme, ...] = (
    Theme.WEBSITE,
    Theme.EMAIL,
    Theme.SECURITYTXT,
    Theme.DEVICES,
    Theme.DOMAIN,
)

#: Topics that need a name that leads somewhere: on a domain that does not resolve there is no
#: site, no security.txt and no address to look up, so "no findings" there means "not tested".
NEEDS_ADDRESS: frozenset[Theme] = frozenset({Theme.WEBSITE, Theme.SECURITYTXT, Theme.DEVICES})
UNRESOLVABLE_ID = "target.unresolvable"
#: Inventory a site check records when neither the domain nor `www.` has an address: there is
#: no website to test. Topics that live on a website are then ABSENT, neither green nor a problem.
NO_SITE_ID = "web.site.none"
NEEDS_SITE: frozenset[Theme] = frozenset({Theme.WEBSITE, Theme.SECURITYTXT})
#: `web.site.none` with this discriminator: a discovered host whose name has no address any more
#: (checks/web): nothing at all can be tested there, so every topic of that host is ABSENT, not
#: a green "devices: fine" from a Shodan look-up that had no address to ask about.
NO_ADDRESS = "no-address"
#: Finding ids that are facts about what is there, not problems: reports show them as a state.
INVENTORY_IDS: frozenset[str] = frozenset({NO_SITE_ID})

# Reason codes besides the `FailureReason` values a check reports.
NOT_SCANNED = "not_scanned"  # no complete scan of this company ran this check yet
UNRESOLVABLE = "unresolvable"  # the domain leads nowhere (target.unresolvable)
NO_DOMAIN = "no_domain"  # the topic needs a domain and the company registered none
NO_TARGET = "no_target"  # the company registered nothing this topic applies to


class State(StrEnum):
    PASSED = "passed"  # every check completed and saw no problem: the only green state
    FINDINGS = "findings"  # a check saw a problem
    UNTESTED = "untested"  # could not test (or not everything): never green, never a pass
    ABSENT = "absent"  # nothing there to test (no website at all): neither green nor a problem


@dataclass(frozen=True, slots=True)
class TargetCoverage:
    """One registered target (a domain, an IP, a network) under one topic."""

    target: str  # the canonical value (reports show it with `display_host`)
    state: State
    # Why (part of) it could not be tested: a FailureReason value or one of the codes above.
    # Always set for UNTESTED; set for FINDINGS when another test of the topic did not complete.
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ThemeCoverage:
    theme: Theme
    state: State
    targets: tuple[TargetCoverage, ...]
    reason: str = ""  # for UNTESTED without any target: NO_DOMAIN, NO_TARGET or NOT_SCANNED

    def having(self, state: State) -> tuple[TargetCoverage, ...]:
        return tuple(t for t in self.targets if t.state is state)

    @property
    def not_tested(self) -> tuple[TargetCoverage, ...]:
        """Targets where (part of) this topic could not be tested, with the reason."""
        return tuple(t for t in self.targets if t.reason)


@dataclass(frozen=True, slots=True)
class Coverage:
    """The three states of one company, per topic and target."""

    themes: tuple[ThemeCoverage, ...]

    def theme(self, theme: Theme) -> ThemeCoverage:
        for item in self.themes:
            if item.theme is theme:
                return item
        return ThemeCoverage(theme, State.UNTESTED, (), NO_TARGET)

    @property
    def parts(self) -> int:
        """(topic, target) pairs we meant to test, plus one for a topic without any target.
        A pair with nothing there to test (ABSENT: no website) is not a part."""
        return sum(
            sum(1 for x in t.targets if x.state is not State.ABSENT) if t.targets else 1
            for t in self.themes
        )

    @property
    def decided(self) -> int:
        """Pairs a test completed on (passed or found something): what a grade may rest on."""
        return sum(
            1 for t in self.themes for x in t.targets if x.state in (State.PASSED, State.FINDINGS)
        )

    @property
    def nothing_tested(self) -> bool:
        """No test completed anywhere: such a company gets no grade (never a perfect one)."""
        return self.decided == 0 and not any(t.state is State.FINDINGS for t in self.themes)

    @property
    def untested(self) -> int:
        return self.parts - self.decided

    def could_not_test(self) -> tuple[NotTested, ...]:
        """Where a test of the latest scan did not complete, with the reason, in the order of
        the topics: what a warning says it could not test. A topic that was not in the scan
        (`NOT_SCANNED`) or has nothing to test (no domain, no target) is not a failed test."""
        return tuple(
            NotTested(theme.theme, t.target, t.reason)
            for theme in self.themes
            for t in theme.targets
            if t.reason and t.reason != NOT_SCANNED
        )


@dataclass(frozen=True, slots=True)
class NotTested:
    """One (topic, target) pair a test of the latest scan could not decide, and why."""

    theme: Theme
    target: str  # the canonical value (show it with `display_host`)
    reason: str  # a FailureReason value or UNRESOLVABLE


# --- the pure core -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetFact:
    id: int | None
    kind: str  # domain | ip | network
    value: str


@dataclass(frozen=True, slots=True)
class ErrorFact:
    family: str
    target_id: int | None
    target: str
    reason: str
    finding_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FindingFact:
    check_id: str
    target_id: int | None
    discriminator: str = ""


def compute(
    specs: Specs,
    targets: Sequence[TargetFact],
    findings: Iterable[FindingFact],
    errors: Iterable[ErrorFact],
    tested_families: Iterable[str],
) -> Coverage:
    """The coverage of one company from plain facts (no database: tests call this directly).

    `tested_families` are the check families a complete scan of this company ran; `errors` are
    the failures of that scan; `findings` the open and accepted ones.
    """
    ran = frozenset(tested_families)
    found: dict[tuple[Theme, int | None], int] = defaultdict(int)
    found_theme: set[Theme] = set()
    unresolvable: set[int | None] = set()
    no_site: set[int | None] = set()
    gone: set[int | None] = set()
    for f in findings:
        theme = specs.theme(f.check_id)
        if f.check_id == UNRESOLVABLE_ID:
            unresolvable.add(f.target_id)
        if f.check_id == NO_SITE_ID:
            no_site.add(f.target_id)
            if f.discriminator == NO_ADDRESS:
                gone.add(f.target_id)
        if theme is None or f.check_id in INVENTORY_IDS:
            continue
        found[(theme, f.target_id)] += 1
        found_theme.add(theme)
    failed: dict[tuple[str, Theme, int | None], str] = {}
    for e in errors:
        ids = set(e.finding_ids) or specs.ids_of_family(e.family)
        themes = {t for t in (specs.theme(i) for i in ids) if t is not None}
        hit = [t for t in targets if (e.target_id is not None and t.id == e.target_id)]
        if not hit:  # an error we cannot place on a target covers every target
            hit = [t for t in targets if e.target in ("", t.value)] or list(targets)
        for theme in themes:
            for t in hit:
                failed.setdefault((e.family, theme, t.id), e.reason)

    result = []
    for theme in THEMES:
        families = specs.families_of_theme(theme)
        rows: list[TargetCoverage] = []
        for t in targets:
            applying = [f for f in families if t.kind in specs.kinds_of_family(f)]
            if not applying:
                continue
            rows.append(
                _target_state(theme, t, applying, ran, found, failed, unresolvable, no_site, gone)
            )
        result.append(_theme_state(theme, tuple(rows), theme in found_theme, targets, ran))
    return Coverage(tuple(result))


def _target_state(
    theme: Theme,
    target: TargetFact,
    families: Sequence[str],
    ran: frozenset[str],
    found: Mapping[tuple[Theme, int | None], int],
    failed: Mapping[tuple[str, Theme, int | None], str],
    unresolvable: set[int | None],
    no_site: set[int | None],
    gone: set[int | None],
) -> TargetCoverage:
    reason = ""
    for family in families:
        reason = NOT_SCANNED if family not in ran else failed.get((family, theme, target.id), "")
        if reason:
            break
    if not reason and theme in NEEDS_ADDRESS and target.kind == "domain":
        reason = UNRESOLVABLE if target.id in unresolvable else ""
    if found.get((theme, target.id)):
        # Found something, and perhaps could not test the rest: both are said.
        return TargetCoverage(target.value, State.FINDINGS, reason)
    if reason:
        return TargetCoverage(target.value, State.UNTESTED, reason)
    if (theme in NEEDS_SITE and target.id in no_site) or target.id in gone:
        return TargetCoverage(target.value, State.ABSENT)
    return TargetCoverage(target.value, State.PASSED)


def _theme_state(
    theme: Theme,
    rows: tuple[TargetCoverage, ...],
    has_findings: bool,
    targets: Sequence[TargetFact],
    ran: frozenset[str],
) -> ThemeCoverage:
    if has_findings:
        return ThemeCoverage(theme, State.FINDINGS, rows)
    if not rows:
        if not ran:
            reason = NOT_SCANNED
        elif not any(t.kind == "domain" for t in targets):
            reason = NO_DOMAIN
        else:
            reason = NO_TARGET
        return ThemeCoverage(theme, State.UNTESTED, rows, reason)
    if all(r.state is State.ABSENT for r in rows):
        return ThemeCoverage(theme, State.ABSENT, rows)
    # UNTESTED rows and FINDINGS rows excluded; a domain without a site beside one that passed
    # leaves the topic passed (the page names the domain without a site).
    if all(r.state in (State.PASSED, State.ABSENT) for r in rows):
        return ThemeCoverage(theme, State.PASSED, rows)
    return ThemeCoverage(theme, State.UNTESTED, rows)


# --- from the store ------------------------------------------------------------------------------


def at_run(session: Session, specs: Specs, company_id: str, run_id: int) -> Coverage:
    """What one run could test of one company, from that run's scope and failures alone: a past
    grade ("since the last scan: B") may only be shown when that run tested something. A company
    the run did not finish tested nothing in it. Findings are left out on purpose: a check that
    failed on a target found nothing there, so the failures alone say whether anything ran."""
    return at_run_of_companies(session, specs, run_id, [company_id])[company_id]


def at_run_of_companies(
    session: Session, specs: Specs, run_id: int, company_ids: Iterable[str]
) -> dict[str, Coverage]:
    """`at_run` for many companies of one run, with three queries: the overview's trend asks it
    for every company at every point, and grades only what that run tested."""
    wanted = sorted(set(company_ids))
    targets: dict[str, list[TargetFact]] = defaultdict(list)
    for t in session.exec(
        select(Target)
        .where(col(Target.company_id).in_(wanted))
        .order_by(col(Target.kind), col(Target.value))
    ):
        targets[t.company_id].append(TargetFact(t.id, t.kind, t.value))
    done: dict[str, list[str]] = {}
    for company_id, scope in session.exec(
        select(RunCompany.company_id, ScanRun.scope)
        .join(ScanRun, col(ScanRun.id) == col(RunCompany.run_id))
        .where(RunCompany.run_id == run_id)
        .where(col(RunCompany.company_id).in_(wanted))
        .where(RunCompany.status == "done")
    ):
        done[company_id] = (scope or {}).get("checks") or list(specs.families())
    errors: dict[str, list[ErrorFact]] = defaultdict(list)
    if done:
        for e in session.exec(
            select(CheckError)
            .where(CheckError.run_id == run_id)
            .where(col(CheckError.company_id).in_(sorted(done)))
        ):
            errors[e.company_id].append(
                ErrorFact(e.check_id, e.target_id, e.target, e.reason, tuple(e.finding_ids))
            )
    return {
        cid: compute(specs, targets.get(cid, []), [], errors.get(cid, []), done.get(cid, []))
        for cid in wanted
    }


def of_company(session: Session, specs: Specs, company_id: str) -> Coverage:
    return of_companies(session, specs, [company_id])[company_id]


def of_companies(
    session: Session, specs: Specs, company_ids: Iterable[str] | None = None
) -> dict[str, Coverage]:
    """The coverage of several companies with a handful of queries (overview, portal list)."""
    wanted = None if company_ids is None else sorted(set(company_ids))
    targets: dict[str, list[TargetFact]] = defaultdict(list)
    query = select(Target).order_by(col(Target.kind), col(Target.value))
    if wanted is not None:
        query = query.where(col(Target.company_id).in_(wanted))
    for t in session.exec(query):
        targets[t.company_id].append(TargetFact(t.id, t.kind, t.value))

    runs_query = (
        select(RunCompany.company_id, ScanRun.id, ScanRun.scope)
        .join(ScanRun, col(ScanRun.id) == col(RunCompany.run_id))
        .where(RunCompany.status == "done")
        .order_by(col(ScanRun.id).desc())
    )
    if wanted is not None:
        runs_query = runs_query.where(col(RunCompany.company_id).in_(wanted))
    # Per company and family: the newest complete scan that ran that family.
    latest: dict[str, dict[str, int]] = defaultdict(dict)
    for company_id, run_id, scope in session.exec(runs_query):
        if run_id is None:  # pragma: no cover - a stored run has an id
            continue
        families = (scope or {}).get("checks") or list(specs.families())
        for family in families:
            latest[company_id].setdefault(str(family), run_id)
    run_ids = sorted({r for per in latest.values() for r in per.values()})

    errors: dict[str, list[ErrorFact]] = defaultdict(list)
    if run_ids:
        for e in session.exec(select(CheckError).where(col(CheckError.run_id).in_(run_ids))):
            if latest.get(e.company_id, {}).get(e.check_id) != e.run_id:
                continue  # an older scan of that family; a newer one decided
            errors[e.company_id].append(
                ErrorFact(e.check_id, e.target_id, e.target, e.reason, tuple(e.finding_ids))
            )

    findings: dict[str, list[FindingFact]] = defaultdict(list)
    f_query = select(
        Finding.company_id, Finding.check_id, Finding.target_id, Finding.discriminator
    ).where(col(Finding.status).in_(("open", "accepted")))
    if wanted is not None:
        f_query = f_query.where(col(Finding.company_id).in_(wanted))
    for company_id, check_id, target_id, discriminator in session.exec(f_query):
        findings[company_id].append(FindingFact(check_id, target_id, discriminator))

    ids = wanted if wanted is not None else sorted(set(targets) | set(latest))
    return {
        cid: compute(
            specs,
            targets.get(cid, []),
            findings.get(cid, []),
            errors.get(cid, []),
            latest.get(cid, {}),
        )
        for cid in ids
    }
