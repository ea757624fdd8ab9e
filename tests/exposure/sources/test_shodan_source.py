"""`ShodanSource` against the testbed's look-alikes of the REST API and InternetDB: pacing,
back-off, refusals, time-outs, outages, searches, the caches, and the key kept out of logs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from exposure.contract import FailureReason
from exposure.sources.cache import CachedAnswer, MemoryAnswerCache
from exposure.sources.jsonget import redact
from exposure.sources.shodan import (
    HostView,
    Pacer,
    ShodanConfig,
    ShodanSource,
    SourceFailure,
    ViewKind,
)
from exposure.sources.shodan_documents import slim_host
from exposure.testbed.httpd import Response
from exposure.testbed.shodan import DEFAULT_KEY, ApiKey, ShodanLookalike
from exposure.testbed.shodan_devices import Device, host_document

FAST = 0.05
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def la() -> AsyncIterator[ShodanLookalike]:
    lookalike = ShodanLookalike(rate_interval=FAST, rate_slack=0.01)
    await lookalike.start()
    try:
        yield lookalike
    finally:
        await lookalike.close()


def config(la: ShodanLookalike, key: str | None = DEFAULT_KEY, **more: Any) -> ShodanConfig:
    values: dict[str, Any] = {
        "api_url": la.rest_url,
        "internetdb_url": la.internetdb_url,
        "api_key": key,
        "request_interval": FAST,
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
    }
    values.update(more)
    return ShodanConfig(**values)


def source(la: ShodanLookalike, key: str | None = DEFAULT_KEY, **more: Any) -> ShodanSource:
    cache = more.pop("cache", None)
    clock = more.pop("clock", lambda: T0)
    return ShodanSource(config(la, key, **more), cache=cache, clock=clock)


async def _rogue(la: ShodanLookalike) -> None:
    """Another process using the same key: one request that spends the key's second."""
    async with httpx.AsyncClient() as client:
        await client.get(f"{la.rest_url}/api-info", params={"key": DEFAULT_KEY})


# --- pacing and back-off ---------------------------------------------------------------------------


async def test_the_pacer_allows_one_request_at_a_time_with_quiet_between():
    pacer = Pacer(0.05)
    active = peak = 0
    stamps: list[tuple[float, float]] = []

    async def request() -> None:
        nonlocal active, peak
        async with pacer.turn():
            active += 1
            peak = max(peak, active)
            start = time.monotonic()
            await asyncio.sleep(0.01)
            stamps.append((start, time.monotonic()))
            active -= 1

    await asyncio.gather(*(request() for _ in range(5)))
    assert peak == 1
    stamps.sort()
    for (_, end), (start, _) in itertools.pairwise(stamps):
        assert start - end >= 0.045  # a full interval after the previous answer


async def test_many_addresses_never_provoke_a_rate_limit(la):
    ips = la.add_devices(*(Device.rdp(f"127.30.0.{n}") for n in range(1, 13)))
    src = source(la, batch_size=1)  # address by address: twelve turns
    results = await asyncio.gather(*(src.host_view(ip) for ip in ips))
    assert all(isinstance(r, HostView) and r.kind is ViewKind.FULL for r in results)
    assert la.counters.rate_limited == 0
    assert la.counters.requests["host"] == 12
    await src.aclose()


async def test_host_look_ups_are_batched_in_few_requests(la):
    ips = la.add_devices(*(Device.rdp(f"127.30.0.{n}") for n in range(1, 31)))
    bare = ["127.30.2.1", "127.30.2.2"]  # InternetDB lists ports, the REST API has no banners
    for ip in bare:
        la.add_devices(Device.rdp(ip))
        la._hosts.pop(ip)
    src = source(la, batch_size=20)
    results = await asyncio.gather(*(src.host_view(ip) for ip in ips + bare))
    by_ip = {r.ip: r for r in results if isinstance(r, HostView)}
    assert all(by_ip[ip].kind is ViewKind.FULL and by_ip[ip].ports == (3389,) for ip in ips)
    assert all(
        by_ip[ip].kind is ViewKind.SUMMARY and "no banners" in by_ip[ip].degraded for ip in bare
    )
    assert la.counters.rate_limited == 0
    # 32 addresses, at most 20 a request; those queued while a request waits go out together
    assert sum(la.counters.host_lookups.values()) == 32
    assert 2 <= la.counters.requests["host"] <= 6
    assert la.counters.batches >= 2
    assert src.stats.host_requests == la.counters.requests["host"]
    assert src.stats.batch_fallbacks == 0
    await src.aclose()


