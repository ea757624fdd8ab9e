"""The DNS discoverer against the testbed's DNS server over real sockets: MX hosts inside the
domain, SPF sender addresses and names, common names with wildcard detection, and failures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from exposure.contract import FailureReason
from exposure.discovery.dns import DnsDiscoverer, spf_candidates
from exposure.net.dns import AiodnsResolver
from exposure.testbed.dns import DnsServer, Records, add_zone, txt

HOST = "127.0.62.1"


def zone() -> Records:
    records = Records()
    add_zone(records, "haven.test")
    records.add("haven.test", "A", "127.0.62.10")
    records.add("haven.test", "MX", "10 mail.haven.test.", "20 mx.provider.test.")
    records.add("mail.haven.test", "A", "127.0.62.11")
    records.add(
        "haven.test",
        "TXT",
        txt(
            "v=spf1 ip4:127.0.62.20 ip4:127.0.63.0/24 -ip4:127.0.62.21 a:office.haven.test "
            "a:relay.provider.test include:spf.provider.test ~all"
        ),
        txt("google-site-verification=abc"),
    )
    records.add("vpn.haven.test", "A", "127.0.62.30")
    add_zone(records, "wild.test")
    records.add("wild.test", "MX", "0 .")
    records.add("*.wild.test", "A", "127.0.62.40")
    records.add("vpn.wild.test", "A", "127.0.62.41")  # a real host beside the wildcard
    records.add("cam.wild.test", "A", "127.0.62.40")  # the wildcard's address: not a host
    return records


@pytest_asyncio.fixture
async def server() -> AsyncIterator[DnsServer]:
    srv = DnsServer(zone())
    await srv.start(HOST)
    try:
        yield srv
    finally:
        await srv.close()


def resolver(server: DnsServer, timeout: float = 1.0) -> AiodnsResolver:
    return AiodnsResolver([server.address], timeout=timeout, tries=1)


async def test_mx_spf_and_common_names(server: DnsServer) -> None:
    dns = resolver(server)
    answer = await DnsDiscoverer(dns).discover("haven.test")
    await dns.close()
    found = {(c.kind, c.value) for c in answer.candidates}
    assert found == {
        ("domain", "mail.haven.test"),  # MX inside the domain (and a common name)
        ("ip", "127.0.62.20"),  # the SPF ip4: sender address
        ("domain", "office.haven.test"),  # the SPF a: name inside the domain
        ("domain", "vpn.haven.test"),  # a common name that resolves
    }
    assert answer.failures == []
    spf = next(c for c in answer.candidates if c.value == "127.0.62.20")
    assert spf.evidence["spf"] == "ip4:127.0.62.20"


async def test_a_wildcard_invents_no_hosts(server: DnsServer) -> None:
    dns = resolver(server)
    answer = await DnsDiscoverer(dns).discover("wild.test")
    await dns.close()
    assert [(c.kind, c.value) for c in answer.candidates] == [("domain", "vpn.wild.test")]


async def test_without_the_wildcard_probe_every_common_name_would_be_proposed(
    server: DnsServer,
) -> None:
    """The other direction: the testbed does answer every name of the wildcard zone."""
    dns = resolver(server)
    answer = await dns.resolve("citrix.wild.test", "A")
    await dns.close()
    assert answer.records == ("127.0.62.40",)


async def test_servfail_and_timeout_are_failures_not_silence(server: DnsServer) -> None:
    server.fail("haven.test")
    dns = resolver(server, timeout=0.3)
    answer = await DnsDiscoverer(dns, common_names=()).discover("haven.test")
    assert {f.reason for f in answer.failures} == {FailureReason.DNS_ERROR}
    assert answer.candidates == []
    server.servfail.clear()
    server.time_out("wild.test")
    answer = await DnsDiscoverer(dns, common_names=()).discover("wild.test")
    await dns.close()
    assert answer.failures and all(f.reason == FailureReason.TIMEOUT for f in answer.failures)


def test_spf_terms() -> None:
    record = (
        "v=spf1 +ip4:192.0.2.1 ip4:192.0.2.0/28 ?ip4:192.0.2.2 ip6:2001:db8::1 ip6:2001:db8::/64 "
        "a a:vpn.haven.nl a:haven.nl a:other.nl a:%{i}.haven.nl ip4:bad -all"
    )
    assert [(c.kind, c.value) for c in spf_candidates(record, "haven.nl")] == [
        ("ip", "192.0.2.1"),
        ("ip", "2001:db8::1"),
        ("domain", "vpn.haven.nl"),
    ]
