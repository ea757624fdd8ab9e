"""SMTP mail hosts (MX) of the simulated port area, hand-written on asyncio streams.

Not aiosmtpd: the testbed needs mail hosts that misbehave on purpose (never send a banner, reset
the connection, offer no STARTTLS, speak only TLS 1.0/1.1 at `@SECLEVEL=0`, carry a bad
certificate), and it must be able to prove what the scanner did. Every server therefore counts
sessions, STARTTLS upgrades, completed handshakes with their protocol version, and the EHLO names
it was sent. It also counts `MAIL FROM`, `RCPT TO` and `DATA`: a passive scanner never sends them,
and tests assert that `mail_from_seen` stays 0.

The server answers like a small Postfix. Reads are capped (line length, commands per session,
idle time) so a misbehaving client cannot make a test hang or eat memory, and it only ever binds
127.0.0.0/8 addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import struct
import warnings
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

MAX_LINE = 1024  # RFC 5321 allows 512 octets for a command line; a little slack, then refuse
MAX_COMMANDS = 100  # per session: a passive probe needs five
IDLE_TIMEOUT = 30.0  # seconds a session may sit silent before the server hangs up
HANDSHAKE_TIMEOUT = 10.0
HANG_TIMEOUT = 120.0  # a hanging host lets go after this long
HANG_CAP = 1024 * 1024  # bytes a hanging host reads before it stops reading


class Behaviour(StrEnum):
    """How the host treats a new connection."""

    NORMAL = "normal"
    HANG = "hang"  # accept the connection, never send a banner
    RESET = "reset"  # accept, then close at once with a TCP RST
    REFUSE = "refuse"  # no listener at all: connection refused
    SLOW_BANNER = "slow_banner"  # the banner comes after `banner_delay` seconds


class CertKind(StrEnum):
    """The certificate the host presents; the runner maps it to the throw-away CA."""

    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_HOST = "wrong_host"
    SELF_SIGNED = "self_signed"
    UNTRUSTED = "untrusted"  # issued by a CA that is not in the scanner's trust store
    WEAK_KEY = "weak_key"


LEGACY_MIN = ssl.TLSVersion.TLSv1
LEGACY_MAX = ssl.TLSVersion.TLSv1_1


@dataclass(frozen=True, slots=True)
class MailHostSpec:
    """One MX host of a scenario, declared in a few words.

    `ip=None` lets the runner allocate a loopback address. `tls_min`/`tls_max` bound what the
    STARTTLS upgrade accepts; a host that allows TLS 1.0 or 1.1 also drops to `@SECLEVEL=0`,
    because OpenSSL 3 refuses those versions at any higher level.
    """

    name: str
    ip: str | None = None
    starttls: bool = True
    tls_min: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    tls_max: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED
    cert: CertKind = CertKind.VALID
    behaviour: Behaviour = Behaviour.NORMAL
    banner_delay: float = 0.0  # for SLOW_BANNER
    starttls_refused: bool = False  # STARTTLS advertised, but answered "454 TLS not available"
    banner: str = ""  # the text after "220 "; default "<name> ESMTP Postfix"

    @classmethod
    def legacy(cls, name: str, ip: str | None = None, **kwargs: Any) -> MailHostSpec:
        """A host that speaks only TLS 1.0/1.1 (an old Exchange or appliance)."""
        return cls(name, ip, tls_min=LEGACY_MIN, tls_max=LEGACY_MAX, **kwargs)

    @property
    def legacy_tls(self) -> bool:
        """Whether the host accepts TLS 1.0 or 1.1 (what `mail.starttls.legacy` is about)."""
        return _allows_legacy(self.tls_min)

    @property
    def banner_text(self) -> str:
        return self.banner or f"{self.name} ESMTP Postfix"


@dataclass(slots=True)
class SmtpCounters:
    """What a mail host saw. Mutable state of one server, read by tests and benchmarks."""

    sessions: int = 0  # accepted TCP connections
    starttls_upgrades: int = 0  # STARTTLS commands answered with 220
    tls_handshakes: int = 0  # upgrades that completed the TLS handshake
    tls_failures: int = 0  # upgrades whose handshake failed
    tls_versions: list[str] = field(default_factory=list)  # negotiated, e.g. "TLSv1.3"
    ehlo_names: list[str] = field(default_factory=list)  # EHLO and HELO arguments, in order
    mail_from_seen: int = 0  # must stay 0 for a passive scanner
    rcpt_to_seen: int = 0
    data_seen: int = 0
    commands: Counter[str] = field(default_factory=Counter)  # verb -> count


def server_context(
    certfile: str | Path,
    keyfile: str | Path | None = None,
    *,
    tls_min: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    tls_max: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
) -> ssl.SSLContext:
    """A server-side context for the STARTTLS upgrade from PEM files.

    For the range of a legacy host the security level drops to 0, or OpenSSL 3 would refuse
    TLS 1.0/1.1 (and SHA-1 signatures) regardless of the version bounds.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/TLSv1_1 are deprecated
        ctx.minimum_version = tls_min
        ctx.maximum_version = tls_max
    if _allows_legacy(tls_min):
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def spec_context(
    spec: MailHostSpec, certfile: str | Path, keyfile: str | Path | None = None
) -> ssl.SSLContext:
    """`server_context` with the TLS range of `spec`."""
    return server_context(certfile, keyfile, tls_min=spec.tls_min, tls_max=spec.tls_max)


