"""The findings lifecycle (DESIGN.md, Finding): what one company's scan result does to the store.

A candidate seen for the first time opens a finding; seen again it only moves `last_seen`; a
finding its check decided on in this run but did not report is resolved; a resolved one that
comes back is reopened and counts as a regression. A `CheckFailure` decides nothing: the
findings it covers stay as they are ("could not test" is not "fine") and it is kept as a
`CheckError` for scan health.

`apply_company_result` runs inside the caller's transaction and neither commits nor rolls back,
so the writer can put many companies in one transaction and still apply each atomically.

How it writes (issue #11: the store writer competes with the event loop for the GIL): with
SQLAlchemy Core statements, not the ORM. The company's findings are read as plain rows; new
findings go in with one multi-row INSERT ... RETURNING, changed ones with one executemany
UPDATE per set of changed columns (only the columns that changed, as the ORM would), and
events, check errors and the company's run row with executemany statements. Inside
`batched(session, results)` (the store writer's batch) the findings and run rows of every
company of the batch are read with one SELECT each, and all writes are made when the block
ends: a batch of companies costs a handful of statements. These statements bypass the ORM:
`Finding`, `RunCompany` and `ScanRun` objects the caller already holds in the same session are
not refreshed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, inspect, select, update
from sqlmodel import Session, SQLModel

from exposure.contract import CheckFailure, FindingCandidate, fingerprint
from exposure.models import CheckError, Finding, FindingEvent, RunCompany, ScanRun
from exposure.scan.results import ApplyStats, CompanyResult, TaskOutcome
from exposure.severity import Severity

OPEN = "open"
RESOLVED = "resolved"
ACCEPTED = "accepted"

# FindingEvent.event values
OPENED = "opened"
REOPENED = "reopened"
SEVERITY = "severity"
UNACCEPTED = "unaccepted"  # an acceptance ran out while the problem was still there

DONE = "done"  # RunCompany.status (exposure.store.runs.DONE)

# Where a check's verdicts apply: one target, one check family.
_Scope = tuple[int | None, str]

# session.info key of the batch `batched` opened on a session
_BATCH = "exposure.lifecycle.batch"
# Companies per IN (...) list (SQLite allows 32,766 parameters per statement, older ones 999).
_IN_CHUNK = 500


def _table(model: type[SQLModel]) -> Table:
    """A model's table, as Core statements use it."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


_FINDING = _table(Finding)
_EVENT = _table(FindingEvent)
_CHECK_ERROR = _table(CheckError)
_RUN_COMPANY = _table(RunCompany)
_SCAN_RUN = _table(ScanRun)

_F = _FINDING.c
_STORED_COLUMNS = (
    _F.id,
    _F.fingerprint,
    _F.target_id,
    _F.check_id,
    _F.family,
    _F.severity,
    _F.title,
    _F.detail,
    _F.evidence,
    _F.status,
    _F.resolved_at,
    _F.last_seen,
    _F.last_run_id,
    _F.reopened_count,
    _F.accepted_until,
)
_SELECT_FINDINGS = select(_F.company_id, *_STORED_COLUMNS).where(
    _F.company_id.in_(bindparam("companies", expanding=True))
)
_INSERT_FINDINGS = insert(_FINDING).returning(_F.fingerprint, _F.id)
# The SET clause comes from the keys of the parameters: the columns that changed.
_UPDATE_FINDINGS = update(_FINDING).where(_F.id == bindparam("_id"))
_INSERT_EVENTS = insert(_EVENT)
_INSERT_CHECK_ERRORS = insert(_CHECK_ERROR)
_RC = _RUN_COMPANY.c
_SELECT_PROGRESS = select(_RC.company_id, _RC.status, _RC.finished_at).where(
    _RC.run_id == bindparam("run_id"),
    _RC.company_id.in_(bindparam("companies", expanding=True)),
)
_INSERT_PROGRESS = insert(_RUN_COMPANY)
_UPDATE_PROGRESS = update(_RUN_COMPANY).where(
    _RC.run_id == bindparam("_run_id"), _RC.company_id == bindparam("_company_id")
)
_R = _SCAN_RUN.c
# The run's counters a batch adds to: companies done, checks run, findings new, reopened and
# resolved, check errors.
_RUN_COUNTERS = ("_done", "_checks", "_new", "_reopened", "_resolved", "_errors")
_UPDATE_RUN = (
    update(_SCAN_RUN)
    .where(_R.id == bindparam("_run_id"))
    .values(
        companies_done=_R.companies_done + bindparam("_done"),
        checks_run=_R.checks_run + bindparam("_checks"),
        findings_new=_R.findings_new + bindparam("_new"),
        findings_reopened=_R.findings_reopened + bindparam("_reopened"),
        findings_resolved=_R.findings_resolved + bindparam("_resolved"),
        errors=_R.errors + bindparam("_errors"),
    )
)