async def test_a_batch_without_any_data_is_one_404(la):
    bare = ["127.30.3.1", "127.30.3.2", "127.30.3.3"]
    for ip in bare:
        la.add_devices(Device.rdp(ip))
        la._hosts.pop(ip)
    src = source(la)
    results = await asyncio.gather(*(src.host_view(ip) for ip in bare))
    assert all(isinstance(r, HostView) and r.kind is ViewKind.SUMMARY for r in results)
    assert la.counters.requests["host"] == 1 and la.counters.not_found == 1
    await src.aclose()


async def test_a_batch_refused_as_a_whole_falls_back_to_single_look_ups(la):
    ips = la.add_devices(*(Device.rdp(f"127.30.4.{n}") for n in range(1, 5)))
    la.batch_limit = 1  # this "API" refuses lists: 400
    src = source(la)
    results = await asyncio.gather(*(src.host_view(ip) for ip in ips))
    assert all(isinstance(r, HostView) and r.kind is ViewKind.FULL for r in results)
    assert la.counters.batches_refused == 1
    assert la.counters.requests["host"] == 1 + 4
    assert src.stats.batch_fallbacks == 1
    assert la.counters.rate_limited == 0
    await src.aclose()


async def test_a_plan_that_refuses_lists_is_asked_address_by_address(la):
    """Some plans may answer a list with 403 while single look-ups work: not "degraded"."""
    ips = la.add_devices(*(Device.rdp(f"127.30.8.{n}") for n in range(1, 7)))
    original = la._rest_handler

    async def handler(request):
        if "," in request.path:
            la.counters.requests["host"] += 1
            return Response.json({"error": "Access denied (403 Forbidden)"}, 403)
        return await original(request)

    la._rest._handler = handler
    src = source(la)
    first = await asyncio.gather(*(src.host_view(ip) for ip in ips[:3]))
    second = await asyncio.gather(*(src.host_view(ip) for ip in ips[3:]))
    assert all(isinstance(r, HostView) and r.kind is ViewKind.FULL for r in first + second)
    assert src.mode == "full"
    assert src.stats.batch_fallbacks == 1  # the second wave went address by address at once
    assert la.counters.requests["host"] == 1 + 6
    assert any("address by address" in n for n in src.report()["notes"])
    await src.aclose()


async def test_a_batch_that_times_out_falls_back_to_single_look_ups(la):
    ips = la.add_devices(*(Device.rdp(f"127.30.5.{n}") for n in range(1, 4)))
    src = source(la, read_timeout=0.3, connect_timeout=0.3)
    original = la._rest_handler

    async def handler(request):  # a list takes too long; one address answers at once
        if "," in request.path:
            await asyncio.sleep(1.0)
        return await original(request)

    la._rest._handler = handler
    results = await asyncio.gather(*(src.host_view(ip) for ip in ips))
    assert all(isinstance(r, HostView) and r.kind is ViewKind.FULL for r in results)
    assert src.stats.batch_fallbacks == 1 and src.stats.host_requests == 4
    await src.aclose()


async def test_a_rate_limit_answer_is_backed_off_and_retried(la):
    [ip] = la.add_devices(Device.rdp("127.30.1.1"))
    la.rate_interval = 0.5
    src = source(la, request_interval=0.2)
    await _rogue(la)
    result = await src.host_view(ip)
    assert isinstance(result, HostView) and result.kind is ViewKind.FULL
    assert la.counters.rate_limited >= 1
    assert src.stats.rate_limited == la.counters.rate_limited
    await src.aclose()


async def test_a_rate_limit_that_does_not_lift_fails_the_lookup_in_bounded_time(la):
    [ip] = la.add_devices(Device.rdp("127.30.1.2"))
    la.rate_interval = 100.0
    await _rogue(la)
    src = source(la, max_retries=2)
    started = time.monotonic()
    result = await src.host_view(ip)
    assert isinstance(result, SourceFailure)
    assert result.reason is FailureReason.RATE_LIMITED
    assert la.counters.rate_limited == 3
    assert time.monotonic() - started < 2.0
    await src.aclose()


# --- refusals: key, credits, plan ------------------------------------------------------------------


