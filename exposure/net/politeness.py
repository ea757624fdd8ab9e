"""The slots a connection holds: the run's per-IP slot, and a family's one-per-IP slot.

DESIGN.md: many small businesses share one hosting IP, so the run takes at most
`per_ip_concurrency` connections to one address at a time, and the TLS and web families each at
most one (`Limits.family_ip`). Every helper that connects (`exposure.net.http.fetch`, the TLS
probe) takes its slots here, in the same order (family first, then IP), so two helpers can never
wait for each other's slot in opposite order.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exposure.contract import CheckContext


@contextlib.asynccontextmanager
async def connection_slot(
    ctx: CheckContext, address: str, family: str | None = None
) -> AsyncIterator[None]:
    """Hold the slots for one connection to `address` (not re-entrant for the same family)."""
    async with contextlib.AsyncExitStack() as stack:
        if family:
            slot: Any = ctx.limits.family_ip(family, address)
            await stack.enter_async_context(slot)
        ip_slot: Any = ctx.limits.ip(address)
        await stack.enter_async_context(ip_slot)
        yield


#: Silent addresses remembered per run; beyond this many the oldest are forgotten (memory).
SILENT_LIMIT = 100_000


def site_of(name: str | None) -> str:
    """The site a host name belongs to for `SilentAddresses`: the name without `www.`."""
    name = (name or "").strip().rstrip(".").lower()
    return name.removeprefix("www.")


class SilentAddresses:
    """Where a connection did not answer within its time-out, remembered for the rest of the run.

    Only silence before any exchange counts, never a slow HTTP answer:
    - a TCP connect that timed out marks the address (a dead or filtering box, for every name);
    - a TLS handshake that timed out marks the address for that site (the host name without
      `www.`): a server may hang on one SNI name only, and on a shared hosting address one dead
      site says nothing about its neighbours.

    A connection that would go to a silent address (for its site) fails at once with the same
    time-out, so the verdict stays "could not test". A hanging site then costs its company one
    time-out instead of one per host name, port and family, and does not hold the address's
    per-IP slots for them.
    """

    def __init__(self, limit: int = SILENT_LIMIT) -> None:
        self.limit = limit
        self._why: dict[tuple[str, str], str] = {}
        self.skipped = 0  # connections not made because their address was silent

    def mark(self, address: str, why: str, name: str | None = None) -> None:
        """Mark `address` silent: for the site of `name`, or for every name when None."""
        key = (address, site_of(name) if name is not None else "")
        if key in self._why:
            return
        if len(self._why) >= self.limit:
            self._why.pop(next(iter(self._why)))
        self._why[key] = why

    def why(self, address: str, name: str | None) -> str | None:
        """Why a connection to `address` for `name` is not made (None: make it); counted."""
        why = self._why.get((address, ""))
        if why is None and name:
            why = self._why.get((address, site_of(name)))
        if why is not None:
            self.skipped += 1
        return why

    def __len__(self) -> int:
        return len(self._why)


async def silent_addresses(ctx: CheckContext) -> SilentAddresses:
    """The run's silent addresses (shared through the run memo)."""

    async def make() -> SilentAddresses:
        return SilentAddresses()

    return await ctx.memo.once("net.politeness", "silent", make)


def silent_detail(address: str, why: str) -> str:
    return f"{address} did not answer earlier in this run ({why}); not asked again"
