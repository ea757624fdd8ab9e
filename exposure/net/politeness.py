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
