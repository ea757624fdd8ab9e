"""Shodan search: devices anywhere whose name or certificate says they are the member's.

Two searches per domain, `hostname:domain` (Shodan's reverse-DNS and forward names) and
`ssl.cert.subject.cn:domain` (the certificate a device shows), on `/shodan/host/search` with the
key. A search with a filter costs one query credit per page; the source counts what it spent
(`credits_used`) and asks one page only (100 devices is far more than a small business has).
Requests are paced like every Shodan request (one a second per key). A 401 (bad key, no
credits, a free plan) stops the source for the rest of the run: asking again cannot help.

This is its own module, apart from `exposure.sources.shodan` (the host look-ups the checks use),
because it answers another question: not "what is on this address" but "which addresses are
this member's".
"""

from __future__ import annotations

import ipaddress
from typing import Any

from exposure.contract import FailureReason
from exposure.discovery.base import Candidate, DiscoveryAnswer, DiscoveryFailure, under
from exposure.discovery.fetch import FetchFailure, JsonFetcher

NAME = "shodan"
QUERIES = ("hostname", "ssl.cert.subject.cn")


class ShodanSearchDiscoverer:
    name = NAME

    def __init__(self, api_url: str, key: str, fetcher: JsonFetcher) -> None:
        self.url = api_url.rstrip("/") + "/shodan/host/search"
        self._key = key
        self.fetcher = fetcher
        self.credits_used = 0
        self.stopped: str = ""  # why the source gave up for this run

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def discover(self, domain: str) -> DiscoveryAnswer:
        answer = DiscoveryAnswer()
        if self.stopped:
            answer.failures.append(
                DiscoveryFailure(NAME, domain, FailureReason.UNAVAILABLE, self.stopped)
            )
            return answer
        for field in QUERIES:
            query = f"{field}:{domain}"
            self._search(answer, domain, query, await self._ask(query))
            if self.stopped:
                break
        answer.candidates = _merged(answer.candidates)
        return answer

    async def _ask(self, query: str) -> Any:
        what = f"Shodan search {query}"
        reply = await self.fetcher.get(
            self.url, {"key": self._key, "query": query}, cache_key=query, what=what
        )
        if isinstance(reply, FetchFailure):
            return reply
        if not reply.cached and reply.status == 200:
            # A filtered search is charged when Shodan answers it, even with no match; a
            # refusal costs nothing, and neither does an answer from the cache.
            self.credits_used += 1
        if reply.status == 401 or reply.status == 403:
            error = reply.body.get("error") if isinstance(reply.body, dict) else None
            self.stopped = f"Shodan search refused (HTTP {reply.status}): " + (
                str(error)[:120] if error else "invalid API key"
            )
            return FetchFailure(FailureReason.UNAVAILABLE, self.stopped)
        if reply.status != 200 or not isinstance(reply.body, dict):
            error = reply.body.get("error") if isinstance(reply.body, dict) else reply.text
            return FetchFailure(
                FailureReason.UNAVAILABLE, f"{what}: HTTP {reply.status} {str(error)[:120]}"
            )
        return reply.body

    def _search(self, answer: DiscoveryAnswer, domain: str, query: str, body: Any) -> None:
        if isinstance(body, FetchFailure):
            answer.failures.append(DiscoveryFailure(NAME, domain, body.reason, body.message))
            return
        matches = body.get("matches")
        if not isinstance(matches, list):
            answer.failures.append(
                DiscoveryFailure(
                    NAME, domain, FailureReason.PROTOCOL, f"Shodan search {query}: no matches list"
                )
            )
            return
        for match in matches:
            if isinstance(match, dict):
                self._match(answer, domain, query, match)

    def _match(
        self, answer: DiscoveryAnswer, domain: str, query: str, match: dict[str, Any]
    ) -> None:
        try:
            ip = str(ipaddress.ip_address(str(match.get("ip_str", ""))))
        except ValueError:
            return
        hostnames = [str(h).lower() for h in match.get("hostnames") or () if isinstance(h, str)]
        cn = _subject_cn(match)
        facts = answer.address_facts.setdefault(ip, {"hostnames": [], "tags": []})
        facts["hostnames"] = sorted(
            {*facts["hostnames"], *hostnames, *(str(d) for d in match.get("domains") or ())}
        )
        facts["tags"] = sorted({*facts["tags"], *(str(t) for t in match.get("tags") or ())})
        if match.get("cloud"):
            facts["cloud"] = match["cloud"]
        evidence = {
            "query": query,
            "port": match.get("port"),
            "product": str(match.get("product") or "")[:80],
            "hostnames": hostnames[:5],
            **({"cert_cn": cn} if cn else {}),
            "timestamp": str(match.get("timestamp") or ""),
        }
        answer.candidates.append(Candidate("ip", ip, NAME, evidence))
        for name in hostnames:
            if under(name, domain) and name != domain:
                answer.candidates.append(
                    Candidate("domain", name, NAME, {"query": query, "ip": ip})
                )


def _subject_cn(match: dict[str, Any]) -> str:
    ssl = match.get("ssl")
    if not isinstance(ssl, dict):
        return ""
    cert = ssl.get("cert")
    subject = cert.get("subject") if isinstance(cert, dict) else None
    return str(subject.get("CN") or "") if isinstance(subject, dict) else ""


def _merged(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per host: Shodan answers a banner per port (and both searches may find
    the same device); the ports and queries are kept together in the evidence."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for c in candidates:
        evidence = merged.setdefault((c.kind, c.value), {**c.evidence, "ports": [], "queries": []})
        port = c.evidence.get("port")
        if isinstance(port, int) and port not in evidence["ports"]:
            evidence["ports"].append(port)
        if c.evidence.get("query") not in evidence["queries"]:
            evidence["queries"].append(c.evidence.get("query"))
    return [
        Candidate(kind, value, NAME, {k: v for k, v in ev.items() if k not in ("port", "query")})
        for (kind, value), ev in merged.items()
    ]
