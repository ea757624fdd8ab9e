"""The store side of a distributed run: apply a company once, know when the run is done.

Each function is one transaction on the store (call them off the event loop). They rely on
row locks (`SELECT ... FOR UPDATE`) that PostgreSQL takes and SQLite, with its single writer,
does not need; so the same code serves the in-memory tests on SQLite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func
from sqlmodel import Session, col, delete, select, update

from exposure.contract import FailureReason, ScanTarget, TargetKind
from exposure.models import (
    CheckError,
    Company,
    FindingEvent,
    RunCompany,
    ScanRun,
    Target,
    utcnow,
)
from exposure.scan.health import NAMES
from exposure.scan.results import ApplyStats, CompanyResult
from exposure.store import runs as store_runs
from exposure.store.companies import CompanySnapshot
from exposure.store.db import session
from exposure.store.lifecycle import OPENED, apply_company_result, clean_text

FAILED_COMPANY = "failed"  # RunCompany.status of a company whose job failed for good
JOB_FAILED = "job_failed"  # CheckError.reason of such a company
WORKER_CHECK_ID = "worker"  # CheckError.check_id of such a company
#: RunCompany.status of a company a worker could not test for a fault of its own (a source of
#: ours failed: `exposure.scan.health`): nothing of it was stored; when the run ends it is
#: pending again, so that the next scan with the run's scope tests it.
UNTESTED_COMPANY = "untested"
#: CheckError.check_id of such a company, one per failed source (`target`: the source).
SOURCE_CHECK_ID = "source"


@dataclass(frozen=True, slots=True)
class CompanyState:
    """Where a company stands in a run, as a job finds it before scanning."""

    run_status: str | None  # None: no such run
    company_status: str | None  # None: the company is not part of the run
    checks: tuple[str, ...]  # the run's scope: check family ids
    started_at: datetime | None

    @property
    def runnable(self) -> bool:
        return self.run_status == store_runs.RUNNING and self.company_status not in (
            None,
            store_runs.DONE,
        )


def company_state(engine: Engine, run_id: int, company_id: str) -> CompanyState:
    with session(engine) as db:
        run = db.get(ScanRun, run_id)
        if run is None:
            return CompanyState(None, None, (), None)
        progress = db.get(RunCompany, (run_id, company_id))
        checks = tuple(run.scope.get("checks") or ())
        return CompanyState(
            run.status, progress.status if progress else None, checks, run.started_at
        )


def load_company(engine: Engine, company_id: str) -> CompanySnapshot | None:
    """One active company and its targets, as a job scans it (None: inactive or removed).

    Per company, with one query per table: `orchestrator.load_companies` reads every target
    once for a whole run, which a job that scans one company of thousands must not do.
    """
    with session(engine) as db:
        company = db.get(Company, company_id)
        if company is None or not company.active:
            return None
        targets = db.exec(
            select(Target).where(Target.company_id == company_id).order_by(col(Target.id))
        ).all()
        return CompanySnapshot(
            company.id,
            company.name,
            tuple(
                ScanTarget(t.company_id, TargetKind(t.kind), t.value, t.display, t.id)
                for t in targets
            ),
        )


def apply_once(
    engine: Engine, result: CompanyResult, now: datetime | None = None
) -> ApplyStats | None:
    """Apply a company's result unless the company is already done in its run (then None).

    The company's row in the run is locked first, so two jobs that scanned the same company
    (a retried job whose first worker was slow, not dead) apply one after the other, and the
    second finds the company done and changes nothing: no finding opened twice, no counter
    counted twice.
    """
    with session(engine) as db:
        progress = db.exec(
            select(RunCompany)
            .where(RunCompany.run_id == result.run_id)
            .where(RunCompany.company_id == result.company_id)
            .with_for_update()
        ).first()
        if progress is not None and progress.status == store_runs.DONE:
            return None
        _forget_untested(db, result.run_id, result.company_id)  # tested now
        return apply_company_result(db, result, result.run_id, now or utcnow())


def record_failure(engine: Engine, run_id: int, company_id: str, error: str) -> bool:
    """A company whose job failed for good: a "could not test" in the run, never a pass.

    The company is marked failed (not done), so the run cannot end `complete` and the next scan
    with its scope scans it again. False if the company was done meanwhile (nothing recorded).
    """
    with session(engine) as db:
        progress = db.exec(
            select(RunCompany)
            .where(RunCompany.run_id == run_id)
            .where(RunCompany.company_id == company_id)
            .with_for_update()
        ).first()
        if progress is None or progress.status == store_runs.DONE:
            return False
        progress.status = FAILED_COMPANY
        progress.finished_at = utcnow()
        db.add(progress)
        db.add(
            CheckError(
                run_id=run_id,
                company_id=company_id,
                check_id=WORKER_CHECK_ID,
                reason=JOB_FAILED,
                message=clean_text(error)[:2000],
                created_at=utcnow(),
            )
        )
        db.exec(
            update(ScanRun).where(col(ScanRun.id) == run_id).values(errors=col(ScanRun.errors) + 1)
        )
        return True


def record_untested(
    engine: Engine, run_id: int, company_id: str, failed: Mapping[str, str]
) -> bool:
    """A company a worker could not test because a source of its own failed (`failed`: source
    -> cause): nothing of its result is stored (no finding written or resolved for our fault);
    it is marked untested, with a "could not test" per failed source, so that the run ends
    `degraded` with the cause, and the next scan tests it. False if it was done meanwhile."""
    with session(engine) as db:
        progress = db.exec(
            select(RunCompany)
            .where(RunCompany.run_id == run_id)
            .where(RunCompany.company_id == company_id)
            .with_for_update()
        ).first()
        if progress is None or progress.status == store_runs.DONE:
            return False
        progress.status = UNTESTED_COMPANY
        progress.finished_at = utcnow()
        db.add(progress)
        _forget_untested(db, run_id, company_id)  # an earlier attempt's causes
        for source, cause in sorted(failed.items()):
            db.add(
                CheckError(
                    run_id=run_id,
                    company_id=company_id,
                    target=source,
                    check_id=SOURCE_CHECK_ID,
                    reason=FailureReason.UNAVAILABLE.value,
                    message=clean_text(cause)[:2000],
                    created_at=utcnow(),
                )
            )
        db.exec(
            update(ScanRun)
            .where(col(ScanRun.id) == run_id)
            .values(errors=col(ScanRun.errors) + len(failed))
        )
        return True


def _forget_untested(db: Session, run_id: int, company_id: str) -> None:
    """Drop what an earlier attempt recorded of a company left untested (`record_untested`)."""
    stale = (
        col(CheckError.run_id) == run_id,
        col(CheckError.company_id) == company_id,
        col(CheckError.check_id) == SOURCE_CHECK_ID,
    )
    count = db.exec(select(func.count()).select_from(CheckError).where(*stale)).one()
    if count:
        db.exec(delete(CheckError).where(*stale))
        db.exec(
            update(ScanRun)
            .where(col(ScanRun.id) == run_id)
            .values(
                errors=case((col(ScanRun.errors) > count, col(ScanRun.errors) - count), else_=0)
            )
        )


def finish_if_done(engine: Engine, run_id: int) -> str | None:
    """Finish the run if no company is pending any more; the final status if this call did.

    The run row is locked while counting, so of several jobs finishing at the same moment
    exactly one sees the last company done and finishes the run; the others find it finished.
    A run with companies left untested for a fault of ours ends `degraded`, one with failed
    companies `incomplete` (both resumable), otherwise `complete`.
    """
    with session(engine) as db:
        run = _lock_run(db, run_id)
        if run is None or run.status != store_runs.RUNNING:
            return None
        counts = _company_counts(db, run_id)
        if counts.get(store_runs.PENDING, 0):
            return None
        if counts.get(UNTESTED_COMPANY, 0):
            status = store_runs.DEGRADED
        elif counts.get(FAILED_COMPANY, 0):
            status = store_runs.INCOMPLETE
        else:
            status = store_runs.COMPLETE
        _finish(db, run, status)
        return status


def stop_at_deadline(engine: Engine, run_id: int) -> bool:
    """The run's deadline passed: finish it `incomplete` (`degraded` when companies were left
    untested for a fault of ours) if it is still running (True if so).

    What was stored stays; the companies still pending are scanned by the next scan with the
    run's scope, which resumes the run.
    """
    with session(engine) as db:
        run = _lock_run(db, run_id)
        if run is None or run.status != store_runs.RUNNING:
            return False
        untested = _company_counts(db, run_id).get(UNTESTED_COMPANY, 0)
        _finish(db, run, store_runs.DEGRADED if untested else store_runs.INCOMPLETE)
        return True


def _finish(db: Session, run: ScanRun, status: str) -> None:
    assert run.id is not None
    store_runs.finish_run(db, run.id, status, run_summary(db, run, status))
    reopen_untested(db, run.id)


def reopen_untested(db: Session, run_id: int) -> int:
    """The run's untested companies pending again (the run ended, or is resumed): a resumed
    run queues them, and only a pending company keeps a run from finishing."""
    result = db.exec(
        update(RunCompany)
        .where(col(RunCompany.run_id) == run_id)
        .where(col(RunCompany.status) == UNTESTED_COMPANY)
        .values(status=store_runs.PENDING, finished_at=None)
    )
    return int(result.rowcount or 0)


def _sources_failed(db: Session, run_id: int) -> dict[str, str]:
    """Source -> cause of the run's untested companies (the latest cause of each source)."""
    rows = db.exec(
        select(CheckError.target, CheckError.message)
        .join(
            RunCompany,
            (col(RunCompany.run_id) == col(CheckError.run_id))
            & (col(RunCompany.company_id) == col(CheckError.company_id)),
        )
        .where(col(CheckError.run_id) == run_id)
        .where(col(CheckError.check_id) == SOURCE_CHECK_ID)
        .where(col(RunCompany.status) == UNTESTED_COMPANY)
        .order_by(col(CheckError.id))
    ).all()
    return {source: message for source, message in rows}


