"""The store's `AnswerCache`: source answers (Shodan) kept across runs in the `SourceCache` table.

DESIGN.md: "Shodan answers are kept in the store for a configurable period (default 7 days,
about Shodan's own crawl cadence), so a nightly run spends the REST API's 1 request/second only
on new or stale IPs." A source decides what is fresh; this module only reads and writes.

Reads are short read-only sessions in a worker thread: in WAL mode they never block the run's
single result writer. Writes are buffered and written by `flush()` in one transaction, which
the orchestrator calls once the result writer has finished. Writing them as they come would
make this a second writer during the scan, and on SQLite a commit landing between the result
writer's read and its write fails that transaction ("database is locked" on the upgrade of a
read transaction, which the busy timeout does not cover). A cache flushed late costs nothing
but requests if the run is interrupted before; a lost company result would cost a verdict.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete

from exposure.models import SourceCache
from exposure.sources.cache import CachedAnswer
from exposure.store.db import session


class StoreAnswerCache:
    """`AnswerCache` over the `SourceCache` table (SQLite and PostgreSQL alike)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pending: dict[tuple[str, str], CachedAnswer] = {}

    async def load(self, source: str, key: str) -> CachedAnswer | None:
        pending = self._pending.get((source, key))
        if pending is not None:
            return pending
        return await asyncio.to_thread(self._load, source, key)

    async def save(self, source: str, key: str, answer: CachedAnswer) -> None:
        """Buffered: written by `flush()`."""
        self._pending[(source, key)] = answer

    async def flush(self) -> int:
        """Write what `save` buffered, in one transaction; returns how many answers."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, {}
        try:
            await asyncio.to_thread(self._write, batch)
        except BaseException:
            self._pending = {**batch, **self._pending}  # keep them for a later flush
            raise
        return len(batch)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def purge(self, source: str, older_than: datetime) -> int:
        """Drop a source's answers fetched before `older_than`; returns how many."""
        return await asyncio.to_thread(self._purge, source, older_than)

    # --- in a worker thread --------------------------------------------------------------------

    def _load(self, source: str, key: str) -> CachedAnswer | None:
        with session(self._engine) as db:
            row = db.get(SourceCache, (source, key))
            if row is None:
                return None
            return CachedAnswer(row.status, copy.deepcopy(row.payload), row.fetched_at)

    def _write(self, batch: Mapping[tuple[str, str], CachedAnswer]) -> None:
        rows: list[dict[str, Any]] = [
            {
                "source": source,
                "key": key,
                "status": answer.status,
                "payload": dict(answer.payload),
                "fetched_at": answer.fetched_at,
            }
            for (source, key), answer in batch.items()
        ]
        dialect = self._engine.dialect.name
        with session(self._engine) as db:
            if dialect in ("sqlite", "postgresql"):
                insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
                statement: Any = insert(SourceCache)
                statement = statement.on_conflict_do_update(
                    index_elements=["source", "key"],
                    set_={
                        "status": statement.excluded.status,
                        "payload": statement.excluded.payload,
                        "fetched_at": statement.excluded.fetched_at,
                    },
                )
                db.exec(statement, params=rows)
            else:  # pragma: no cover - the two databases the product supports are above
                for row in rows:
                    db.merge(SourceCache(**row))

    def _purge(self, source: str, older_than: datetime) -> int:
        with session(self._engine) as db:
            result = db.exec(
                delete(SourceCache)
                .where(col(SourceCache.source) == source)
                .where(col(SourceCache.fetched_at) < older_than)
            )
            return int(result.rowcount or 0)
