"""One canonical form for every value of a member list.

A target is compared, stored and fingerprinted by its canonical value, so the same domain written
twice in different ways must come out identical, and anything that is not clearly a domain or an
address is refused with a reason a person can act on. The functions here raise `InvalidValue`
with that reason (without the value: the caller names the file, line, field and value).

Decisions (also in the module docstrings of the functions):

- Domains are host names exactly as the member gave them, lower-cased, mapped with UTS-46
  (non-transitional, so `ß` stays `ß`, as current browsers do) and stored as the IDNA A-label;
  the U-label is kept for display. `http(s)://`, a path, query, port and one trailing dot are
  stripped: they are clearly the same host. `www.` is *kept*: `www.example.nl` and `example.nl`
  are different DNS names with their own addresses and certificates, the member who lists the
  `www` name means the site, and cutting it down to "the registered domain" cannot be done
  right without the Public Suffix List (`www.nl` is a registered domain itself).
- Addresses are normalised by `ipaddress` (compressed IPv6, lower-case). A CIDR with host bits set
  is an error naming the network that was probably meant: silently widening or moving a range
  could put someone else's address in scope. A single-address CIDR (`/32`, `/128`) is an `ip`.
  An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is the IPv4 address.
- A network may hold at most 256 addresses (IPv4 /24, IPv6 /120) unless large networks are
  allowed: every address of a network is looked up (Shodan, one request a second), and a member
  of a small-business association who lists more is almost always listing the provider's range.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass

import idna

from exposure.contract import TargetKind
from exposure.net.scope import is_public_network

MAX_LABEL = 63
MAX_NAME = 253
MAX_EMAIL = 254
MAX_LOCAL_PART = 64

#: The smallest prefix length (largest network) accepted without `allow_large_networks`:
#: 256 addresses in both families.
MIN_PREFIX = {4: 24, 6: 120}

LANGUAGES = ("nl", "en")

#: Names that never resolve on the public internet (RFC 6761, RFC 8375, RFC 9476, ICANN's
#: `.internal`): a domain under one of these is marked private like an RFC 1918 address.
PRIVATE_SUFFIXES = (
    "localhost",
    "local",
    "test",
    "example",
    "invalid",
    "internal",
    "alt",
    "home.arpa",
)

_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_LDH_LABEL = re.compile(r"[a-z0-9-]+")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# RFC 5322 dot-atom text: what a contact address's local part realistically is.
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
# What str.splitlines() breaks on, and the other control characters (tab is plain white space).
_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f]")


class InvalidValue(ValueError):
    """A value that cannot be normalised; `str(exc)` is the reason, written for the operator."""


@dataclass(frozen=True, slots=True)
class DomainTarget:
    """A domain as stored (`value`, the A-label form) and as read by a person (`display`)."""

    value: str
    display: str

    @property
    def is_idn(self) -> bool:
        return self.display != self.value


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """A target as the store keys it: (kind, canonical value), plus the U-label of an IDN."""

    kind: TargetKind
    value: str
    display: str = ""  # "" unless it differs from value (an IDN domain)

    @property
    def label(self) -> str:
        return self.display or self.value

    @property
    def key(self) -> tuple[str, str]:
        return (str(self.kind), self.value)


# --- domains ---------------------------------------------------------------------------------


def normalise_domain(raw: str) -> DomainTarget:
    """Reduce what a member wrote in the domains column to one canonical host name.

    Accepts `Example.NL`, `https://www.example.nl/contact`, `example.nl:443`, `example.nl.` and
    Unicode names; refuses e-mail addresses, URLs with credentials, IP addresses, wildcards and
    anything that is not a valid multi-label host name.
    """
    text = raw.strip()
    if not text:
        raise InvalidValue("empty")
    if _looks_like_ip(text):
        raise InvalidValue("an IP address, not a domain: put IP addresses in the ips column")
    if "," in text or any(ch.isspace() for ch in text):
        raise InvalidValue("contains a comma or a space: separate several domains with ';'")

    had_scheme = False
    match = _SCHEME.match(text)
    if match:
        scheme = match.group(1).lower()
        if scheme not in ("http", "https"):
            raise InvalidValue(f"{scheme}:// is not a web address: give the domain name only")
        text = text[match.end() :]
        had_scheme = True
    host = re.split(r"[/?#]", text, maxsplit=1)[0]
    if "@" in host:
        if had_scheme:
            raise InvalidValue("a URL with credentials (user@ or user:password@) is not accepted")
        raise InvalidValue(
            "an e-mail address, not a domain: give the part after '@' (put the contact "
            "address in the email column)"
        )
    if not host:
        raise InvalidValue("no domain name in it")
    if host.startswith("[") or _looks_like_ip(host):
        raise InvalidValue("an IP address, not a domain: put IP addresses in the ips column")
    if host.count(":") == 1:
        host, port = host.split(":")
        if not (port.isdigit() and 0 < int(port) < 65536):
            raise InvalidValue(f"invalid port {port!r}")
    if host.endswith("."):
        host = host[:-1]
    if _looks_like_ip(host):
        raise InvalidValue("an IP address, not a domain: put IP addresses in the ips column")
    return canonical_host(host)


def canonical_host(host: str) -> DomainTarget:
    """Validate a bare host name (no scheme, port or path) and return its A- and U-label form."""
    if "*" in host:
        raise InvalidValue("wildcards are not supported: list each name")
    for ch in host:
        if ch.isascii() and not (ch.isalnum() or ch in ".-"):
            raise InvalidValue(f"invalid character {ch!r}: a domain has letters, digits and '-'")
    try:
        mapped = idna.uts46_remap(host, std3_rules=True, transitional=False)
    except idna.IDNAError as exc:
        raise InvalidValue(f"not a valid domain name ({exc})") from None
    labels = mapped.split(".")
    if "" in labels:
        raise InvalidValue("empty label (two dots in a row, or a leading dot)")
    if len(labels) < 2:
        raise InvalidValue("a single-label name: give the full domain, e.g. example.nl")

    a_labels: list[str] = []
    u_labels: list[str] = []
    for label in labels:
        a_label, u_label = _label(label)
        a_labels.append(a_label)
        u_labels.append(u_label)
    if a_labels[-1].isdigit():
        raise InvalidValue(
            "the last label is a number: not a domain (put IP addresses in the ips column)"
        )
    value = ".".join(a_labels)
    if len(value) > MAX_NAME:
        raise InvalidValue(f"longer than {MAX_NAME} characters ({len(value)})")
    return DomainTarget(value=value, display=".".join(u_labels))


def _label(label: str) -> tuple[str, str]:
    """One label as (A-label, U-label); plain LDH labels are checked by the host-name rules."""
    if label.isascii() and not label.startswith("xn--"):
        if not _LDH_LABEL.fullmatch(label):  # pragma: no cover - characters checked before
            raise InvalidValue(f"invalid label {label!r}")
        if label.startswith("-") or label.endswith("-"):
            raise InvalidValue(f"label {label!r} starts or ends with '-'")
        if len(label) > MAX_LABEL:
            raise InvalidValue(f"label {label[:20]}… is longer than {MAX_LABEL} characters")
        return label, label
    try:
        if label.isascii():  # an A-label given as such: it must decode and round-trip
            u_label = idna.ulabel(label)
            a_label = idna.alabel(u_label).decode("ascii")
            if a_label != label:
                raise idna.IDNAError("not in canonical form")
        else:
            a_label = idna.alabel(label).decode("ascii")
            u_label = label
    except idna.IDNAError as exc:
        if "too long" in str(exc).lower():
            raise InvalidValue(
                f"label {label[:20]}… is longer than {MAX_LABEL} characters as an A-label"
            ) from None
        raise InvalidValue(
            f"label {label!r} is not a valid internationalised label ({exc})"
        ) from None
    return a_label, u_label


def _looks_like_ip(text: str) -> bool:
    try:
        ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        return False
    return True


# --- addresses -------------------------------------------------------------------------------


def normalise_ip(raw: str, *, allow_large_networks: bool = False) -> TargetSpec:
    """An address or CIDR network in canonical form, as an `ip` or a `network` target."""
    text = raw.strip()
    if not text:
        raise InvalidValue("empty")
    if "%" in text:
        raise InvalidValue("a zone index (%...) is not allowed: give a global address")
    if "/" in text:
        return _network(text, allow_large_networks=allow_large_networks)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidValue(_not_an_ip(text)) from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return TargetSpec(TargetKind.IP, str(address))


def _network(text: str, *, allow_large_networks: bool) -> TargetSpec:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            meant = ipaddress.ip_network(text, strict=False)
            raise InvalidValue(f"host bits set: the network is {meant}") from None
        raise InvalidValue(_not_an_ip(text)) from None
    if network.prefixlen == network.max_prefixlen:
        return TargetSpec(TargetKind.IP, str(network.network_address))
    bound = MIN_PREFIX[network.version]
    if network.prefixlen < bound and not allow_large_networks:
        raise InvalidValue(
            f"a network larger than /{bound} ({_size(network)} addresses): list the "
            "addresses that are the member's own, or allow large networks "
            "(--allow-large-networks)"
        )
    return TargetSpec(TargetKind.NETWORK, str(network))


def _size(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    host_bits = network.max_prefixlen - network.prefixlen
    return str(network.num_addresses) if host_bits <= 32 else f"2^{host_bits}"


def _not_an_ip(text: str) -> str:
    if any(ch.isalpha() for ch in text) and "." in text and ":" not in text:
        return "a domain name, not an IP address: put domains in the domains column"
    return "not an IP address or CIDR network"


def is_private_target(kind: TargetKind | str, value: str) -> bool:
    """Whether a target lies outside the public internet (private, loopback, link-local, …).

    Such targets are accepted (labs and the testbed use them) but skipped at scan time unless
    `allow_private` is set; `targets list` shows this flag so that nobody wonders why. For a
    domain this is only known for the special-use names that never resolve publicly; what a
    public name resolves to is decided at scan time.
    """
    kind = TargetKind(kind)
    if kind in (TargetKind.DOMAIN, TargetKind.HOST):
        name = value.lower().rstrip(".")
        return any(name == s or name.endswith("." + s) for s in PRIVATE_SUFFIXES)
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return not is_public_network(network)  # the scan's own policy (NAT64, 6to4 ... unwrapped)


# --- company fields --------------------------------------------------------------------------


def normalise_company_id(raw: str) -> str:
    """The member's own id (e.g. a KvK number), kept as written: ids are not case-folded."""
    text = raw.strip()
    if not text:
        raise InvalidValue("missing")
    if len(text) > 64:
        raise InvalidValue(f"longer than 64 characters ({len(text)})")
    if not _ID.fullmatch(text):
        raise InvalidValue("may contain only letters, digits, '.', '_' and '-'")
    return text


