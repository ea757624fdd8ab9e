"""The procrastinate application: its connector on `settings.database`, and exposure's tasks.

`make_app(settings)` builds a fresh `procrastinate.App` with the tasks registered on it (not on
a module-level app), so that a process can hold several (tests do) and the nightly schedule can
come from the settings. The task bodies live in `jobs.py`; this module only wires them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import procrastinate
import psycopg
from procrastinate import JobContext, RetryStrategy
from procrastinate.connector import BaseConnector
from sqlalchemy.engine import URL

from exposure.net.dns import Resolver
from exposure.registry import Registry
from exposure.settings import Settings
from exposure.store.db import conninfo_of, database_url, make_engine, migrate

if TYPE_CHECKING:
    from exposure.distributed.jobs import WorkerState

log = logging.getLogger(__name__)

#: Task names: the public contract between the process that queues and the workers (a worker
#: of another version must know them). Never renamed; add aliases if one ever has to change.
COMPANY_TASK = "exposure.scan_company"
DEADLINE_TASK = "exposure.run_deadline"
AFTER_RUN_TASK = "exposure.after_run"
NIGHTLY_TASK = "exposure.nightly"
QUEUE = "exposure"

#: A company job runs at most this often (the first run and two retries, killed workers
#: included) before the company is recorded as failed in its run.
MAX_ATTEMPTS = 3
RETRY = RetryStrategy(max_attempts=MAX_ATTEMPTS - 1, wait=5, linear_wait=10)

# An arbitrary constant: the advisory lock that serialises schema changes between processes
# (two workers starting at once must not both create the tables).
_SCHEMA_LOCK = 0x65787073  # "exps"


class DistributedModeError(ValueError):
    """The distributed mode cannot run with this configuration (phrased for a person)."""


def require_postgres(settings: Settings) -> URL:
    """The distributed mode needs PostgreSQL; SQLite keeps the embedded orchestrator."""
    url = database_url(settings.database)
    if url.get_backend_name() != "postgresql":
        raise DistributedModeError(
            f"the distributed mode needs PostgreSQL (database is {url.get_backend_name()}); "
            "on SQLite run `exposure scan` without --distributed"
        )
    return url


def conninfo(settings: Settings) -> str:
    """The libpq connection string of the store's database (psycopg, procrastinate)."""
    url = require_postgres(settings)
    return conninfo_of(url)


async def prepare_database(settings: Settings) -> None:
    """Migrate the store and create procrastinate's tables if missing; safe to run concurrently.

    Everything happens under one PostgreSQL advisory lock, so that workers started together
    (a compose file, a test) take turns; the second finds everything in place. procrastinate's
    schema is created once; its own upgrades between versions are applied with its migrations
    (see README, "Upgrading").
    """
    from procrastinate.schema import SchemaManager

    info = conninfo(settings)
    async with await psycopg.AsyncConnection.connect(info, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            engine = make_engine(settings.database)
            try:
                await asyncio.to_thread(migrate, engine)
            finally:
                engine.dispose()
            row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
            if row is None or row[0] is None:
                log.info("creating the job queue's tables (procrastinate schema)")
                async with conn.transaction():
                    await conn.execute(SchemaManager.get_schema())
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


class ExposureApp:
    """A procrastinate `App` with exposure's tasks, and what its workers share.

    `state` (the engine, the registry, the open runs) is built on first use, in the worker that
    runs jobs; a process that only queues jobs never builds it.
    """

    def __init__(
        self,
        settings: Settings,
        app: procrastinate.App,
        *,
        registry: Registry | None = None,
        resolver: Resolver | None = None,
        shared_limits: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.app = app
        self.registry = registry
        self.resolver = resolver
        self.shared_limits = shared_limits
        self.clock = clock
        self._state: WorkerState | None = None

    @property
    def state(self) -> WorkerState:
        if self._state is None:
            from exposure.distributed.jobs import WorkerState

            self._state = WorkerState(self)
        return self._state

    async def close_state(self) -> None:
        if self._state is not None:
            await self._state.close()
            self._state = None

    def task(self, name: str) -> Any:
        return self.app.tasks[name]


def _connector(settings: Settings) -> BaseConnector:
    from procrastinate import PsycopgConnector

    # A small pool: a worker fetches and finishes jobs through it; the store writes go through
    # SQLAlchemy's own pool, and the per-IP locks through one connection of their own.
    return PsycopgConnector(conninfo=conninfo(settings), min_size=1, max_size=8)


def make_app(
    settings: Settings,
    *,
    connector: BaseConnector | None = None,
    registry: Registry | None = None,
    resolver: Resolver | None = None,
    clock: Callable[[], datetime] | None = None,
    nightly_cron: str | None = None,
    shared_limits: bool | None = None,
) -> ExposureApp:
    """The application on `settings.database` (or on `connector`: tests use the in-memory one).

    `registry`, `resolver` and `clock` replace the installed checks, the resolver and the clock
    in the jobs this process runs (tests). `nightly_cron` (default `settings.nightly_cron`)
    schedules the nightly run; procrastinate makes sure one worker, not every worker, queues it.
    `shared_limits` (default: when the connector is the real one on `settings.database`) backs
    the per-IP limits with PostgreSQL advisory locks shared by every worker.
    """
    from exposure.distributed import jobs

    app = procrastinate.App(
        connector=connector if connector is not None else _connector(settings),
        # A nightly tick missed by more than an hour (every worker was down) is skipped rather
        # than started in the middle of the working day.
        periodic_defaults={"max_delay": 3600},
    )
    exp = ExposureApp(
        settings,
        app,
        registry=registry,
        resolver=resolver,
        shared_limits=connector is None if shared_limits is None else shared_limits,
        clock=clock,
    )

    async def scan_company(context: JobContext, run_id: int, company_id: str) -> str:
        return await jobs.scan_company_job(exp, context, run_id, company_id)

    async def run_deadline(run_id: int) -> str:
        return await jobs.run_deadline_job(exp, run_id)

    async def after_run(run_id: int) -> str:
        return await jobs.after_run_job(exp, run_id)

    async def nightly(timestamp: int) -> str:
        return await jobs.nightly_job(exp, timestamp)

    _register(app, scan_company, COMPANY_TASK, retry=RETRY, pass_context=True)
    _register(app, run_deadline, DEADLINE_TASK, retry=2)
    _register(app, after_run, AFTER_RUN_TASK, retry=2)
    nightly_task = _register(app, nightly, NIGHTLY_TASK, queueing_lock=NIGHTLY_TASK)
    cron = nightly_cron if nightly_cron is not None else settings.nightly_cron
    if cron:
        app.periodic(cron=cron, periodic_id="nightly")(nightly_task)
    return exp


def _register(
    app: procrastinate.App,
    func: Callable[..., Awaitable[str]],
    name: str,
    **options: Any,
) -> Any:
    return app.task(name=name, queue=QUEUE, **options)(func)
