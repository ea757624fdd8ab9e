"""One SMTP session per MX host per run: banner, EHLO, STARTTLS, a TLS handshake, QUIT.

What a sending mail server sees is what matters: does the host offer STARTTLS, which TLS version
does it end up speaking, and is its certificate one a sender could verify. The scanner asks that
once per host and run, however many member domains use the host (a provider's MX serves dozens):
the session runs as a task of its own, shared through the run memo, so that the check of the
first domain being cancelled (its time-out) cannot cancel it for the others.

Passive by construction: the dialogue is the banner, `EHLO` with a real name (the `ehlo_name`
setting, else this machine's fully qualified name, else an address literal as RFC 5321 section
4.1.4 allows), `STARTTLS`, the handshake, `QUIT`. Never `MAIL FROM`, `RCPT TO`, `VRFY` or `DATA`.
Every read is capped (line length, lines per reply) and bounded in time; the handshake is the
shared probe's (`exposure.net.tls.probe`), offering TLS 1.0 to 1.3 at OpenSSL security level 0
like a lenient sending MTA, so the version the host picks is the best it can do.

Judging (`judge`): no STARTTLS, or STARTTLS refused, is `mail.starttls.missing`; a session that
ends in TLS 1.0/1.1 is `mail.starttls.legacy` (one session cannot also ask "would you still
accept 1.0?" of a host that prefers 1.2: for opportunistic STARTTLS that is moot anyway, since an
attacker who can downgrade can strip STARTTLS); an expired, not yet valid, untrusted or
wrong-name certificate is `mail.starttls.cert_invalid`. A host that does not answer on port 25
(refused, time-out, reset or silence before the banner, or no address) is `mail.mx.unreachable`,
and its STARTTLS ids stay undecided: "could not test" is not "fine".
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from exposure.contract import FailureReason
from exposure.net.certs import describe, matches_host
from exposure.net.dns import DnsStatus
from exposure.net.scope import in_scope
from exposure.net.tls import (
    Offer,
    Outcome,
    ProbeFailure,
    StartTlsUnavailable,
    TlsResult,
    probe,
)

if TYPE_CHECKING:
    from exposure.contract import CheckContext

MAX_LINE = 2048  # RFC 5321: 512 octets per reply line; generous, then a protocol error
MAX_REPLY_LINES = 64
QUIT_WAIT = 1.0  # seconds to wait for "221" before hanging up anyway
LEGACY_VERSIONS = frozenset({"SSLv3", "TLSv1", "TLSv1.1"})

MISSING = "mail.starttls.missing"
LEGACY = "mail.starttls.legacy"
CERT_INVALID = "mail.starttls.cert_invalid"
UNREACHABLE = "mail.mx.unreachable"
STARTTLS_IDS = frozenset({MISSING, LEGACY, CERT_INVALID})


class SmtpState(StrEnum):
    NO_ADDRESS = "no_address"  # the MX host name has no A/AAAA record
    DNS_FAILED = "dns_failed"  # its address look-up did not answer
    OUT_OF_SCOPE = "out_of_scope"  # private/loopback address without allow_private
    UNREACHABLE = "unreachable"  # refused, timed out, reset or closed before the banner
    NO_SERVICE = "no_service"  # a banner other than 220 ("554 no SMTP service here")
    BROKEN = "broken"  # the dialogue broke after the banner (garbage, time-out)
    NO_STARTTLS = "no_starttls"  # EHLO without STARTTLS
    STARTTLS_REFUSED = "starttls_refused"  # advertised, then refused (454 TLS not available)
    TLS_FAILED = "tls_failed"  # STARTTLS accepted, the handshake was not
    TLS = "tls"  # STARTTLS and a completed handshake


class SmtpProtocolError(Exception):
    """The host's answer is not SMTP, or breaks our caps."""


class _NoService(Exception):
    """The banner was not 220."""


@dataclass(slots=True)
class Transcript:
    """What the dialogue saw, filled in as it goes (the probe hooks cannot return values)."""

    banner_code: int | None = None
    banner: str = ""
    ehlo_name: str = ""
    ehlo_code: int | None = None
    extensions: list[str] = field(default_factory=list)
    helo: bool = False
    starttls_code: int | None = None
    starttls_reply: str = ""
    quit_code: int | None = None