@dataclass(frozen=True, slots=True)
class _Emitted:
    outcome: TaskOutcome
    candidate: FindingCandidate
    severity: str


@dataclass(slots=True, eq=False)
class _Stored:
    """A stored finding as read (the columns the lifecycle reads or writes), or a new one.

    `changes` collects the columns this result changed, with their new values: what the
    UPDATE sets. A value set equal to the stored one is no change (as in the ORM).
    """

    id: int | None
    fingerprint: str
    target_id: int | None
    check_id: str
    family: str
    severity: str
    title: str
    detail: str
    evidence: dict[str, Any]
    status: str
    resolved_at: datetime | None
    last_seen: datetime
    last_run_id: int | None
    reopened_count: int
    accepted_until: datetime | None
    changes: dict[str, Any] = field(default_factory=dict)

    def set(self, column: str, value: Any) -> None:
        if getattr(self, column) != value:
            setattr(self, column, value)
            self.changes[column] = value


@dataclass(frozen=True, slots=True)
class _Event:
    finding: _Stored
    event: str
    severity: str
    note: str = ""


def apply_company_result(
    session: Session, result: CompanyResult, run_id: int, now: datetime
) -> ApplyStats:
    """Apply one company's scan result in the caller's transaction; return what changed.

    Loads the company's findings with one query and writes everything with a few statements,
    whatever the number of candidates: ~400 companies a night must not turn into tens of
    thousands of round trips. Inside `batched(session, ...)` the writes wait for the end of
    the block (and the findings were read for the whole batch at once).
    """
    batch: _Batch | None = session.info.get(_BATCH)
    if batch is not None:
        return batch.apply(result, run_id, now)
    batch = _Batch(session)
    stats = batch.apply(result, run_id, now)
    batch.write()
    return stats


@contextmanager
def batched(session: Session, results: Sequence[CompanyResult]) -> Iterator[None]:
    """Apply many companies' results in the caller's transaction with a handful of statements.

    Inside the block, `apply_company_result(session, result, ...)` works out a company's
    changes (against findings read for every company of `results` with one SELECT) and
    returns its stats; everything is written when the block ends without an exception. If an
    apply raises, nothing of the batch is written and the caller must roll back. A company
    applied twice in one block sees its first result applied (the pending writes are made
    first), as it would in separate transactions.
    """
    if _BATCH in session.info:
        raise RuntimeError("batched() is already open on this session")
    batch = _Batch(session)
    batch.load(results)
    session.info[_BATCH] = batch
    try:
        yield
    finally:
        del session.info[_BATCH]
    batch.write()


