"""What the store looked like after earlier scans, rebuilt from the findings' events.

The `Finding` table holds only the present (status, severity). Two questions need the past:
the company report's "what changed since the previous scan" (and the score then), and the
overview's trend over the stored runs. Every change of status or severity is a `FindingEvent`
tagged with its run, so replaying the events in run order gives the state after any run.

Rules of the replay:
- `opened`, `reopened` and `unaccepted` make a finding open; `resolved` resolves it; `accepted`
  accepts it; `severity` changes only the severity. Every event carries the severity it set.
- An event without a run (an operator accepting a risk between scans) counts from the first
  run that ended after it; one after the last run counts only for the present.
- A company counts in a run's picture from the first run that scanned it (a done `RunCompany`)
  onwards; before that it has no grade, not a perfect one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from exposure.models import Finding, FindingEvent, RunCompany, ScanRun

_STATUS_OF_EVENT: Mapping[str, str] = {
    "opened": "open",
    "reopened": "open",
    "unaccepted": "open",
    "resolved": "resolved",
    "accepted": "accepted",
}

DONE = "done"


@dataclass(frozen=True, slots=True)
class FindingKey:
    """What a replayed finding is, apart from its changing state."""

    id: int
    company_id: str
    check_id: str
    target: str


@dataclass(frozen=True, slots=True)
class FindingState:
    key: FindingKey
    status: str
    severity: str


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str

    @property
    def at(self) -> datetime:
        """When the run's picture holds: its end, or its start while it has not ended."""
        return self.finished_at or self.started_at


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state after one run: every known finding of every company scanned by then."""

    run: RunInfo
    companies: frozenset[str]  # scanned at least once by the end of this run
    findings: tuple[FindingState, ...]

    def of(self, company_id: str) -> list[FindingState]:
        return [f for f in self.findings if f.key.company_id == company_id]


@dataclass(frozen=True, slots=True)
class _Event:
    finding_id: int
    run_id: int | None
    at: datetime
    id: int
    event: str
    severity: str


def runs_with_results(session: Session) -> list[RunInfo]:
    """Runs in which at least one company was scanned to the end, oldest first."""
    done_runs = select(RunCompany.run_id).where(RunCompany.status == DONE).distinct()
    rows = session.exec(
        select(ScanRun).where(col(ScanRun.id).in_(done_runs)).order_by(col(ScanRun.id))
    )
    return [_run_info(r) for r in rows]


def company_runs(session: Session, company_id: str) -> list[RunInfo]:
    """The runs that scanned this company to the end, oldest first."""
    rows = session.exec(
        select(ScanRun)
        .join(RunCompany, col(RunCompany.run_id) == col(ScanRun.id))
        .where(RunCompany.company_id == company_id)
        .where(RunCompany.status == DONE)
        .order_by(col(ScanRun.id))
    )
    return [_run_info(r) for r in rows]


def first_scanned(session: Session) -> dict[str, int]:
    """Per company, the first run that scanned it to the end."""
    rows = session.exec(
        select(RunCompany.company_id, RunCompany.run_id).where(RunCompany.status == DONE)
    )
    first: dict[str, int] = {}
    for company_id, run_id in rows:
        if company_id not in first or run_id < first[company_id]:
            first[company_id] = run_id
    return first


def snapshots(
    session: Session,
    runs: Sequence[RunInfo],
    company_ids: Iterable[str] | None = None,
) -> list[Snapshot]:
    """The state after each of `runs` (oldest first), for all or some companies.

    One pass over the events, whatever the number of runs: events are sorted once and applied
    up to each run in turn.
    """
    if not runs:
        return []
    wanted = set(company_ids) if company_ids is not None else None
    keys = _finding_keys(session, wanted)
    events = _events(session, keys)
    first = first_scanned(session)
    ordered_runs = sorted(runs, key=lambda r: r.id)
    all_runs = runs_with_results(session)
    placed = sorted(
        ((_effective_run(e, all_runs), e) for e in events),
        key=lambda pair: (pair[0], pair[1].at, pair[1].id),
    )

    state: dict[int, tuple[str, str]] = {}
    result: list[Snapshot] = []
    cursor = 0
    for run in ordered_runs:
        while cursor < len(placed) and placed[cursor][0] <= run.id:
            event = placed[cursor][1]
            _apply(state, event)
            cursor += 1
        companies = frozenset(
            c for c, run_id in first.items() if run_id <= run.id and (wanted is None or c in wanted)
        )
        findings = tuple(
            FindingState(keys[fid], status, severity)
            for fid, (status, severity) in sorted(state.items())
            if keys[fid].company_id in companies
        )
        result.append(Snapshot(run, companies, findings))
    return result


def sample(runs: Sequence[RunInfo], most: int) -> list[RunInfo]:
    """At most `most` runs, evenly spread, always with the first and the last.

    A year of nightly scans is 365 points; a board reads a trend from a couple of dozen.
    """
    if most <= 0 or len(runs) <= most:
        return list(runs)
    if most == 1:
        return [runs[-1]]
    step = (len(runs) - 1) / (most - 1)
    picks = sorted({round(step * k) for k in range(most)})
    return [runs[i] for i in picks]


# --- internals -----------------------------------------------------------------------------------


def _run_info(run: ScanRun) -> RunInfo:
    assert run.id is not None
    return RunInfo(run.id, run.started_at, run.finished_at, run.status)


def _finding_keys(session: Session, wanted: set[str] | None) -> dict[int, FindingKey]:
    query = select(Finding.id, Finding.company_id, Finding.check_id, Finding.target)
    if wanted is not None:
        query = query.where(col(Finding.company_id).in_(sorted(wanted)))
    return {
        fid: FindingKey(fid, company_id, check_id, target)
        for fid, company_id, check_id, target in session.exec(query)
        if fid is not None
    }


def _events(session: Session, keys: Mapping[int, FindingKey]) -> list[_Event]:
    if not keys:
        return []
    by_company: dict[str, list[int]] = defaultdict(list)
    for key in keys.values():
        by_company[key.company_id].append(key.id)
    query = select(FindingEvent).join(Finding, col(Finding.id) == col(FindingEvent.finding_id))
    companies = sorted(by_company)
    if len(companies) < 500:  # keep the IN list short; otherwise read all and filter here
        query = query.where(col(Finding.company_id).in_(companies))
    return [
        _Event(e.finding_id, e.run_id, e.at, e.id or 0, e.event, e.severity)
        for e in session.exec(query)
        if e.finding_id in keys
    ]


def _effective_run(event: _Event, runs: Sequence[RunInfo]) -> float:
    """The run from which an event counts (see the module docstring)."""
    if event.run_id is not None:
        return event.run_id
    for run in runs:
        if event.at <= run.at:
            return run.id
    return float("inf")


def _apply(state: dict[int, tuple[str, str]], event: _Event) -> None:
    status, severity = state.get(event.finding_id, ("open", event.severity))
    status = _STATUS_OF_EVENT.get(event.event, status)
    state[event.finding_id] = (status, event.severity or severity)
