"""A strict RFC 9116 validator: bytes and response metadata in, a frozen `Validation` out.

Pure on purpose: no I/O, no clock (the caller hands in `now`), no globals that change. That keeps
it usable from async code (it never blocks on anything but a bounded amount of CPU, linear in the
input, which the fetcher caps at 100 KiB), from tests, and from the cross-check against the
Digital Trust Center's `sectxt` validator.

Codes are the DTC's (`sectxt`) wherever the two overlap, so that a company that checks its file
with internet.nl or the DTC's tool reads the same words for the same problem. Where RFC 9116 says
MUST and `sectxt` does not look, we add our own codes (`invalid_uri`, `invalid_field_name`,
`too_large`) or report under the nearest `sectxt` code; `tests/checks/test_securitytxt_crosscheck.py`
lists every such difference and why.

Three levels, as in `sectxt`:
- errors: an RFC 9116 MUST is broken (the file is `invalid`; `expired` is its own verdict);
- recommendations: a SHOULD or RECOMMENDED is not followed (evidence only);
- notifications: worth knowing, not a problem (unknown fields).

Signed files (OpenPGP cleartext signatures, RFC 4880 §7) are parsed as such: the armour is
checked for form, dash-escaped lines are unescaped, fields inside the signed text count and
nothing else does. The signature itself is not verified (the issue does not ask for it, and a key
to verify it against is not part of the standard).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from checks.securitytxt import langtags

WELL_KNOWN_PATH = "/.well-known/security.txt"
LEGACY_PATH = "/security.txt"

BEGIN_SIGNED = "-----BEGIN PGP SIGNED MESSAGE-----"
BEGIN_SIGNATURE = "-----BEGIN PGP SIGNATURE-----"
END_SIGNATURE = "-----END PGP SIGNATURE-----"

#: Fields whose value is a URI (RFC 9116 §2.5; CSAF from the CSAF 2.0 standard, as in `sectxt`).
URI_FIELDS = frozenset(
    {"acknowledgments", "canonical", "contact", "encryption", "hiring", "policy", "csaf"}
)
KNOWN_FIELDS = URI_FIELDS | {"expires", "preferred-languages"}

#: The charset names of UTF-8 that the IANA registry knows (RFC 9116 §2.3: the default, utf-8).
UTF8_NAMES = frozenset({"utf-8", "csutf8"})

#: How many issues of one code are kept (a 100 KiB file of junk must not make 5,000 entries).
MAX_PER_CODE = 20


class Level(StrEnum):
    ERROR = "error"
    RECOMMENDATION = "recommendation"
    NOTIFICATION = "notification"


@dataclass(frozen=True, slots=True)
class Issue:
    """One coded problem. `line` is 1-based, None when it concerns the whole file."""

    code: str
    line: int | None = None
    field: str = ""  # the field concerned, lower-case ("contact"), if any

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "line": self.line}
        if self.field:
            out["field"] = self.field
        return out


@dataclass(frozen=True, slots=True)
class Field:
    """A field as it stands in the file: lower-case name, value without surrounding blanks."""

    name: str
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class Validation:
    """What a security.txt says and what is wrong with it.

    The parsed values are kept whatever the errors: an invalid file with a good Contact is still
    the best address the Meldpunt has for a warning.
    """

    errors: tuple[Issue, ...]
    recommendations: tuple[Issue, ...]
    notifications: tuple[Issue, ...]
    fields: tuple[Field, ...]
    signed: bool
    expires: datetime | None  # the first parseable Expires, in UTC
    urls: tuple[str, ...] = ()  # the URIs the file was retrieved from (first and last hop)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def error_codes(self) -> frozenset[str]:
        return frozenset(i.code for i in self.errors)

    @property
    def recommendation_codes(self) -> frozenset[str]:
        return frozenset(i.code for i in self.recommendations)

    @property
    def expired(self) -> bool:
        return "expired" in self.error_codes

    def values(self, name: str) -> tuple[str, ...]:
        """Every value of one field, in file order (Contact order is priority, §2.5.3)."""
        return tuple(f.value for f in self.fields if f.name == name)

    @property
    def contacts(self) -> tuple[str, ...]:
        return self.values("contact")

    @property
    def canonical(self) -> tuple[str, ...]:
        return self.values("canonical")

    @property
    def encryption(self) -> tuple[str, ...]:
        return self.values("encryption")

    @property
    def policy(self) -> tuple[str, ...]:
        return self.values("policy")

    @property
    def languages(self) -> tuple[str, ...]:
        values = self.values("preferred-languages")
        return tuple(t.strip() for t in values[0].split(",") if t.strip()) if values else ()

    @property
    def unknown_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.name for f in self.fields if f.name not in KNOWN_FIELDS))

    def mailto_addresses(self) -> tuple[str, ...]:
        return mailto_addresses(self.contacts)


# --- the entry points ------------------------------------------------------------------------------


def validate(
    content: bytes | str,
    *,
    content_type: str | None,
    url: str | None,
    now: datetime,
    final_url: str | None = None,
    certificate_valid: bool = True,
    truncated: bool = False,
    unknown_fields: bool = True,
    default_ports: Mapping[str, int] | None = None,
) -> Validation:
    """Validate a security.txt as retrieved over HTTP(S).

    `content_type` is the Content-Type header as sent (None: the server sent none). `url` is the
    URI that was asked for and `final_url` the one that answered after redirects (None: no
    redirect); both count for the Canonical match, as in `sectxt`. `certificate_valid=False`
    says that the file could only be read by ignoring a certificate error; `truncated` that the
    server sent more than the fetcher was willing to read. `now` must be timezone-aware.
    `default_ports` ({"https": 8443}) are ports that count as their scheme's default in the
    Canonical comparison (a lab serving on high ports).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    v = _Validator(now=now, unknown_fields=unknown_fields, default_ports=default_ports)
    if url is not None:
        v.location(url)
    if not certificate_valid:
        v.error("invalid_cert")
    v.media_type(content_type)
    if truncated:
        v.error("too_large")
    urls = tuple(u for u in (url, final_url) if u)
    return v.run(content, tuple(dict.fromkeys(urls)), truncated=truncated)


