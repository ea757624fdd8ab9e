"""What every domain of a run shares in the mail family: the Public Suffix List, parsed once.

Shared work goes through `ctx.memo.once`, which runs it in a task of its own: a domain whose
check hits its time-out stops waiting, and the work goes on for the others that wait on it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from publicsuffixlist import PublicSuffixList

if TYPE_CHECKING:
    from exposure.contract import CheckContext


async def public_suffixes(ctx: CheckContext) -> PublicSuffixList:
    """The Public Suffix List snapshot shipped in `publicsuffixlist`, parsed once per run
    (off the event loop: parsing takes a few tens of milliseconds). Nothing is downloaded."""
    return await ctx.memo.once("mail.psl", "snapshot", lambda: asyncio.to_thread(PublicSuffixList))


def organisational_domain(psl: PublicSuffixList, domain: str) -> str:
    """The registrable domain (RFC 7489 section 3.2); the domain itself if the list has none."""
    return str(psl.privatesuffix(domain) or domain)
