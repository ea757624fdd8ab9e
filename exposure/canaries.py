"""The run's canaries: the questions that tell a fault of ours from a fault of a member.

- the resolver: the root zone's NS, asked of the run's own resolver past its cache (the same
  question as the preflight, `exposure.preflight`);
- outbound port 25: a greeting from one of the `canary_mx` hosts (`exposure.egress`).

`preflight_sources` asks the port-25 canary before the first company when a check of the run
needs SMTP (the resolver's preflight is the scan command's, before the run is even started).
"""

from __future__ import annotations

from collections.abc import Iterable

from exposure.contract import Source
from exposure.egress import probe_smtp_egress
from exposure.health import RunHealth
from exposure.net.dns import Resolver
from exposure.preflight import probe_resolver
from exposure.settings import Settings


def watch_sources(
    health: RunHealth, settings: Settings, resolver: Resolver, cached: Resolver
) -> None:
    """Give `health` the run's canaries. `resolver` is the run's resolver without its cache (a
    cached answer proves nothing), `cached` the one the checks use (for the canary MX names)."""

    async def dns() -> tuple[bool, str]:
        result = await probe_resolver(settings, resolver)
        return result.ok, result.describe()

    async def smtp() -> tuple[bool, str]:
        result = await probe_smtp_egress(settings, cached)
        return result.ok, result.detail

    health.watch(Source.DNS, dns)
    health.watch(Source.SMTP, smtp)


async def preflight_sources(health: RunHealth, needs: Iterable[frozenset[Source]]) -> None:
    """Before the first company: is outbound port 25 open, if any check needs it?"""
    if any(Source.SMTP in sources for sources in needs):
        await health.check(Source.SMTP)