def validate_file(
    content: bytes | str, *, now: datetime, urls: Sequence[str] = (), unknown_fields: bool = True
) -> Validation:
    """Validate the contents only (a file on disk, a paste): no HTTP metadata is judged.

    `urls`, when given, are the URIs the file is meant to be served from (Canonical match).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    v = _Validator(now=now, unknown_fields=unknown_fields)
    return v.run(content, tuple(urls))


# --- the validator ---------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[Tt](?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?P<frac>\.\d+)?(?P<tz>[Zz]|(?P<sign>[+-])(?P<oh>\d{2}):(?P<om>\d{2}))",
    re.ASCII,
)
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")  # RFC 5322 ftext: printable ASCII but ':'
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # everything but HTAB
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_ADDR_SPEC = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)*")
_TEL = re.compile(r"\+?[0-9A-Fa-f*#().\-]*[0-9][0-9A-Fa-f*#().\-]*(?:;.*)?")


class _Validator:
    def __init__(
        self,
        *,
        now: datetime,
        unknown_fields: bool,
        default_ports: Mapping[str, int] | None = None,
    ) -> None:
        self.now = now.astimezone(UTC)
        self.default_ports = dict(default_ports or {})
        self.unknown = unknown_fields
        self.issues: dict[Level, list[Issue]] = {level: [] for level in Level}
        self.counts: dict[str, int] = {}
        self.fields: list[Field] = []
        self.signed = False
        self.expires: datetime | None = None

    # --- recording -----------------------------------------------------------------------------

    def _add(self, level: Level, code: str, line: int | None, field_name: str) -> None:
        seen = self.counts.get(code, 0)
        self.counts[code] = seen + 1
        if seen < MAX_PER_CODE:
            self.issues[level].append(Issue(code, line, field_name))

    def error(self, code: str, line: int | None = None, field_name: str = "") -> None:
        self._add(Level.ERROR, code, line, field_name)

    def recommend(self, code: str, line: int | None = None, field_name: str = "") -> None:
        self._add(Level.RECOMMENDATION, code, line, field_name)

    def notify(self, code: str, line: int | None = None, field_name: str = "") -> None:
        self._add(Level.NOTIFICATION, code, line, field_name)

    # --- what the response says ----------------------------------------------------------------

    def location(self, url: str) -> None:
        """§2.3: served over HTTPS, from /.well-known/ (the legacy top-level path is an error)."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "https":
            self.error("invalid_uri_scheme")
        if parts.path != WELL_KNOWN_PATH:
            self.error("location")

    def media_type(self, content_type: str | None) -> None:
        """§2.3: Content-Type `text/plain`, charset utf-8 when a charset is given."""
        if content_type is None:
            self.error("no_content_type")
            return
        media, params = parse_content_type(content_type)
        if media != "text/plain":
            self.error("invalid_media")
        charset = params.get("charset")
        if charset is not None and charset.lower() not in UTF8_NAMES:
            self.error("invalid_charset")

    # --- the body ------------------------------------------------------------------------------

    def decode(self, content: bytes | str, *, truncated: bool = False) -> str:
        """§2.4: UTF-8 in Net-Unicode form, so no byte-order mark. A cut-off file may end in
        half a character; that is the cut (`too_large`), not an encoding error."""
        if isinstance(content, str):
            if content.startswith("\ufeff"):
                self.error("bom_in_file")
                content = content[1:]
            return content
        if content.startswith(codecs.BOM_UTF8):
            self.error("bom_in_file")
            content = content[len(codecs.BOM_UTF8) :]
        try:
            if truncated:
                return codecs.getincrementaldecoder("utf-8")().decode(content, final=False)
            return content.decode("utf-8")
        except UnicodeDecodeError:
            self.error("utf8")
            return content.decode("utf-8", errors="replace")

    def run(
        self, content: bytes | str, urls: tuple[str, ...], *, truncated: bool = False
    ) -> Validation:
        text = self.decode(content, truncated=truncated)
        lines = text.split("\n")
        signature = self.lines(lines)
        if signature is not None:
            self.signature(signature)
        self.file_rules(lines, urls, truncated=truncated)
        return Validation(
            errors=tuple(self.issues[Level.ERROR]),
            recommendations=tuple(self.issues[Level.RECOMMENDATION]),
            notifications=tuple(self.issues[Level.NOTIFICATION]),
            fields=tuple(self.fields),
            signed=self.signed,
            expires=self.expires,
            urls=urls,
        )

    def lines(self, lines: list[str]) -> list[tuple[int, str]] | None:
        """Walk the lines; returns the signature block's lines when the file is signed and the
        block was closed (None otherwise, after reporting why)."""
        state = "plain"  # plain -> armor -> text -> sig -> after
        signature: list[tuple[int, str]] = []
        for number, raw in enumerate(lines, start=1):
            line = raw.rstrip(" \t\r")  # eol = *WSP [CR] LF
            if state == "sig":
                if line == END_SIGNATURE:
                    state = "after"
                else:
                    signature.append((number, line))
                continue
            if state == "after":
                if line:
                    self.error("data_after_sig", number)
                continue
            if state == "armor":
                if not line:
                    state = "text"
                    continue
                if line.startswith("Hash:"):
                    continue
                # RFC 4880 §7: the armour headers end with an empty line before the text.
                self.error("signed_format_issue", number)
                state = "text"
            if line == BEGIN_SIGNED:
                if number != 1 or self.signed:
                    self.error("signed_format_issue", number)
                self.signed = True
                state = "armor"
                continue
            if state == "text":
                if line == BEGIN_SIGNATURE:
                    state = "sig"
                    continue
                if line.startswith("- "):  # RFC 4880 §7.1 dash-escaping
                    line = line[2:]
            self.content_line(number, line)
        if not self.signed:
            return None
        if state in ("armor", "text"):
            self.error("pgp_data_error")  # signed header, but no signature block
            return None
        if state == "sig":
            self.error("pgp_data_error")  # the signature block never ends
            return None
        return signature

    def content_line(self, number: int, line: str) -> None:
        if not line:
            return
        if line[0] in " \t":
            # Not a field (no folding in security.txt) and not a comment.
            self.error("invalid_line", number)
            return
        if _CONTROL.search(line):
            self.error("invalid_line", number)
            return
        if line.startswith("#"):
            return
        if ":" not in line:
            self.error("invalid_line", number)
            return
        self.field_line(number, line)

    def field_line(self, number: int, line: str) -> None:
        raw_key, value = line.split(":", 1)
        key = raw_key.lower()
        if key.rstrip() != key:
            self.error("prec_ws", number)
            key = key.rstrip()
        if value:
            if value[0] != " ":
                self.error("no_space", number)
            value = value.lstrip(" \t")
        if not key:
            self.error("empty_key", number)
            return
        if not value:
            self.error("empty_value", number, key)
            return
        if not _FIELD_NAME.fullmatch(key):
            self.error("invalid_field_name", number)
            return
        if key in URI_FIELDS:
            self.uri(number, key, value)
        elif key == "expires":
            self.expiry(number, value)
        elif key == "preferred-languages":
            self.languages(number, value)
        elif self.unknown:
            self.notify("unknown_field", number, key)
        self.fields.append(Field(key, value, number))

    def uri(self, number: int, key: str, value: str) -> None:
        """§2.5: a URI (RFC 3986); a web URI must be https (§2.5.1-2.5.7)."""
        if "\ufffd" in value and self.counts.get("utf8"):
            return  # bytes that are not UTF-8: reported once, as `utf8`
        scheme = urlsplit(value).scheme
        if not scheme:
            self.error("no_uri", number, key)
        elif scheme == "http":
            self.error("no_https", number, key)
        elif not uri_is_well_formed(value):
            self.error("invalid_uri", number, key)

    def expiry(self, number: int, value: str) -> None:
        """§2.5.5: an RFC 3339 date-time; in the past is an error, over a year ahead a pity."""
        when = parse_rfc3339(value)
        if when is None:
            self.error("invalid_expiry", number, "expires")
            return
        if self.expires is None:
            self.expires = when
        if when > add_years(self.now, 1):
            self.recommend("long_expiry", number, "expires")
        elif when < self.now:
            self.error("expired", number, "expires")

    def languages(self, number: int, value: str) -> None:
        """§2.5.8: RFC 5646 language tags separated by commas."""
        for tag in value.split(","):
            if not langtags.is_valid(tag.strip(" \t")):
                self.error("invalid_lang", number, "preferred-languages")

    def signature(self, block: list[tuple[int, str]]) -> None:
        """RFC 4880 §6.2/§7: armour headers, an empty line, base64 data, an optional checksum.

        The checksum is not judged: RFC 9580 §6.1 tells implementations not to reject on it.
        """
        rows = [line for _, line in block]
        start = 0
        if rows and ":" in rows[0]:  # armour headers (Version:, Comment:) up to an empty line
            while start < len(rows) and rows[start]:
                start += 1
        data = [r for r in rows[start:] if r and not r.startswith("=")]
        try:
            packet = base64.b64decode("".join(data), validate=True)
        except (binascii.Error, ValueError):
            self.error("pgp_data_error")
            return
        if not packet:
            self.error("pgp_data_error")
            return
        if packet_tag(packet) != 2:
            self.error("pgp_signature_error")

    def file_rules(self, lines: list[str], urls: tuple[str, ...], *, truncated: bool) -> None:
        names = [f.name for f in self.fields]
        if "expires" not in names:
            self.error("no_expire")
        elif names.count("expires") > 1:
            self.error("multi_expire")
        canonical = [f.value for f in self.fields if f.name == "canonical"]
        if urls and canonical:
            ports = self.default_ports
            wanted = {normalise_url(u, ports) for u in urls}
            if not wanted & {normalise_url(c, ports) for c in canonical}:
                self.error("no_canonical_match")
        if lines[-1].rstrip(" \t\r") and not truncated:  # a cut file ends mid-line: too_large
            self.error("no_line_separators", len(lines))
        if (
            self.signed
            and len(lines) >= 2
            and not lines[-1].rstrip(" \t\r")
            and not lines[-2].rstrip(" \t\r")
        ):
            self.error("too_many_line_separators", len(lines))
        csaf = [f.value for f in self.fields if f.name == "csaf"]
        if csaf:
            if not all(v.endswith("provider-metadata.json") for v in csaf):
                self.error("no_csaf_file")
            if len(csaf) > 1:
                self.recommend("multiple_csaf_fields")
        contacts = [f.value for f in self.fields if f.name == "contact"]
        if not contacts:
            self.error("no_contact")
        elif "encryption" not in names and any(c.lower().startswith("mailto:") for c in contacts):
            self.recommend("no_encryption")
        if names.count("preferred-languages") > 1:
            self.error("multi_lang")
        if not self.signed:
            self.recommend("not_signed")
        elif not canonical:
            self.recommend("no_canonical")