class _Batch:
    """The findings and run rows of some companies, and the writes their results make."""

    def __init__(self, session: Session) -> None:
        session.flush()  # the caller's pending ORM objects first: what follows bypasses the ORM
        self._conn: Connection = session.connection()
        self._findings: dict[str, dict[str, _Stored]] = {}  # company -> fingerprint -> row
        # (run, company) -> (status, finished_at) of its RunCompany row; None: no row
        self._progress: dict[tuple[int, str], tuple[str, datetime | None] | None] = {}
        self._failed = False
        self._clear()

    def _clear(self) -> None:
        self._applied: set[str] = set()  # companies applied since the last write
        self._new: list[tuple[_Stored, dict[str, Any]]] = []
        self._changed: list[_Stored] = []
        self._events: list[tuple[_Stored, dict[str, Any]]] = []
        self._errors: list[dict[str, Any]] = []
        self._progress_new: list[dict[str, Any]] = []
        self._progress_done: list[dict[str, Any]] = []
        self._runs: dict[int, list[int]] = {}  # run -> increments, as in _RUN_COUNTERS

    def load(self, results: Iterable[CompanyResult]) -> None:
        """Read the findings and run rows of these results' companies (one SELECT each)."""
        by_run: dict[int, list[str]] = {}
        for result in results:
            by_run.setdefault(result.run_id, []).append(result.company_id)
        companies = list(dict.fromkeys(c for ids in by_run.values() for c in ids))
        self._load_findings(companies)
        for run_id, ids in by_run.items():
            self._load_progress(run_id, ids)

    def _load_findings(self, companies: Iterable[str]) -> None:
        todo = [c for c in companies if c not in self._findings]
        for company in todo:
            self._findings[company] = {}
        for start in range(0, len(todo), _IN_CHUNK):
            chunk = todo[start : start + _IN_CHUNK]
            for row in self._conn.execute(_SELECT_FINDINGS, {"companies": chunk}):
                columns: tuple[Any, ...] = tuple(row)
                stored = _Stored(*columns[1:])
                self._findings[columns[0]][stored.fingerprint] = stored

    def _load_progress(self, run_id: int, companies: Iterable[str]) -> None:
        todo = list(dict.fromkeys(c for c in companies if (run_id, c) not in self._progress))
        for company in todo:
            self._progress[run_id, company] = None
        for start in range(0, len(todo), _IN_CHUNK):
            chunk = todo[start : start + _IN_CHUNK]
            params = {"run_id": run_id, "companies": chunk}
            for company, status, finished_at in self._conn.execute(_SELECT_PROGRESS, params):
                self._progress[run_id, company] = (status, finished_at)

    def apply(self, result: CompanyResult, run_id: int, now: datetime) -> ApplyStats:
        if self._failed:
            raise RuntimeError("an earlier result of this batch failed: roll back")
        try:
            return self._apply(result, run_id, now)
        except BaseException:
            self._failed = True  # its changes may be half made: nothing of the batch is written
            raise

    def _apply(self, result: CompanyResult, run_id: int, now: datetime) -> ApplyStats:
        company = result.company_id
        if company in self._applied:  # again in this batch: it must see its first result
            self.write()
            del self._findings[company]
            self._progress.pop((run_id, company), None)
        self._load_findings((company,))
        self._load_progress(run_id, (company,))
        self._applied.add(company)

        stats = ApplyStats(companies=1)
        existing = self._findings[company]
        emitted = _emitted(result)
        events: list[_Event] = []
        new: list[tuple[_Stored, dict[str, Any]]] = []

        for fp, seen in emitted.items():
            finding = existing.get(fp)
            if finding is None:
                finding, values = _new_finding(fp, seen, result, run_id, now)
                new.append((finding, values))
                events.append(_Event(finding, OPENED, seen.severity))
                stats.new += 1
                stats.new_by_severity[seen.severity] = (
                    stats.new_by_severity.get(seen.severity, 0) + 1
                )
            else:
                _seen_again(finding, seen, result, run_id, now, events, stats)

        _resolve_unseen(existing.values(), emitted, result.outcomes, now, events, stats)

        errors = _check_errors(result, run_id, now)
        stats.errors = len(errors)
        for error in errors:
            stats.errors_by_reason[error["reason"]] = (
                stats.errors_by_reason.get(error["reason"], 0) + 1
            )
        newly_done = self._mark_done(result, run_id)

        self._new.extend(new)
        self._changed.extend(f for f in existing.values() if f.changes)
        self._events.extend(
            (
                e.finding,
                {
                    "run_id": run_id,
                    "at": now,
                    "event": e.event,
                    "severity": e.severity,
                    "note": e.note,
                },
            )
            for e in events
        )
        self._errors.extend(errors)
        counters = self._runs.setdefault(run_id, [0, 0, 0, 0, 0, 0])
        counters[0] += 1 if newly_done else 0
        counters[1] += len(result.outcomes)
        counters[2] += stats.new
        counters[3] += stats.reopened
        counters[4] += stats.resolved
        counters[5] += stats.errors
        return stats

    def _mark_done(self, result: CompanyResult, run_id: int) -> bool:
        """Mark the company done in the run; False if it already was (a result applied twice)."""
        key = (run_id, result.company_id)
        progress = self._progress[key]
        self._progress[key] = (DONE, result.finished_at)
        if progress is None:
            self._progress_new.append(
                {
                    "run_id": run_id,
                    "company_id": result.company_id,
                    "status": DONE,
                    "finished_at": result.finished_at,
                }
            )
            return True
        status, finished_at = progress
        if status != DONE or finished_at != result.finished_at:
            self._progress_done.append(
                {
                    "_run_id": run_id,
                    "_company_id": result.company_id,
                    "status": DONE,
                    "finished_at": result.finished_at,
                }
            )
        return status != DONE

    def write(self) -> None:
        """Make the pending writes (in the caller's transaction)."""
        if self._failed:
            raise RuntimeError("a result of this batch failed: nothing is written, roll back")
        conn = self._conn
        if self._new:
            self._insert_findings([values for _, values in self._new])
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for finding in self._changed:
            by_columns.setdefault(tuple(finding.changes), []).append(
                {**finding.changes, "_id": finding.id}
            )
            finding.changes = {}
        for rows in by_columns.values():
            conn.execute(_UPDATE_FINDINGS, rows)
        if self._events:
            conn.execute(
                _INSERT_EVENTS,
                [{"finding_id": _id(finding), **row} for finding, row in self._events],
            )
        if self._errors:
            conn.execute(_INSERT_CHECK_ERRORS, self._errors)
        if self._progress_new:
            conn.execute(_INSERT_PROGRESS, self._progress_new)
        if self._progress_done:
            conn.execute(_UPDATE_PROGRESS, self._progress_done)
        if self._runs:
            conn.execute(
                _UPDATE_RUN,
                [
                    {"_run_id": run_id, **dict(zip(_RUN_COUNTERS, counts, strict=True))}
                    for run_id, counts in self._runs.items()
                ],
            )
        self._clear()

    def _insert_findings(self, rows: list[dict[str, Any]]) -> None:
        """Insert new findings and give their rows the ids (for their "opened" events)."""
        conn = self._conn
        ids: dict[str, int] = {}
        if conn.dialect.insert_executemany_returning:  # "insertmanyvalues": a few statements
            ids.update(conn.execute(_INSERT_FINDINGS, rows).all())
        else:  # pragma: no cover - SQLite before 3.35 has no RETURNING: one INSERT per row
            for row in rows:
                key = conn.execute(insert(_FINDING), row).inserted_primary_key
                assert key is not None
                ids[row["fingerprint"]] = key[0]
        for finding, _values in self._new:
            finding.id = ids[finding.fingerprint]


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
) -> tuple[_Stored, dict[str, Any]]:
    """A new finding: its row (for its events) and the values to insert."""
    candidate = seen.candidate
    values: dict[str, Any] = {
        "fingerprint": fp,
        "company_id": result.company_id,
        "target_id": seen.outcome.target.id,
        "check_id": candidate.check_id,
        "family": seen.outcome.family,
        "severity": seen.severity,
        "target": clean_text(candidate.subject),
        "discriminator": clean_text(candidate.discriminator),
        "title": clean_text(result.titles.get(candidate.check_id, "")),
        "detail": clean_text(candidate.detail),
        "evidence": clean_json(candidate.evidence),
        "status": OPEN,
        "first_seen": now,
        "last_seen": now,
        "resolved_at": None,
        "first_run_id": run_id,
        "last_run_id": run_id,
        "reopened_count": 0,
        "accepted_reason": "",
        "accepted_until": None,
    }
    stored = _Stored(
        id=None,
        fingerprint=fp,
        target_id=values["target_id"],
        check_id=candidate.check_id,
        family=values["family"],
        severity=seen.severity,
        title=values["title"],
        detail=values["detail"],
        evidence=values["evidence"],
        status=OPEN,
        resolved_at=None,
        last_seen=now,
        last_run_id=run_id,
        reopened_count=0,
        accepted_until=None,
    )
    return stored, values


