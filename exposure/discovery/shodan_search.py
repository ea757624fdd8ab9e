"""Shodan search: devices anywhere whose name or certificate says they are the member's.

Two searches per domain, `hostname:domain` (Shodan's reverse-DNS and forward names) and
`ssl.cert.subject.cn:domain` (the certificate a device shows), on `/shodan/host/search` with the
key. A search with a filter costs one query credit per page; the source counts what it spent
(`credits_used`) and asks one page only (100 devices is far more than a small business has).
Requests are paced like every Shodan request (one a second per key). A 401 (bad key, no
credits, a free plan) stops the source for the rest of the run: asking again cannot help.

Query credits are scarce (a membership has 100 a month; two a domain at 400 members is 800 a
week), so a `CreditBudget` bounds what one run spends: at most `per_run` credits, and never
below `reserve` credits left on the key, as its `/api-info` tells before the first paid search
(an answer from the cache costs nothing and is always used). A domain is searched whole or not
at all, so a half-spent budget never buys half an answer. A domain the budget does not reach is
the source's "could not test" (`UNAVAILABLE`, "credit budget of N spent"), never "no hosts": the
company's look is incomplete (`DONE_MARK` status 206), retires nothing, and the next run looks at
such companies first (`run.look_order`), while the domains searched now are answered from the
cache for `discovery_cache_days`. Over the nights the budget walks through the member list.

This is its own module, apart from `exposure.sources.shodan` (the host look-ups the checks use),
because it answers another question: not "what is on this address" but "which addresses are
this member's".
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from typing import Any

from exposure.contract import FailureReason
from exposure.discovery.base import Candidate, DiscoveryAnswer, DiscoveryFailure, under
from exposure.discovery.fetch import FetchFailure, JsonFetcher

NAME = "shodan"
QUERIES = ("hostname", "ssl.cert.subject.cn")


@dataclass(frozen=True, slots=True)
class CreditBudget:
    """What one run may spend: `per_run` credits (`discovery_shodan_credits`, more than 0), and
    never so many that fewer than `reserve` (`discovery_shodan_reserve`) are left on the key."""

    per_run: int
    reserve: int = 0


class ShodanSearchDiscoverer:
    name = NAME

    def __init__(
        self, api_url: str, key: str, fetcher: JsonFetcher, budget: CreditBudget | None = None
    ) -> None:
        base = api_url.rstrip("/")
        self.url = base + "/shodan/host/search"
        self.info_url = base + "/api-info"
        self._key = key
        self.fetcher = fetcher
        self.budget = budget  # None: no bound of ours (Shodan's own refusal still stops it)
        self.credits_used = 0
        self.credits_left: int | None = None  # the key's query credits, from /api-info
        self.stopped: str = ""  # why the source gave up for this run
        self._allowance: int | None = None  # credits this run may spend, once known
        self._limit = ""  # what bounds the allowance, for the could-not-test message
        self._committed = 0  # credits granted to searches (spent or in flight)
        self._learning = asyncio.Lock()

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def discover(self, domain: str) -> DiscoveryAnswer:
        answer = DiscoveryAnswer()
        if self.stopped:
            answer.failures.append(
                DiscoveryFailure(NAME, domain, FailureReason.UNAVAILABLE, self.stopped)
            )
            return answer
        queries = [f"{field}:{domain}" for field in QUERIES]
        fresh = {q: await self.fetcher.has_fresh(q) for q in queries}
        granted = await self._grant(sum(1 for q in queries if not fresh[q]))
        if not granted:  # one line per domain; what the cache holds is still used
            answer.failures.append(
                DiscoveryFailure(NAME, domain, FailureReason.UNAVAILABLE, self._limit)
            )
        for query in queries:
            if not fresh[query] and not granted:
                continue
            self._search(answer, domain, query, await self._ask(query, paid=not fresh[query]))
            if self.stopped:
                break
        answer.candidates = _merged(answer.candidates)
        return answer

    async def _grant(self, needed: int) -> bool:
        """Reserve `needed` credits of the run's allowance for one domain, all or none."""
        if needed == 0 or self.budget is None:
            return True
        async with self._learning:  # the first paid search of the run asks /api-info once
            if self._allowance is None:
                await self._learn_allowance(self.budget)
        assert self._allowance is not None
        if self._committed + needed > self._allowance:
            return False
        self._committed += needed
        return True

    async def _learn_allowance(self, budget: CreditBudget) -> None:
        self._allowance = budget.per_run
        self._limit = (
            f"Shodan search credit budget of {budget.per_run} spent (discovery_shodan_credits); "
            "searched first next run"
        )
        left = await self._credits_left()
        if isinstance(left, FetchFailure):
            if budget.reserve > 0:  # without the count the reserve cannot be kept: spend nothing
                self._allowance = 0
                self._limit = f"{left.message}; not searching, to keep the reserve of " + (
                    f"{budget.reserve} query credits (discovery_shodan_reserve)"
                )
            return
        self.credits_left = left
        if left - budget.reserve < budget.per_run:
            self._allowance = max(0, left - budget.reserve)
            self._limit = (
                f"Shodan query credits at the reserve: {left} left at the start of the run, "
                f"{budget.reserve} kept back (discovery_shodan_reserve); searched first next run"
            )

    async def _credits_left(self) -> int | FetchFailure:
        """The key's query credits from `/api-info` (free, never cached)."""
        what = "Shodan /api-info"
        reply = await self.fetcher.get(self.info_url, {"key": self._key}, cache_key=None, what=what)
        if isinstance(reply, FetchFailure):
            return reply
        credits = reply.body.get("query_credits") if isinstance(reply.body, dict) else None
        if reply.status != 200 or not isinstance(credits, int) or isinstance(credits, bool):
            return FetchFailure(
                FailureReason.UNAVAILABLE, f"{what}: HTTP {reply.status}, no query_credits count"
            )
        return credits

    async def _ask(self, query: str, *, paid: bool = True) -> Any:
        what = f"Shodan search {query}"
        reply = await self.fetcher.get(
            self.url, {"key": self._key, "query": query}, cache_key=query, what=what
        )
        charged = not isinstance(reply, FetchFailure) and not reply.cached and reply.status == 200
        if charged:
            # A filtered search is charged when Shodan answers it, even with no match; a
            # refusal costs nothing, and neither does an answer from the cache.
            self.credits_used += 1
        elif paid and self.budget is not None:
            self._committed -= 1  # granted but not charged: the credit goes back to the run
        if isinstance(reply, FetchFailure):
            return reply
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