# --- small pure helpers ----------------------------------------------------------------------------


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """`text/plain; Charset="UTF-8"` -> ("text/plain", {"charset": "UTF-8"}); names lower-case."""
    media, *rest = value.split(";")
    params: dict[str, str] = {}
    for part in rest:
        name, sep, raw = part.partition("=")
        if sep:
            params[name.strip().lower()] = raw.strip().strip('"')
    return media.strip().lower(), params


def parse_rfc3339(value: str) -> datetime | None:
    """An RFC 3339 §5.6 `date-time` in UTC, or None when it is not one.

    Strict: the date and time are separated by "T" (the ABNF; a space is only a readability
    note of RFC 3339), seconds are required, the date must exist. A leap second (":60") is
    accepted and counted as ":59".
    """
    m = _RFC3339.fullmatch(value)
    if m is None:
        return None
    year, month, day = int(m["y"]), int(m["mo"]), int(m["d"])
    hour, minute, second = int(m["h"]), int(m["mi"]), int(m["s"])
    if hour > 23 or minute > 59 or second > 60:
        return None
    offset = timedelta(0)
    if m["sign"]:
        oh, om = int(m["oh"]), int(m["om"])
        if oh > 23 or om > 59:
            return None
        offset = timedelta(hours=oh, minutes=om) * (-1 if m["sign"] == "-" else 1)
    if year == 0:
        year_ok = 1 <= month <= 12 and 1 <= day <= 31
        return datetime.min.replace(tzinfo=UTC) if year_ok else None
    try:
        local = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=timezone(offset))
    except ValueError:
        return None
    try:
        return local.astimezone(UTC)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def add_years(when: datetime, years: int) -> datetime:
    """The same moment `years` calendar years later (29 February becomes 28 February)."""
    try:
        return when.replace(year=when.year + years)
    except ValueError:
        return when.replace(year=when.year + years, day=28)


