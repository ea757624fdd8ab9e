"""The safe fetch helper against real testbed servers: redirects, scope, caps, time-outs."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ipaddress
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

import exposure.net.http as http_module
from exposure.contract import CheckContext, FailureReason
from exposure.net.http import FetchError, fetch
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec, HttpMode, Route, SiteSpec
from tests.support import scan_context

BOMB = gzip.compress(b"\0" * (20 * 1024 * 1024))  # 20 MB of zeros in ~20 KB


def _area() -> Area:
    plain_routes = {
        "/loop": Route.redirect("/loop"),
        "/to-ftp": Route.redirect("ftp://files.example/"),
        "/to-private": Route.redirect("http://10.1.2.3/"),
        "/to-other": Route.redirect("http://other.test/"),
        "/to-https-default-port": Route.redirect("https://{host}:443/hello"),
        "/hello": Route.text("hello"),
        "/slow": Route(body="late", delay=0.3),
        "/drip": Route.stream(400_000, chunk_delay=0.4),
    }
    big_routes = {
        "/big": Route.stream(60 * 1024 * 1024),
        "/bomb": Route(
            body=BOMB, content_type="text/plain", headers=(("Content-Encoding", "gzip"),)
        ),
        "/bomb-small": Route(
            body=gzip.compress(b"x" * 1000),
            content_type="text/plain",
            headers=(("Content-Encoding", "gzip"),),
        ),
    }
    domains = [
        DomainSpec("redirect.test", site=SiteSpec(routes=big_routes)),
        DomainSpec("plain.test", site=SiteSpec(http=HttpMode.PLAIN, routes=plain_routes)),
        DomainSpec("other.test", site=SiteSpec(http=HttpMode.PLAIN)),
        DomainSpec("hang.test", site=SiteSpec(hang=True)),
        DomainSpec("reset.test", site=SiteSpec(reset=True)),
        DomainSpec("nohttps.test", site=SiteSpec(https=False, http=HttpMode.PLAIN)),
        DomainSpec("selfsigned.test", site=SiteSpec(cert="self_signed")),
        DomainSpec("legacy.test", site=SiteSpec(tls="1.0-1.1", http=HttpMode.PLAIN)),
        DomainSpec("gone.test", nxdomain=True, site=None),
    ]
    return Area(companies=[CompanySpec("1", "Web BV", domains=domains)])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tb() -> AsyncIterator[Testbed]:
    async with Testbed(_area(), shodan=False) as bed:
        yield bed


@pytest_asyncio.fixture(loop_scope="module")
async def ctx(tb: Testbed) -> AsyncIterator[CheckContext]:
    async with scan_context(tb) as context:
        yield context


def ip_of(tb: Testbed, host: str) -> str:
    assert tb.layout is not None
    found = tb.layout.host_site(host)
    assert found is not None
    return found.ip


def loopback_only(ip: str) -> bool:
    return ipaddress.ip_address(ip).is_loopback


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_follows_http_to_https_on_the_configured_ports(tb: Testbed, ctx: CheckContext):
    result = await fetch(ctx, "http://redirect.test/", verify=True)
    assert result.ok and result.status == 200, result
    https = tb.ports["https"]
    assert [(h.status, h.location) for h in result.hops] == [
        (301, f"https://redirect.test:{https}/"),
        (200, ""),
    ]
    assert result.final_url == f"https://redirect.test:{https}/"
    assert result.address == ip_of(tb, "redirect.test")
    assert result.tls_version in ("TLSv1.2", "TLSv1.3")
    assert b"redirect.test" in result.body
    assert result.failure_reason is None


async def test_a_location_with_the_default_port_maps_to_the_configured_port(ctx: CheckContext):
    result = await fetch(ctx, "http://plain.test/to-https-default-port")
    assert result.ok and result.status == 200, result
    assert result.body == b"hello"
    assert result.hops[0].location == "https://plain.test:443/hello"


async def test_body_is_capped_while_streaming(ctx: CheckContext):
    started = time.perf_counter()
    result = await fetch(ctx, "https://redirect.test/big", max_bytes=64 * 1024)
    assert result.ok, result
    assert len(result.body) == 64 * 1024 and result.truncated
    assert time.perf_counter() - started < 5.0  # stopped reading; did not pull 60 MB


async def test_compressed_bodies_are_inflated_with_the_same_cap(ctx: CheckContext):
    bomb = await fetch(ctx, "https://redirect.test/bomb", max_bytes=4096)
    assert bomb.ok and bomb.truncated and len(bomb.body) == 4096
    small = await fetch(ctx, "https://redirect.test/bomb-small", max_bytes=4096)
    assert small.ok and not small.truncated and small.body == b"x" * 1000


async def test_redirect_loop_stops_after_max_redirects(ctx: CheckContext):
    result = await fetch(ctx, "http://plain.test/loop", max_redirects=5)
    assert result.error is FetchError.TOO_MANY_REDIRECTS
    assert len(result.hops) == 6 and result.status == 301
    none = await fetch(ctx, "http://plain.test/loop", max_redirects=0)
    assert none.error is FetchError.TOO_MANY_REDIRECTS and len(none.hops) == 1


async def test_redirect_into_private_space_is_refused_without_connecting(ctx: CheckContext):
    result = await fetch(ctx, "http://plain.test/to-private", allowed=loopback_only)
    assert result.error is FetchError.OUT_OF_SCOPE
    assert "10.1.2.3" in result.detail
    assert result.failure_reason is FailureReason.OUT_OF_SCOPE


async def test_redirect_to_a_host_whose_address_is_not_allowed(tb: Testbed, ctx: CheckContext):
    other = ip_of(tb, "other.test")
    before = tb.counters().http_requests.get("other.test", 0)
    result = await fetch(ctx, "http://plain.test/to-other", allowed=lambda ip: ip != other)
    assert result.error is FetchError.OUT_OF_SCOPE and "other.test" in result.detail
    assert tb.counters().http_requests.get("other.test", 0) == before
    allowed = await fetch(ctx, "http://plain.test/to-other")
    assert allowed.ok and allowed.final_url == "http://other.test/"


async def test_without_allow_private_nothing_on_loopback_is_contacted(tb: Testbed):
    async with scan_context(tb, allow_private=False) as strict:
        before = tb.counters().http_total
        result = await fetch(strict, "http://plain.test/hello")
        pinned = await fetch(strict, "http://plain.test/hello", address=ip_of(tb, "plain.test"))
    assert result.error is FetchError.OUT_OF_SCOPE
    assert pinned.error is FetchError.OUT_OF_SCOPE
    assert tb.counters().http_total == before


async def test_https_only_redirects_and_bad_locations(ctx: CheckContext):
    insecure = await fetch(ctx, "https://plain.test/to-other", https_only_redirects=True)
    assert insecure.error is FetchError.INSECURE_REDIRECT
    ftp = await fetch(ctx, "http://plain.test/to-ftp")
    assert ftp.error is FetchError.BAD_REDIRECT
    bad = await fetch(ctx, "ftp://plain.test/")
    assert bad.error is FetchError.BAD_URL


async def test_hang_costs_the_connect_timeout_and_is_a_timeout(ctx: CheckContext):
    started = time.perf_counter()
    https, http = await asyncio.gather(
        fetch(ctx, "https://hang.test/"), fetch(ctx, "http://hang.test/")
    )
    elapsed = time.perf_counter() - started
    assert https.error is FetchError.TIMEOUT and http.error is FetchError.TIMEOUT
    assert elapsed < 3.5  # connect 1 s (handshake) / read 1 s, concurrently
    assert https.failure_reason is FailureReason.TIMEOUT


async def test_deadline_bounds_a_dripping_body(ctx: CheckContext):
    started = time.perf_counter()
    result = await fetch(ctx, "http://plain.test/drip", deadline=0.6)
    assert result.error is FetchError.TIMEOUT
    assert result.status == 200  # the answer started; its body never finished
    assert time.perf_counter() - started < 2.0  # the whole body would take 2.8 s


async def test_reset_refused_and_unresolvable(ctx: CheckContext):
    reset_https = await fetch(ctx, "https://reset.test/")
    reset_http = await fetch(ctx, "http://reset.test/")
    assert reset_https.error in (FetchError.RESET, FetchError.TLS), reset_https
    assert reset_http.error is FetchError.RESET, reset_http
    refused = await fetch(ctx, "https://nohttps.test/")
    assert refused.error is FetchError.REFUSED
    gone = await fetch(ctx, "http://gone.test/")
    assert gone.error is FetchError.NO_ADDRESS


async def test_verify_on_and_off(ctx: CheckContext):
    strict = await fetch(ctx, "https://selfsigned.test/")
    assert strict.error is FetchError.CERTIFICATE and "self-signed" in strict.detail
    lax = await fetch(ctx, "https://selfsigned.test/", verify=False)
    assert lax.ok and lax.status == 200
    legacy = await fetch(ctx, "https://legacy.test/", verify=False)
    assert legacy.ok and legacy.tls_version == "TLSv1.1"


async def test_family_slot_keeps_one_connection_per_ip(
    ctx: CheckContext, monkeypatch: pytest.MonkeyPatch
):
    active: dict[str | None, int] = {}
    peak: dict[str | None, int] = {}
    real = http_module.connection_slot

    @contextlib.asynccontextmanager
    async def watched(context, address, family=None):
        async with real(context, address, family):
            active[family] = active.get(family, 0) + 1
            peak[family] = max(peak.get(family, 0), active[family])
            try:
                yield
            finally:
                active[family] -= 1

    monkeypatch.setattr(http_module, "connection_slot", watched)
    urls = ["http://plain.test/slow"] * 4
    polite = await asyncio.gather(*(fetch(ctx, u, family="web") for u in urls))
    free = await asyncio.gather(*(fetch(ctx, u) for u in urls))
    assert all(r.ok for r in (*polite, *free))
    assert peak["web"] == 1  # one at a time per IP for the family
    assert peak[None] == ctx.settings.per_ip_concurrency  # the run's per-IP limit only


async def test_result_helpers(ctx: CheckContext):
    result = await fetch(ctx, "https://redirect.test/")
    assert result.header("STRICT-TRANSPORT-SECURITY") is not None
    assert result.content_type == "text/html"
    assert "redirect.test" in result.text()
    evidence = await fetch(ctx, "http://redirect.test/")
    assert evidence.evidence()["redirects"][0]["status"] == 301
