"""Run bookkeeping: start a scan run, resume an interrupted one, finish it.

A run knows its companies through `RunCompany` rows; a company becomes `done` in the same
transaction that stores its findings (`apply_company_result`). That is what makes a run
resumable after Ctrl-C, a crash or a reboot: the companies still pending are exactly the ones
whose results were not stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from exposure.models import RunCompany, RunStatus, ScanRun, utcnow

RUNNING = RunStatus.RUNNING
COMPLETE = RunStatus.COMPLETE
INTERRUPTED = RunStatus.INTERRUPTED
INCOMPLETE = RunStatus.INCOMPLETE
FAILED = RunStatus.FAILED
DEGRADED = RunStatus.DEGRADED
UNFINISHED = frozenset({RUNNING, INTERRUPTED, INCOMPLETE, DEGRADED})
FINAL = frozenset({COMPLETE, INTERRUPTED, INCOMPLETE, FAILED, DEGRADED})

DONE = "done"
PENDING = "pending"


def scope_key(scope: Mapping[str, Any]) -> str:
    """A canonical form of a run's scope: equal scopes, equal keys, whatever the key order.

    Scopes are compared in Python, not SQL: PostgreSQL has no equality for `json` columns.
    """
    return json.dumps(scope, sort_keys=True, separators=(",", ":"), default=str)


def start_or_resume_run(
    session: Session,
    company_ids: list[str],
    scope: dict[str, Any],
    now: datetime | None = None,
) -> tuple[ScanRun, list[str]]:
    """The run to work on and the companies it still has to scan, in the given order.

    If the most recent run with the same scope did not finish (running, interrupted, or stopped by its deadline),
    it is resumed: its companies already done are left out, companies added since are
    appended to it, and pending companies no longer in `company_ids` are dropped from it.
    Otherwise a new run is started with every company pending. Flushes, does not commit.
    """
    now = now or utcnow()
    wanted = list(dict.fromkeys(company_ids))  # de-duplicated, order kept
    run = _latest_with_scope(session, scope)
    if run is None or run.status not in UNFINISHED:
        return _new_run(session, wanted, scope, now), wanted

    assert run.id is not None
    progress = {
        row.company_id: row
        for row in session.exec(select(RunCompany).where(RunCompany.run_id == run.id))
    }
    wanted_set = set(wanted)
    dropped = [c for c, row in progress.items() if row.status != DONE and c not in wanted_set]
    if dropped:
        session.exec(
            delete(RunCompany)
            .where(col(RunCompany.run_id) == run.id)
            .where(col(RunCompany.company_id).in_(dropped))
        )
    pending = [c for c in wanted if c in progress and progress[c].status != DONE]
    added = [c for c in wanted if c not in progress]
    session.add_all(RunCompany(run_id=run.id, company_id=c, status=PENDING) for c in added)
    run.companies_total = len(progress) - len(dropped) + len(added)
    run.status = RUNNING
    run.finished_at = None
    session.add(run)
    session.flush()
    return run, pending + added


def _latest_with_scope(session: Session, scope: dict[str, Any]) -> ScanRun | None:
    """The newest run whose scope equals `scope`, reading the runs newest first."""
    key = scope_key(scope)
    rows = session.exec(select(ScanRun.id, ScanRun.scope).order_by(col(ScanRun.id).desc())).all()
    found = next((run_id for run_id, run_scope in rows if scope_key(run_scope) == key), None)
    return None if found is None else session.get(ScanRun, found, populate_existing=True)


def _new_run(
    session: Session, company_ids: list[str], scope: dict[str, Any], now: datetime
) -> ScanRun:
    run = ScanRun(started_at=now, status=RUNNING, scope=scope, companies_total=len(company_ids))
    session.add(run)
    session.flush()  # the run id, for its RunCompany rows
    assert run.id is not None
    run_id = run.id
    session.add_all(RunCompany(run_id=run_id, company_id=c, status=PENDING) for c in company_ids)
    session.flush()
    return run


def finish_run(
    session: Session,
    run_id: int,
    status: str,
    summary: dict[str, Any],
    now: datetime | None = None,
) -> ScanRun:
    """Close a run with its final status and summary. The counters were kept up to date by
    `apply_company_result` and are not touched (the row is re-read, not overwritten)."""
    if status not in FINAL:
        raise ValueError(f"unknown final run status {status!r} (expected one of {sorted(FINAL)})")
    run = _get(session, run_id)
    run.status = status
    run.finished_at = now or utcnow()
    run.summary = dict(summary)
    session.add(run)
    session.flush()
    return run


def reopen_companies(session: Session, run_id: int, company_ids: Sequence[str]) -> int:
    """Make companies of a run pending again: their results were stored, but a source of ours
    failed while they were scanned, so the next run must test them again. Returns how many."""
    if not company_ids:
        return 0
    rows = session.exec(
        select(RunCompany)
        .where(RunCompany.run_id == run_id)
        .where(col(RunCompany.company_id).in_(list(company_ids)))
        .where(RunCompany.status == DONE)
    ).all()
    for row in rows:
        row.status = PENDING
        session.add(row)
    if rows:
        run = _get(session, run_id)
        run.companies_done = max(0, run.companies_done - len(rows))
        session.add(run)
    session.flush()
    return len(rows)


def mark_interrupted(session: Session, run_id: int, now: datetime | None = None) -> ScanRun:
    """Mark a running run interrupted (Ctrl-C, a signal): the next scan with its scope resumes
    it. A run that already has a final status is left alone."""
    run = _get(session, run_id)
    if run.status == RUNNING:
        run.status = INTERRUPTED
        run.finished_at = now or utcnow()
        session.add(run)
        session.flush()
    return run


def pending_companies(session: Session, run_id: int) -> list[str]:
    """The companies of a run not yet stored (pending or failed), by id."""
    return list(
        session.exec(
            select(RunCompany.company_id)
            .where(RunCompany.run_id == run_id)
            .where(col(RunCompany.status) != DONE)
            .order_by(col(RunCompany.company_id))
        )
    )


def _get(session: Session, run_id: int) -> ScanRun:
    run = session.get(ScanRun, run_id, populate_existing=True)
    if run is None:
        raise LookupError(f"no scan run with id {run_id}")
    return run