@dataclass(frozen=True, slots=True)
class SmtpSession:
    """One MX host as the scanner saw it in this run."""

    host: str
    state: SmtpState
    address: str = ""
    port: int = 25
    banner: str = ""
    banner_code: int | None = None
    ehlo_name: str = ""
    extensions: tuple[str, ...] = ()
    starttls_reply: str = ""
    detail: str = ""
    tls: TlsResult | None = None

    @property
    def answered(self) -> bool:
        """Something that speaks SMTP answered on the port (a 220 banner or another code)."""
        return self.banner_code is not None

    def evidence(self, now: datetime | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"mx": self.host, "state": str(self.state)}
        if self.address:
            data["address"] = f"{self.address}:{self.port}"
        if self.banner_code is not None:
            data["banner"] = f"{self.banner_code} {self.banner}".strip()
        if self.extensions:
            data["ehlo"] = list(self.extensions)
        if self.starttls_reply:
            data["starttls_reply"] = self.starttls_reply
        if self.detail:
            data["detail"] = self.detail
        tls = self.tls
        if tls is not None and tls.accepted:
            data["tls_version"] = tls.version
            if tls.cipher:
                data["cipher"] = tls.cipher
            if tls.leaf is not None and now is not None:
                data["certificate"] = describe(tls.leaf).evidence(now)
            if tls.trust is not None:
                data["trust"] = tls.trust.evidence()
        return data


# --- the session -----------------------------------------------------------------------------------


#: SMTP sessions the run remembers. A provider's MX host, used by many companies, is asked once
#: and stays (every use refreshes it); the MX hosts of companies with a mail server of their own
#: are used once and forgotten after this many others, so memory stays flat in N.
SESSIONS_KEPT = 4096


async def smtp_session(ctx: CheckContext, host: str) -> SmtpSession:
    """The run's one session with `host` (started by the first caller, shared by all)."""

    return await ctx.memo.once("mail.smtp", host, lambda: _session(ctx, host), keep=SESSIONS_KEPT)


async def _address(ctx: CheckContext, host: str) -> tuple[str, SmtpState | None, str]:
    """The address to connect to (IPv4 first), or the state that says why there is none."""
    four, six = await asyncio.gather(ctx.dns.resolve(host, "A"), ctx.dns.resolve(host, "AAAA"))
    addresses = [str(r) for a in (four, six) if a.status is DnsStatus.OK for r in a.records]
    for address in addresses:
        if in_scope(address, ctx.settings.allow_private):
            return address, None, ""
    if addresses:
        return (
            "",
            SmtpState.OUT_OF_SCOPE,
            f"{host} resolves to {', '.join(addresses)}: private, loopback or link-local "
            "address space (not contacted)",
        )
    if all(a.decisive for a in (four, six)):
        return "", SmtpState.NO_ADDRESS, f"{host} has no A or AAAA record"
    failed = ", ".join(f"{a.rdtype}: {a.status}" for a in (four, six) if not a.decisive)
    return "", SmtpState.DNS_FAILED, f"could not resolve {host} ({failed})"


async def ehlo_name(ctx: CheckContext) -> str:
    """The name to announce; "" means: use an address literal of the local end."""

    async def make() -> str:
        configured = ctx.settings.ehlo_name.strip()
        if configured:
            return configured
        fqdn = await asyncio.to_thread(socket.getfqdn)
        fqdn = fqdn.strip().rstrip(".")
        if "." in fqdn and not fqdn.startswith("localhost"):
            return fqdn
        return ""

    return await ctx.memo.once("mail.smtp.ehlo", "name", make)


def _literal(writer: asyncio.StreamWriter) -> str:
    sockname = writer.get_extra_info("sockname")
    if not sockname:
        return "[127.0.0.1]"
    ip = ipaddress.ip_address(sockname[0])
    return f"[IPv6:{ip}]" if ip.version == 6 else f"[{ip}]"