#: The longest name or sector: a sentence, not a page (the longest Dutch trade names are ~120).
MAX_TEXT = 200
#: Unicode categories refused in names: format characters (bidi overrides and isolates such as
#: U+202E, marks such as U+200F, zero-width characters), private use, surrogates, unassigned.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Co", "Cs", "Cn"})


def normalise_text(raw: str, *, required: bool) -> str:
    """A name or sector: trimmed, inner runs of white space made one space.

    Line breaks and other control characters are refused rather than folded: names end up in
    e-mail headers, where a line break is an injection. Invisible and direction-changing
    characters are refused too: on a page a right-to-left override reverses what follows it,
    so a name could make the company id next to it read as another company's.
    """
    _no_control(raw.strip())
    _no_invisible(raw)
    text = " ".join(raw.split())
    if required and not text:
        raise InvalidValue("missing")
    if len(text) > MAX_TEXT:
        raise InvalidValue(f"{len(text)} characters, at most {MAX_TEXT}")
    return text


def _no_invisible(text: str) -> None:
    for char in text:
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            raise InvalidValue(
                f"contains an invisible or direction-changing character (U+{ord(char):04X})"
            )


def _no_control(text: str) -> None:
    if _LINE_BREAK.search(text):
        raise InvalidValue("contains a line break")
    if _CONTROL.search(text):
        raise InvalidValue("contains a control character")


