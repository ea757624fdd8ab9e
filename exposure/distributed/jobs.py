"""The job bodies a worker runs, and what a worker keeps between jobs.

`scan_company_job` is the unit of work: it scans one company with the same `scan_company`
coroutine as the embedded orchestrator and applies the result with the same store code, once.
A worker keeps one `RunResources` per run it works on (DNS cache, memo, HTTP client), shared by
all of that run's companies it scans, and one set of per-IP limits shared by everything it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from procrastinate import JobContext

from exposure.contract import wants_of
from exposure.distributed import bookkeeping
from exposure.distributed.app import AFTER_RUN_TASK, MAX_ATTEMPTS, ExposureApp, conninfo
from exposure.models import RunStatus, utcnow
from exposure.registry import Registry, RegistryError, load
from exposure.scan.canaries import preflight_sources
from exposure.scan.limits import Limits
from exposure.scan.orchestrator import RunResources, Runtime, scan_company
from exposure.scan.results import CompanyResult
from exposure.store.db import make_engine

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds a worker keeps an idle run's resources (its DNS cache, its memo) before closing
#: them: long enough to bridge a short gap between two of the run's jobs.
RUN_LINGER = 60.0


@dataclass(slots=True)
class _OpenRun:
    resources: RunResources
    runtime: Runtime
    users: int = 0
    closer: asyncio.TimerHandle | None = None
    companies: int = 0
    started: float = field(default_factory=time.monotonic)


class WorkerState:
    """The engine, the checks, the shared limits and the open runs of one worker process."""

    def __init__(self, exp: ExposureApp) -> None:
        self.exp = exp
        self.settings = exp.settings
        self.engine = make_engine(exp.settings.database)
        # SQLite (the in-memory tests) has one writer; its deferred transactions that read and
        # then write fail at once with "database is locked" when two threads race. PostgreSQL
        # takes row locks instead, and needs no serialising here.
        self._serial = (
            threading.Lock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        self._registry = exp.registry
        self._limits: Limits | None = None
        self._runs: dict[int, _OpenRun] = {}
        self._opening: dict[int, asyncio.Lock] = {}
        self._closing: set[asyncio.Task[None]] = set()

    async def store(self, func: Callable[..., T], *args: Any) -> T:
        """Run one store function (one transaction) off the event loop."""

        def call() -> T:
            with self._serial:
                return func(self.engine, *args)

        return await asyncio.to_thread(call)

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = load()
        return self._registry

    async def limits(self) -> Limits:
        """The worker's per-IP limits: shared with the other workers through PostgreSQL
        (`AdvisoryLimits`), or in-process only (the in-memory tests)."""
        if self._limits is None:
            if self.exp.shared_limits:
                from exposure.distributed.limits import AdvisoryLimits

                shared = AdvisoryLimits(self.settings.per_ip_concurrency, conninfo(self.settings))
                await shared.open()
                self._limits = shared
            else:
                self._limits = Limits(self.settings.per_ip_concurrency)
        return self._limits

    @contextlib.asynccontextmanager
    async def runtime(self, run_id: int, state: bookkeeping.CompanyState) -> AsyncIterator[Runtime]:
        """The run's runtime in this worker, opened by its first job, closed when idle."""
        lock = self._opening.setdefault(run_id, asyncio.Lock())
        async with lock:
            entry = self._runs.get(run_id)
            if entry is None:
                entry = await self._open(run_id, state)
                self._runs[run_id] = entry
        if entry.closer is not None:
            entry.closer.cancel()
            entry.closer = None
        entry.users += 1
        try:
            yield entry.runtime
        finally:
            entry.users -= 1
            entry.companies += 1
            if entry.users == 0:
                if entry.runtime.health.broken:
                    # a source of ours failed in this worker: the run's next job here opens
                    # the run afresh and asks the canaries again (a later retry)
                    self._close_idle(run_id)
                else:
                    loop = asyncio.get_running_loop()
                    entry.closer = loop.call_later(RUN_LINGER, self._close_idle, run_id)

    async def _open(self, run_id: int, state: bookkeeping.CompanyState) -> _OpenRun:
        checks = self.registry.select(state.checks or None)
        missing = sorted(set(state.checks) - {c.meta.id for c in checks})
        if missing:
            # A worker of another version would store a partial scan as a complete one.
            raise RegistryError(
                f"run {run_id} needs checks this worker does not have: {', '.join(missing)}; "
                "install the same exposure version on every worker"
            )
        started = state.started_at or utcnow()
        now = self.exp.clock() if self.exp.clock else started.replace(tzinfo=UTC)
        resources = RunResources(
            self.settings,
            resolver=self.exp.resolver,
            limits=await self.limits(),
            now=now,
            engine=self.engine,
            wants=wants_of(checks),
        )
        runtime = Runtime(resources.ctx, checks, self.settings, resources.health)
        # What a paced check (Shodan) may wait for: the run's own deadline, as in the embedded
        # scan; at that instant the run's deadline job stops the run anyway.
        ends = started + timedelta(seconds=self.settings.run_deadline)
        left = max((ends - utcnow()).total_seconds(), 0.0)
        runtime.ctx = replace(runtime.ctx, deadline=asyncio.get_running_loop().time() + left)
        resources.health.run_id = run_id
        log.info("run %s: opened in this worker", run_id, extra={"run_id": run_id})
        try:  # outbound port 25 before the first company, when a check needs it
            await preflight_sources(resources.health, runtime.needs.values())
        except BaseException:
            await resources.aclose(persist=False)
            raise
        return _OpenRun(resources, runtime)

    def _close_idle(self, run_id: int) -> None:
        entry = self._runs.get(run_id)
        if entry is None or entry.users:
            return
        del self._runs[run_id]
        self._opening.pop(run_id, None)
        task = asyncio.ensure_future(entry.resources.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def forget_run(self, run_id: int) -> None:
        """The run finished: close its resources as soon as no job uses them."""
        entry = self._runs.get(run_id)
        if entry is not None and not entry.users:
            if entry.closer is not None:
                entry.closer.cancel()
            self._close_idle(run_id)

    async def close(self) -> None:
        for entry in self._runs.values():
            if entry.closer is not None:
                entry.closer.cancel()
            await entry.resources.aclose()
        self._runs.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self._limits is not None and hasattr(self._limits, "close"):
            await self._limits.close()
        self._limits = None
        self.engine.dispose()


async def scan_company_job(
    exp: ExposureApp, context: JobContext, run_id: int, company_id: str
) -> str:
    """Scan one company of a run, apply its result once, and finish the run if it was the last.

    A company already done (a retried job whose result was stored) or a run no longer running
    (stopped at its deadline) is skipped. When the last attempt fails, the company is recorded
    as failed in the run, so that the run can still end (incomplete) and the next scan retries it.
    """
    state = exp.state
    try:
        outcome = await _scan_and_apply(exp, state, run_id, company_id)
    except Exception as exc:
        attempts = context.job.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            error = f"{type(exc).__name__}: {exc}"
            log.error(
                "run %s: company %s failed %d times; recorded as not scanned",
                run_id,
                company_id,
                attempts,
                exc_info=True,
                extra={"run_id": run_id, "company_id": company_id},
            )
            await state.store(bookkeeping.record_failure, run_id, company_id, error)
            await _finish_if_done(exp, state, run_id)
        raise
    return outcome


async def _scan_and_apply(
    exp: ExposureApp, state: WorkerState, run_id: int, company_id: str
) -> str:
    engine = state.engine
    where = await state.store(bookkeeping.company_state, run_id, company_id)
    if not where.runnable:
        reason = (
            "no such run"
            if where.run_status is None
            else f"run is {where.run_status}"
            if where.run_status != RunStatus.RUNNING
            else f"company is {where.company_status or 'not in the run'}"
        )
        log.info(
            "run %s: company %s skipped (%s)",
            run_id,
            company_id,
            reason,
            extra={"run_id": run_id, "company_id": company_id},
        )
        if where.run_status == RunStatus.RUNNING:
            await _finish_if_done(exp, state, run_id)
        return f"skipped: {reason}"

    snapshot = await asyncio.to_thread(bookkeeping.load_company, engine, company_id)
    if snapshot is not None:
        async with state.runtime(run_id, where) as rt:
            result = await scan_company(snapshot, rt, run_id)
            # failures a fault of ours would cause too wait for the canaries (exposure.scan.health)
            rt.health.untested.discard(company_id)
            vouched = await rt.health.vouch(result, rt.needs, time.monotonic(), rt.partial)
            failed = {s.value: cause for s, cause in rt.health.failed.items()}
        if vouched is None or company_id in rt.health.untested:
            return await _untested(exp, state, run_id, company_id, failed)
        result = vouched
    else:
        # Deactivated or removed since the run started: nothing to scan, nothing to resolve.
        result = CompanyResult(run_id, company_id, (), utcnow())
    stats = await state.store(bookkeeping.apply_once, result)
    if stats is None:
        outcome = "already stored by another job"
    else:
        outcome = f"stored: {stats.new} new, {stats.resolved} resolved, {stats.errors} errors"
    log.info(
        "run %s: company %s %s",
        run_id,
        company_id,
        outcome,
        extra={"run_id": run_id, "company_id": company_id, "action": "company_scanned"},
    )
    await _finish_if_done(exp, state, run_id)
    return outcome


async def _untested(
    exp: ExposureApp, state: WorkerState, run_id: int, company_id: str, failed: dict[str, str]
) -> str:
    """A source of this worker failed while it scanned the company: store nothing of it (no
    finding written or resolved for our own fault); the company is left untested, the run ends
    `degraded`, and the next scan with the run's scope tests it again."""
    recorded = await state.store(bookkeeping.record_untested, run_id, company_id, failed)
    outcome = (
        f"not tested: {', '.join(sorted(failed))} of this worker failed"
        if recorded
        else "already stored by another job"
    )
    log.warning(
        "run %s: company %s %s",
        run_id,
        company_id,
        outcome,
        extra={"run_id": run_id, "company_id": company_id, "action": "company_untested"},
    )
    await _finish_if_done(exp, state, run_id)
    return outcome


async def _finish_if_done(exp: ExposureApp, state: WorkerState, run_id: int) -> None:
    status = await state.store(bookkeeping.finish_if_done, run_id)
    if status is None:
        return
    log.warning(
        "run %s finished: %s",
        run_id,
        status,
        extra={"run_id": run_id, "status": status, "action": "run_finished"},
    )
    state.forget_run(run_id)
    from procrastinate import exceptions as pq_exceptions

    from exposure.distributed.coordinator import cancel_deadline

    await cancel_deadline(exp, run_id)

    if status == RunStatus.DEGRADED:
        # as `exposure nightly`: no warnings while our own view is broken; the resumed run,
        # once it finishes, queues them
        log.warning("run %s: no follow-ups for a degraded run", run_id, extra={"run_id": run_id})
        return
    with contextlib.suppress(pq_exceptions.AlreadyEnqueued):
        await (
            exp.task(AFTER_RUN_TASK)
            .configure(queueing_lock=f"after_run:{run_id}")
            .defer_async(run_id=run_id)
        )


async def run_deadline_job(exp: ExposureApp, run_id: int) -> str:
    """The run's deadline: stop it (incomplete) if it still runs, and cancel its waiting jobs."""
    from exposure.distributed.coordinator import cancel_waiting_jobs

    stopped = await exp.state.store(bookkeeping.stop_at_deadline, run_id)
    if not stopped:
        return "run already finished"
    cancelled = await cancel_waiting_jobs(exp, run_id)
    log.warning(
        "run %s stopped at its deadline of %g s: %d waiting companies cancelled; the next scan "
        "with its scope resumes it",
        run_id,
        exp.settings.run_deadline,
        cancelled,
        extra={"run_id": run_id, "action": "run_deadline"},
    )
    exp.state.forget_run(run_id)
    return f"stopped, {cancelled} jobs cancelled"


async def after_run_job(exp: ExposureApp, run_id: int) -> str:
    """The follow-ups of a finished run (`after_scan`: warnings, reports)."""
    from exposure.distributed.followups import run_followups

    results = await run_followups(exp.settings, run_id)
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError("; ".join(r.describe() for r in failed))
    return f"{len(results)} follow-ups done"


async def nightly_job(exp: ExposureApp, timestamp: int) -> str:
    """The nightly run: refuse when the resolver is down (a failed run in `exposure runs`),
    otherwise start (or resume) the run of every active company with every installed check."""
    from exposure.distributed.coordinator import run_scope, start_run
    from exposure.scan.preflight import probe_resolver

    state = exp.state
    tick = datetime.fromtimestamp(timestamp, UTC).isoformat()
    probe = await probe_resolver(exp.settings, exp.resolver)
    if not probe.ok:
        scope = run_scope(None, [c.meta.id for c in state.registry.checks])
        run_id = await state.store(bookkeeping.record_refused_run, scope, probe.describe())
        log.error(
            "nightly run of %s refused (run %s): %s",
            tick,
            run_id,
            probe.describe(),
            extra={"run_id": run_id, "action": "run_refused"},
        )
        raise RuntimeError(f"nightly run refused: {probe.describe()}")
    await _discover_first(exp)
    started = await start_run(exp, state.engine, state.registry)
    return f"run {started.run_id}: {started.deferred} companies queued ({tick})"


async def _discover_first(exp: ExposureApp) -> None:
    """Discovery before the nightly run (issue #22, `discovery_schedule`), on this worker,
    within a quarter of the run's deadline; what the Meldpunt confirmed is scanned tonight.
    A discovery that fails is logged and never stops the scan of the known targets."""
    from exposure.discovery.service import NIGHTLY_SHARE, discovery_due, run_discovery

    settings, engine = exp.settings, exp.state.engine
    try:
        due = await asyncio.to_thread(discovery_due, engine, settings.discovery_schedule, utcnow())
        if not due:
            return
        report = await run_discovery(
            settings,
            engine,
            deadline=settings.run_deadline * NIGHTLY_SHARE,
            resume=True,
            resolver=exp.resolver,
        )
    except Exception:
        log.exception("discovery before the nightly run failed", extra={"action": "discovery"})
        return
    for note in report.notes:  # e.g. what the Shodan search spent of its credit budget
        log.info("discovery: %s", note, extra={"action": "discovery_note"})
    log.info(
        "discovery: %s",
        report.outcome.as_dict(),
        extra={"action": "discovery_finished", "summary": report.outcome.as_dict()},
    )
