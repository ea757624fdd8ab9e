"""A resolver that answers from the RFC 7208 suite's `zonedata`, by that suite's own rules.

The rules are those of the suite's reference driver (pyspf's `test/testspf.py`), so that a case
means here what it means there:
- a scenario's `SPF` records are also served as TXT, unless the name has TXT records of its own
  (RFC 7208 dropped the SPF type; the suite still writes most records as `SPF`); the value
  `NONE` is no record at all, but still stops that copying;
- a `TIMEOUT` entry makes every type not listed before it time out; a record whose value is
  `TIMEOUT` makes its own type time out; a name beginning `error.` that is not in the zone
  times out;
- a label longer than 63 characters cannot be asked (the driver raises a temporary error);
  empty labels are dropped;
- a CNAME is followed one level, as a recursive resolver hands it back;
- a name not in the zone is NXDOMAIN, a name in it without the type NODATA (the driver cannot
  tell them apart; both are void look-ups in RFC 7208 section 4.6.4).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from exposure.net.dns import DnsAnswer, DnsStatus, normalise_name

#: One entry of a name: ("A", "192.0.2.1"), ("TIMEOUT", None), ...
Entry = tuple[str, Any]


def load_zone(zonedata: Mapping[str, Sequence[Any]]) -> dict[str, list[Entry]]:
    """The scenario's zone as (type, value) entries per lower-case name, SPF copied to TXT."""
    zone: dict[str, list[Entry]] = {}
    for name, records in zonedata.items():
        entries: list[Entry] = []
        copied: list[Entry] = []
        has_txt = False
        for record in records:
            if record == "TIMEOUT":
                entries.append(("TIMEOUT", None))
                continue
            ((rdtype, value),) = record.items()
            if rdtype in ("TXT", "SPF") and isinstance(value, str):
                value = [value]
            if rdtype == "TXT":
                has_txt = True
            elif rdtype == "SPF":
                copied.append(("TXT", value))
            if value != ["NONE"]:
                entries.append((rdtype, value))
        if not has_txt:
            entries.extend(copied)
        zone[name.lower()] = entries
    return zone


class ZoneResolver:
    """Answers one scenario's questions; `log` keeps them (the suite sends nothing real)."""

    def __init__(self, zonedata: Mapping[str, Sequence[Any]]) -> None:
        self.zone = load_zone(zonedata)
        self.log: list[tuple[str, str]] = []

    async def resolve(self, name: str, rdtype: str) -> DnsAnswer:
        self.log.append((name, rdtype))
        return self._answer(name, rdtype.upper(), follow=True)

    def _answer(self, name: str, rdtype: str, *, follow: bool) -> DnsAnswer:
        labels = [label for label in normalise_name(name).split(".") if label]
        if any(len(label) > 63 for label in labels):
            return DnsAnswer(name, rdtype, DnsStatus.ERROR, error="label too long")
        key = ".".join(labels)
        entries = self.zone.get(key)
        if entries is None:
            if key.startswith("error."):
                return DnsAnswer(key, rdtype, DnsStatus.TIMEOUT, error="timed out")
            return DnsAnswer(key, rdtype, DnsStatus.NXDOMAIN, error="NXDOMAIN")
        found: list[Any] = []
        seen_type = False
        for entry_type, value in entries:
            if entry_type == "TIMEOUT":
                if not seen_type:
                    return DnsAnswer(key, rdtype, DnsStatus.TIMEOUT, error="timed out")
                break
            if entry_type == "CNAME" and rdtype != "CNAME" and follow:
                return self._answer(str(value), rdtype, follow=False)
            if entry_type != rdtype:
                continue
            seen_type = True
            if value == "TIMEOUT":
                return DnsAnswer(key, rdtype, DnsStatus.TIMEOUT, error="timed out")
            found.append(_rdata(rdtype, value))
        if not found:
            return DnsAnswer(key, rdtype, DnsStatus.NODATA)
        return DnsAnswer(key, rdtype, DnsStatus.OK, tuple(found), 300)


def _rdata(rdtype: str, value: Any) -> Any:
    """The suite's human-readable rdata in the shape `exposure.net.dns.DnsAnswer` holds."""
    if rdtype == "TXT":
        return "".join(value)  # RFC 7208 section 3.3: the strings joined without spaces
    if rdtype == "MX":
        preference, host = value
        return (int(preference), normalise_name(str(host)))
    if rdtype == "AAAA":
        return str(ipaddress.IPv6Address(value))
    if rdtype in ("PTR", "CNAME"):
        return normalise_name(str(value))
    return str(value)
