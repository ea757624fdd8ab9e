"""The run's canaries: the questions that tell a fault of ours from a fault of a member.

- the resolver: the root zone's NS, asked of the run's own resolver past its cache (the same
  question as the preflight, `exposure.scan.preflight`);
- outbound port 25: a greeting from one of the `canary_mx` hosts (`exposure.net.egress`);
- Shodan: InternetDB asked about a well-known address, and (with a key) the REST API asked
  without a key: any answer below 500 (a 404, a 401) proves it is there; a 5xx, a time-out or
  no connection does not. No key is sent, so the canary costs no credit and no rate slot.

`preflight_sources` asks the port-25 canary before the first company when a check of the run
needs SMTP (the resolver's preflight is the scan command's, before the run is even started).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpx

from exposure.contract import Source
from exposure.net.dns import Resolver
from exposure.net.egress import probe_smtp_egress
from exposure.scan.health import RunHealth
from exposure.scan.preflight import probe_resolver
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

    async def shodan() -> tuple[bool, str]:
        return await probe_shodan(settings)

    health.watch(Source.DNS, dns)  # our own resolver, from its cache: ask as often as needed
    if Source.SMTP not in health.off:  # switched off: port 25 is not touched at all
        health.watch(Source.SMTP, smtp, gather=CANARY_GATHER)  # somebody else's servers
    health.watch(Source.SHODAN, shodan, gather=CANARY_GATHER)


#: Seconds a canary on somebody else's server gathers waiting companies before it asks
#: (`exposure.scan.health.Canary`): at most about one greeting a second to a public MX host.
CANARY_GATHER = 1.0

#: Asked of InternetDB by the canary: an address it always knows about (or answers 404 for).
SHODAN_CANARY_IP = "8.8.8.8"


async def probe_shodan(settings: Settings) -> tuple[bool, str]:
    """(up, what happened) for InternetDB and, with a key, the REST API."""
    asks = [("InternetDB", settings.internetdb_url.rstrip("/") + f"/{SHODAN_CANARY_IP}")]
    if settings.shodan_key:
        asks.append(("Shodan API", settings.shodan_api_url.rstrip("/") + "/api-info"))
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    # only the status line matters: the body is never read, and each ask has one deadline as a
    # whole (httpx's time-outs are per read, and a server that trickles would hold the canary)
    bound = settings.connect_timeout + settings.read_timeout
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        for name, url in asks:
            try:
                async with asyncio.timeout(bound), client.stream("GET", url) as reply:
                    status = reply.status_code
            except TimeoutError:
                return False, f"{name} ({url}) did not answer within {bound:g} s"
            except httpx.HTTPError as exc:
                return False, f"{name} ({url}) did not answer: {type(exc).__name__} {exc}".strip()
            if status >= 500:
                return False, f"{name} ({url}) answered HTTP {status}"
    return True, "Shodan sources answered"


async def preflight_sources(health: RunHealth, needs: Iterable[frozenset[Source]]) -> None:
    """Before the first company: is outbound port 25 open, if any check needs it?"""
    if Source.SMTP not in health.off and any(Source.SMTP in sources for sources in needs):
        await health.check(Source.SMTP)
