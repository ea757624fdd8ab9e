"""Engine set-up, migrations and sessions: the only place that knows which database is in use.

SQLite is the default (one file, no server) and PostgreSQL the production database; both get
the same schema from the same Alembic migrations, which ship inside the package so that
`exposure` can migrate a database without an `alembic.ini` or a source checkout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlmodel import Session

MIGRATIONS = Path(__file__).with_name("migrations")

# How long a SQLite connection waits for the file lock before "database is locked" (ms).
# Readers (a `findings` command during a scan) never block the single writer in WAL mode, but
# a short wait absorbs the odd checkpoint or a second process starting up.
SQLITE_BUSY_TIMEOUT_MS = 10_000

_POSTGRES_ALIASES = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg3"}


def database_url(url: str | URL) -> URL:
    """Normalise a user's URL: `postgresql://` (and `postgres://`) mean psycopg 3.

    SQLAlchemy's default PostgreSQL driver is psycopg2, which we do not ship; users and
    container platforms write plain `postgresql://` URLs.
    """
    parsed = make_url(url)
    if parsed.drivername in _POSTGRES_ALIASES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


#: Prepared statements the sqlite3 module keeps per connection (its default is 128). The writer's
#: multi-row INSERTs and IN (...) reads change shape with every batch, so the cache fills with up
#: to 128 statements of thousands of parameters each, and SQLite keeps each statement's last
#: bound values with it: ≈5 KB per company scanned until the cache is full, 35 MB at 10,000
#: companies (`benchmarks/README.md`, "Memory flat in N"). With 16 the run's memory stays flat;
#: the writer's CPU did not change measurably (store CPU, 3,000 companies, side by side).
SQLITE_CACHED_STATEMENTS = 16


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for `url`, tuned for what the scanner does (one writer, some readers)."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"cached_statements": SQLITE_CACHED_STATEMENTS}
        kwargs["connect_args"] = connect_args | kwargs.get("connect_args", {})
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)  # a nightly job outlives idle server connections
    return create_engine(parsed, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys and real transactions on every SQLite connection.

    The sqlite3 module's legacy transaction handling does not BEGIN before a SELECT and breaks
    SAVEPOINTs; we switch it off and let SQLAlchemy emit BEGIN itself (the recipe of the
    SQLAlchemy SQLite dialect documentation), so that SQLite behaves like PostgreSQL: a
    transaction covers everything between begin and commit, including the reads.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # autocommit at the driver: we emit BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
            cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code: the packaged migrations, no ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest). Creates a fresh database.

    Runs in one transaction, so a failing migration leaves the database as it was (PostgreSQL
    and SQLite both have transactional DDL).
    """
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database's schema stands against the migrations this code ships."""

    current: tuple[str, ...]  # empty: never migrated
    heads: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return bool(self.current) and set(self.current) == set(self.heads)

    def describe(self) -> str:
        """One line for a person (`exposure doctor`)."""
        head = ", ".join(self.heads)
        if self.ok:
            return f"schema is current (revision {head})"
        if not self.current:
            return f"database has no schema; run the migrations (to revision {head})"
        return (
            f"schema is at revision {', '.join(self.current)}, this version needs {head}; "
            "run the migrations"
        )


def check_current(engine: Engine) -> SchemaStatus:
    """Read the database's Alembic revision and compare it with the packaged head(s)."""
    heads = tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
    with engine.connect() as connection:
        current = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    return SchemaStatus(current=current, heads=heads)


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any exception.

    Objects stay readable after the commit (`expire_on_commit=False`) because callers hand
    them to reports and the CLI after the session is gone.
    """
    with Session(engine, expire_on_commit=False) as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise


def conninfo_of(url: URL) -> str:
    """libpq's connection string for a SQLAlchemy PostgreSQL URL (psycopg, procrastinate)."""
    import psycopg.conninfo  # only PostgreSQL needs it; SQLite runs do not load psycopg

    params: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    return psycopg.conninfo.make_conninfo(
        "", **{key: value for key, value in params.items() if value is not None}
    )
