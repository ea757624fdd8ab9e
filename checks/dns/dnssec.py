"""DNSSEC of a domain's zone: is it signed, and does the signing hold together?

Validation happens here, with dnspython (`dns.dnssec`), rather than by trusting the AD flag of a
resolver: the scanner runs behind whatever resolver the ICT partner has (often one that does not
validate, and then AD says nothing), and a validating resolver answers SERVFAIL for a broken zone
without saying why. So every query sets DO (send the signatures) and CD (hand over the data even
if it does not validate), and the check walks the zone's own link of the chain:

1. the zone apex: the owner of the SOA (the domain itself, or the enclosing zone);
2. the DS records at the parent (delegation signer) and the zone's DNSKEY records;
3. no DS: the zone is not protected (`dns.dnssec.missing`), also when it has keys and
   signatures of its own (an "island": nothing leads a validator to them);
4. DS present: some DNSKEY must match a DS (digest over the key), that key must have signed the
   DNSKEY set, and the DNSKEY set must have signed the SOA, with signatures valid at the run's
   clock. Anything else is bogus (`dns.dnssec.invalid`): validating resolvers (those of most
   Dutch ISPs, Google, Cloudflare) then refuse to resolve the domain at all.

Not checked: the chain above the parent (the TLD and the root are not the company's to fix) and
denial-of-existence proofs (NSEC/NSEC3). A DS whose digest or algorithm this host cannot verify
leaves `dns.dnssec.invalid` undecided rather than guessing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from exposure.quiet import dnssec_import

with dnssec_import():
    import dns.dnssec
    import dns.dnssecalgs
import dns.exception
import dns.name
import dns.rdataset
import dns.rdatatype
import dns.rrset
from dns.dnssecalgs import get_algorithm_cls

from exposure.net.dns import DnsAnswer, DnsStatus, Resolver, normalise_name

#: DS digest types dnspython can compute (SHA-1, SHA-256, SHA-384).
DIGESTS = {1: "SHA1", 2: "SHA256", 4: "SHA384"}
ZONE_KEY = 0x0100  # DNSKEY flags: the Zone Key bit


class DnssecStatus(StrEnum):
    UNSIGNED = "unsigned"  # no DS, no DNSKEY
    ISLAND = "island"  # keys and signatures, but no DS at the parent
    SECURE = "secure"  # DS -> DNSKEY -> RRSIG(DNSKEY) -> RRSIG(SOA) holds
    BOGUS = "bogus"  # signed, and does not validate
    UNSUPPORTED = "unsupported"  # only DS digests or algorithms we cannot verify
    NXDOMAIN = "nxdomain"  # the domain does not exist
    TEMPERROR = "temperror"


@dataclass(frozen=True, slots=True)
class DnssecResult:
    domain: str
    status: DnssecStatus
    zone: str = ""
    ds: tuple[str, ...] = ()
    dnskeys: tuple[str, ...] = ()
    message: str = ""

    @property
    def signed(self) -> bool:
        return self.status in (DnssecStatus.SECURE, DnssecStatus.BOGUS, DnssecStatus.UNSUPPORTED)

    def evidence(self) -> dict[str, Any]:
        data: dict[str, Any] = {"domain": self.domain, "status": str(self.status)}
        if self.zone:
            data["zone"] = self.zone
        data["ds"] = list(self.ds)
        data["dnskey"] = list(self.dnskeys)
        if self.message:
            data["message"] = self.message
        return data


class _Bogus(Exception):
    pass


def _fail(answer: DnsAnswer) -> str:
    return (
        f"{answer.rdtype} look-up of {answer.name} failed: {answer.status} ({answer.error or '-'})"
    )


def _key_text(key: Any) -> str:
    flags = "KSK" if key.flags & 0x0001 else "ZSK"
    return f"{flags} tag {dns.dnssec.key_id(key)} alg {int(key.algorithm)}"


def _ds_text(ds: Any) -> str:
    return f"tag {ds.key_tag} alg {int(ds.algorithm)} digest {int(ds.digest_type)}"


async def assess(domain: str, resolver: Resolver, now: datetime) -> DnssecResult:
    """The DNSSEC verdict of the zone `domain` lives in (see the module docstring)."""
    domain = normalise_name(domain)
    soa = await resolver.resolve(domain, "SOA")
    if not soa.decisive:
        return DnssecResult(domain, DnssecStatus.TEMPERROR, message=_fail(soa))
    if soa.status is DnsStatus.NXDOMAIN:
        return DnssecResult(domain, DnssecStatus.NXDOMAIN)
    zone = soa.zone or domain
    if zone != domain:
        soa = await resolver.resolve(zone, "SOA")
        if not soa.decisive:
            return DnssecResult(domain, DnssecStatus.TEMPERROR, zone, message=_fail(soa))
    ds, keys = await asyncio.gather(resolver.resolve(zone, "DS"), resolver.resolve(zone, "DNSKEY"))
    for answer in (ds, keys):
        if not answer.decisive:
            return DnssecResult(domain, DnssecStatus.TEMPERROR, zone, message=_fail(answer))
    ds_records = [r for r in ds.records if getattr(r, "rdtype", None) == dns.rdatatype.DS]
    key_records = [r for r in keys.records if getattr(r, "rdtype", None) == dns.rdatatype.DNSKEY]
    common: dict[str, Any] = {
        "zone": zone,
        "ds": tuple(_ds_text(r) for r in ds_records[:8]),
        "dnskeys": tuple(_key_text(k) for k in key_records[:8]),
    }
    if not ds_records:
        if key_records:
            return DnssecResult(
                domain,
                DnssecStatus.ISLAND,
                message=f"{zone} publishes DNSKEY records but the parent has no DS for it: "
                "no chain of trust leads to them",
                **common,
            )
        return DnssecResult(domain, DnssecStatus.UNSIGNED, **common)
    usable = [d for d in ds_records if int(d.digest_type) in DIGESTS and _algorithm_ok(d.algorithm)]
    if not usable:
        return DnssecResult(
            domain,
            DnssecStatus.UNSUPPORTED,
            message="the DS records use digest types or algorithms this scanner cannot verify",
            **common,
        )
    try:
        _validate(zone, usable, key_records, keys, soa, now)
    except _Bogus as exc:
        return DnssecResult(domain, DnssecStatus.BOGUS, message=str(exc), **common)
    return DnssecResult(domain, DnssecStatus.SECURE, **common)


def _algorithm_ok(algorithm: Any) -> bool:
    """Can dnspython (with `cryptography`) verify signatures of this algorithm?"""
    try:
        get_algorithm_cls(algorithm)
    except (dns.exception.UnsupportedAlgorithm, ValueError):
        return False
    return True


def _validate(
    zone: str,
    ds_records: Sequence[Any],
    key_records: Sequence[Any],
    keys: DnsAnswer,
    soa: DnsAnswer,
    now: datetime,
) -> None:
    name = dns.name.from_text(zone)
    if not key_records:
        raise _Bogus(f"the parent has a DS for {zone}, but the zone publishes no DNSKEY")
    anchors = [
        key
        for key in key_records
        if key.flags & ZONE_KEY and any(_matches(name, key, ds) for ds in ds_records)
    ]
    if not anchors:
        tags = ", ".join(str(d.key_tag) for d in ds_records)
        raise _Bogus(
            f"no DNSKEY of {zone} matches the DS at the parent (DS key tag {tags}): "
            "a key roll-over that did not update the registrar?"
        )
    when = now.astimezone(UTC).timestamp() if now.tzinfo else now.replace(tzinfo=UTC).timestamp()
    key_rrset = dns.rrset.from_rdata_list(name, keys.ttl or 300, key_records)
    anchor_set = dns.rdataset.from_rdata_list(keys.ttl or 300, anchors)
    _check_signed(name, "DNSKEY", key_rrset, keys.signatures, {name: anchor_set}, when)
    soa_records = [r for r in soa.records if getattr(r, "rdtype", None) == dns.rdatatype.SOA]
    if not soa_records:
        raise _Bogus(f"{zone} has no SOA record to check signatures on")
    soa_rrset = dns.rrset.from_rdata_list(name, soa.ttl or 300, soa_records)
    all_keys = dns.rdataset.from_rdata_list(keys.ttl or 300, key_records)
    _check_signed(name, "SOA", soa_rrset, soa.signatures, {name: all_keys}, when)


def _matches(name: dns.name.Name, key: Any, ds: Any) -> bool:
    try:
        made = dns.dnssec.make_ds(name, key, DIGESTS[int(ds.digest_type)])
    except (dns.exception.DNSException, ValueError, KeyError):
        return False
    return bool(made.digest == ds.digest and made.key_tag == ds.key_tag)


def _check_signed(
    name: dns.name.Name,
    label: str,
    rrset: dns.rrset.RRset,
    signatures: Sequence[Any],
    keys: dict[dns.name.Name, dns.rdataset.Rdataset],
    when: float,
) -> None:
    """Raise `_Bogus` with a reason a person can act on, unless a signature validates."""
    covering = [s for s in signatures if getattr(s, "type_covered", None) == rrset.rdtype]
    zone = name.to_text(omit_final_dot=True)
    if not covering:
        raise _Bogus(f"the {label} records of {zone} are not signed (no RRSIG)")
    sigs = dns.rrset.from_rdata_list(name, rrset.ttl, covering)
    try:
        dns.dnssec.validate(rrset, sigs, keys, now=when)  # type: ignore[arg-type]
    except dns.dnssec.ValidationFailure:
        pass
    else:
        return
    if all(s.expiration < when for s in covering):
        last = max(s.expiration for s in covering)
        stamp = datetime.fromtimestamp(last, UTC).strftime("%Y-%m-%d %H:%M UTC")
        raise _Bogus(f"the signatures on the {label} records of {zone} expired on {stamp}")
    if all(s.inception > when for s in covering):
        raise _Bogus(f"the signatures on the {label} records of {zone} are not valid yet")
    raise _Bogus(f"no signature on the {label} records of {zone} verifies with the zone's keys")
