"""The findings lifecycle (DESIGN.md, Finding): what one company's scan result does to the store.

A candidate seen for the first time opens a finding; seen again it only moves `last_seen`; a
finding its check decided on in this run but did not report is resolved; a resolved one that
comes back is reopened and counts as a regression. A `CheckFailure` decides nothing: the
findings it covers stay as they are ("could not test" is not "fine") and it is kept as a
`CheckError` for scan health.

`apply_company_result` runs inside the caller's transaction and neither commits nor rolls back,
so the writer can put many companies in one transaction and still apply each atomically.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select, update

from exposure.contract import CheckFailure, FindingCandidate, fingerprint
from exposure.models import CheckError, Finding, FindingEvent, RunCompany, ScanRun
from exposure.results import ApplyStats, CompanyResult, TaskOutcome
from exposure.severity import Severity

OPEN = "open"
RESOLVED = "resolved"
ACCEPTED = "accepted"

# FindingEvent.event values
OPENED = "opened"
REOPENED = "reopened"
SEVERITY = "severity"
UNACCEPTED = "unaccepted"  # an acceptance ran out while the problem was still there

# Where a check's verdicts apply: one target, one check family.
_Scope = tuple[int | None, str]


@dataclass(frozen=True, slots=True)
class _Emitted:
    outcome: TaskOutcome
    candidate: FindingCandidate
    severity: str


@dataclass(frozen=True, slots=True)
class _Event:
    finding: Finding
    event: str
    severity: str
    note: str = ""


def apply_company_result(
    session: Session, result: CompanyResult, run_id: int, now: datetime
) -> ApplyStats:
    """Apply one company's scan result in the caller's transaction; return what changed.

    Loads the company's findings with one query and writes everything with one flush plus a
    few statements, whatever the number of candidates: ~400 companies a night must not turn
    into tens of thousands of round trips.
    """
    stats = ApplyStats(companies=1)
    existing = {
        finding.fingerprint: finding
        for finding in session.exec(select(Finding).where(Finding.company_id == result.company_id))
    }
    emitted = _emitted(result)
    events: list[_Event] = []
    new_findings: list[Finding] = []

    for fp, seen in emitted.items():
        finding = existing.get(fp)
        if finding is None:
            finding = _new_finding(fp, seen, result, run_id, now)
            new_findings.append(finding)
            events.append(_Event(finding, OPENED, seen.severity))
            stats.new += 1
            stats.new_by_severity[seen.severity] = stats.new_by_severity.get(seen.severity, 0) + 1
        else:
            _seen_again(finding, seen, result, run_id, now, events, stats)

    _resolve_unseen(existing.values(), emitted, result.outcomes, now, events, stats)

    session.add_all(new_findings)
    if new_findings:
        session.flush()  # the new findings' ids, for their "opened" events
    session.add_all(
        FindingEvent(
            finding_id=_id(e.finding),
            run_id=run_id,
            at=now,
            event=e.event,
            severity=e.severity,
            note=e.note,
        )
        for e in events
    )

    errors = _check_errors(result, run_id, now)
    session.add_all(errors)
    stats.errors = len(errors)
    for error in errors:
        stats.errors_by_reason[error.reason] = stats.errors_by_reason.get(error.reason, 0) + 1

    newly_done = _mark_done(session, result, run_id)
    session.exec(
        update(ScanRun)
        .where(col(ScanRun.id) == run_id)
        .values(
            companies_done=col(ScanRun.companies_done) + (1 if newly_done else 0),
            checks_run=col(ScanRun.checks_run) + len(result.outcomes),
            findings_new=col(ScanRun.findings_new) + stats.new,
            findings_reopened=col(ScanRun.findings_reopened) + stats.reopened,
            findings_resolved=col(ScanRun.findings_resolved) + stats.resolved,
            errors=col(ScanRun.errors) + stats.errors,
        )
    )
    return stats


def _emitted(result: CompanyResult) -> dict[str, _Emitted]:
    """Every candidate of the result by fingerprint; a duplicate keeps the highest severity.

    The fingerprint has no target in it, so two targets of one company can report the same
    problem on the same subject (a domain and its IP address); it is one finding.
    """
    emitted: dict[str, _Emitted] = {}
    for outcome in result.outcomes:
        for candidate in outcome.candidates:
            fp = fingerprint(
                candidate.check_id, result.company_id, candidate.subject, candidate.discriminator
            )
            severity = Severity(candidate.severity)
            previous = emitted.get(fp)
            if previous is None or severity > Severity(previous.severity):
                emitted[fp] = _Emitted(outcome, candidate, severity.value)
    return emitted


def _new_finding(
    fp: str, seen: _Emitted, result: CompanyResult, run_id: int, now: datetime
) -> Finding:
    candidate = seen.candidate
    return Finding(
        fingerprint=fp,
        company_id=result.company_id,
        target_id=seen.outcome.target.id,
        check_id=candidate.check_id,
        family=seen.outcome.family,
        severity=seen.severity,
        target=clean_text(candidate.subject),
        discriminator=clean_text(candidate.discriminator),
        title=clean_text(result.titles.get(candidate.check_id, "")),
        detail=clean_text(candidate.detail),
        evidence=clean_json(candidate.evidence),
        status=OPEN,
        first_seen=now,
        last_seen=now,
        first_run_id=run_id,
        last_run_id=run_id,
    )


def _seen_again(
    finding: Finding,
    seen: _Emitted,
    result: CompanyResult,
    run_id: int,
    now: datetime,
    events: list[_Event],
    stats: ApplyStats,
) -> None:
    """A known finding reported again: refresh it, and reopen it if it had been resolved."""
    candidate = seen.candidate
    finding.last_seen = now
    finding.last_run_id = run_id
    finding.detail = clean_text(candidate.detail)
    finding.evidence = clean_json(candidate.evidence)
    finding.family = seen.outcome.family
    if seen.outcome.target.id is not None:
        finding.target_id = seen.outcome.target.id
    title = result.titles.get(candidate.check_id)
    if title:
        finding.title = clean_text(title)

    if finding.status == RESOLVED:
        note = "" if finding.severity == seen.severity else f"{finding.severity} -> {seen.severity}"
        finding.status = OPEN
        finding.resolved_at = None
        finding.severity = seen.severity
        finding.reopened_count += 1
        events.append(_Event(finding, REOPENED, seen.severity, note))
        stats.reopened += 1
        return

    stats.seen += 1
    if finding.severity != seen.severity:
        events.append(
            _Event(finding, SEVERITY, seen.severity, f"{finding.severity} -> {seen.severity}")
        )
        finding.severity = seen.severity
        stats.severity_changed += 1
    if (
        finding.status == ACCEPTED
        and finding.accepted_until is not None
        and finding.accepted_until <= now
    ):
        finding.status = OPEN
        note = f"acceptance ran out on {finding.accepted_until:%Y-%m-%d}"
        events.append(_Event(finding, UNACCEPTED, finding.severity, note))


def _resolve_unseen(
    findings: Iterable[Finding],
    emitted: Mapping[str, _Emitted],
    outcomes: Iterable[TaskOutcome],
    now: datetime,
    events: list[_Event],
    stats: ApplyStats,
) -> None:
    """Resolve what a check decided on for a target and no longer reports.

    Only ids the outcome *decided* count: a failure leaves the ids it covers (all of the
    check's ids when it names none) undecided, and their findings untouched. Several outcomes
    for one (target, check) are merged conservatively: an id undecided by any is undecided.
    """
    decided = _decided(outcomes)
    for finding in findings:
        if finding.status == RESOLVED or finding.fingerprint in emitted:
            continue
        ids = decided.get((finding.target_id, finding.family))
        if ids is None or finding.check_id not in ids:
            continue
        finding.status = RESOLVED
        finding.resolved_at = now
        events.append(_Event(finding, RESOLVED, finding.severity))
        stats.resolved += 1


def _decided(outcomes: Iterable[TaskOutcome]) -> dict[_Scope, frozenset[str]]:
    scope_ids: dict[_Scope, set[str]] = {}
    undecided: dict[_Scope, set[str]] = {}
    for outcome in outcomes:
        key = (outcome.target.id, outcome.family)
        scope_ids.setdefault(key, set()).update(outcome.finding_ids)
        undecided.setdefault(key, set()).update(outcome.finding_ids - outcome.decided_ids())
    return {key: frozenset(ids - undecided[key]) for key, ids in scope_ids.items()}


def _check_errors(result: CompanyResult, run_id: int, now: datetime) -> list[CheckError]:
    return [
        _check_error(outcome, failure, result.company_id, run_id, now)
        for outcome in result.outcomes
        for failure in outcome.failures
    ]


def _check_error(
    outcome: TaskOutcome, failure: CheckFailure, company_id: str, run_id: int, now: datetime
) -> CheckError:
    return CheckError(
        run_id=run_id,
        company_id=company_id,
        target_id=outcome.target.id,
        target=clean_text(failure.subject or outcome.target.value),
        check_id=outcome.family,
        reason=str(failure.reason),  # a StrEnum: its value
        message=clean_text(failure.message),
        finding_ids=sorted(failure.finding_ids),
        created_at=now,
    )


def _mark_done(session: Session, result: CompanyResult, run_id: int) -> bool:
    """Mark the company done in the run; False if it already was (a result applied twice)."""
    progress = session.get(RunCompany, (run_id, result.company_id))
    if progress is None:
        progress = RunCompany(run_id=run_id, company_id=result.company_id)
        session.add(progress)
    newly_done = progress.status != "done"
    progress.status = "done"
    progress.finished_at = result.finished_at
    return newly_done


def _id(finding: Finding) -> int:
    if finding.id is None:  # pragma: no cover - flushed above
        raise RuntimeError(f"finding {finding.fingerprint} has no id after flush")
    return finding.id


def clean_text(value: str) -> str:
    """Text as PostgreSQL accepts it: no NUL characters (a hostile banner can contain them)."""
    return value.replace("\x00", "") if "\x00" in value else value


def clean_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """Evidence as strict JSON both databases store: plain dicts and lists, finite numbers,
    no NUL characters. What a check hands in is its own business; what we store is not."""
    return {clean_text(str(key)): _clean_value(item) for key, item in value.items()}


def _clean_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return clean_json(value)
    if isinstance(value, list | tuple):
        return [_clean_value(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((_clean_value(item) for item in value), key=str)
    return clean_text(str(value))
