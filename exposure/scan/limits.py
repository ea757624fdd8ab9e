"""Concurrency limits shared by every check in a run.

Many small businesses share one hosting IP: without a per-IP limit a nightly scan of a port area
would hit one provider's server with hundreds of connections at once. `Limits.ip(address)` is the
slot a check holds while it talks to that address.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLimiter:
    """A semaphore per key, created on demand and dropped when nobody holds or waits for it."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        sem = self._sems.get(key)
        if sem is None:
            sem = self._sems[key] = asyncio.Semaphore(self.limit)
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with sem:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._sems[key]

    def __len__(self) -> int:
        return len(self._sems)


class Limits:
    def __init__(self, per_ip: int) -> None:
        self._per_ip = KeyedLimiter(per_ip)
        self._per_family_ip = KeyedLimiter(1)

    def ip(self, address: str) -> AsyncIterator[None]:
        """A slot on one IP address, shared by all checks (`per_ip_concurrency`)."""
        return self._per_ip.slot(address)  # type: ignore[return-value]

    def family_ip(self, family: str, address: str) -> AsyncIterator[None]:
        """One connection at a time per IP for one check family (the TLS/web politeness rule)."""
        return self._per_family_ip.slot(f"{family}\x1f{address}")  # type: ignore[return-value]
