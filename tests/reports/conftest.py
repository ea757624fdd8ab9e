"""Fixtures of the report tests: a sample area in a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from exposure.store.db import make_engine, migrate
from tests.reports.sample import SampleArea, build_area


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'reports.db'}")
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def area(sqlite_engine: Engine) -> SampleArea:
    """The sample area after two weekly scans (SQLite)."""
    return build_area(sqlite_engine)


@pytest.fixture
def area_any_db(store_engine: Engine) -> SampleArea:
    """The same area on SQLite and on PostgreSQL (skipped locally without a server)."""
    return build_area(store_engine)