@pytest.mark.parametrize("json_error", [False, True])
async def test_an_invalid_key_makes_the_source_unavailable_after_one_request(la, json_error):
    la.invalid_key_json = json_error
    ips = la.add_devices(*(Device.rdp(f"127.30.2.{n}") for n in range(1, 5)))
    src = source(la, key="notAValidKey00000000000000000000")
    results = await asyncio.gather(*(src.host_view(ip) for ip in ips))
    assert all(isinstance(r, SourceFailure) for r in results)
    assert {r.reason for r in results if isinstance(r, SourceFailure)} == {
        FailureReason.UNAVAILABLE
    }
    assert la.counters.unauthorized == 1
    assert src.mode == "unavailable"
    assert src.unavailable is not None and "key rejected" in src.unavailable.message
    assert "notAValidKey" not in src.unavailable.message
    again = await src.host_view("127.30.2.99")
    assert again == src.unavailable and la.counters.unauthorized == 1
    await src.aclose()


async def test_spent_credits_make_the_source_unavailable(la):
    la.add_key(ApiKey(key="k" * 32, query_credits=0))
    la.host_lookup_costs_credit = True
    [ip] = la.add_devices(Device.rdp("127.30.3.1"))
    src = source(la, key="k" * 32)
    result = await src.host_view(ip)
    assert isinstance(result, SourceFailure) and result.source_wide
    assert "query credits exhausted" in result.message
    assert "Insufficient query credits" in result.message
    await src.aclose()


async def test_a_plan_without_host_lookups_falls_back_to_internetdb(la):
    la.add_key(ApiKey(key="f" * 32, plan="oss"))
    ips = la.add_devices(Device.rdp("127.30.4.1"), Device.rdp("127.30.4.2"))
    src = source(la, key="f" * 32)
    results = await asyncio.gather(*(src.host_view(ip) for ip in ips))
    assert all(isinstance(r, HostView) and r.kind is ViewKind.SUMMARY for r in results)
    assert all("plan does not include host look-ups" in r.degraded for r in results)  # type: ignore[union-attr]
    # the list is refused, then one address shows the plan has no host look-ups at all
    assert la.counters.forbidden == 2
    assert src.mode == "degraded"
    await src.aclose()


async def test_without_a_key_internetdb_only(la):
    [ip] = la.add_devices(Device.camera("hikvision", "127.30.5.1"))
    src = source(la, key=None)
    result = await src.host_view(ip)
    assert isinstance(result, HostView) and result.kind is ViewKind.SUMMARY
    assert result.degraded == "no Shodan API key (InternetDB only)"
    assert result.doc["cpes"] == ["cpe:/h:hikvision:ip_camera"]
    assert la.counters.rest_requests == 0
    assert src.report()["notes"] == ["ran degraded: no Shodan API key (InternetDB only)"]
    await src.aclose()


async def test_rest_without_banners_for_an_address_internetdb_knows(la):
    [ip] = la.add_devices(Device.rdp("127.30.5.2"))
    la._hosts.pop(ip)  # InternetDB still has it, the REST API says "no information"
    src = source(la)
    result = await src.host_view(ip)
    assert isinstance(result, HostView) and result.kind is ViewKind.SUMMARY
    assert "no banners" in result.degraded
    await src.aclose()


# --- slow answers and outages ---------------------------------------------------------------------


async def test_slow_answers_are_bounded_and_three_in_a_row_stop_the_source(la):
    ips = la.add_devices(*(Device.rdp(f"127.30.6.{n}") for n in range(1, 6)))
    la.delay = 3.0
    src = source(la, connect_timeout=0.2, read_timeout=0.2)
    started = time.monotonic()
    results = [await src.host_view(ip) for ip in ips]
    elapsed = time.monotonic() - started
    reasons = [r.reason for r in results if isinstance(r, SourceFailure)]
    assert reasons == [FailureReason.TIMEOUT] * 3 + [FailureReason.UNAVAILABLE] * 2
    assert elapsed < 3 * 0.4 + 1.0
    assert la.counters.requests["host"] == 3  # the last two were not sent
    assert src.mode == "unavailable"
    await src.aclose()


async def test_a_slow_internetdb_does_not_stop_a_lookup_with_a_key(la):
    [ip] = la.add_devices(Device.rdp("127.30.6.9"))
    la.internetdb_delay = 3.0
    src = source(la, connect_timeout=0.2, read_timeout=0.2)
    result = await src.host_view(ip)
    assert isinstance(result, HostView) and result.kind is ViewKind.FULL  # asked the API directly
    await src.aclose()


