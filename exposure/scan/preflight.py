"""Before a run: is the resolver there? A run without DNS would call every domain unresolvable.

Nearly every check starts with a DNS look-up. When the configured resolver does not answer (a
typo in `resolvers`, a firewall change, the resolver's host down), a run would not fail: it
would store a "could not test" for every target and look like a quiet night. So a run starts
with one real query through the same resolver the checks use, and refuses to start when it gets
no answer: exit code 4 for cron and monitoring, a failed run in `exposure runs`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from exposure.net.dns import DECISIVE, AiodnsResolver, DnsStatus, Resolver
from exposure.settings import Settings

# Asked of the resolver: the root zone's name servers. Every recursive resolver can answer it
# (from its hints, without going out), and an authoritative-only lab server answers it with
# NODATA or NXDOMAIN, which proves it is there just as well.
PROBE_NAME = "."
PROBE_TYPE = "NS"


class SourceDownError(RuntimeError):
    """An essential source (the resolver) did not answer: the run is refused (exit code 4)."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    status: DnsStatus
    seconds: float
    servers: str  # what was asked, for the message

    def describe(self) -> str:
        took = f"{self.seconds * 1000:.0f} ms"
        if self.ok:
            return f"resolver {self.servers} answered {PROBE_TYPE} {PROBE_NAME} ({self.status}) in {took}"
        return (
            f"resolver {self.servers} did not answer {PROBE_TYPE} {PROBE_NAME} ({self.status} "
            f"after {took}); check the `resolvers` setting and that the resolver is reachable"
        )


def _servers(settings: Settings) -> str:
    return ", ".join(settings.resolvers) if settings.resolvers else "(system resolvers)"


async def probe_resolver(settings: Settings, resolver: Resolver | None = None) -> ProbeResult:
    """One query through the run's resolver. Any DNS answer, even NXDOMAIN, means it is up;
    a time-out, REFUSED or SERVFAIL means the run would learn nothing."""
    own = resolver is None
    dns = resolver or AiodnsResolver(
        settings.resolver_addresses(), timeout=settings.dns_timeout, tries=settings.dns_tries
    )
    started = time.perf_counter()
    try:
        answer = await dns.resolve(PROBE_NAME, PROBE_TYPE)
    finally:
        if own and isinstance(dns, AiodnsResolver):
            await dns.close()
    return ProbeResult(
        ok=answer.status in DECISIVE,
        status=answer.status,
        seconds=time.perf_counter() - started,
        servers=_servers(settings),
    )


async def require_resolver(settings: Settings) -> None:
    """Raise `SourceDownError` when the resolver does not answer (the scan preflight)."""
    result = await probe_resolver(settings)
    if not result.ok:
        raise SourceDownError(result.describe())