def record_refused_run(engine: Engine, scope: dict[str, Any], reason: str) -> int:
    """A run refused before it started (its resolver did not answer): kept for `exposure runs`
    and monitoring. Its scope is marked, so that it never stands in for the run it would have
    resumed."""
    with session(engine) as db:
        now = utcnow()
        run = ScanRun(
            started_at=now,
            finished_at=now,
            status=store_runs.FAILED,
            scope={**scope, "refused": True},
            summary={"error": reason, "exit_code": 4},
        )
        db.add(run)
        db.flush()
        assert run.id is not None
        return run.id


def run_summary(db: Session, run: ScanRun, status: str) -> dict[str, Any]:
    """The stored summary of a distributed run: the keys of `RunSummary.as_dict`, from the
    counters every applied company kept up to date, plus what only the store knows."""
    from exposure.store.queries import open_by_severity

    assert run.id is not None
    counts = _company_counts(db, run.id)
    finished = utcnow()
    new_by_severity = dict(
        db.exec(
            select(FindingEvent.severity, func.count())
            .where(FindingEvent.run_id == run.id)
            .where(FindingEvent.event == OPENED)
            .group_by(FindingEvent.severity)
        ).all()
    )
    errors_by_reason = dict(
        db.exec(
            select(CheckError.reason, func.count())
            .where(CheckError.run_id == run.id)
            .group_by(CheckError.reason)
        ).all()
    )
    return {
        "run_id": run.id,
        "status": status,
        "mode": "distributed",
        "companies_total": run.companies_total,
        "companies_scanned": counts.get(store_runs.DONE, 0),
        "companies_failed": counts.get(FAILED_COMPANY, 0),
        "companies_pending": counts.get(store_runs.PENDING, 0),
        "resumed_done": 0,
        "checks_run": run.checks_run,
        "duration_seconds": round((finished - run.started_at).total_seconds(), 3),
        "findings_new": run.findings_new,
        "findings_new_by_severity": new_by_severity,
        "findings_resolved": run.findings_resolved,
        "findings_reopened": run.findings_reopened,
        "open_by_severity": open_by_severity(db),
        "errors": run.errors,
        "errors_by_reason": errors_by_reason,
        **_health(db, run.id, counts.get(UNTESTED_COMPANY, 0)),
    }


