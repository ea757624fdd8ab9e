"""Where the Meldpunt's warnings leave from: the `smtp_url` setting, read and checked.

Engine side, because two faces need it: `exposure warn` (reports/delivery.py) sends with it and
`exposure doctor` tries it. The rules (why credentials never travel without TLS) are in
`reports.delivery`, which uses this.
"""

from __future__ import annotations

import ipaddress
import ssl
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Security = Literal["starttls", "tls", "none"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SmtpUrlError(ValueError):
    """A malformed `smtp_url`, phrased for a person (never containing the password)."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    username: str = ""
    password: str = field(default="", repr=False)

    def describe(self) -> str:
        """Where mail goes, without the password (for output and the audit trail)."""
        user = f"{self.username}@" if self.username else ""
        scheme = "smtps" if self.security == "tls" else "smtp"
        suffix = "" if self.security != "none" else " (no TLS)"
        if self.security == "starttls":
            suffix = " (STARTTLS)"
        return f"{scheme}://{user}{self.host}:{self.port}{suffix}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """`smtp://user:pass@host:587?starttls=1`, `smtps://...:465`, `smtp://host:25?starttls=0`."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port_value = parts.port
    except ValueError as exc:
        raise SmtpUrlError(f"smtp_url: not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise SmtpUrlError("smtp_url: must start with smtp:// or smtps://")
    host = parts.hostname or ""
    if not host:
        raise SmtpUrlError("smtp_url: no host name")
    if parts.path not in ("", "/"):
        raise SmtpUrlError("smtp_url: a path is not allowed")
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise SmtpUrlError(f"smtp_url: unknown option {unknown[0]!r} (known: starttls)")
    security: Security
    if scheme == "smtps":
        if "starttls" in query:
            raise SmtpUrlError("smtp_url: smtps:// is implicit TLS; starttls does not apply")
        security = "tls"
    else:
        raw = query.get("starttls", ["1"])[-1].strip().lower()
        if raw in _TRUE:
            security = "starttls"
        elif raw in _FALSE:
            security = "none"
        else:
            raise SmtpUrlError("smtp_url: starttls must be 1 or 0")
    port = port_value or (465 if security == "tls" else 587 if security == "starttls" else 25)
    username = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    if password and not username:
        raise SmtpUrlError("smtp_url: a password without a user name")
    if username and security == "none" and not _loopback(host):
        raise SmtpUrlError(
            "smtp_url: credentials would travel unencrypted; use STARTTLS (starttls=1) or smtps://"
        )
    return SmtpConfig(host, port, security, username, password)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def smtp_ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Strict verification: TLS 1.2 or newer, the host name checked."""
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