def normalise_email(raw: str) -> str:
    """The contact address: one syntactically valid address, domain part as an A-label.

    Deliverability is not checked (that needs the network). The local part is kept as written
    (it may be case-sensitive, RFC 5321) and must be ASCII: warnings are sent through ordinary
    SMTP servers, which need not support SMTPUTF8.
    """
    _no_control(raw)
    text = raw.strip()
    if not text:
        raise InvalidValue("missing: the contact address receives the warnings")
    if "<" in text or ">" in text:
        raise InvalidValue("give the address only, without a name or <>")
    if ";" in text or "," in text or any(ch.isspace() for ch in text):
        raise InvalidValue("one address only, without spaces")
    if text.count("@") != 1:
        raise InvalidValue("not an e-mail address (expected name@example.nl)")
    local, domain = text.split("@")
    if not local:
        raise InvalidValue("nothing before the '@'")
    if not local.isascii():
        raise InvalidValue("the part before '@' must be ASCII")
    if len(local) > MAX_LOCAL_PART:
        raise InvalidValue(f"the part before '@' is longer than {MAX_LOCAL_PART} characters")
    if not all(_ATOM.fullmatch(atom) for atom in local.split(".")):
        raise InvalidValue("invalid characters or dots in the part before '@'")
    if not domain:
        raise InvalidValue("nothing after the '@'")
    try:
        host = canonical_host(domain.removesuffix("."))
    except InvalidValue as exc:
        raise InvalidValue(f"the domain after '@' is invalid: {exc}") from None
    address = f"{local}@{host.value}"
    if len(address) > MAX_EMAIL:
        raise InvalidValue(f"longer than {MAX_EMAIL} characters")
    return address


MAX_PHONE = 32
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]*[0-9]")


def normalise_phone(raw: str) -> str:
    """A phone number as the Meldpunt dials it: digits, one leading `+`, spaces and `-()./`
    kept as the spreadsheet wrote them (a person reads it aloud); "" when not given."""
    text = " ".join(raw.split())
    if not text:
        return ""
    if len(text) > MAX_PHONE:
        raise InvalidValue(f"longer than {MAX_PHONE} characters")
    if not _PHONE.fullmatch(text) or sum(c.isdigit() for c in text) < 6:
        raise InvalidValue("not a phone number (digits, an optional leading +, spaces or -)")
    return text


def normalise_language(raw: str) -> str:
    """`nl`, `en`, or "" for the Meldpunt's default language."""
    text = raw.strip().lower()
    if text and text not in LANGUAGES:
        raise InvalidValue("must be nl or en (or empty for the default)")
    return text
