"""Work shared by every domain of a run, done once in a task of its own.

`ctx.memo.once` runs the work in the task of its first caller. If that caller is cancelled (its
check hit the per-check time-out), the work is cancelled with it, and every other domain that was
waiting for the same result is cancelled too. An SMTP session with a provider's MX host is awaited
by dozens of domains, so here the work runs as a separate task that no caller owns: a caller that
gives up stops waiting, the work goes on for the others. The work must bound its own time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, TypeVar

from publicsuffixlist import PublicSuffixList

if TYPE_CHECKING:
    from exposure.contract import CheckContext

T = TypeVar("T")


async def run_once(
    ctx: CheckContext,
    namespace: str,
    key: Hashable,
    work: Callable[[], Awaitable[T]],
    *,
    keep: int | None = None,
) -> T:
    """The result of `work()`, started by the first caller in this run and shared by all.

    The memo runs the work in a task of its own, so a caller cancelled by its time-out does not
    cancel it for the other domains that wait on the same MX host. `keep` bounds how many
    finished results of the namespace the run remembers (`RunMemo.once`)."""
    return await ctx.memo.once(namespace, key, work, keep=keep)


async def public_suffixes(ctx: CheckContext) -> PublicSuffixList:
    """The Public Suffix List snapshot shipped in `publicsuffixlist`, parsed once per run
    (off the event loop: parsing takes a few tens of milliseconds). Nothing is downloaded."""
    return await run_once(ctx, "mail.psl", "snapshot", lambda: asyncio.to_thread(PublicSuffixList))


def organisational_domain(psl: PublicSuffixList, domain: str) -> str:
    """The registrable domain (RFC 7489 section 3.2); the domain itself if the list has none."""
    return str(psl.privatesuffix(domain) or domain)
