"""`exposure worker`: one worker process; run as many as you like, on as many machines.

A worker prepares the database (migrations, the queue's tables; idempotent, serialised between
workers), then runs procrastinate's worker loop: it takes company jobs (up to `concurrency` at
once), sends a heartbeat every `heartbeat` seconds, and also queues the nightly run when its time
comes (procrastinate lets exactly one worker do that). Next to it runs the reaper: every few
seconds it looks for jobs held by workers whose heartbeat is older than `stalled_after` (killed,
frozen, their machine gone) and puts them back in the queue for the living workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from exposure.distributed.app import QUEUE, ExposureApp, prepare_database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    concurrency: int = 16  # companies in flight in this worker
    name: str | None = None
    heartbeat: float = 10.0  # seconds between heartbeats
    stalled_after: float = 60.0  # seconds without a heartbeat before a worker's jobs are retried
    shutdown_timeout: float = 30.0  # on SIGTERM: seconds to finish running jobs, then abort them
    listen_notify: bool = True  # be told of new jobs at once (else polling only)
    polling: float = 5.0  # seconds between looks at the queue when nothing is notified
    prepare: bool = True  # migrate the store and create the queue tables first
    delete_jobs: str = "successful"  # keep the queue small; "never" keeps them (debugging)

    def __post_init__(self) -> None:
        if self.stalled_after <= 2 * self.heartbeat:
            raise ValueError(
                f"stalled_after ({self.stalled_after:g} s) must exceed two heartbeats "
                f"({self.heartbeat:g} s each), or live workers would be taken for dead"
            )


async def reap_stalled(exp: ExposureApp, stalled_after: float, every: float | None = None) -> None:
    """Forever: put the jobs of workers without a recent heartbeat back in the queue.

    Several workers reap at once without harm: retrying a job that another worker already put
    back fails in the database, and is ignored here. A job that ran twice this way (its worker
    was slow, not dead) is applied once: see `bookkeeping.apply_once`.
    """
    manager = exp.app.job_manager
    interval = every if every is not None else max(1.0, stalled_after / 4)
    while True:
        try:
            for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
                try:
                    await manager.retry_job(job)
                except Exception:
                    log.debug("job %s: already retried elsewhere", job.id, exc_info=True)
                    continue
                log.warning(
                    "job %s (%s) of a stalled worker put back in the queue",
                    job.id,
                    job.call_string,
                    extra={"job_id": job.id, "action": "stalled_job_retried"},
                )
            await manager.prune_stalled_workers(stalled_after)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("looking for stalled jobs failed; trying again later", exc_info=True)
        await asyncio.sleep(interval)


async def run_worker(exp: ExposureApp, options: WorkerOptions) -> None:
    """Run one worker until SIGINT/SIGTERM (then finish or abort running jobs, and return)."""
    if options.prepare:
        await prepare_database(exp.settings)
    async with exp.app.open_async():
        reaper = asyncio.create_task(reap_stalled(exp, options.stalled_after), name="reaper")
        try:
            await exp.app.run_worker_async(
                queues=[QUEUE],
                name=options.name or "exposure-worker",
                concurrency=options.concurrency,
                update_heartbeat_interval=options.heartbeat,
                stalled_worker_timeout=options.stalled_after,
                shutdown_graceful_timeout=options.shutdown_timeout,
                listen_notify=options.listen_notify,
                fetch_job_polling_interval=options.polling,
                abort_job_polling_interval=options.polling,
                install_signal_handlers=True,
                delete_jobs=options.delete_jobs,
            )
        finally:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
            await exp.close_state()
