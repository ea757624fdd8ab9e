"""Per-IP politeness across workers: the per-IP slots as PostgreSQL advisory locks.

Many members share one hosting IP. One process keeps to `per_ip_concurrency` connections per
address with in-process semaphores (`exposure.limits.Limits`); two workers would each keep to it
and together open twice as many. `AdvisoryLimits` adds a second gate that every worker shares:
slot k of address A is the session advisory lock hash("ip", A, k), taken with
`pg_try_advisory_lock` on one connection per worker. A connection first takes an in-process slot
(so the waiting happens in memory, not in the database), then one of the address's global slots;
so however many workers run, at most `per_ip_concurrency` connections go to one address, and at
most one per check family where the family asks for that (`Limits.family_ip`).

Why advisory locks: they need nothing but the database the workers already share, they cost
one round trip to take and one to give back, and they belong to the session, so a worker that is
killed gives back every slot it held the moment its connection drops: a dead worker can never
block an address.

Session advisory locks are re-entrant per session: one worker holding slot 0 of an address
would get slot 0 again. Each worker therefore remembers which keys it holds and only tries the
others; with the in-process semaphore in front, a worker never holds one key twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg

from exposure.limits import Limits

log = logging.getLogger(__name__)


def lock_key(*parts: str | int) -> int:
    """A signed 64-bit advisory lock key for `parts` (collisions only make a slot stricter)."""
    raw = "\x1f".join(("exposure", *map(str, parts))).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big", signed=True)


class AdvisoryLimits(Limits):
    """`Limits` whose per-IP and per-family-per-IP slots hold across every worker.

    `open()` before use, `close()` after (closing the connection gives back every slot).
    `poll` is the first wait when every global slot of an address is taken, doubled up to
    `max_poll`; waits are short because slots are held only while one connection talks.
    """

    def __init__(
        self,
        per_ip: int,
        conninfo: str,
        *,
        poll: float = 0.02,
        max_poll: float = 0.5,
    ) -> None:
        super().__init__(per_ip)
        self.per_ip = per_ip
        self._conninfo = conninfo
        self._poll = poll
        self._max_poll = max_poll
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._db = asyncio.Lock()  # one statement at a time on the connection
        self._held: set[int] = set()
        self.waits = 0  # times a connection found every global slot taken (for tests, benchmarks)

    async def open(self) -> None:
        self._conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        self._held.clear()

    def ip(self, address: str) -> AsyncIterator[None]:
        keys = [lock_key("ip", address, slot) for slot in range(self.per_ip)]
        return self._hold(super().ip(address), keys)  # type: ignore[return-value]

    def family_ip(self, family: str, address: str) -> AsyncIterator[None]:
        keys = [lock_key("family", family, address)]
        return self._hold(super().family_ip(family, address), keys)  # type: ignore[return-value]

    @contextlib.asynccontextmanager
    async def _hold(self, local: Any, keys: Sequence[int]) -> AsyncIterator[None]:
        async with local:
            key = await self._acquire(keys)
            try:
                yield
            finally:
                await asyncio.shield(self._release(key))

    async def _acquire(self, keys: Sequence[int]) -> int:
        delay = self._poll
        while True:
            free = [k for k in keys if k not in self._held]
            random.shuffle(free)  # spread workers over the slots instead of all trying slot 0
            for key in free:
                if key in self._held:  # taken by a sibling while this one waited on the database
                    continue
                # Reserved before asking: a sibling asking for the same key on this session
                # would be granted it too (advisory locks are re-entrant per session).
                self._held.add(key)
                try:
                    got = await self._try(key)
                except BaseException:
                    self._held.discard(key)
                    raise
                if got:
                    return key
                self._held.discard(key)
            self.waits += 1
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, self._max_poll)

    async def _try(self, key: int) -> bool:
        """Try one key. A cancelled caller must not leave a lock behind: the statement runs to
        its end in its own task, and a lock it took for a caller that is gone is given back."""
        attempt = asyncio.ensure_future(self._execute("SELECT pg_try_advisory_lock(%s)", key))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                if await attempt:
                    await self._execute("SELECT pg_advisory_unlock(%s)", key)
            raise

    async def _release(self, key: int) -> None:
        self._held.discard(key)
        try:
            await self._execute("SELECT pg_advisory_unlock(%s)", key)
        except Exception:  # the connection is gone, and with it every lock it held
            log.warning("could not give back a per-IP slot; reconnecting", exc_info=True)

    async def _execute(self, statement: str, key: int) -> bool:
        async with self._db:
            for attempt in (1, 2):
                if self._conn is None or self._conn.closed:
                    # The old session's locks went with it. `_held` still lists them until their
                    # holders give them back: stricter for a moment, never looser.
                    await self.open()
                assert self._conn is not None
                try:
                    cursor = await self._conn.execute(statement, (key,))
                    row = await cursor.fetchone()
                    return bool(row and row[0])
                except psycopg.OperationalError:
                    if attempt == 2:
                        raise
                    log.warning("per-IP lock connection lost; reconnecting", exc_info=True)
                    with contextlib.suppress(Exception):
                        await self._conn.close()
                    self._conn = None
        return False  # pragma: no cover - the loop returns or raises
