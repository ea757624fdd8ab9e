"""Shared hosting, CDN and cloud front ends are recognised, so they never become IP targets;
an address of the member's own line is not mistaken for one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from exposure.discovery.fetch import FetchConfig, JsonFetcher
from exposure.discovery.hosting import SharedAddresses, judge
from exposure.testbed.shodan import ShodanLookalike
from exposure.testbed.shodan_devices import Device, HostInfo


def test_many_other_domains_make_shared_hosting() -> None:
    names = [f"www.tenant{n}.nl" for n in range(5)] + ["haven.nl"]
    why = judge("192.0.2.1", "haven.nl", {"hostnames": names})
    assert why is not None and "shared hosting: 5 other domains" in why
    # four other domains (brands, the provider's reverse name) are still the member's line
    assert judge("192.0.2.1", "haven.nl", {"hostnames": names[1:]}) is None


def test_cdn_and_cloud_tags_and_fields() -> None:
    assert "CDN or cloud" in (judge("192.0.2.1", "haven.nl", {"tags": ["cdn"]}) or "")
    assert judge("192.0.2.1", "haven.nl", {"cloud": {"provider": "Amazon"}}) is not None
    assert judge("192.0.2.1", "haven.nl", {"tags": ["vpn", "self-signed"]}) is None


async def test_known_front_end_networks_and_the_setting() -> None:
    shared = SharedAddresses(["192.0.2.0/28"])
    assert "Cloudflare" in (await shared.reason("104.16.1.1", "haven.nl", {}) or "")
    assert "setting" in (await shared.reason("192.0.2.5", "haven.nl", {}) or "")
    assert await shared.reason("192.0.2.50", "haven.nl", {}) is None


@pytest_asyncio.fixture
async def la() -> AsyncIterator[ShodanLookalike]:
    lookalike = ShodanLookalike()
    lookalike.add_devices(
        Device("web.apache", "127.0.66.10"),
        info=HostInfo(hostnames=tuple(f"site{n}.test" for n in range(8))),
    )
    lookalike.add_devices(Device.camera("hikvision", "127.0.66.11"))
    await lookalike.start("127.0.66.1")
    try:
        yield lookalike
    finally:
        await lookalike.close()


async def test_internetdb_tells_what_an_spf_address_is(la: ShodanLookalike) -> None:
    """An address found without Shodan search (the SPF ip4: term) is judged on InternetDB."""
    fetcher = JsonFetcher("discovery.internetdb", FetchConfig(2.0, 0.0, 7.0))
    shared = SharedAddresses((), fetcher, la.internetdb_url)
    assert "shared hosting" in (await shared.reason("127.0.66.10", "haven.test") or "")
    assert await shared.reason("127.0.66.11", "haven.test") is None  # the office camera
    assert await shared.reason("127.0.66.12", "haven.test") is None  # unknown to Shodan
    assert shared.unverified == set()
    la.internetdb_delay = 5.0  # a slow InternetDB: no facts, not "shared", but unverified
    fetcher.config = FetchConfig(0.2, 0.0, 0.0)
    assert await shared.reason("127.0.66.10", "haven.test") is None
    assert shared.unverified == {"127.0.66.10"}  # so the auto-confirm rule will not take it
    await fetcher.aclose()