async def test_an_outage_is_retried_once_then_reported(la):
    [ip] = la.add_devices(Device.rdp("127.30.7.1"))
    la.outage = 502
    src = source(la)
    result = await src.host_view(ip)
    assert isinstance(result, SourceFailure) and result.reason is FailureReason.UNREACHABLE
    assert "HTTP 502" in result.message
    assert la.counters.requests["host"] == 2
    await src.aclose()


# --- networks -------------------------------------------------------------------------------------


async def test_a_network_search_reads_every_page(la):
    la.add_devices(*(Device.rdp(f"127.31.0.{n}") for n in range(1, 151)))
    src = source(la)
    answer = await src.network("127.31.0.0/24")
    assert answer.method == "search" and not answer.failures
    assert len(answer.views) == 150
    assert la.counters.requests["search"] == 2  # 100 banners a page
    # the views are shared with later look-ups of the same addresses
    again = await src.host_view("127.31.0.7")
    assert isinstance(again, HostView) and again.kind is ViewKind.FULL
    assert la.counters.requests["host"] == 0
    await src.aclose()


async def test_a_truncated_search_says_so(la):
    la.add_devices(*(Device.rdp(f"127.31.1.{n}") for n in range(1, 151)))
    src = source(la, max_search_pages=1)
    answer = await src.network("127.31.1.0/24")
    assert len(answer.views) == 100
    [failure] = answer.failures
    assert "only the first 100" in failure.message
    await src.aclose()


async def test_a_network_too_large_to_walk(la):
    src = source(la, key=None, max_network_addresses=16)
    answer = await src.network("127.31.2.0/27")
    [failure] = answer.failures
    assert failure.reason is FailureReason.UNAVAILABLE
    assert "too many to look up one by one" in failure.message
    answer = await src.network("2001:db8::/64")
    assert "too many" in answer.failures[0].message
    assert la.counters.requests["internetdb"] == 0
    await src.aclose()


async def test_a_single_address_network_is_a_host_lookup_not_a_search(la):
    [ip] = la.add_devices(Device.rdp("127.31.3.5"))
    src = source(la)
    answer = await src.network(f"{ip}/32")
    assert [v.ip for v in answer.views] == [ip]
    assert la.counters.requests["search"] == 0 and la.counters.requests["host"] == 1
    await src.aclose()


# --- the caches ------------------------------------------------------------------------------------


async def test_one_lookup_per_address_per_run_however_many_ask(la):
    [ip] = la.add_devices(Device.rdp("127.30.8.1"))
    src = source(la)
    results = await asyncio.gather(*(src.host_view(ip) for _ in range(10)))
    assert len({id(r) for r in results}) == 1
    assert la.counters.requests["host"] == 1 and la.counters.requests["internetdb"] == 1
    await src.aclose()


async def test_answers_are_kept_across_runs_for_the_cache_period(la):
    [ip] = la.add_devices(Device.rdp("127.30.9.1"))
    cache = MemoryAnswerCache()
    now = T0
    for run, expected_requests in ((0, 1), (6, 1), (8, 2)):
        src = source(la, cache=cache, clock=lambda d=run: now + timedelta(days=d))
        result = await src.host_view(ip)
        assert isinstance(result, HostView) and result.kind is ViewKind.FULL
        assert la.counters.requests["host"] == expected_requests, run
        assert result.cached == (run == 6)
        await src.aclose()
    stored = cache.entries[("shodan", f"host:{ip}")]
    assert stored.fetched_at == (T0 + timedelta(days=8)).replace(tzinfo=None)


async def test_a_no_information_answer_is_cached_too(la):
    [ip] = la.add_devices(Device.rdp("127.30.9.2"))
    la._hosts.pop(ip)  # InternetDB shows a port, the REST API has no banners: asked once
    cache = MemoryAnswerCache()
    for _ in range(2):
        src = source(la, cache=cache)
        await src.host_view(ip)
        await src.aclose()
    assert la.counters.requests["host"] == 1
    assert cache.entries[("shodan", f"host:{ip}")].status == 404


async def test_a_broken_cache_costs_requests_not_verdicts(la):
    class Broken:
        async def load(self, source: str, key: str) -> CachedAnswer | None:
            raise RuntimeError("database is locked")

        async def save(self, source: str, key: str, answer: CachedAnswer) -> None:
            raise RuntimeError("database is locked")

    [ip] = la.add_devices(Device.rdp("127.30.9.3"))
    src = source(la, cache=Broken())
    result = await src.host_view(ip)
    assert isinstance(result, HostView) and result.kind is ViewKind.FULL
    assert src.stats.cache_errors == 2
    await src.aclose()


