"""To whom a warning goes: the member contact, and optionally the company's security.txt contact.

A warning names a company's weak spots, so it must reach the company and nobody else. Two
sources only, both under the company's control:

- the contact address of the member list (`Company.email`), always;
- with `warn_securitytxt_contacts`, a `mailto:` Contact of the company's own security.txt, as
  the securitytxt check left it in a finding's evidence (`contacts`). Only an address whose
  domain is one of the company's registered domains (or below one) is taken: a security.txt
  is served by whoever runs the web server, which for a small firm is often a hosting company
  whose file names the hoster, and a compromised site could name anyone.

Limitation: a valid security.txt produces no finding, so its contacts are only in the store
when the file has a problem (expired, invalid, ...). Where no finding carries `contacts`, only
the member contact is used.

Every address is checked again before use: one `local@domain` address, an ASCII local part of
safe characters, a domain that is a valid host name (IDN domains as their A-label), no spaces,
no line breaks, no display names. Anything else is refused with a reason, never "repaired".
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import idna

from exposure.store.queries import CompanyRow

MEMBER = "member"
SECURITYTXT = "securitytxt"

MAX_ADDRESS = 254
MAX_LOCAL = 64
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class AddressError(ValueError):
    """An address that is not used, with the reason for a person."""


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str  # ASCII: local@a-label.domain
    source: str  # member | securitytxt


@dataclass(frozen=True, slots=True)
class Recipients:
    """The addresses of one message, and what was left out and why."""

    to: tuple[Recipient, ...]
    problems: tuple[str, ...] = ()

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(r.address for r in self.to)


def valid_address(raw: str) -> str:
    """The address in its sendable form (domain as A-label, lower case), or AddressError."""
    if not isinstance(raw, str):
        raise AddressError("not text")
    text = raw.strip()
    if not text:
        raise AddressError("no address")
    if any(ord(ch) < 32 or ord(ch) == 127 or ch in "\u0085\u2028\u2029" for ch in text):
        raise AddressError("contains a line break or control character")
    if any(ch.isspace() for ch in text) or any(ch in text for ch in '<>,;:"()[]\\'):
        raise AddressError("not a single plain address")
    if text.count("@") != 1:
        raise AddressError("not an e-mail address")
    local, domain = text.split("@")
    if not local or len(local) > MAX_LOCAL:
        raise AddressError("the part before '@' is empty or too long")
    if not local.isascii() or not all(_ATOM.fullmatch(atom) for atom in local.split(".")):
        raise AddressError("invalid characters or dots in the part before '@'")
    host = _host(domain)
    address = f"{local}@{host}"
    if len(address) > MAX_ADDRESS:
        raise AddressError("too long")
    return address


def _host(domain: str) -> str:
    name = domain.removesuffix(".")
    try:
        ascii_name = idna.encode(name, uts46=True, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise AddressError(f"the domain after '@' is invalid ({exc})") from None
    labels = ascii_name.lower().split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise AddressError("the domain after '@' is not a full host name")
    if labels[-1].isdigit():
        raise AddressError("the domain after '@' is an IP address")
    return ".".join(labels)


def mailto_addresses(contacts: Iterable[Any]) -> list[str]:
    """The addresses of `mailto:` URIs among security.txt Contact values (others ignored)."""
    found: list[str] = []
    for contact in contacts:
        if not isinstance(contact, str):
            continue
        value = contact.strip()
        if value[:7].lower() != "mailto:":
            continue
        # RFC 6068: several addresses in one URI are separated by commas
        for part in value[7:].split("?", 1)[0].split(","):
            address = urllib.parse.unquote(part).strip()
            if address:
                found.append(address)
    return found


def securitytxt_contacts(evidence_items: Iterable[dict[str, Any]]) -> list[str]:
    """The `mailto:` contacts in the evidence of a company's securitytxt findings."""
    contacts: list[str] = []
    for evidence in evidence_items:
        values = evidence.get("contacts") if isinstance(evidence, dict) else None
        if isinstance(values, list):
            contacts.extend(mailto_addresses(values))
    return contacts


def _own_domains(company: CompanyRow) -> tuple[str, ...]:
    return tuple(t.value.lower() for t in company.targets if t.kind == "domain")


def _under(host: str, domains: Sequence[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def recipients_for(
    company: CompanyRow, securitytxt: Sequence[str] = (), include_securitytxt: bool = False
) -> Recipients:
    """The checked recipients of a company's warning (see the module docstring)."""
    to: list[Recipient] = []
    problems: list[str] = []
    try:
        to.append(Recipient(valid_address(company.email), MEMBER))
    except AddressError as exc:
        problems.append(f"member contact not used: {exc}")
    if include_securitytxt:
        domains = _own_domains(company)
        for raw in securitytxt:
            try:
                address = valid_address(raw)
            except AddressError as exc:
                problems.append(f"security.txt contact not used: {exc}")
                continue
            if not _under(address.rsplit("@", 1)[1], domains):
                problems.append(
                    "security.txt contact not used: not on one of the company's own domains"
                )
                continue
            if address.lower() not in {r.address.lower() for r in to}:
                to.append(Recipient(address, SECURITYTXT))
    return Recipients(tuple(to), tuple(problems))