def _seen_again(
    finding: _Stored,
    seen: _Emitted,
    result: CompanyResult,
    run_id: int,
    now: datetime,
    events: list[_Event],
    stats: ApplyStats,
) -> None:
    """A known finding reported again: refresh it, and reopen it if it had been resolved."""
    candidate = seen.candidate
    finding.set("last_seen", now)
    finding.set("last_run_id", run_id)
    finding.set("detail", clean_text(candidate.detail))
    finding.set("evidence", clean_json(candidate.evidence))
    finding.set("family", seen.outcome.family)
    if seen.outcome.target.id is not None:
        finding.set("target_id", seen.outcome.target.id)
    title = result.titles.get(candidate.check_id)
    if title:
        finding.set("title", clean_text(title))

    if finding.status == RESOLVED:
        note = "" if finding.severity == seen.severity else f"{finding.severity} -> {seen.severity}"
        finding.set("status", OPEN)
        finding.set("resolved_at", None)
        finding.set("severity", seen.severity)
        finding.set("reopened_count", finding.reopened_count + 1)
        events.append(_Event(finding, REOPENED, seen.severity, note))
        stats.reopened += 1
        return

    stats.seen += 1
    if finding.severity != seen.severity:
        events.append(
            _Event(finding, SEVERITY, seen.severity, f"{finding.severity} -> {seen.severity}")
        )
        finding.set("severity", seen.severity)
        stats.severity_changed += 1
    if (
        finding.status == ACCEPTED
        and finding.accepted_until is not None
        and finding.accepted_until <= now
    ):
        finding.set("status", OPEN)
        note = f"acceptance ran out on {finding.accepted_until:%Y-%m-%d}"
        events.append(_Event(finding, UNACCEPTED, finding.severity, note))


def _resolve_unseen(
    findings: Iterable[_Stored],
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
        finding.set("status", RESOLVED)
        finding.set("resolved_at", now)
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


def _check_errors(result: CompanyResult, run_id: int, now: datetime) -> list[dict[str, Any]]:
    return [
        _check_error(outcome, failure, result.company_id, run_id, now)
        for outcome in result.outcomes
        for failure in outcome.failures
    ]


def _check_error(
    outcome: TaskOutcome, failure: CheckFailure, company_id: str, run_id: int, now: datetime
) -> dict[str, Any]:
    """The values of a `CheckError` row."""
    return {
        "run_id": run_id,
        "company_id": company_id,
        "target_id": outcome.target.id,
        "target": clean_text(failure.subject or outcome.target.value),
        "check_id": outcome.family,
        "reason": str(failure.reason),  # a StrEnum: its value
        "message": clean_text(failure.message),
        "finding_ids": sorted(failure.finding_ids),
        "created_at": now,
    }


def _id(finding: _Stored) -> int:
    if finding.id is None:  # pragma: no cover - inserted above
        raise RuntimeError(f"finding {finding.fingerprint} has no id after its insert")
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