async def test_closing_the_source_stops_lookups_still_queued(la):
    ips = la.add_devices(*(Device.rdp(f"127.30.10.{n}") for n in range(1, 6)))
    src = source(la, request_interval=0.5)
    for ip in ips:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(src.host_view(ip), 0.01)  # the caller gives up ...
    await asyncio.sleep(0.2)
    assert src.queued >= 2  # ... the look-ups stay queued
    await src.aclose()
    assert src.queued == 0
    assert la.counters.requests["host"] <= 2


# --- what is kept, and what is never logged -------------------------------------------------------


def test_slim_documents_keep_no_images_and_little_text():
    device = Device.camera("hikvision", "192.0.2.1", screenshot=True)
    doc = host_document("192.0.2.1", [device])
    doc["data"][0]["http"]["html"] = "x" * 100_000
    doc["vulns"] = ["CVE-2021-36260", "!CVE-2014-0160"]
    slim = slim_host(doc)
    banner = next(b for b in slim["data"] if b["port"] == 80)
    assert banner["screenshot"] == {"labels": ["webcam"], "mime": "image/jpeg"}
    assert len(banner["http"]["html"]) == 4096
    assert "favicon" in banner["http"] and "data" not in banner["http"]["favicon"]
    assert slim["vulns"] == ["CVE-2021-36260"]
    assert "location" not in banner and "ssl" not in banner


def test_redact_hides_the_key_in_urls():
    assert redact("GET http://x/shodan/host/1.2.3.4?key=SeCrEt&minify=true") == (
        "GET http://x/shodan/host/1.2.3.4?key=REDACTED&minify=true"
    )
    assert redact("no key here") == "no key here"


async def test_httpx_request_logs_carry_no_key(la, caplog):
    [ip] = la.add_devices(Device.rdp("127.30.11.1"))
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # exposure.logs quiets it to WARNING
    src = source(la)
    await src.host_view(ip)
    await src.aclose()
    assert "key=REDACTED" in caplog.text
    assert DEFAULT_KEY not in caplog.text


async def test_runs_back_to_back_stay_within_the_keys_rate(la):
    """The look-alike remembers the key across runs, as Shodan does: a new run's first request
    must not land within one interval of the previous run's last one."""
    ips = la.add_devices(*(Device.rdp(f"127.30.9.{n}") for n in range(10, 16)))
    for ip in ips:
        src = source(la)
        await src.host_view(ip)
        await src.aclose()
    assert la.counters.requests["host"] == len(ips)
    assert la.counters.rate_limited == 0


class _Gate:
    """A `KeyGate` in memory: records how long each turn was held."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.held: list[float] = []
        self.closed = False

    @contextlib.asynccontextmanager
    async def turn(self):
        if self.broken:
            raise OSError("the database is gone")
        start = time.monotonic()
        try:
            yield
        finally:
            self.held.append(time.monotonic() - start)

    async def aclose(self) -> None:
        self.closed = True


async def test_a_gate_turn_covers_the_request_and_its_quiet_interval(la):
    ips = la.add_devices(*(Device.rdp(f"127.30.6.{n}") for n in range(1, 4)))
    gate = _Gate()
    src = ShodanSource(config(la, batch_size=1), clock=lambda: T0, gate=gate)
    results = await asyncio.gather(*(src.host_view(ip) for ip in ips))
    assert all(isinstance(r, HostView) and r.kind is ViewKind.FULL for r in results)
    assert len(gate.held) == 3 and min(gate.held) >= FAST * 0.9  # the quiet second inside
    await src.aclose()
    assert gate.closed


async def test_a_failing_gate_falls_back_to_pacing_in_the_process(la, caplog):
    ips = la.add_devices(*(Device.rdp(f"127.30.7.{n}") for n in range(1, 4)))
    src = ShodanSource(config(la, batch_size=1), clock=lambda: T0, gate=_Gate(broken=True))
    with caplog.at_level(logging.WARNING):
        results = await asyncio.gather(*(src.host_view(ip) for ip in ips))
    assert all(isinstance(r, HostView) and r.kind is ViewKind.FULL for r in results)
    assert "pacing in this process only" in caplog.text
    assert la.counters.rate_limited == 0
    await src.aclose()
