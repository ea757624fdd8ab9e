"""DNSSEC for the testbed's zones: signed, bogus in the ways zones break in practice, or keyless.

The testbed's DNS server plays the scanner's recursive resolver, and it is authoritative for every
scenario zone, so it signs on the fly: a zone registered here gets a DNSKEY (ECDSA P-256, the
algorithm most registrars and DNS hosts default to), a DS at its apex (served as the parent would
serve it), and each answer to a query with the DO bit carries RRSIGs for the zone's rrsets,
made with dnspython (`dns.dnssec.sign`). Signing at answer time rather than at layout time keeps
signatures right when a test changes a record between two scans.

The modes are the verdicts a DNSSEC check must tell apart:

- `signed`: a valid chain from the DS down to every rrset;
- `expired`: the signer stopped re-signing: every RRSIG expired a day ago (bogus);
- `ds_mismatch`: a key rollover went wrong: the DS at the parent names another key (bogus);
- `no_ds`: the zone is signed but the parent has no DS: no chain of trust (an "island").

A zone with DS and DNSKEY records but no signer at all (keys published, nothing signed) needs no
mode: put the records in the scenario (the demo's offshore supplier does).

Denial of existence (NSEC/NSEC3) is not implemented: negative answers carry a signed SOA only.
The parent of a scenario zone (`.test`) is not signed either, so a validator can check each
zone's own link (DS -> DNSKEY -> RRSIG) but not the chain above it; the scanner's DNSSEC check
does exactly that (see checks/dns/dnssec.py).

`validating=True` on the server adds what a validating resolver does: AD on answers from
`signed` zones when the client asks for DNSSEC (DO or AD), SERVFAIL for bogus zones unless the
client sets CD.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from exposure.quiet import dnssec_import

with dnssec_import():
    import dns.dnssec
    import dns.dnssecalgs
import dns.flags
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS
import dns.rrset
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_LIFETIME = 14 * 24 * 3600  # seconds a fresh RRSIG is valid
DAY = 24 * 3600
_ALGORITHM = dns.dnssec.Algorithm.ECDSAP256SHA256
_NOT_SIGNED = frozenset({dns.rdatatype.RRSIG, dns.rdatatype.OPT})


class ZoneMode(StrEnum):
    SIGNED = "signed"
    EXPIRED = "expired"
    DS_MISMATCH = "ds_mismatch"
    NO_DS = "no_ds"

    @property
    def bogus(self) -> bool:
        return self in (ZoneMode.EXPIRED, ZoneMode.DS_MISMATCH)


@dataclass(slots=True)
class SignedZone:
    """One zone's key and mode. The DS is what the parent publishes for it (None: no DS)."""

    apex: dns.name.Name
    mode: ZoneMode
    key: ec.EllipticCurvePrivateKey
    dnskey: dns.rdtypes.ANY.DNSKEY.DNSKEY
    ds: dns.rdtypes.ANY.DS.DS | None
    _cache: dict[tuple[str, int, int], dns.rdata.Rdata] = field(default_factory=dict)

    def sign(self, rrset: dns.rrset.RRset, now: float) -> dns.rrset.RRset:
        """The RRSIG rrset for `rrset` (cached per content and day, so answers stay cheap)."""
        if self.mode == ZoneMode.EXPIRED:
            inception, expiration = now - 31 * DAY, now - DAY
        else:
            inception, expiration = now - DAY, now + SIGNATURE_LIFETIME
        day = int(now // DAY)
        key = (rrset.to_text(), rrset.rdtype, day)
        rrsig = self._cache.get(key)
        if rrsig is None:
            rrsig = dns.dnssec.sign(
                rrset,
                self.key,
                self.apex,
                self.dnskey,
                inception=int(inception),
                expiration=int(expiration),
            )
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = rrsig
        sigs = dns.rrset.RRset(rrset.name, rrset.rdclass, dns.rdatatype.RRSIG, rrset.rdtype)
        sigs.add(rrsig, rrset.ttl)
        return sigs


def _new_key() -> tuple[ec.EllipticCurvePrivateKey, dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    key = ec.generate_private_key(ec.SECP256R1())
    dnskey = dns.dnssec.make_dnskey(key.public_key(), _ALGORITHM, flags=257)
    return key, dnskey


class ZoneSigner:
    """The signed zones of a testbed and the signing of answers."""

    def __init__(self) -> None:
        self.zones: dict[dns.name.Name, SignedZone] = {}

    def add_zone(self, apex: str | dns.name.Name, mode: ZoneMode | str) -> SignedZone:
        """Make a key for a zone. Publish `records(zone)` in the zone data for it to be served."""
        name = apex if isinstance(apex, dns.name.Name) else dns.name.from_text(apex)
        name = name.canonicalize()
        mode = ZoneMode(mode)
        key, dnskey = _new_key()
        ds: dns.rdtypes.ANY.DS.DS | None = dns.dnssec.make_ds(name, dnskey, "SHA256")
        if mode == ZoneMode.DS_MISMATCH:
            _other_key, other = _new_key()
            ds = dns.dnssec.make_ds(name, other, "SHA256")
        elif mode == ZoneMode.NO_DS:
            ds = None
        zone = self.zones[name] = SignedZone(name, mode, key, dnskey, ds)
        return zone

    @staticmethod
    def records(zone: SignedZone) -> list[tuple[str, str]]:
        """(type, presentation text) pairs to publish at the zone's apex."""
        published = [("DNSKEY", zone.dnskey.to_text())]
        if zone.ds is not None:
            published.append(("DS", zone.ds.to_text()))
        return published

    def zone_of(self, name: dns.name.Name) -> SignedZone | None:
        """The closest enclosing signed zone of a name."""
        probe = name.canonicalize()
        while True:
            zone = self.zones.get(probe)
            if zone is not None:
                return zone
            if probe == dns.name.root or len(probe) <= 1:
                return None
            probe = probe.parent()

    def sign_sections(self, response: dns.message.Message, now: float | None = None) -> None:
        """Add RRSIGs for every rrset of the answer and authority sections in a signed zone.

        A DS rrset at a zone's apex belongs to the parent (unsigned here) and is not signed
        with the child's key.
        """
        when = time.time() if now is None else now
        for section in (response.answer, response.authority):
            extra: list[dns.rrset.RRset] = []
            for rrset in list(section):
                if rrset.rdtype in _NOT_SIGNED:
                    continue
                zone = self._signing_zone(rrset)
                if zone is not None:
                    extra.append(zone.sign(rrset, when))
            section.extend(extra)

    def _signing_zone(self, rrset: dns.rrset.RRset) -> SignedZone | None:
        name = rrset.name.canonicalize()
        if rrset.rdtype == dns.rdatatype.DS:
            if name == dns.name.root:
                return None
            return self.zone_of(name.parent())
        return self.zone_of(name)

    def status(self, name: dns.name.Name) -> ZoneMode | None:
        zone = self.zone_of(name)
        return zone.mode if zone is not None else None


def wants_dnssec(query: dns.message.Message) -> bool:
    return query.edns >= 0 and bool(query.ednsflags & dns.flags.DO)


def modes(signer: ZoneSigner) -> Iterable[tuple[str, ZoneMode]]:
    """(apex, mode) of every signed zone, for tests and `python -m exposure.testbed`."""
    for apex, zone in signer.zones.items():
        yield apex.to_text(omit_final_dot=True), zone.mode


def published_keys(apex: str) -> list[tuple[str, str]]:
    """A DNSKEY and the DS that matches it, as (type, text), for a zone that publishes its keys
    but signs nothing: validators then find the DNSKEY set without any RRSIG (bogus)."""
    name = dns.name.from_text(apex).canonicalize()
    _key, dnskey = _new_key()
    ds = dns.dnssec.make_ds(name, dnskey, "SHA256")
    return [("DNSKEY", dnskey.to_text()), ("DS", ds.to_text())]
