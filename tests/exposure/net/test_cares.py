"""c-ares without its query cache: the scan's own bounded cache is the only one.

Measured in the benchmark: with c-ares' cache on, native memory grows ≈1 KB per distinct DNS
question for the whole run. Here the behaviour itself: a question asked twice through the
channel reaches the server twice (nothing kept in c-ares), where a default channel answers the
second from its cache.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiodns
import pycares
import pytest

from exposure.net import cares
from exposure.net.dns import AiodnsResolver, DnsStatus
from exposure.testbed.dns import DnsServer, Records, add_zone

HOST = "127.0.53.1"


@pytest.fixture
async def server() -> AsyncIterator[DnsServer]:
    records = Records()
    add_zone(records, "haven.test")
    records.add("haven.test", "A", "127.0.53.10")
    srv = DnsServer(records)
    await srv.start(HOST, 0)
    try:
        yield srv
    finally:
        await srv.close()


async def _twice(resolver: aiodns.DNSResolver) -> None:
    """Ask the same question twice, then close the resolver."""
    try:
        for _ in range(2):
            result = await resolver.query_dns("haven.test", "A")
            assert [rr.data.addr for rr in result.answer] == ["127.0.53.10"]
    finally:
        await resolver.close()


async def test_a_default_channel_answers_the_second_question_from_its_cache(
    server: DnsServer,
) -> None:
    """The reason for the module: left alone, c-ares keeps the answer."""
    plain = aiodns.DNSResolver(nameservers=[f"{server.host}:{server.port}"], timeout=1, tries=1)
    await _twice(plain)
    assert server.total == 1


async def test_the_scans_channel_keeps_nothing(server: DnsServer) -> None:
    real = pycares._lib
    resolver, off = cares.make_resolver([f"{server.host}:{server.port}"], timeout=1, tries=1)
    await _twice(resolver)
    assert off is True
    assert server.total == 2
    assert pycares._lib is real  # only the channel's construction saw the wrapper


async def test_the_resolver_the_run_uses_is_built_that_way(server: DnsServer) -> None:
    resolver = AiodnsResolver([(server.host, server.port)], timeout=1, tries=1)
    try:
        for _ in range(2):
            assert (await resolver.resolve("haven.test", "A")).status is DnsStatus.OK
    finally:
        await resolver.close()
    assert resolver.query_cache_off is True
    assert server.total == 2


async def test_a_pycares_without_the_option_still_resolves_and_says_so(
    server: DnsServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A future pycares whose channel cannot take the option: the scan still runs (with the
    cache on) and the log says why its memory grows."""
    monkeypatch.setattr(cares, "_supported", lambda: False)
    monkeypatch.setattr(cares, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="exposure.net.cares"):
        resolver, off = cares.make_resolver([f"{server.host}:{server.port}"], timeout=1, tries=1)
    await _twice(resolver)
    assert off is False
    assert server.total == 1
    assert "query cache could not be switched off" in caplog.text