def _health(db: Session, run_id: int, untested: int) -> dict[str, Any]:
    """The summary's keys of a degraded run (as `RunSummary.as_dict`): the cause, and how many
    companies the next scan must test."""
    if not untested:
        return {}
    failed = _sources_failed(db, run_id)
    names = {source.value: name for source, name in NAMES.items()}
    return {
        "sources_failed": failed,
        "companies_untested": untested,
        "error": "; ".join(
            f"{names.get(source, source)} failed during the run: {cause}"
            for source, cause in failed.items()
        )
        + f"; {untested} companies were not tested (the next scan tests them)",
    }


def company_counts(engine: Engine, run_id: int) -> dict[str, int]:
    """Companies of a run by status (pending, done, failed): progress for a waiting person."""
    with session(engine) as db:
        return _company_counts(db, run_id)


def get_run(engine: Engine, run_id: int) -> ScanRun | None:
    with session(engine) as db:
        return db.get(ScanRun, run_id, populate_existing=True)


def _company_counts(db: Session, run_id: int) -> dict[str, int]:
    rows = db.exec(
        select(RunCompany.status, func.count())
        .where(RunCompany.run_id == run_id)
        .group_by(col(RunCompany.status))
    ).all()
    return {status: int(count) for status, count in rows}


def _lock_run(db: Session, run_id: int) -> ScanRun | None:
    return db.exec(
        select(ScanRun)
        .where(col(ScanRun.id) == run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def runs_with_queued_work(engine: Engine) -> dict[int, int]:
    """Distributed runs with company jobs waiting or running, and how many: such a run is the
    workers', and an embedded scan next to it would double the traffic on every member host.
    Empty on SQLite and on a PostgreSQL without the job queue."""
    from sqlalchemy import text

    from exposure.distributed.app import COMPANY_TASK

    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            return {}
        rows = conn.execute(
            text(
                "SELECT (args->>'run_id')::int, count(*) FROM procrastinate_jobs "
                "WHERE task_name = :task AND status IN ('todo', 'doing') GROUP BY 1"
            ),
            {"task": COMPANY_TASK},
        ).all()
    return {int(run_id): int(count) for run_id, count in rows if run_id is not None}
