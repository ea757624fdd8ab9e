"""The single writer: scan results go to the store through one task, in batches, off the loop.

SQLite allows one writer at a time, and the event loop must never wait on the database while
hundreds of checks are in flight. So the orchestrator `submit`s each company's result to a
bounded queue (a full queue makes the scanners wait: back-pressure instead of unbounded
memory), and one background task takes what is queued and applies it in a worker thread,
one transaction per batch. Only this task writes while a scan runs. The worker thread holds
the GIL while it works, so a batch is applied with a handful of Core statements
(`exposure.store.lifecycle.batched`: the batch's findings and run rows read with one query
each, the writes made with executemany), not row by row through the ORM.

A batch that fails is rolled back and retried company by company, so one bad result cannot
take the others with it. A company that still fails is logged, recorded in the run (a
`CheckError` with reason `store_error`, its `RunCompany` left not done so a resumed run scans it
again) and listed in `StoreWriter.failures`: never silently dropped.

A failure that is the store's own (disk full, locked beyond its timeout, the server gone:
`exposure.store.exhaustion`) is not retried: every write after it would fail the same way.
The writer records it in `exhausted`, stops writing, and `submit` raises it, so that the run
stops cleanly instead of logging a traceback per company.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from sqlalchemy import Engine
from sqlmodel import col, update

from exposure.models import CheckError, RunCompany, ScanRun, utcnow
from exposure.scan.results import ApplyStats, CompanyResult
from exposure.store import runs as store_runs
from exposure.store.db import session
from exposure.store.exhaustion import StoreExhaustedError, cause_of, detail_of
from exposure.store.lifecycle import apply_company_result, batched, clean_text

log = logging.getLogger(__name__)

STORE_ERROR = "store_error"  # CheckError.reason / ApplyStats.errors_by_reason key
STORE_CHECK_ID = store_runs.STORE_CHECK_ID  # CheckError.check_id of a result not applied


@dataclass(frozen=True, slots=True)
class StoreFailure:
    """A company result the store could not apply."""

    run_id: int
    company_id: str
    error: str


class StoreWriter:
    """Applies `CompanyResult`s to the store from one background task.

    Use as `async with StoreWriter(engine) as writer: await writer.submit(result)`, or call
    `start()` and `close()`. `close()` writes everything submitted before it returns.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        batch_size: int = 50,
        batch_seconds: float = 0.5,
        max_queue: int = 200,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if batch_size < 1 or max_queue < 1:
            raise ValueError("batch_size and max_queue must be at least 1")
        self._engine = engine
        self._batch_size = batch_size
        self._batch_seconds = batch_seconds
        self._max_queue = max_queue
        self._clock = clock
        self._queue: asyncio.Queue[CompanyResult | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.stats = ApplyStats()  # everything applied so far (read it after close())
        self.failures: list[StoreFailure] = []
        self.exhausted: StoreExhaustedError | None = None  # the store stopped taking writes
        self.batches = 0  # transactions committed, for tests and progress lines
        self.cpu_seconds = 0.0  # CPU spent applying results (in the worker thread), for benchmarks

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("StoreWriter already started")
        self._queue = asyncio.Queue(maxsize=self._max_queue)
        self._task = asyncio.create_task(self._run(), name="exposure-store-writer")

    async def submit(self, result: CompanyResult) -> None:
        """Queue one company's result; waits while the queue is full (back-pressure)."""
        if self._task is None or self._queue is None:
            raise RuntimeError("StoreWriter.start() was not called")
        if self._closing:
            raise RuntimeError("StoreWriter is closed")
        if self.exhausted is not None:  # a new one each time: a raised one keeps its traceback
            raise StoreExhaustedError(
                self.exhausted.cause, self.exhausted.detail, self.exhausted.run_id
            )
        if self._task.done():
            raise RuntimeError("the store writer task has stopped") from _exception(self._task)
        await self._queue.put(result)

    async def flush(self) -> None:
        """Wait until everything submitted so far is written (or recorded as failed)."""
        if self._queue is not None and self._task is not None and not self._task.done():
            await self._queue.join()

    async def close(self) -> None:
        """Write what is queued, then stop the background task."""
        if self._task is None or self._queue is None or self._closing:
            return
        self._closing = True
        if not self._task.done():
            await self._queue.put(None)
        await self._task

    async def __aenter__(self) -> StoreWriter:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        stopping = False
        while True:
            if stopping:  # close() was called: write what is left without waiting, then stop
                batch = self._take_queued(queue)
                if not batch:
                    return
            else:
                batch, stopping = await self._next_batch(queue)
            if not batch:
                continue
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    queue.task_done()

    async def _next_batch(
        self, queue: asyncio.Queue[CompanyResult | None]
    ) -> tuple[list[CompanyResult], bool]:
        """Wait for a result, then gather more for up to batch_seconds or batch_size.

        Returns the batch and whether the stop marker was seen.
        """
        loop = asyncio.get_running_loop()
        batch: list[CompanyResult] = []
        item = await queue.get()
        deadline = loop.time() + self._batch_seconds
        while True:
            if item is None:
                queue.task_done()
                return batch, True
            batch.append(item)
            if len(batch) >= self._batch_size:
                return batch, False
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return batch, False
                try:
                    item = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    return batch, False

    def _take_queued(self, queue: asyncio.Queue[CompanyResult | None]) -> list[CompanyResult]:
        batch: list[CompanyResult] = []
        while len(batch) < self._batch_size:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if item is None:
                queue.task_done()
            else:
                batch.append(item)
        return batch

    async def _write(self, batch: list[CompanyResult]) -> None:
        if self.exhausted is not None:  # nothing more goes in; the companies stay pending
            self.failures.extend(
                StoreFailure(r.run_id, r.company_id, str(self.exhausted)) for r in batch
            )
            return
        try:
            stats, failures, batches = await asyncio.to_thread(self._metered_batch, batch)
        except Exception as exc:  # _apply_batch records its own failures; this is a last resort
            cause = cause_of(exc)
            if cause is not None:
                self.exhausted = StoreExhaustedError(cause, detail_of(exc), batch[0].run_id)
                log.debug("store writer: stopped, %s", self.exhausted, exc_info=True)
            else:
                log.exception("store writer: batch of %d results lost", len(batch))
            stats = ApplyStats()
            failures = [StoreFailure(r.run_id, r.company_id, _describe(exc)) for r in batch]
            batches = 0
        self.stats.add(stats)
        self.failures.extend(failures)
        self.batches += batches

    # --- in the worker thread ------------------------------------------------------------------

    def _metered_batch(
        self, batch: Sequence[CompanyResult]
    ) -> tuple[ApplyStats, list[StoreFailure], int]:
        started = time.thread_time()
        try:
            return self._apply_batch(batch)
        finally:
            self.cpu_seconds += time.thread_time() - started

    def _apply_batch(
        self, batch: Sequence[CompanyResult]
    ) -> tuple[ApplyStats, list[StoreFailure], int]:
        """One transaction for the batch; on failure one per company. Runs in a thread."""
        stats = ApplyStats()
        try:
            with session(self._engine) as db, batched(db, batch):
                for result in batch:
                    stats.add(apply_company_result(db, result, result.run_id, self._clock()))
            return stats, [], 1
        except Exception as exc:
            if cause_of(exc) is not None:
                raise  # the store's own trouble: no point in trying company by company
            if len(batch) == 1:
                return self._apply_one(batch[0])
            log.warning(
                "store writer: batch of %d results failed; retrying one by one",
                len(batch),
                exc_info=True,
            )
        stats = ApplyStats()
        failures: list[StoreFailure] = []
        committed = 0
        for result in batch:
            one_stats, one_failures, one_committed = self._apply_one(result)
            stats.add(one_stats)
            failures.extend(one_failures)
            committed += one_committed
        return stats, failures, committed

    def _apply_one(self, result: CompanyResult) -> tuple[ApplyStats, list[StoreFailure], int]:
        try:
            with session(self._engine) as db:
                stats = apply_company_result(db, result, result.run_id, self._clock())
            return stats, [], 1
        except Exception as exc:
            if cause_of(exc) is not None:
                raise
            log.exception(
                "store writer: could not store the result of company %s (run %s)",
                result.company_id,
                result.run_id,
            )
            failure = StoreFailure(result.run_id, result.company_id, _describe(exc))
            stats = ApplyStats(errors=1, errors_by_reason={STORE_ERROR: 1})
            self._record_failure(failure)
            return stats, [failure], 0

    def _record_failure(self, failure: StoreFailure) -> None:
        """Leave a trace in the run: a CheckError, and the company not done (so resumable)."""
        try:
            with session(self._engine) as db:
                progress = db.get(RunCompany, (failure.run_id, failure.company_id))
                if progress is not None and progress.status != "done":
                    progress.status = "failed"
                db.add(
                    CheckError(
                        run_id=failure.run_id,
                        company_id=failure.company_id,
                        check_id=STORE_CHECK_ID,
                        reason=STORE_ERROR,
                        message=clean_text(failure.error),
                        created_at=self._clock(),
                    )
                )
                db.exec(
                    update(ScanRun)
                    .where(col(ScanRun.id) == failure.run_id)
                    .values(errors=col(ScanRun.errors) + 1)
                )
        except Exception:
            log.exception(
                "store writer: could not record the failure of company %s in run %s either",
                failure.company_id,
                failure.run_id,
            )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _exception(task: asyncio.Task[None]) -> BaseException | None:
    return None if task.cancelled() else task.exception()
