"""Shared hosting, CDN and cloud front ends: addresses that are never a member's own.

A web shop on a hoster's server shares its address with hundreds of other sites; a site behind
a CDN answers from the CDN's edge. Scanning such an address as the member's would report the
hoster's problems to the member (and probe a stranger). So an address discovery finds is
dropped, never proposed, when:
- it lies in a known CDN or cloud front-end network (`FRONT_END_NETWORKS`, plus the setting
  `discovery_shared_networks` for a lab or a local hoster); or
- what Shodan knows of it (the search's host names and tags, else InternetDB's) spans at least
  `SHARED_HOSTING_DOMAINS` registrable domains other than the member's, or is tagged `cdn` or
  `cloud`, or carries Shodan's `cloud` provider field.
The rule and the threshold are those of the shodan check's shared-hosting skip
(`checks/shodan/hosting.py`), repeated here because the engine never imports a check.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from exposure.discovery.fetch import FetchFailure, JsonFetcher

SHARED_HOSTING_DOMAINS = 5
FRONT_TAGS = frozenset({"cdn", "cloud"})

#: A short, deliberately incomplete list of the big front ends' published ranges: enough to
#: keep the common cases out without downloading anything. Shodan's tags catch the rest.
FRONT_END_NETWORKS: tuple[tuple[str, str], ...] = (
    ("173.245.48.0/20", "Cloudflare"),
    ("103.21.244.0/22", "Cloudflare"),
    ("104.16.0.0/13", "Cloudflare"),
    ("172.64.0.0/13", "Cloudflare"),
    ("188.114.96.0/20", "Cloudflare"),
    ("2606:4700::/32", "Cloudflare"),
    ("151.101.0.0/16", "Fastly"),
    ("2a04:4e40::/32", "Fastly"),
    ("13.32.0.0/15", "Amazon CloudFront"),
    ("52.84.0.0/15", "Amazon CloudFront"),
    ("13.107.246.0/24", "Azure Front Door"),
    ("23.32.0.0/11", "Akamai"),
)

_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "or", "ne", "go"})


def registrable(name: str) -> str:
    labels = [label for label in name.strip().rstrip(".").lower().split(".") if label]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


class SharedAddresses:
    """Decides whether an address is someone else's front end (one sentence why), or None."""

    def __init__(
        self,
        extra_networks: Iterable[str] = (),
        internetdb: JsonFetcher | None = None,
        internetdb_url: str = "",
    ) -> None:
        self.networks = [(ipaddress.ip_network(net), who) for net, who in FRONT_END_NETWORKS] + [
            (ipaddress.ip_network(net, strict=False), "a shared network (setting)")
            for net in extra_networks
        ]
        self.internetdb = internetdb
        self.internetdb_url = internetdb_url.rstrip("/")
        #: Addresses whose InternetDB look-up failed: not known to be shared, but not known to
        #: be the member's either, so the auto-confirm rule leaves names on them to a person.
        self.unverified: set[str] = set()

    async def reason(
        self, ip: str, own_domain: str, facts: Mapping[str, Any] | None = None
    ) -> str | None:
        addr = ipaddress.ip_address(ip)
        for net, who in self.networks:
            if addr.version == net.version and addr in net:
                return f"{ip} is a front end of {who} ({net})"
        if facts is None:
            facts = await self._internetdb_facts(ip)
        return judge(ip, own_domain, facts)

    async def _internetdb_facts(self, ip: str) -> Mapping[str, Any]:
        if self.internetdb is None or not self.internetdb_url:
            return {}
        reply = await self.internetdb.get(
            f"{self.internetdb_url}/{ip}", {}, cache_key=ip, what=f"InternetDB {ip}"
        )
        if isinstance(reply, FetchFailure) or reply.status not in (200, 404):
            self.unverified.add(ip)
            return {}
        if reply.status == 404 or not isinstance(reply.body, dict):
            return {}  # unknown to Shodan: nothing says it is shared
        return reply.body


def judge(ip: str, own_domain: str, facts: Mapping[str, Any]) -> str | None:
    tags = {str(t).lower() for t in facts.get("tags") or ()}
    if tags & FRONT_TAGS or facts.get("cloud"):
        which = ", ".join(sorted(tags & FRONT_TAGS)) or "cloud"
        return f"{ip} is a CDN or cloud front end (Shodan: {which})"
    names = [str(n) for key in ("hostnames", "domains") for n in facts.get(key) or ()]
    others = {registrable(n) for n in names if "." in n} - {registrable(own_domain)}
    if len(others) >= SHARED_HOSTING_DOMAINS:
        sample = ", ".join(sorted(others)[:3])
        return f"{ip} is shared hosting: {len(others)} other domains on it (e.g. {sample})"
    return None
