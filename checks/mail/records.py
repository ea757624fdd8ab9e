"""The small mail records: DKIM's `_domainkey`, TLS-RPT's `_smtp._tls`, DANE's TLSA.

Each is one DNS question with a yes/no answer, and each keeps "no" (NXDOMAIN, NODATA) apart from
"could not ask" (time-out, SERVFAIL), which decides nothing.

- DKIM existence as internet.nl judges it: selectors cannot be listed, but `_domainkey.<domain>`
  exists (NOERROR, even without records of its own: an empty non-terminal above the selectors)
  when any selector is published, and is NXDOMAIN when none is.
- TLS-RPT (RFC 8460): exactly one `v=TLSRPTv1` record with a `rua` of `mailto:` or `https:`
  URIs; anything else means senders cannot report TLS failures.
- DANE (RFC 7672): TLSA records at `_25._tcp.<mx host>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from exposure.net.dns import DnsAnswer, DnsStatus, Resolver, normalise_name

_TLSRPT_START = re.compile(r"v=TLSRPTv1[ \t]*(;|\Z)")
_RUA_URI = re.compile(r"(mailto:[^@\s,;]+@[^@\s,;]+|https://[^\s,;]+)\Z", re.IGNORECASE)


class Presence(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    INVALID = "invalid"
    TEMPERROR = "temperror"


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """The verdict on one name: present, missing, invalid, or could not ask."""

    name: str
    presence: Presence
    records: tuple[str, ...] = ()
    dns_status: str = ""
    message: str = ""

    def evidence(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "dns": self.dns_status}
        if self.records:
            data["records"] = list(self.records)
        if self.message:
            data["message"] = self.message
        return data


def _temp(answer: DnsAnswer) -> RecordCheck:
    return RecordCheck(
        answer.name,
        Presence.TEMPERROR,
        dns_status=str(answer.status),
        message=f"{answer.rdtype} look-up of {answer.name} failed: {answer.status}",
    )


async def dkim(domain: str, resolver: Resolver) -> RecordCheck:
    name = f"_domainkey.{normalise_name(domain)}"
    answer = await resolver.resolve(name, "TXT")
    if not answer.decisive:
        return _temp(answer)
    if answer.status is DnsStatus.NXDOMAIN:
        return RecordCheck(name, Presence.MISSING, dns_status="nxdomain")
    return RecordCheck(name, Presence.PRESENT, tuple(answer.texts), str(answer.status))


def parse_tlsrpt(text: str) -> tuple[str, ...]:
    """The `rua` URIs of a TLS-RPT record; raise ValueError if the record is not usable."""
    parts = [p.strip(" \t") for p in text.split(";")]
    if parts and not parts[-1]:
        parts = parts[:-1]
    if not parts or parts[0] != "v=TLSRPTv1":
        raise ValueError("the record does not start with v=TLSRPTv1")
    fields: dict[str, str] = {}
    for part in parts[1:]:
        key, eq, value = part.partition("=")
        if not eq:
            raise ValueError(f"{part!r} is not a field=value pair")
        if key.strip() in fields:
            raise ValueError(f"the {key.strip()} field is given twice")
        fields[key.strip()] = value.strip()
    if "rua" not in fields:
        raise ValueError("the record has no rua (where reports go)")
    uris = tuple(u.strip() for u in fields["rua"].split(","))
    for uri in uris:
        if not _RUA_URI.match(uri):
            raise ValueError(f"rua {uri!r} is not a mailto: or https: URI")
    return uris


async def tlsrpt(domain: str, resolver: Resolver) -> RecordCheck:
    name = f"_smtp._tls.{normalise_name(domain)}"
    answer = await resolver.resolve(name, "TXT")
    if not answer.decisive:
        return _temp(answer)
    texts = [t for t in answer.texts if _TLSRPT_START.match(t)]
    status = str(answer.status)
    if not texts:
        return RecordCheck(name, Presence.MISSING, dns_status=status)
    if len(texts) > 1:
        return RecordCheck(
            name,
            Presence.INVALID,
            tuple(texts),
            status,
            f"{len(texts)} TLS-RPT records: senders use none of them",
        )
    try:
        parse_tlsrpt(texts[0])
    except ValueError as exc:
        return RecordCheck(name, Presence.INVALID, tuple(texts), status, str(exc))
    return RecordCheck(name, Presence.PRESENT, tuple(texts), status)


async def tlsa(host: str, resolver: Resolver, port: int = 25) -> RecordCheck:
    """TLSA records for SMTP at an MX host (always port 25: it is what senders look up)."""
    name = f"_{port}._tcp.{normalise_name(host)}"
    answer = await resolver.resolve(name, "TLSA")
    if not answer.decisive:
        return _temp(answer)
    if answer.status is not DnsStatus.OK or not answer.records:
        return RecordCheck(name, Presence.MISSING, dns_status=str(answer.status))
    shown = tuple(_tlsa_text(r) for r in answer.records[:8])
    return RecordCheck(name, Presence.PRESENT, shown, str(answer.status))


def _tlsa_text(rdata: Any) -> str:
    text = rdata.to_text() if hasattr(rdata, "to_text") else str(rdata)
    return text if len(text) <= 120 else text[:117] + "..."
