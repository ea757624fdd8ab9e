"""Certificate transparency against the crt.sh look-alike over HTTP on loopback: names from
the SANs, wildcards noted not expanded, the cache, and every way the service can fail."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest_asyncio

from exposure.contract import FailureReason
from exposure.discovery.ct import CtDiscoverer
from exposure.discovery.fetch import FetchConfig, JsonFetcher
from exposure.sources.cache import MemoryAnswerCache
from exposure.testbed.ct import CtLookalike


@pytest_asyncio.fixture
async def ct() -> AsyncIterator[CtLookalike]:
    la = CtLookalike()
    la.add_certificate(["haven.test", "www.haven.test"])
    la.add_certificate(["vpn.haven.test"])
    la.add_certificate(["*.haven.test", "haven.test"])
    la.add_certificate(["portal.haven.test", "shop.other.test"])
    la.add_certificate(["elsewhere.test"])
    await la.start("127.0.64.1")
    try:
        yield la
    finally:
        await la.close()


def discoverer(
    ct: CtLookalike,
    *,
    timeout: float = 2.0,
    interval: float = 0.0,
    cache: MemoryAnswerCache | None = None,
) -> CtDiscoverer:
    return CtDiscoverer(
        ct.url, JsonFetcher("discovery.ct", FetchConfig(timeout, interval, 7.0), cache)
    )


async def test_names_under_the_domain_with_their_certificates(ct: CtLookalike) -> None:
    source = discoverer(ct)
    answer = await source.discover("haven.test")
    await source.aclose()
    assert answer.failures == []
    assert [c.value for c in answer.candidates] == [
        "portal.haven.test",
        "vpn.haven.test",
        "www.haven.test",
    ]
    vpn = answer.candidates[1]
    assert (vpn.kind, vpn.source) == ("domain", "ct")
    assert vpn.evidence["certificates"][0]["issuer"].startswith("C=US, O=Let's Encrypt")
    assert vpn.evidence["wildcards"] == ["*.haven.test"]  # noted, never a host
    assert ct.counters.queries == {"%.haven.test": 1}


async def test_answers_are_cached(ct: CtLookalike) -> None:
    cache = MemoryAnswerCache()
    for _ in range(2):
        source = discoverer(ct, cache=cache)
        answer = await source.discover("haven.test")
        await source.aclose()
        assert len(answer.candidates) == 3
    assert ct.counters.requests == 1
    assert source.fetcher.cache_hits == 1


async def test_errors_are_failures_and_are_not_cached(ct: CtLookalike) -> None:
    cache = MemoryAnswerCache()
    source = discoverer(ct, cache=cache)
    ct.outage = 502
    answer = await source.discover("haven.test")
    assert answer.candidates == []
    assert [(f.source, f.reason) for f in answer.failures] == [("ct", FailureReason.UNAVAILABLE)]
    assert "HTTP 502" in answer.failures[0].message
    ct.outage = None
    ct.garbage = True
    answer = await source.discover("haven.test")
    assert [f.reason for f in answer.failures] == [FailureReason.PROTOCOL]
    assert cache.entries == {}
    ct.garbage = False
    answer = await source.discover("haven.test")
    await source.aclose()
    assert answer.failures == [] and len(answer.candidates) == 3


async def test_a_slow_search_times_out(ct: CtLookalike) -> None:
    ct.delay = 1.0
    source = discoverer(ct, timeout=0.2)
    started = time.monotonic()
    answer = await source.discover("haven.test")
    await source.aclose()
    assert time.monotonic() - started < 0.9
    assert [f.reason for f in answer.failures] == [FailureReason.TIMEOUT]


async def test_pacing_keeps_under_the_rate_limit(ct: CtLookalike) -> None:
    ct.rate_interval = 0.3
    source = discoverer(ct, interval=0.35)
    for domain in ("haven.test", "other.test", "elsewhere.test"):
        assert (await source.discover(domain)).failures == []
    await source.aclose()
    assert ct.counters.rate_limited == 0


async def test_a_429_is_waited_out_once_then_reported(ct: CtLookalike) -> None:
    ct.rate_interval = 0.3
    source = discoverer(ct, interval=0.0)  # no pacing: the look-alike refuses the second
    assert (await source.discover("haven.test")).failures == []
    answer = await source.discover("other.test")  # 429, Retry-After 0.3, then answered
    assert answer.failures == [] and [c.value for c in answer.candidates] == ["shop.other.test"]
    assert ct.counters.rate_limited == 1
    ct.rate_interval = 60.0  # it keeps refusing: one wait (capped by the time-out), then a failure
    source.fetcher.config = FetchConfig(0.2, 0.0, 7.0)
    answer = await source.discover("elsewhere.test")
    await source.aclose()
    assert [f.reason for f in answer.failures] == [FailureReason.RATE_LIMITED]