def uri_is_well_formed(value: str) -> bool:
    """RFC 3986 characters only, plus per-scheme sanity: web URIs need a host, mailto an
    address (RFC 6068), tel a number (RFC 3966)."""
    if not _URI_CHARS.fullmatch(value):
        return False
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return bool(parts.hostname)
    if scheme == "mailto":
        to = value[len("mailto:") :].split("?", 1)[0]
        if not to:
            return "?" in value
        return all(_ADDR_SPEC.fullmatch(unquote(a)) for a in to.split(","))
    if scheme == "tel":
        return bool(_TEL.fullmatch(value[len("tel:") :]))
    return bool(value[len(scheme) + 1 :])


def normalise_url(url: str, default_ports: Mapping[str, int] | None = None) -> str:
    """RFC 3986 §6.2.2-6.2.3 normalisation for the Canonical comparison: scheme and host in
    lower case, the default port dropped, an empty path as "/", percent-escapes in upper case.
    Ports in `default_ports` ({"https": 8443}) count as their scheme's default too."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    defaults = {443} if scheme == "https" else {80} if scheme == "http" else set()
    if default_ports and scheme in default_ports:
        defaults.add(default_ports[scheme])
    if port is not None and port not in defaults:
        host = f"{host}:{port}"
    path = re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), parts.path or "/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{host}{path}{query}"


def packet_tag(packet: bytes) -> int | None:
    """The tag of the first OpenPGP packet (RFC 4880 §4.2), None when it is not a packet."""
    first = packet[0]
    if not first & 0x80:
        return None
    return first & 0x3F if first & 0x40 else (first >> 2) & 0x0F


def mailto_addresses(contacts: Sequence[str]) -> tuple[str, ...]:
    """The e-mail addresses among Contact URIs, in priority order, without duplicates.

    Only `mailto:` URIs count (a bare address is not a URI, and the file's author may not have
    meant it as a contact); several addresses in one URI are split; query parts are dropped;
    percent-escapes decoded; the domain lower-cased.
    """
    found: dict[str, None] = {}
    for contact in contacts:
        if contact[:7].lower() != "mailto:":
            continue
        to = contact[7:].split("?", 1)[0]
        for raw in to.split(","):
            address = unquote(raw).strip()
            if not _ADDR_SPEC.fullmatch(address):
                continue
            local, _, domain = address.rpartition("@")
            found.setdefault(f"{local}@{domain.lower()}", None)
    return tuple(found)


__all__ = [
    "BEGIN_SIGNED",
    "KNOWN_FIELDS",
    "LEGACY_PATH",
    "URI_FIELDS",
    "WELL_KNOWN_PATH",
    "Field",
    "Issue",
    "Level",
    "Validation",
    "add_years",
    "mailto_addresses",
    "normalise_url",
    "parse_content_type",
    "parse_rfc3339",
    "validate",
    "validate_file",
]
