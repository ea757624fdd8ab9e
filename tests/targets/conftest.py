"""Fixtures for the targets tests: a fresh in-memory store, foreign keys enforced.

SQLite does not check foreign keys unless asked; PostgreSQL always does. Turning them on here
makes the tests catch a row deleted while still referred to, as production would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, SQLModel, create_engine

import exposure.models  # noqa: F401  (registers the tables)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def write_csv(tmp_path: Path) -> Any:
    """Write text (or bytes) to a CSV file and return its path; the name is `members.csv`."""

    def write(content: str | bytes, name: str = "members.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path

    return write
