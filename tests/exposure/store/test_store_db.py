"""Engine set-up and migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel, select

import exposure.models  # noqa: F401  (all tables on SQLModel.metadata)
from exposure.models import Company, Finding
from exposure.store.db import (
    alembic_config,
    check_current,
    database_url,
    make_engine,
    migrate,
    session,
)


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db.example:5432/exposure", "postgresql+psycopg"),
        ("postgres://u:p@db.example/exposure", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db.example/exposure", "postgresql+psycopg"),
        ("sqlite:///exposure.db", "sqlite"),
    ],
)
def test_postgres_urls_mean_psycopg3(given: str, driver: str) -> None:
    url = database_url(given)
    assert url.drivername == driver
    assert url.database == "exposure" or url.database == "exposure.db"


def test_sqlite_connections_are_tuned(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": 10_000,
    }


@pytest.mark.parametrize(("extra", "expected"), [({}, 16), ({"cached_statements": 4}, 4)])
def test_sqlite_keeps_few_prepared_statements(
    tmp_path: Path, extra: dict[str, int], expected: int
) -> None:
    """The sqlite3 module's default of 128 cached statements held ≈35 MB at 10,000 companies
    (the writer's statements change shape with every batch); a caller's own value wins."""
    from sqlalchemy import event

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", connect_args=extra)
    seen: dict[str, object] = {}

    @event.listens_for(engine, "do_connect")
    def _spy(dialect, conn_rec, cargs, cparams):  # type: ignore[no-untyped-def]
        seen.update(cparams)

    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
    assert seen["cached_statements"] == expected


def test_sqlite_rolls_back_reads_and_writes_together(tmp_path: Path) -> None:
    """The BEGIN recipe: a rolled-back transaction leaves nothing, savepoints included."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    with session(engine) as db:
        db.add(Company(id="a", name="A"))
    with pytest.raises(RuntimeError), session(engine) as db:
        nested = db.begin_nested()
        db.add(Company(id="b", name="B"))
        nested.commit()
        raise RuntimeError("boom")
    with session(engine) as db:
        assert [c.id for c in db.exec(select(Company))] == ["a"]
    engine.dispose()


def test_a_fresh_database_is_not_current(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        status = check_current(engine)
        assert not status.ok
        assert status.current == ()
        assert status.heads
        assert "no schema" in status.describe()
    finally:
        engine.dispose()


def test_migrated_schema_equals_the_models(store_engine: Engine) -> None:
    """The baseline migration and exposure/models.py describe the same schema."""
    with store_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    tables = set(inspect(store_engine).get_table_names())
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}
    status = check_current(store_engine)
    assert status.ok, status.describe()


def test_migrate_is_idempotent_and_downgrades(store_engine: Engine) -> None:
    migrate(store_engine)  # already at head: nothing to do
    with store_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(store_engine).get_table_names()) <= {"alembic_version"}
    assert not check_current(store_engine).ok
    migrate(store_engine)
    assert check_current(store_engine).ok


def test_session_commits_or_rolls_back(store_engine: Engine) -> None:
    with session(store_engine) as db:
        db.add(Company(id="1", name="Haven BV"))
    with pytest.raises(ValueError), session(store_engine) as db:
        db.add(Company(id="2", name="Kade BV"))
        db.flush()
        raise ValueError("undo")
    with session(store_engine) as db:
        assert [c.id for c in db.exec(select(Company))] == ["1"]


def test_foreign_keys_are_enforced(store_engine: Engine) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), session(store_engine) as db:
        db.add(
            Finding(
                fingerprint="f",
                company_id="nobody",
                check_id="x",
                family="x",
                severity="low",
                target="t",
            )
        )


def test_json_and_naive_times_round_trip(store_engine: Engine) -> None:
    when = datetime(2026, 3, 2, 2, 0, 0, 123456)
    evidence = {"codes": ["no_contact", "no_expires"], "nested": {"port": 443}, "naam": "Café"}
    with session(store_engine) as db:
        db.add(Company(id="1", name="Haven BV"))
        db.flush()
        db.add(
            Finding(
                fingerprint="fp",
                company_id="1",
                check_id="securitytxt.invalid",
                family="securitytxt",
                severity="medium",
                target="haven.nl",
                evidence=evidence,
                first_seen=when,
                last_seen=when,
            )
        )
    with session(store_engine) as db:
        finding = db.exec(select(Finding)).one()
    assert finding.evidence == evidence
    assert finding.first_seen == when
    assert finding.first_seen.tzinfo is None


def test_0007_makes_discovered_names_hosts_and_resolves_what_no_longer_applies(
    store_engine: Engine,
) -> None:
    """Before 0007 a confirmed discovered name was a `domain` target and got the mail and DNS
    checks; after it, it is a `host`, and their open findings on it are resolved with a reason.
    A listed domain and the host's own TLS finding are left as they were."""
    from exposure.models import FindingEvent, Target

    with store_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0006_discovery")
    with session(store_engine) as db:
        db.add(Company(id="1", name="Haven BV"))
        listed = Target(company_id="1", kind="domain", value="haven.nl")
        vpn = Target(company_id="1", kind="domain", value="vpn.haven.nl", origin="discovered")
        db.add_all([listed, vpn])
        db.flush()
        for target, check_id in (
            (vpn, "mail.spf.missing"),
            (vpn, "tls.cert.expired"),
            (listed, "mail.spf.missing"),
        ):
            db.add(
                Finding(
                    fingerprint=f"{target.value}/{check_id}",
                    company_id="1",
                    target_id=target.id,
                    check_id=check_id,
                    family=check_id.split(".")[0],
                    severity="high",
                    target=target.value,
                )
            )
    migrate(store_engine)
    with session(store_engine) as db:
        kinds = {t.value: t.kind for t in db.exec(select(Target))}
        status = {f.fingerprint: f.status for f in db.exec(select(Finding))}
        events = list(db.exec(select(FindingEvent)))
    assert kinds == {"haven.nl": "domain", "vpn.haven.nl": "host"}
    assert status == {
        "vpn.haven.nl/mail.spf.missing": "resolved",
        "vpn.haven.nl/tls.cert.expired": "open",
        "haven.nl/mail.spf.missing": "open",
    }
    assert [(e.event, "registered domains only" in e.note) for e in events] == [("resolved", True)]
