"""Start (or resume) a distributed run: one job per pending company, then a deadline.

Used by `exposure scan --distributed` and by the nightly periodic job, so both start runs the
same way. Starting is idempotent: a second `scan --distributed` with the same scope resumes the
same run and queues only the companies that are neither done nor already queued or running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from procrastinate import exceptions as pq_exceptions
from procrastinate import jobs as pq_jobs
from sqlalchemy import Engine
from sqlmodel import col, select

from exposure.distributed import bookkeeping
from exposure.distributed.app import COMPANY_TASK, DEADLINE_TASK, QUEUE, ExposureApp
from exposure.models import Company
from exposure.registry import Registry
from exposure.store import runs as store_runs
from exposure.store.db import session

log = logging.getLogger(__name__)

DEFER_CHUNK = 500  # jobs per INSERT: one round trip per chunk, not per company


class UnknownCompanyError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class StartedRun:
    """What starting (or resuming) a distributed run did."""

    run_id: int
    companies_total: int
    pending: int  # companies not done yet
    deferred: int  # jobs this call queued
    already_queued: int  # pending companies that already had a job waiting or running

    @property
    def resumed_done(self) -> int:
        return self.companies_total - self.pending


def run_scope(company_ids: Sequence[str] | None, families: Sequence[str]) -> dict[str, Any]:
    """The scope of a distributed run. It names the mode, so that an embedded scan never
    resumes a run that workers are working on, nor the other way round."""
    return {
        "companies": sorted(company_ids) if company_ids else None,
        "checks": sorted(families),
        "mode": "distributed",
    }


def company_job(run_id: int, company_id: str) -> pq_jobs.Job:
    """The job that scans one company in one run.

    `lock`: no two jobs for one company run at the same time, whichever runs they belong to.
    `queueing_lock`: a run never has two jobs for one company waiting in the queue.
    """
    return pq_jobs.Job(
        id=None,
        queue=QUEUE,
        lock=f"company:{company_id}",
        queueing_lock=f"scan:{run_id}:{company_id}",
        task_name=COMPANY_TASK,
        task_kwargs={"run_id": run_id, "company_id": company_id},
    )


async def start_run(
    exp: ExposureApp,
    engine: Engine,
    registry: Registry,
    company_ids: Sequence[str] | None = None,
    check_prefixes: Sequence[str] | None = None,
) -> StartedRun:
    """Start or resume the run of this scope and queue its pending companies."""
    checks = registry.select(check_prefixes)
    active = await asyncio.to_thread(_active_companies, engine, company_ids)
    if company_ids:
        missing = sorted(set(company_ids) - set(active))
        if missing:
            raise UnknownCompanyError(f"unknown or inactive company: {', '.join(missing)}")
    scope = run_scope(company_ids, [c.meta.id for c in checks])
    run_id, pending = await asyncio.to_thread(_start, engine, active, scope)
    deferred, queued = await defer_companies(exp, run_id, pending)
    await arm_deadline(exp, run_id)
    if not pending:  # nothing left to scan: the run is done now
        await asyncio.to_thread(bookkeeping.finish_if_done, engine, run_id)
    log.info(
        "run %s: %d companies, %d pending, %d jobs queued, %d already queued",
        run_id,
        len(active),
        len(pending),
        deferred,
        queued,
        extra={"run_id": run_id, "action": "run_started"},
    )
    return StartedRun(run_id, len(active), len(pending), deferred, queued)


async def defer_companies(
    exp: ExposureApp, run_id: int, company_ids: Sequence[str]
) -> tuple[int, int]:
    """Queue a job per company unless one is waiting or running; (queued, skipped)."""
    in_flight = await companies_in_flight(exp, run_id)
    todo = [c for c in company_ids if c not in in_flight]
    manager = exp.app.job_manager
    deferred = 0
    for start in range(0, len(todo), DEFER_CHUNK):
        chunk = [company_job(run_id, c) for c in todo[start : start + DEFER_CHUNK]]
        try:
            await manager.batch_defer_jobs_async(chunk)
            deferred += len(chunk)
        except pq_exceptions.AlreadyEnqueued:
            # Another process queued some of them meanwhile: one by one, keeping theirs.
            for job in chunk:
                try:
                    await manager.defer_job_async(job)
                    deferred += 1
                except pq_exceptions.AlreadyEnqueued:
                    pass
    return deferred, len(company_ids) - deferred


async def companies_in_flight(exp: ExposureApp, run_id: int) -> set[str]:
    """Companies of the run with a job waiting or running."""
    found: set[str] = set()
    for status in ("todo", "doing"):
        for job in await exp.app.job_manager.list_jobs_async(task=COMPANY_TASK, status=status):
            if job.task_kwargs.get("run_id") == run_id:
                found.add(str(job.task_kwargs.get("company_id")))
    return found


async def arm_deadline(exp: ExposureApp, run_id: int) -> None:
    """Queue the job that stops the run at its deadline (one per run: a resumed run keeps the
    deadline it has, and gets a new one only when the old one has fired)."""
    deferrer = exp.task(DEADLINE_TASK).configure(
        queueing_lock=f"deadline:{run_id}",
        schedule_in={"seconds": int(timedelta(seconds=exp.settings.run_deadline).total_seconds())},
    )
    with contextlib.suppress(pq_exceptions.AlreadyEnqueued):
        await deferrer.defer_async(run_id=run_id)


async def cancel_deadline(exp: ExposureApp, run_id: int) -> bool:
    """Drop the deadline job of a run that finished before it: otherwise it stays queued for
    hours, to find the run finished (True if one was cancelled)."""
    cancelled = False
    for job in await exp.app.job_manager.list_jobs_async(
        task=DEADLINE_TASK, status="todo", queueing_lock=f"deadline:{run_id}"
    ):
        if job.id is not None and await exp.app.job_manager.cancel_job_by_id_async(
            job.id, delete_job=True
        ):
            cancelled = True
    return cancelled


async def cancel_waiting_jobs(exp: ExposureApp, run_id: int) -> int:
    """Cancel the run's company jobs still waiting in the queue (the run stopped)."""
    cancelled = 0
    for job in await exp.app.job_manager.list_jobs_async(task=COMPANY_TASK, status="todo"):
        if (
            job.task_kwargs.get("run_id") == run_id
            and job.id is not None
            and await exp.app.job_manager.cancel_job_by_id_async(job.id, delete_job=True)
        ):
            cancelled += 1
    return cancelled


def _active_companies(engine: Engine, company_ids: Sequence[str] | None) -> list[str]:
    with session(engine) as db:
        query = select(Company.id).where(col(Company.active).is_(True))
        if company_ids:
            query = query.where(col(Company.id).in_(list(company_ids)))
        return list(db.exec(query.order_by(col(Company.id))))


def _start(engine: Engine, company_ids: list[str], scope: dict[str, Any]) -> tuple[int, list[str]]:
    with session(engine) as db:
        run, pending = store_runs.start_or_resume_run(db, company_ids, scope)
        assert run.id is not None
        # left untested by a run that did not end (every worker gone): pending again, queued
        bookkeeping.reopen_untested(db, run.id)
        return run.id, list(pending)
