"""The testbed DNS server, asked over real sockets by dnspython and by the scanner's aiodns resolver."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from exposure.net.dns import AiodnsResolver, DnsStatus
from exposure.testbed.dns import DnsServer, Records, add_zone, txt

HOST = "127.0.53.1"


def zone() -> Records:
    records = Records()
    add_zone(records, "haven.test")
    records.add("haven.test", "A", "127.0.53.10")
    records.add("haven.test", "MX", "10 mx.haven.test")
    records.add("mx.haven.test", "A", "127.0.53.11")
    records.add("www.haven.test", "CNAME", "haven.test.")
    records.add("dangling.haven.test", "CNAME", "nowhere.haven.test.")
    records.add("sel1._domainkey.haven.test", "TXT", "v=DKIM1; k=rsa; p=abc")
    records.add("spf.haven.test", "TXT", txt("v=spf1 ip4:127.0.0.1", " -all"))
    records.add("nomail.test", "MX", "0 .")
    records.add("haven.test", "CAA", '0 issue "testbed-ca.test"')
    records.add("_25._tcp.mx.haven.test", "TLSA", "3 1 1 " + "ab" * 32)
    records.add("haven.test", "DS", "2371 13 2 " + "1f" * 32)
    records.add("big.haven.test", "TXT", *[f"{i:02d}" + "x" * 200 for i in range(10)])
    return records


@pytest.fixture
async def server() -> AsyncIterator[DnsServer]:
    srv = DnsServer(zone())
    await srv.start(HOST, 0)
    try:
        yield srv
    finally:
        await srv.close()


@pytest.fixture
async def resolver(server: DnsServer) -> AsyncIterator[AiodnsResolver]:
    res = AiodnsResolver([(server.host, server.port)], timeout=0.5, tries=1)
    try:
        yield res
    finally:
        await res.close()


async def ask(
    server: DnsServer, name: str, rdtype: str, *, tcp: bool = False
) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    if tcp:
        return await dns.asyncquery.tcp(query, server.host, port=server.port, timeout=2)
    return await dns.asyncquery.udp(query, server.host, port=server.port, timeout=2)


async def test_answers_carry_ra_and_aa(server: DnsServer) -> None:
    response = await ask(server, "haven.test", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.RA
    assert response.flags & dns.flags.AA
    assert [rr.address for rr in response.answer[0]] == ["127.0.53.10"]


async def test_nxdomain_nodata_and_empty_non_terminal(resolver: AiodnsResolver) -> None:
    assert (await resolver.resolve("nope.haven.test", "A")).status is DnsStatus.NXDOMAIN
    assert (await resolver.resolve("haven.test", "AAAA")).status is DnsStatus.NODATA
    # _domainkey has no records of its own but a name below it: it exists (NODATA)
    assert (await resolver.resolve("_domainkey.haven.test", "TXT")).status is DnsStatus.NODATA
    assert (await resolver.resolve("_dmarc.haven.test", "TXT")).status is DnsStatus.NXDOMAIN
    assert (await resolver.resolve("unknown-tld.invalid", "A")).status is DnsStatus.NXDOMAIN


async def test_negative_answers_carry_the_zone_soa(server: DnsServer) -> None:
    nx = await ask(server, "nope.haven.test", "A")
    assert nx.rcode() == dns.rcode.NXDOMAIN
    assert nx.authority and nx.authority[0].rdtype == dns.rdatatype.SOA
    assert nx.authority[0].name.to_text() == "haven.test."
    nodata = await ask(server, "haven.test", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA


async def test_cname_is_chased(server: DnsServer, resolver: AiodnsResolver) -> None:
    response = await ask(server, "www.haven.test", "A")
    types = [rrset.rdtype for rrset in response.answer]
    assert types == [dns.rdatatype.CNAME, dns.rdatatype.A]
    assert (await resolver.resolve("www.haven.test", "A")).records == ("127.0.53.10",)
    dangling = await ask(server, "dangling.haven.test", "A")
    assert dangling.rcode() == dns.rcode.NXDOMAIN  # the rcode of the last name (RFC 6604)
    assert dangling.answer[0].rdtype == dns.rdatatype.CNAME
    cname = await ask(server, "www.haven.test", "CNAME")
    assert [rrset.rdtype for rrset in cname.answer] == [dns.rdatatype.CNAME]


async def test_record_types_in_presentation_text(
    server: DnsServer, resolver: AiodnsResolver
) -> None:
    assert (await resolver.resolve("haven.test", "MX")).records == ((10, "mx.haven.test"),)
    null_mx = await resolver.resolve("nomail.test", "MX")
    assert null_mx.status is DnsStatus.OK and null_mx.records[0][0] == 0
    spf = await ask(server, "spf.haven.test", "TXT")
    assert next(iter(spf.answer[0])).strings == (b"v=spf1 ip4:127.0.0.1", b" -all")
    assert (await resolver.resolve("spf.haven.test", "TXT")).texts == ["v=spf1 ip4:127.0.0.1 -all"]
    for name, rdtype in [
        ("_25._tcp.mx.haven.test", "TLSA"),
        ("haven.test", "CAA"),
        ("haven.test", "DS"),
        ("haven.test", "SOA"),
        ("haven.test", "NS"),
    ]:
        response = await ask(server, name, rdtype)
        assert response.answer and response.answer[0].rdtype == dns.rdatatype.from_text(rdtype)


async def test_large_udp_answers_are_truncated_and_complete_over_tcp(server: DnsServer) -> None:
    udp = await ask(server, "big.haven.test", "TXT")
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = await ask(server, "big.haven.test", "TXT", tcp=True)
    assert len(tcp.answer[0]) == 10
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    answer = await resolver.resolve("big.haven.test", "TXT")
    assert len(answer.rrset) == 10
    assert server.truncated >= 2 and server.tcp_queries >= 2


async def test_edns_payload_bounds_truncation(server: DnsServer) -> None:
    query = dns.message.make_query("big.haven.test", "TXT", use_edns=0, payload=4096)
    response = await dns.asyncquery.udp(query, server.host, port=server.port, timeout=2)
    assert response.flags & dns.flags.TC  # over 1232 bytes, whatever the client offers


async def test_latency_is_applied_without_serialising(server: DnsServer) -> None:
    server.latency = 0.2
    start = time.monotonic()
    answers = await asyncio.gather(*(ask(server, "haven.test", "A") for _ in range(20)))
    elapsed = time.monotonic() - start
    assert all(a.answer for a in answers)
    assert 0.2 <= elapsed < 1.0  # 20 answers in parallel: one latency, not twenty
    server.latency = 0.0
    start = time.monotonic()
    await ask(server, "haven.test", "A", tcp=True)
    assert time.monotonic() - start < 0.2


async def test_timeouts_and_servfail(server: DnsServer, resolver: AiodnsResolver) -> None:
    server.time_out("slow.haven.test")
    server.fail("broken.haven.test")
    with pytest.raises(dns.exception.Timeout):
        await dns.asyncquery.udp(
            dns.message.make_query("slow.haven.test", "A"),
            server.host,
            port=server.port,
            timeout=0.3,
        )
    assert (await resolver.resolve("slow.haven.test", "A")).status is DnsStatus.TIMEOUT
    assert (await ask(server, "broken.haven.test", "A")).rcode() == dns.rcode.SERVFAIL
    assert (await resolver.resolve("broken.haven.test", "A")).status is DnsStatus.SERVFAIL
    assert (await resolver.resolve("haven.test", "A")).status is DnsStatus.OK  # others unaffected


async def test_zone_data_is_mutable_between_scans(
    server: DnsServer, resolver: AiodnsResolver
) -> None:
    records = server.records
    records.set("haven.test", "A", "127.0.53.20")
    assert (await resolver.resolve("haven.test", "A")).records == ("127.0.53.20",)
    records.add("_dmarc.haven.test", "TXT", "v=DMARC1; p=reject")
    assert (await resolver.resolve("_dmarc.haven.test", "TXT")).texts == ["v=DMARC1; p=reject"]
    records.remove("sel1._domainkey.haven.test")
    assert (await resolver.resolve("_domainkey.haven.test", "TXT")).status is DnsStatus.NXDOMAIN
    records.remove_tree("haven.test")
    assert (await resolver.resolve("www.haven.test", "A")).status is DnsStatus.NXDOMAIN
    assert (await resolver.resolve("haven.test", "MX")).status is DnsStatus.NXDOMAIN


async def test_counters(server: DnsServer) -> None:
    await ask(server, "haven.test", "A")
    await ask(server, "haven.test", "MX")
    await ask(server, "haven.test", "MX", tcp=True)
    assert server.queries == {"A": 1, "MX": 2}
    assert server.total == 3
    assert server.names["haven.test MX"] == 2
    server.reset_counters()
    assert server.total == 0


async def test_garbage_is_answered_with_formerr_or_ignored(server: DnsServer) -> None:
    loop = asyncio.get_running_loop()
    received: asyncio.Future[bytes] = loop.create_future()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            if not received.done():
                received.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(
        Client, remote_addr=(server.host, server.port)
    )
    try:
        transport.sendto(b"\x12\x34" + b"\x01\x00" + b"\xff" * 20)
        data = await asyncio.wait_for(received, 2)
    finally:
        transport.close()
    assert data[:2] == b"\x12\x34" and data[3] & 0x0F == dns.rcode.FORMERR
    assert (await ask(server, "haven.test", "A")).answer  # still serving
