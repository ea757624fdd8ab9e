"""Shared fixtures: a fresh database on SQLite and on a real PostgreSQL.

`database_url` runs a test twice, once on a temp-file SQLite database and once on a fresh
PostgreSQL schema in a test database created on the server named by EXPOSURE_TEST_POSTGRES_URL
and dropped afterwards (`source .ci/postgres.sh` starts a throw-away server and sets it).
Without that variable the PostgreSQL runs are skipped locally, but they FAIL when CI=true:
on CI a PostgreSQL test must never be skipped silently.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlmodel import col, select

from exposure.contract import (
    CheckFailure,
    FailureReason,
    FindingCandidate,
    Observation,
    ScanTarget,
    TargetKind,
)
from exposure.models import CheckError, Company, Finding, FindingEvent, ScanRun, Target
from exposure.scan.results import ApplyStats, CompanyResult, TaskOutcome
from exposure.severity import Severity

POSTGRES_ENV = "EXPOSURE_TEST_POSTGRES_URL"


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _postgres_server() -> URL:
    raw = os.environ.get(POSTGRES_ENV, "").strip()
    if not raw:
        message = f"{POSTGRES_ENV} is not set (source .ci/postgres.sh to start a PostgreSQL)"
        if _on_ci():
            pytest.fail(f"{message}; PostgreSQL tests must not be skipped on CI", pytrace=False)
        pytest.skip(message)
    return make_url(raw)


def _conninfo(url: URL, database: str | None = None) -> str:
    """libpq connection string for `url` (another database on the same server if given)."""
    params: dict[str, str | int | None] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": database or url.database or "postgres",
        **{key: value for key, value in url.query.items() if isinstance(value, str)},
    }
    return psycopg.conninfo.make_conninfo(
        "", **{key: value for key, value in params.items() if value is not None}
    )


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[URL]:
    """One database for this test session (this xdist worker), created and dropped here.

    CREATE DATABASE costs ~0.2 s; a schema costs ~nothing, so each test gets its own schema in
    this database instead (see `database_url`).
    """
    server = _postgres_server()
    name = f"exposure_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _conninfo(server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            # FORCE: a test that failed half-way may have left a connection open.
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of an empty database, new for each test.

    SQLite: a new file. PostgreSQL: a new, empty schema in the session's test database,
    selected through the connection's search_path, so the code under test sees an empty
    database; it is dropped after the test.
    """
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "exposure.db"
        yield f"sqlite:///{path}"
        return

    database: URL = request.getfixturevalue("_postgres_database")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conninfo = _conninfo(database)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        url = database.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def store_engine(database_url: str) -> Iterator[Engine]:
    """An engine on a freshly migrated database (SQLite and PostgreSQL)."""
    from exposure.store.db import make_engine, migrate

    engine = make_engine(database_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


# --- a small world for store tests -------------------------------------------------------------
# exposure.store is imported inside the helpers, so that a broken store cannot stop the rest of
# the suite from being collected.

T0 = datetime(2026, 3, 2, 2, 0, 0)  # nights of a nightly scan, naive UTC as stored


@dataclass
class StoreWorld:
    """Companies, targets and runs in a migrated database, plus builders of scan results.

    Keeps the store tests about behaviour rather than set-up: `world.result(run, "c1",
    world.outcome("example.nl", "mail", {...}, world.candidate(...)))`.
    """

    engine: Engine
    targets: dict[str, ScanTarget] = field(default_factory=dict)

    def add_company(self, company_id: str, *values: str, name: str = "") -> list[ScanTarget]:
        from exposure.store.db import session

        added: list[ScanTarget] = []
        with session(self.engine) as db:
            db.add(Company(id=company_id, name=name or f"Company {company_id}", email="it@x.nl"))
            rows = [
                Target(company_id=company_id, kind=_kind(value), value=value) for value in values
            ]
            db.add_all(rows)
            db.flush()
            for row in rows:
                target = ScanTarget(company_id, TargetKind(row.kind), row.value, id=row.id)
                self.targets[row.value] = target
                added.append(target)
        return added

    def new_run(self, company_ids: list[str] | None = None, scope: dict | None = None) -> int:
        from exposure.store.db import session
        from exposure.store.runs import start_or_resume_run

        if company_ids is None:
            company_ids = sorted({t.company_id for t in self.targets.values()})
        with session(self.engine) as db:
            run, _pending = start_or_resume_run(
                db, company_ids, scope or {"night": uuid.uuid4().hex}
            )
            assert run.id is not None
            return run.id

    @staticmethod
    def candidate(
        check_id: str,
        subject: str,
        severity: str = "medium",
        discriminator: str = "",
        evidence: dict | None = None,
        detail: str = "",
    ) -> FindingCandidate:
        return FindingCandidate(
            check_id=check_id,
            subject=subject,
            severity=_severity(severity),
            evidence=evidence or {},
            discriminator=discriminator,
            detail=detail,
        )

    @staticmethod
    def failure(
        reason: FailureReason = FailureReason.TIMEOUT,
        message: str = "timed out after 10 s",
        subject: str = "",
        finding_ids: frozenset[str] | set[str] = frozenset(),
    ) -> CheckFailure:
        return CheckFailure(reason, message, subject, frozenset(finding_ids))

    def outcome(
        self, target: str, family: str, finding_ids: set[str], *observations: Observation
    ) -> TaskOutcome:
        return TaskOutcome(
            target=self.targets[target],
            family=family,
            finding_ids=frozenset(finding_ids),
            observations=tuple(observations),
        )

    @staticmethod
    def result(
        run_id: int, company_id: str, *outcomes: TaskOutcome, at: datetime = T0
    ) -> CompanyResult:
        titles = {c.check_id: f"Title of {c.check_id}" for o in outcomes for c in o.candidates}
        return CompanyResult(run_id, company_id, tuple(outcomes), at, titles)

    def apply(self, result: CompanyResult, now: datetime = T0) -> ApplyStats:
        from exposure.store.db import session
        from exposure.store.lifecycle import apply_company_result

        with session(self.engine) as db:
            return apply_company_result(db, result, result.run_id, now)

    def findings(self, company_id: str | None = None) -> list[Finding]:
        from exposure.store.db import session

        with session(self.engine) as db:
            query = select(Finding).order_by(col(Finding.check_id), col(Finding.target))
            if company_id is not None:
                query = query.where(Finding.company_id == company_id)
            return list(db.exec(query))

    def finding(self, check_id: str, subject: str | None = None) -> Finding:
        matches = [
            f
            for f in self.findings()
            if f.check_id == check_id and (subject is None or f.target == subject)
        ]
        assert len(matches) == 1, f"expected one {check_id} finding, found {matches}"
        return matches[0]

    def events(self, finding_id: int | None) -> list[str]:
        from exposure.store.db import session

        with session(self.engine) as db:
            return list(
                db.exec(
                    select(FindingEvent.event)
                    .where(FindingEvent.finding_id == finding_id)
                    .order_by(col(FindingEvent.id))
                )
            )

    def run(self, run_id: int) -> ScanRun:
        from exposure.store.db import session

        with session(self.engine) as db:
            run = db.get(ScanRun, run_id)
            assert run is not None
            return run

    def errors(self, run_id: int) -> list[CheckError]:
        from exposure.store.db import session

        with session(self.engine) as db:
            return list(
                db.exec(
                    select(CheckError)
                    .where(CheckError.run_id == run_id)
                    .order_by(col(CheckError.id))
                )
            )


def _severity(value: str) -> Severity:
    """A Severity, or the raw string for tests that feed the store a bad one."""
    try:
        return Severity(value)
    except ValueError:
        return value  # type: ignore[return-value]


def _kind(value: str) -> str:
    if "/" in value:
        return TargetKind.NETWORK.value
    if value.replace(".", "").isdigit() or ":" in value:
        return TargetKind.IP.value
    return TargetKind.DOMAIN.value


@pytest.fixture
def store_world(store_engine: Engine) -> StoreWorld:
    """A migrated database (SQLite and PostgreSQL) with builders for the store tests."""
    return StoreWorld(store_engine)


# --- the event loop ------------------------------------------------------------------------------
# `exposure` runs its scans on uvloop when it is installed (`exposure.app.loop`); the suite runs on
# asyncio's own loop. `EXPOSURE_TEST_LOOP=uvloop` runs the tests on uvloop instead: the Makefile
# does that for the modules whose behaviour depends on the loop's transports (connections, TLS,
# the errors a server's misbehaviour raises).


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Any:
    if os.environ.get("EXPOSURE_TEST_LOOP", "asyncio") == "uvloop":
        import uvloop

        return {"uvloop": uvloop.new_event_loop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture(autouse=True)
def _no_public_canary_mx(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test greets a public mail host: the default `canary_mx` is a closed loopback port
    (the testbed names its own canary MX; a test without one sees port 25 as blocked)."""
    monkeypatch.setattr("exposure.settings.DEFAULT_CANARY_MX", ("127.0.0.1",))
