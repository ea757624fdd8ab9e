"""DNSSEC verdicts from real signatures (made by the testbed's signer), without a network.

Each case builds the answers a resolver would give with DO+CD: SOA, DS and DNSKEY with their
RRSIGs, then breaks one thing. `assess` must call a secure zone secure and name what is broken.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from checks.dns.dnssec import DnssecStatus, assess
from exposure.net.dns import DnsAnswer, DnsStatus
from exposure.testbed.dnssec import SignedZone, ZoneMode, ZoneSigner
from tests.checks.fakedns import FakeDns

ZONE = "signed.test"
NOW = datetime.now(UTC)
SOA = "ns1.signed.test. hostmaster.signed.test. 1 3600 600 604800 60"


def _rrset(name: str, rdtype: str, *texts: str) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(name + ".", 300, "IN", rdtype, list(texts))


def _answer(name: str, rdtype: str, rrset: dns.rrset.RRset | None, sigs=(), zone="") -> DnsAnswer:
    if rrset is None:
        return DnsAnswer(name, rdtype, DnsStatus.NODATA, zone=zone or ZONE)
    return DnsAnswer(
        name, rdtype, DnsStatus.OK, tuple(rrset), 300, signatures=tuple(sigs), zone=zone or ZONE
    )


def _signed(zone: SignedZone, rrset: dns.rrset.RRset, when: float) -> tuple:
    return tuple(zone.sign(rrset, when))


def world(mode: str = "signed", *, sign: bool = True, when: datetime = NOW) -> FakeDns:
    """A fake resolver holding a zone signed as `mode` says."""
    signer = ZoneSigner()
    zone = signer.add_zone(ZONE, mode)
    stamp = when.timestamp()
    dnskey = _rrset(ZONE, "DNSKEY", zone.dnskey.to_text())
    soa = _rrset(ZONE, "SOA", SOA)
    dns_ = FakeDns()
    dns_.answers[(ZONE, "SOA")] = _answer(
        ZONE, "SOA", soa, _signed(zone, soa, stamp) if sign else ()
    )
    dns_.answers[(ZONE, "DNSKEY")] = _answer(
        ZONE, "DNSKEY", dnskey, _signed(zone, dnskey, stamp) if sign else ()
    )
    ds = _rrset(ZONE, "DS", zone.ds.to_text()) if zone.ds is not None else None
    dns_.answers[(ZONE, "DS")] = _answer(ZONE, "DS", ds)
    return dns_


async def test_a_signed_zone_is_secure():
    result = await assess(ZONE, world(), NOW)
    assert result.status is DnssecStatus.SECURE, result.message
    assert result.zone == ZONE
    assert result.ds and result.dnskeys[0].startswith("KSK tag")


async def test_unsigned_zone():
    dns_ = FakeDns()
    dns_.answers[(ZONE, "SOA")] = _answer(ZONE, "SOA", _rrset(ZONE, "SOA", SOA))
    dns_.answers[(ZONE, "DS")] = _answer(ZONE, "DS", None)
    dns_.answers[(ZONE, "DNSKEY")] = _answer(ZONE, "DNSKEY", None)
    result = await assess(ZONE, dns_, NOW)
    assert result.status is DnssecStatus.UNSIGNED
    assert not result.signed


async def test_signed_without_ds_is_an_island():
    result = await assess(ZONE, world("no_ds"), NOW)
    assert result.status is DnssecStatus.ISLAND
    assert "no DS" in result.message


async def test_expired_signatures():
    result = await assess(ZONE, world("expired"), NOW)
    assert result.status is DnssecStatus.BOGUS
    assert "expired on" in result.message


async def test_signatures_not_yet_valid():
    # signed "in the future": the inception lies a day after the run's clock
    result = await assess(ZONE, world(when=NOW + timedelta(days=3)), NOW)
    assert result.status is DnssecStatus.BOGUS
    assert "not valid yet" in result.message


async def test_a_ds_for_another_key():
    result = await assess(ZONE, world("ds_mismatch"), NOW)
    assert result.status is DnssecStatus.BOGUS
    assert "matches the DS" in result.message


async def test_keys_published_nothing_signed():
    result = await assess(ZONE, world(sign=False), NOW)
    assert result.status is DnssecStatus.BOGUS
    assert "not signed (no RRSIG)" in result.message


async def test_ds_but_no_dnskey():
    dns_ = world()
    dns_.answers[(ZONE, "DNSKEY")] = _answer(ZONE, "DNSKEY", None)
    result = await assess(ZONE, dns_, NOW)
    assert result.status is DnssecStatus.BOGUS
    assert "publishes no DNSKEY" in result.message


async def test_soa_signed_by_a_stranger():
    dns_ = world()
    stranger = ZoneSigner().add_zone(ZONE, "signed")
    soa = _rrset(ZONE, "SOA", SOA)
    dns_.answers[(ZONE, "SOA")] = _answer(ZONE, "SOA", soa, _signed(stranger, soa, NOW.timestamp()))
    result = await assess(ZONE, dns_, NOW)
    assert result.status is DnssecStatus.BOGUS
    assert "SOA" in result.message and "verifies" in result.message


async def test_a_ds_we_cannot_verify_is_not_called_bogus():
    dns_ = world()
    ds = dns.rdata.from_text("IN", "DS", "12345 12 3 " + "ab" * 32)  # GOST key, GOST digest
    dns_.answers[(ZONE, "DS")] = DnsAnswer(ZONE, "DS", DnsStatus.OK, (ds,), 300, zone=ZONE)
    result = await assess(ZONE, dns_, NOW)
    assert result.status is DnssecStatus.UNSUPPORTED


async def test_a_name_below_the_apex_is_judged_by_its_zone():
    dns_ = world()
    dns_.answers[("shop." + ZONE, "SOA")] = DnsAnswer(
        "shop." + ZONE, "SOA", DnsStatus.NODATA, zone=ZONE
    )
    result = await assess("shop." + ZONE, dns_, NOW)
    assert (result.status, result.zone) == (DnssecStatus.SECURE, ZONE)


async def test_time_outs_and_nxdomain():
    assert (await assess(ZONE, world().timeout(ZONE, "DS"), NOW)).status is DnssecStatus.TEMPERROR
    assert (await assess(ZONE, FakeDns().timeout(ZONE), NOW)).status is DnssecStatus.TEMPERROR
    assert (await assess("gone.test", FakeDns(), NOW)).status is DnssecStatus.NXDOMAIN


def test_the_signer_modes():
    signer = ZoneSigner()
    for mode in ZoneMode:
        zone = signer.add_zone(f"{mode}.test", mode)
        name = dns.name.from_text(f"{mode}.test")
        if mode is ZoneMode.NO_DS:
            assert zone.ds is None
        else:
            assert zone.ds is not None
            matches = dns.dnssec.make_ds(name, zone.dnskey, "SHA256") == zone.ds
            assert matches is (mode is not ZoneMode.DS_MISMATCH)
    assert signer.zone_of(dns.name.from_text("www.signed.test")) is not None
    assert signer.zone_of(dns.name.from_text("other.test")) is None
