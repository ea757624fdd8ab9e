"""What counts as the store running out (disk, lock, server) and what is still a bug: decided on
real errors from real databases, since the wording is the drivers'."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from exposure.store import exhaustion
from exposure.store.db import make_engine, migrate


def test_a_database_locked_beyond_its_timeout_is_exhaustion(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
    try:
        with pytest.raises(OperationalError) as locked, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        assert exhaustion.cause_of(locked.value) == exhaustion.LOCKED
        assert exhaustion.detail_of(locked.value) == "OperationalError: database is locked"
    finally:
        holder.close()
        engine.dispose()


def test_a_constraint_violation_is_a_bug_not_exhaustion(store_engine):
    with pytest.raises(IntegrityError) as bug, store_engine.begin() as conn:
        conn.execute(text("INSERT INTO company (id, name) VALUES (NULL, NULL)"))
    assert exhaustion.cause_of(bug.value) is None


def test_a_full_disk_by_errno_is_exhaustion():
    import errno

    full = OSError(errno.ENOSPC, "No space left on device")
    assert exhaustion.cause_of(RuntimeError("wrapped")) is None
    try:
        try:
            raise full
        except OSError as exc:
            raise RuntimeError("while writing") from exc
    except RuntimeError as outer:
        assert exhaustion.cause_of(outer) == exhaustion.DISK_FULL


@pytest.mark.postgres
def test_a_postgresql_server_that_drops_the_connection_is_gone(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = make_engine(database_url, pool_pre_ping=False)
    migrate(engine)
    admin = make_engine(database_url)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            with admin.begin() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(OperationalError) as gone:
                conn.execute(text("SELECT 1"))
        assert exhaustion.cause_of(gone.value) == exhaustion.GONE
    finally:
        engine.dispose()
        admin.dispose()
