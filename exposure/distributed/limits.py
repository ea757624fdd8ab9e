"""Per-IP politeness across workers: the per-IP slots as PostgreSQL advisory locks.

Many members share one hosting IP. One process keeps to `per_ip_concurrency` connections per
address with in-process semaphores (`exposure.scan.limits.Limits`); two workers would each keep to it
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
would get slot 0 again. Each worker therefore remembers which keys it holds (or is asking for)
and only tries the others; with the in-process semaphore in front, a worker never holds one key
twice.

Round trips: a slot given back while another connection of the same worker waits for that
address is handed to it still locked (no statement, no polling), at most `max_handovers` times
in a row; a shared hosting address with twenty sites then costs a few statements, not forty.
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

from exposure.scan.limits import Limits

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
        max_handovers: int = 16,
    ) -> None:
        super().__init__(per_ip)
        self.per_ip = per_ip
        self._conninfo = conninfo
        self._poll = poll
        self._max_poll = max_poll
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._db = asyncio.Lock()  # one statement at a time on the connection
        self._held: set[int] = set()
        # Handing over: a slot given back while another connection of this worker waits for the
        # same address stays locked in the database and goes straight to that connection (no
        # round trip, no polling), at most `max_handovers` times in a row, then it is given back
        # for real so that the other workers get their turn.
        self.max_handovers = max_handovers
        self._demand: dict[tuple[str, ...], int] = {}  # holding or waiting, per scope
        self._in_use: dict[tuple[str, ...], int] = {}
        self._idle: dict[tuple[str, ...], list[int]] = {}  # handed over, not yet taken
        self._streak: dict[int, int] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._timers: dict[int, asyncio.TimerHandle] = {}  # idle key -> its reclaim
        self.waits = 0  # times a connection found every global slot taken (for tests, benchmarks)
        self.round_trips = 0  # statements sent (for tests and benchmarks)
        self.handovers = 0

    async def open(self) -> None:
        self._conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._idle.clear()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        self._held.clear()

    def ip(self, address: str) -> AsyncIterator[None]:
        keys = [lock_key("ip", address, slot) for slot in range(self.per_ip)]
        scope = ("ip", address)
        return self._hold(super().ip(address), scope, keys)  # type: ignore[return-value]

    def family_ip(self, family: str, address: str) -> AsyncIterator[None]:
        keys = [lock_key("family", family, address)]
        scope = ("family", family, address)
        return self._hold(super().family_ip(family, address), scope, keys)  # type: ignore[return-value]

    @contextlib.asynccontextmanager
    async def _hold(
        self, local: Any, scope: tuple[str, ...], keys: Sequence[int]
    ) -> AsyncIterator[None]:
        self._demand[scope] = self._demand.get(scope, 0) + 1
        try:
            async with local:
                key = self._take_idle(scope)
                if key is None:
                    key = await self._acquire(keys)
                self._in_use[scope] = self._in_use.get(scope, 0) + 1
                try:
                    yield
                finally:
                    self._in_use[scope] -= 1
                    self._give_back(scope, key)
        finally:
            self._demand[scope] -= 1
            if not self._demand[scope]:
                del self._demand[scope]
                self._in_use.pop(scope, None)

    def _give_back(self, scope: tuple[str, ...], key: int) -> None:
        """Hand the slot to a connection of this worker that waits for it, or release it."""
        waiting = self._demand.get(scope, 0) - 1 - self._in_use.get(scope, 0)
        streak = self._streak.get(key, 0) + 1
        if waiting > 0 and streak <= self.max_handovers:
            self._streak[key] = streak
            self._idle.setdefault(scope, []).append(key)
            self.handovers += 1
            # A waiter that gives up (cancelled) would leave it idle: reclaim it shortly.
            loop = asyncio.get_running_loop()
            self._timers[key] = loop.call_later(0.5, self._reclaim, scope, key)
            return
        self._streak.pop(key, None)
        self._spawn(self._release(key))

    def _take_idle(self, scope: tuple[str, ...]) -> int | None:
        idle = self._idle.get(scope)
        if not idle:
            return None
        key = idle.pop()
        if not idle:
            del self._idle[scope]
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        return key

    def _reclaim(self, scope: tuple[str, ...], key: int) -> None:
        self._timers.pop(key, None)
        idle = self._idle.get(scope)
        if idle and key in idle:
            idle.remove(key)
            if not idle:
                del self._idle[scope]
            self._streak.pop(key, None)
            self._spawn(self._release(key))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
                    self.round_trips += 1
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
