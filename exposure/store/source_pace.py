"""The Shodan key's one request per second, held across processes: a PostgreSQL advisory lock.

The source paces its own requests (`exposure.sources.shodan.Pacer`); N workers on one key would
each keep to one request per second and together send N. `AdvisoryKeyGate` is the `KeyGate`
the source is handed on PostgreSQL: a turn is the session advisory lock hash("shodan-key",
sha256(key)), taken with `pg_try_advisory_lock` on one connection of this process, held for the
request and the quiet interval after its answer, then given back. So however many workers (and
`exposure scan` processes) share the database and the key, one request is in flight at a time
and a full interval of quiet follows each answer.

A killed process gives its turn back the moment its connection drops. Without PostgreSQL (SQLite:
one process per night) the source's in-process pacer is all there is. The key itself is never
stored or sent to the database: only a hash of its hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


def key_gate(api_key: str | None, engine: Engine | None) -> AdvisoryKeyGate | None:
    """The Shodan key's turn across processes: on PostgreSQL (workers, a scan beside them, and
    discovery's Shodan searches, which spend the same key's requests) an advisory lock; on
    SQLite (one process a night) the source's own pacer is enough."""
    if engine is None or api_key is None or engine.dialect.name != "postgresql":
        return None
    from exposure.store.db import conninfo_of

    return AdvisoryKeyGate(conninfo_of(engine.url), api_key)


def key_lock(api_key: str) -> int:
    """A signed 64-bit advisory lock key for an API key (never the key itself)."""
    digest = hashlib.sha256(api_key.encode("utf-8")).hexdigest()
    raw = f"exposure\x1fshodan-key\x1f{digest}".encode()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big", signed=True)


class AdvisoryKeyGate:
    """`KeyGate` over a PostgreSQL session advisory lock; connects on first use."""

    def __init__(
        self,
        conninfo: str,
        api_key: str,
        *,
        poll: float = 0.02,
        max_poll: float = 0.2,
        wait: float = 10.0,
    ) -> None:
        self._conninfo = conninfo
        self._wait = wait  # seconds for the connection and for each statement
        self._key = key_lock(api_key)
        self._poll = poll
        self._max_poll = max_poll
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._local = asyncio.Lock()  # the source has one turn at a time; this makes sure
        self.waits = 0  # polls that found the key's turn taken by another process
        self.turns = 0

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            async with asyncio.timeout(self._wait):
                self._conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        return self._conn

    async def _try_lock(self, conn: psycopg.AsyncConnection[Any]) -> bool:
        """One try; a database that does not answer within `wait` is a TimeoutError (the
        source then paces in this process only) and the connection is dropped."""
        try:
            async with asyncio.timeout(self._wait):
                cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
                row = await cur.fetchone()
        except TimeoutError:
            await self._drop()
            raise
        return row is not None and bool(row[0])

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self._local:
            conn = await self._connection()
            delay = self._poll
            while True:
                if await self._try_lock(conn):
                    break
                self.waits += 1
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, self._max_poll)
            self.turns += 1
            try:
                yield
            finally:
                try:
                    async with asyncio.timeout(self._wait):
                        await asyncio.shield(
                            conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
                        )
                except Exception:
                    # the lock belongs to the session: closing it gives the turn back
                    log.warning("shodan key gate: unlock failed; reconnecting", exc_info=True)
                    await self._drop()

    async def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def aclose(self) -> None:
        await self._drop()
