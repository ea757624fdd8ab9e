"""Shodan search against the REST look-alike (real field layout) on loopback: hostname: and
ssl.cert.subject.cn: matches, counted query credits, the run's credit budget and reserve (read
from /api-info), pacing, 429, refusals and time-outs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from exposure.contract import FailureReason
from exposure.discovery.fetch import FetchConfig, JsonFetcher
from exposure.discovery.shodan_search import CreditBudget, ShodanSearchDiscoverer
from exposure.sources.cache import MemoryAnswerCache
from exposure.testbed.shodan import DEFAULT_KEY, ApiKey, ShodanLookalike
from exposure.testbed.shodan_devices import Device, HostInfo

FAST = 0.05


@pytest_asyncio.fixture
async def la() -> AsyncIterator[ShodanLookalike]:
    lookalike = ShodanLookalike(rate_interval=FAST, rate_slack=0.01)
    lookalike.add_devices(
        Device.camera("hikvision", "127.0.65.10"),
        info=HostInfo(hostnames=("cam.haven.test",)),
    )
    lookalike.add_devices(
        Device("web.nginx", "127.0.65.11"),
        info=HostInfo(hostnames=("remote.haven.test",)),
    )
    lookalike.add_devices(
        Device("web.nginx", "127.0.65.12"), info=HostInfo(hostnames=("shop.other.test",))
    )
    await lookalike.start("127.0.65.1")
    try:
        yield lookalike
    finally:
        await lookalike.close()


def discoverer(
    la: ShodanLookalike,
    key: str = DEFAULT_KEY,
    *,
    interval: float = FAST,
    timeout: float = 2.0,
    cache: MemoryAnswerCache | None = None,
    budget: CreditBudget | None = None,
) -> ShodanSearchDiscoverer:
    fetcher = JsonFetcher("discovery.shodan", FetchConfig(timeout, interval, 7.0), cache)
    return ShodanSearchDiscoverer(la.rest_url, key, fetcher, budget)


async def test_devices_named_for_the_domain(la: ShodanLookalike) -> None:
    source = discoverer(la)
    answer = await source.discover("haven.test")
    await source.aclose()
    assert answer.failures == []
    found = {(c.kind, c.value) for c in answer.candidates}
    assert found == {
        ("ip", "127.0.65.10"),
        ("ip", "127.0.65.11"),
        ("domain", "cam.haven.test"),
        ("domain", "remote.haven.test"),
    }
    cam = next(c for c in answer.candidates if c.value == "127.0.65.10")
    assert "hostname:haven.test" in cam.evidence["queries"]
    assert len(answer.candidates) == 4  # one per host, however many banners
    assert "cam.haven.test" in cam.evidence["hostnames"]
    assert "cam.haven.test" in answer.address_facts["127.0.65.10"]["hostnames"]
    # two filtered searches, one credit each; the look-alike charged the same
    assert source.credits_used == 2
    assert la.credits[DEFAULT_KEY] == ApiKey().query_credits - 2
    assert la.counters.rate_limited == 0


async def test_cached_searches_cost_no_credits(la: ShodanLookalike) -> None:
    cache = MemoryAnswerCache()
    await discoverer(la, cache=cache).discover("haven.test")
    again = discoverer(la, cache=cache)
    answer = await again.discover("haven.test")
    assert len(answer.candidates) == 4
    assert again.credits_used == 0
    assert la.counters.requests["search"] == 2


async def test_a_bad_key_stops_the_source(la: ShodanLookalike) -> None:
    source = discoverer(la, key="wrong" * 6)
    first = await source.discover("haven.test")
    second = await source.discover("other.test")
    await source.aclose()
    assert [f.reason for f in first.failures] == [FailureReason.UNAVAILABLE]
    assert [f.reason for f in second.failures] == [FailureReason.UNAVAILABLE]
    assert la.counters.requests["search"] == 1  # nothing asked after the refusal
    assert source.credits_used == 0


async def test_no_credits_left(la: ShodanLookalike) -> None:
    la.credits[DEFAULT_KEY] = 0
    source = discoverer(la)
    answer = await source.discover("haven.test")
    await source.aclose()
    assert [f.reason for f in answer.failures] == [FailureReason.UNAVAILABLE]
    assert "Insufficient query credits" in answer.failures[0].message


async def test_pacing_and_the_429(la: ShodanLookalike) -> None:
    la.rate_interval = 0.3
    paced = discoverer(la, interval=0.32)
    assert (await paced.discover("haven.test")).failures == []
    assert la.counters.rate_limited == 0
    unpaced = discoverer(la, interval=0.0)
    answer = await unpaced.discover(
        "other.test"
    )  # the second search hits the limit, waits, retries
    assert answer.failures == []
    assert la.counters.rate_limited >= 1


async def test_a_slow_api_times_out(la: ShodanLookalike) -> None:
    la.delay = 1.0
    source = discoverer(la, timeout=0.2)
    answer = await source.discover("haven.test")
    await source.aclose()
    assert answer.failures and answer.failures[0].reason == FailureReason.TIMEOUT


async def test_the_key_in_the_query_string_is_not_logged(
    la: ShodanLookalike, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as in `exposure discovery run --verbose`: no Shodan source in the process to install it
    monkeypatch.setattr(logging.getLogger("httpx"), "filters", [])
    caplog.set_level(logging.INFO, logger="httpx")
    source = discoverer(la)
    await source.discover("haven.test")
    await source.aclose()
    assert "key=REDACTED" in caplog.text
    assert DEFAULT_KEY not in caplog.text


# --- the run's credit budget ------------------------------------------------------------------


async def test_a_budget_not_reached_searches_every_domain(la: ShodanLookalike) -> None:
    source = discoverer(la, budget=CreditBudget(per_run=20, reserve=10))
    answers = [await source.discover(d) for d in ("haven.test", "other.test")]
    await source.aclose()
    assert [a.failures for a in answers] == [[], []]
    assert source.credits_used == 4
    assert source.credits_left == ApiKey().query_credits  # as /api-info said before the run
    assert la.counters.requests["api-info"] == 1  # asked once, before the first paid search
    assert la.credits[DEFAULT_KEY] == ApiKey().query_credits - 4


async def test_a_spent_budget_is_could_not_test_and_costs_nothing_more(
    la: ShodanLookalike,
) -> None:
    cache = MemoryAnswerCache()
    source = discoverer(la, cache=cache, budget=CreditBudget(per_run=3))
    first = await source.discover("haven.test")
    second = await source.discover("other.test")  # needs 2, only 1 left: searched not at all
    again = await source.discover("haven.test")  # from the cache: free, whatever the budget
    await source.aclose()
    assert first.failures == [] and again.failures == []
    assert len(again.candidates) == 4
    assert second.candidates == []
    assert [(f.source, f.domain, f.reason) for f in second.failures] == [
        ("shodan", "other.test", FailureReason.UNAVAILABLE)
    ]
    assert "Shodan search credit budget of 3 spent" in second.failures[0].message
    assert source.credits_used == 2
    assert la.counters.requests["search"] == 2
    assert la.credits[DEFAULT_KEY] == ApiKey().query_credits - 2


async def test_the_reserve_on_the_key_is_never_spent(la: ShodanLookalike) -> None:
    la.credits[DEFAULT_KEY] = 13
    source = discoverer(la, budget=CreditBudget(per_run=20, reserve=10))
    first = await source.discover("haven.test")
    second = await source.discover("other.test")
    await source.aclose()
    assert first.failures == []
    assert [f.reason for f in second.failures] == [FailureReason.UNAVAILABLE]
    message = second.failures[0].message
    assert "13 left" in message and "discovery_shodan_reserve" in message
    assert la.credits[DEFAULT_KEY] == 11  # 13 - 2: a third search would have gone below 10


async def test_credits_exhausted_asks_no_search(la: ShodanLookalike) -> None:
    la.credits[DEFAULT_KEY] = 0
    source = discoverer(la, budget=CreditBudget(per_run=20))
    answer = await source.discover("haven.test")
    await source.aclose()
    assert [f.reason for f in answer.failures] == [FailureReason.UNAVAILABLE]
    assert "0 left" in answer.failures[0].message
    assert la.counters.requests["search"] == 0


async def test_without_the_count_the_reserve_is_kept_by_spending_nothing(
    la: ShodanLookalike,
) -> None:
    la.outage = 502
    kept = discoverer(la, budget=CreditBudget(per_run=20, reserve=5))
    answer = await kept.discover("haven.test")
    await kept.aclose()
    assert [f.reason for f in answer.failures] == [FailureReason.UNAVAILABLE]
    assert "/api-info" in answer.failures[0].message
    assert "reserve of 5" in answer.failures[0].message
    assert la.counters.requests["search"] == 0
    # no reserve to keep: the budget alone bounds it, and the search itself says what is wrong
    trusting = discoverer(la, budget=CreditBudget(per_run=20, reserve=0))
    answer = await trusting.discover("haven.test")
    await trusting.aclose()
    assert la.counters.requests["search"] == 2
    assert all("HTTP 502" in f.message for f in answer.failures)


async def test_a_search_that_failed_gives_its_credit_back(la: ShodanLookalike) -> None:
    la.delay = 1.0
    source = discoverer(la, timeout=0.2, budget=CreditBudget(per_run=2))
    failed = await source.discover("haven.test")  # /api-info and the search time out
    assert failed.failures and source.credits_used == 0
    la.delay = 0.0
    again = await source.discover("haven.test")  # the two credits were not lost
    await source.aclose()
    assert again.failures == [] and source.credits_used == 2
