"""The testbed signs its zones for DNSSEC clients, and can answer as a validating resolver.

Proven over real sockets with the scanner's own resolvers: `DnspythonResolver(dnssec=True)`
(DO+CD, signatures and AD in the answer) and `AiodnsResolver`, which hands TLSA/DS/DNSKEY to
dnspython because c-ares cannot ask for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import dns.dnssec
import dns.name
import dns.rrset
import pytest

from exposure.net.dns import AiodnsResolver, DnspythonResolver, DnsStatus
from exposure.testbed.dns import DnsServer, Records, add_zone
from exposure.testbed.dnssec import ZoneSigner

HOST = "127.0.54.1"


def signed_world() -> tuple[Records, ZoneSigner]:
    records, signer = Records(), ZoneSigner()
    for apex, mode in (("good.test", "signed"), ("bad.test", "expired"), ("plain.test", None)):
        add_zone(records, apex)
        records.add(apex, "A", "127.0.54.10")
        records.add(f"_25._tcp.mx.{apex}", "TLSA", "3 1 1 " + "ab" * 32)
        if mode is not None:
            zone = signer.add_zone(apex, mode)
            for rtype, value in signer.records(zone):
                records.add(apex, rtype, value)
    return records, signer


@pytest.fixture(params=[False, True], ids=["plain", "validating"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[DnsServer]:
    records, signer = signed_world()
    srv = DnsServer(records, signer=signer, validating=request.param)
    await srv.start(HOST, 0)
    try:
        yield srv
    finally:
        await srv.close()


async def test_do_queries_get_signatures_that_validate(server: DnsServer):
    res = DnspythonResolver([server.address], timeout=0.5, tries=1, dnssec=True)
    keys = await res.resolve("good.test", "DNSKEY")
    soa = await res.resolve("good.test", "SOA")
    assert keys.status is DnsStatus.OK and keys.signatures
    name = dns.name.from_text("good.test")
    key_set = dns.rrset.from_rdata_list(name, 300, keys.records)
    dns.dnssec.validate(
        dns.rrset.from_rdata_list(name, 300, soa.records),
        dns.rrset.from_rdata_list(name, 300, soa.signatures),
        {name: key_set},
    )
    # the DS belongs to the parent: the child's key does not sign it
    ds = await res.resolve("good.test", "DS")
    assert ds.status is DnsStatus.OK and not ds.signatures
    # a negative answer names its zone
    gone = await res.resolve("nothing.good.test", "A")
    assert (gone.status, gone.zone) == (DnsStatus.NXDOMAIN, "good.test")
    # the AD flag only from a validating resolver (recorded, never relied on by the check)
    assert soa.authenticated is server.validating


async def test_without_do_no_signatures(server: DnsServer):
    res = DnspythonResolver([server.address], timeout=0.5, tries=1, dnssec=False)
    answer = await res.resolve("good.test", "SOA")
    assert answer.status is DnsStatus.OK and not answer.signatures


async def test_a_bogus_zone_behind_a_validating_resolver(server: DnsServer):
    """SERVFAIL for ordinary clients; the data (with its bad signatures) for CD clients."""
    plain = AiodnsResolver([server.address], timeout=0.5, tries=1)
    checking_disabled = DnspythonResolver([server.address], timeout=0.5, tries=1, dnssec=True)
    try:
        answer = await plain.resolve("bad.test", "A")
        expected = DnsStatus.SERVFAIL if server.validating else DnsStatus.OK
        assert answer.status is expected
        assert (await checking_disabled.resolve("bad.test", "SOA")).status is DnsStatus.OK
        # unsigned zones resolve either way
        assert (await plain.resolve("plain.test", "A")).status is DnsStatus.OK
    finally:
        await plain.close()


async def test_validating_resolver_sets_ad_for_a_secure_zone_when_asked(server: DnsServer):
    import dns.asyncquery
    import dns.flags
    import dns.message

    query = dns.message.make_query("good.test", "A", want_dnssec=True)
    response = await dns.asyncquery.udp(query, server.host, timeout=1, port=server.port)
    assert bool(response.flags & dns.flags.AD) is server.validating
    query = dns.message.make_query("plain.test", "A", want_dnssec=True)
    response = await dns.asyncquery.udp(query, server.host, timeout=1, port=server.port)
    assert not response.flags & dns.flags.AD


async def test_aiodns_resolver_asks_tlsa_ds_dnskey_through_dnspython(server: DnsServer):
    res = AiodnsResolver([server.address], timeout=0.5, tries=1)
    try:
        tlsa = await res.resolve("_25._tcp.mx.plain.test", "TLSA")
        assert tlsa.status is DnsStatus.OK
        assert tlsa.records[0].to_text().startswith("3 1 1 abab")
        assert (await res.resolve("_25._tcp.mx.none.test", "TLSA")).status is DnsStatus.NXDOMAIN
        assert (await res.resolve("plain.test", "DS")).status is DnsStatus.NODATA
        assert (await res.resolve("good.test", "DNSKEY")).status is DnsStatus.OK
        assert res.queries["TLSA"] == 2
    finally:
        await res.close()


async def test_a_resolver_that_never_answers_is_a_timeout():
    server = DnsServer(Records())
    await server.start(HOST, 0)
    server.time_out("slow.test")
    try:
        res = DnspythonResolver([server.address], timeout=0.2, tries=2, dnssec=True)
        answer = await res.resolve("slow.test", "DNSKEY")
        assert answer.status is DnsStatus.TIMEOUT
        assert res.total == 1
    finally:
        await server.close()