def _allows_legacy(tls_min: ssl.TLSVersion) -> bool:
    # MINIMUM_SUPPORTED is a magic value (-2), not "TLS 1.0": OpenSSL 3 then still needs 1.2.
    return tls_min != ssl.TLSVersion.MINIMUM_SUPPORTED and tls_min < ssl.TLSVersion.TLSv1_2


def check_loopback(host: str) -> None:
    """Refuse to bind anything but 127.0.0.0/8: the testbed never listens on a real network."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r}: the testbed binds loopback IP addresses only") from None
    if not (ip.version == 4 and ip in ipaddress.ip_network("127.0.0.0/8")):
        raise ValueError(f"{host}: the testbed binds 127.0.0.0/8 addresses only")


class _Closing(Exception):
    """The session ends (QUIT, line too long, too many commands, idle)."""


class SmtpServer:
    """One mail host listening on one loopback address and port.

    Give the STARTTLS context ready-made (`ssl_context`, e.g. from the testbed CA) or as PEM
    paths (`certfile`/`keyfile`, combined with the spec's TLS range). A spec with `starttls=True`
    needs one of them.
    """

    def __init__(
        self,
        spec: MailHostSpec,
        *,
        ssl_context: ssl.SSLContext | None = None,
        certfile: str | Path | None = None,
        keyfile: str | Path | None = None,
    ) -> None:
        if ssl_context is None and certfile is not None:
            ssl_context = spec_context(spec, certfile, keyfile)
        if spec.starttls and ssl_context is None and spec.behaviour != Behaviour.REFUSE:
            raise ValueError(f"{spec.name}: STARTTLS needs an ssl_context or certfile")
        self.spec = spec
        self.counters = SmtpCounters()
        self._ssl = ssl_context
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.host = ""
        self.port = 0
        #: seconds added before each session is served (a round trip, roughly)
        self.latency = 0.0

    @property
    def mail_from_seen(self) -> int:
        return self.counters.mail_from_seen

    @property
    def sessions(self) -> int:
        return self.counters.sessions

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (port 0: a free one; see `port`). REFUSE listens nowhere."""
        check_loopback(host)
        self.host = host
        if self.spec.behaviour == Behaviour.REFUSE:
            self.port = port or _free_port(host)
            return
        self._server = await asyncio.start_server(
            self._session, host, port, limit=MAX_LINE, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def close(self) -> Awaitable[None]:
        """Stop listening and drop every open session (hanging ones included).

        The work is done at once; the returned awaitable resolves when every session task has
        finished, so both `server.close()` and `await server.close()` are right.
        """
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return asyncio.ensure_future(_settle(tasks))

    # --- one session -------------------------------------------------------------------------

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.counters.sessions += 1
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            await self._behave(reader, writer)
        except (_Closing, ConnectionError, TimeoutError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only close() cancels a session. Ending normally keeps asyncio's stream callback,
            # which calls task.exception(), from logging the cancellation as an error.
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _behave(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        behaviour = self.spec.behaviour
        if behaviour == Behaviour.RESET:
            _reset(writer)
            return
        if behaviour == Behaviour.HANG:
            await _swallow(reader)
            return
        if behaviour == Behaviour.SLOW_BANNER:
            await asyncio.sleep(self.spec.banner_delay)
        await _send(writer, f"220 {self.spec.banner_text}")
        await self._dialogue(reader, writer)

    async def _dialogue(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tls = False
        for _ in range(MAX_COMMANDS):
            line = await _read_line(reader, writer)
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            self.counters.commands[verb] += 1
            if verb == "STARTTLS":
                upgraded = await self._starttls(writer, tls, arg)
                if upgraded:
                    tls = True
                continue
            await _send(writer, self._reply(verb, arg.strip(), tls))
            if verb == "QUIT":
                raise _Closing
        await _send(writer, "421 4.7.0 Too many commands, closing connection")

    def _reply(self, verb: str, arg: str, tls: bool) -> str:
        """The answer to every command except STARTTLS; counts what a passive scanner must not send."""
        name = self.spec.name
        match verb:
            case "EHLO":
                if not arg:
                    return "501 5.5.4 Syntax: EHLO hostname"
                self.counters.ehlo_names.append(arg)
                extensions = ["PIPELINING", "SIZE 10240000"]
                if self.spec.starttls and not tls:
                    extensions.append("STARTTLS")
                extensions += ["ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8"]
                lines = [name, *extensions]
                return "\r\n".join(
                    f"250{' ' if i == len(lines) - 1 else '-'}{text}"
                    for i, text in enumerate(lines)
                )
            case "HELO":
                if not arg:
                    return "501 5.5.4 Syntax: HELO hostname"
                self.counters.ehlo_names.append(arg)
                return f"250 {name}"
            case "MAIL":
                self.counters.mail_from_seen += 1
                return "250 2.1.0 Ok"
            case "RCPT":
                self.counters.rcpt_to_seen += 1
                return "250 2.1.5 Ok"
            case "DATA":
                self.counters.data_seen += 1
                return "554 5.5.1 Error: no valid recipients"
            case "RSET" | "NOOP":
                return "250 2.0.0 Ok"
            case "VRFY":
                return "252 2.0.0 Cannot VRFY user"
            case "HELP":
                return "214 2.0.0 See RFC 5321"
            case "QUIT":
                return "221 2.0.0 Bye"
            case _:
                return "502 5.5.2 Error: command not recognized"

    async def _starttls(self, writer: asyncio.StreamWriter, tls: bool, arg: str) -> bool:
        if not self.spec.starttls or tls or self._ssl is None:
            await _send(writer, "502 5.5.1 Error: command not implemented")
            return False
        if arg.strip():
            await _send(writer, "501 5.5.4 Syntax: STARTTLS")
            return False
        if self.spec.starttls_refused:
            await _send(writer, "454 4.7.0 TLS not available due to local problem")
            return False
        await _send(writer, "220 2.0.0 Ready to start TLS")
        self.counters.starttls_upgrades += 1
        try:
            await writer.start_tls(self._ssl, ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError):
            self.counters.tls_failures += 1
            raise _Closing from None
        ssl_object = writer.get_extra_info("ssl_object")
        self.counters.tls_handshakes += 1
        self.counters.tls_versions.append(ssl_object.version() if ssl_object else "")
        return True


async def _swallow(reader: asyncio.StreamReader) -> None:
    """Hang: read and drop what the client sends (at most HANG_CAP bytes), answer nothing,
    and hang up after HANG_TIMEOUT so that a forgotten client cannot keep a task forever."""
    seen = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(HANG_TIMEOUT):
            while seen < HANG_CAP:
                data = await reader.read(4096)
                if not data:
                    return
                seen += len(data)
            await asyncio.Event().wait()  # over the cap: stop reading, keep holding the line


async def _send(writer: asyncio.StreamWriter, text: str) -> None:
    writer.write(text.encode("utf-8") + b"\r\n")
    await writer.drain()


async def _read_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
    """One command line, capped in length and in idle time."""
    try:
        async with asyncio.timeout(IDLE_TIMEOUT):
            raw = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError:
        await _send(writer, "500 5.5.0 Error: line too long")
        raise _Closing from None
    except TimeoutError:
        await _send(writer, "421 4.4.2 Error: timeout exceeded")
        raise _Closing from None
    return raw.decode("utf-8", "replace").rstrip("\r\n")


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0, so the peer sees a TCP RST rather than an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _settle(tasks: list[asyncio.Task[None]]) -> None:
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


def _free_port(host: str) -> int:
    """A port on `host` where nothing listens (bound, read and released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