async def _session(ctx: CheckContext, host: str) -> SmtpSession:
    port = ctx.port("smtp")
    address, state, detail = await _address(ctx, host)
    if state is not None:
        return SmtpSession(host, state, port=port, detail=detail)
    name = await ehlo_name(ctx)
    transcript = Transcript()

    async def dialogue(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _dialogue(reader, writer, transcript, name or _literal(writer))

    async def goodbye(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        transcript.quit_code = await _quit(reader, writer)

    result = await probe(
        ctx,
        address,
        port,
        host,
        offer=Offer.ANY,
        starttls=dialogue,
        exchange=goodbye,
        purpose="smtp",
        family="mail",
    )
    return _classify(host, address, port, transcript, result)


def _classify(host: str, address: str, port: int, t: Transcript, result: TlsResult) -> SmtpSession:
    common: dict[str, Any] = {
        "address": address,
        "port": port,
        "banner": t.banner,
        "banner_code": t.banner_code,
        "ehlo_name": t.ehlo_name,
        "extensions": tuple(t.extensions),
        "starttls_reply": t.starttls_reply,
    }
    if result.outcome is Outcome.ACCEPTED:
        return SmtpSession(host, SmtpState.TLS, tls=result, **common)
    if result.outcome is Outcome.REJECTED:
        return SmtpSession(host, SmtpState.TLS_FAILED, detail=result.detail, tls=result, **common)
    if result.outcome is Outcome.NO_TLS:
        state = SmtpState.STARTTLS_REFUSED if t.starttls_code else SmtpState.NO_STARTTLS
        return SmtpSession(host, state, detail=result.detail, **common)
    if result.failure is ProbeFailure.OUT_OF_SCOPE:
        return SmtpSession(host, SmtpState.OUT_OF_SCOPE, detail=result.detail, **common)
    if t.banner_code is None:
        return SmtpSession(host, SmtpState.UNREACHABLE, detail=result.detail, **common)
    if t.banner_code != 220:
        return SmtpSession(host, SmtpState.NO_SERVICE, detail=result.detail, **common)
    return SmtpSession(host, SmtpState.BROKEN, detail=result.detail, **common)


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, list[str]]:
    """One SMTP reply (possibly multi-line): its code and the text of each line."""
    lines: list[str] = []
    code = 0
    while True:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise SmtpProtocolError("reply line too long") from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise SmtpProtocolError("connection closed in the middle of a reply") from None
            raise ConnectionResetError("connection closed by the server") from None
        if len(raw) > MAX_LINE:
            raise SmtpProtocolError(f"reply line of {len(raw)} bytes")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if len(line) < 3 or not line[:3].isdigit() or (len(line) > 3 and line[3] not in " -"):
            raise SmtpProtocolError(f"not an SMTP reply: {_printable(line)!r}")
        code = int(line[:3])
        lines.append(_printable(line[4:]))
        if len(line) == 3 or line[3] == " ":
            return code, lines
        if len(lines) >= MAX_REPLY_LINES:
            raise SmtpProtocolError(f"reply of more than {MAX_REPLY_LINES} lines")


def _printable(text: str, limit: int = 200) -> str:
    cleaned = "".join(c if c.isprintable() else "?" for c in text)
    return cleaned[:limit]


async def _send(writer: asyncio.StreamWriter, line: str) -> None:
    writer.write(line.encode("ascii", "replace") + b"\r\n")
    await writer.drain()


async def _dialogue(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, t: Transcript, name: str
) -> None:
    """Banner, EHLO (HELO if EHLO is refused), STARTTLS; raises StartTlsUnavailable if none."""
    t.banner_code, banner = await read_reply(reader)
    t.banner = banner[0] if banner else ""
    if t.banner_code != 220:
        with contextlib.suppress(Exception):
            await _quit(reader, writer)
        raise _NoService(f"the banner is {t.banner_code} {t.banner}".strip())
    t.ehlo_name = name
    await _send(writer, f"EHLO {name}")
    t.ehlo_code, lines = await read_reply(reader)
    if t.ehlo_code != 250:
        t.helo = True
        await _send(writer, f"HELO {name}")
        code, _ = await read_reply(reader)
        with contextlib.suppress(Exception):
            await _quit(reader, writer)
        if code != 250:
            raise SmtpProtocolError(f"EHLO and HELO refused ({t.ehlo_code}, {code})")
        raise StartTlsUnavailable("EHLO refused; HELO accepted (no extensions, no STARTTLS)")
    t.extensions = [line.strip() for line in lines[1:] if line.strip()][:MAX_REPLY_LINES]
    keywords = {ext.split()[0].upper() for ext in t.extensions}
    if "STARTTLS" not in keywords:
        with contextlib.suppress(Exception):
            await _quit(reader, writer)
        raise StartTlsUnavailable("the EHLO answer does not offer STARTTLS")
    await _send(writer, "STARTTLS")
    t.starttls_code, reply = await read_reply(reader)
    t.starttls_reply = f"{t.starttls_code} {reply[0] if reply else ''}".strip()
    if t.starttls_code != 220:
        with contextlib.suppress(Exception):
            await _quit(reader, writer)
        raise StartTlsUnavailable(f"STARTTLS is advertised but answered {t.starttls_reply}")
    t.starttls_code = None  # accepted: no refusal to report


async def _quit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int | None:
    """QUIT politely; wait briefly for the 221."""
    await _send(writer, "QUIT")
    try:
        async with asyncio.timeout(QUIT_WAIT):
            code, _ = await read_reply(reader)
    except (TimeoutError, SmtpProtocolError, ConnectionError, OSError):
        return None
    return code


# --- verdicts --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostVerdict:
    """What one session means for the STARTTLS ids of one MX host.

    `findings` maps an id to its one-line detail; `undecided` are ids this session could not
    settle (with a reason and message for the `CheckFailure`).
    """

    host: str
    findings: Mapping[str, str]
    undecided: frozenset[str] = frozenset()
    reason: FailureReason | None = None
    message: str = ""


_UNREACHABLE_STATES = {
    SmtpState.UNREACHABLE,
    SmtpState.NO_ADDRESS,
}
_UNDECIDED_REASONS = {
    SmtpState.UNREACHABLE: FailureReason.UNREACHABLE,
    SmtpState.NO_ADDRESS: FailureReason.UNREACHABLE,
    SmtpState.DNS_FAILED: FailureReason.DNS_ERROR,
    SmtpState.OUT_OF_SCOPE: FailureReason.OUT_OF_SCOPE,
    SmtpState.NO_SERVICE: FailureReason.REFUSED,
    SmtpState.BROKEN: FailureReason.PROTOCOL,
    SmtpState.TLS_FAILED: FailureReason.PROTOCOL,
}


def judge(session: SmtpSession, now: datetime) -> HostVerdict:
    """The STARTTLS verdicts of one host (see the module docstring)."""
    host = session.host
    state = session.state
    if state in (SmtpState.NO_STARTTLS, SmtpState.STARTTLS_REFUSED):
        detail = (
            f"{host} answers SMTP but offers no STARTTLS"
            if state is SmtpState.NO_STARTTLS
            else f"{host} advertises STARTTLS but refuses it: {session.starttls_reply}"
        )
        return HostVerdict(host, {MISSING: detail})
    if state is SmtpState.TLS and session.tls is not None:
        return HostVerdict(host, _tls_findings(host, session.tls, now))
    findings: dict[str, str] = {}
    undecided = set(STARTTLS_IDS)
    if state in _UNREACHABLE_STATES:
        findings[UNREACHABLE] = f"{host} does not answer on the SMTP port: {session.detail}"
    else:
        undecided.add(UNREACHABLE)
    what = {
        SmtpState.TLS_FAILED: f"the TLS handshake after STARTTLS failed ({session.detail})",
        SmtpState.NO_SERVICE: f"the host refuses the session: {session.detail}",
        SmtpState.BROKEN: f"the SMTP dialogue broke off: {session.detail}",
    }.get(state, session.detail)
    return HostVerdict(
        host,
        findings,
        frozenset(undecided),
        _UNDECIDED_REASONS.get(state, FailureReason.PROTOCOL),
        f"{host}: {what}",
    )


def _tls_findings(host: str, tls: TlsResult, now: datetime) -> dict[str, str]:
    findings: dict[str, str] = {}
    if tls.version in LEGACY_VERSIONS:
        findings[LEGACY] = f"{host} negotiates {tls.version} (the best it offers)"
    problems: list[str] = []
    leaf = tls.leaf
    if leaf is None:
        problems.append("no certificate")
    else:
        info = describe(leaf)
        if info.expired(now):
            problems.append(f"expired on {info.not_after:%Y-%m-%d}")
        if info.not_yet_valid(now):
            problems.append(f"not valid before {info.not_before:%Y-%m-%d}")
        if not matches_host(leaf, host):
            names = ", ".join(info.sans[:5]) or info.subject
            problems.append(f"issued for {names}, not for {host}")
    if tls.trust is not None and not tls.trust.trusted:
        problems.append(f"untrusted ({tls.trust.problem}: {tls.trust.detail})")
    if problems:
        findings[CERT_INVALID] = f"certificate of {host}: " + "; ".join(problems)
    return findings
