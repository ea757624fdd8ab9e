"""Safe fetching of public web pages: `fetch(ctx, url, ...) -> FetchResult`.

Used by the web, security.txt and MTA-STS checks (and `fetch_over_stream`, one GET on a
connection that is already open, by the TLS probe's HTTPS visit). What "safe" means here:

- **Never into someone's internal network.** Every hop's host name is resolved through the run's
  resolver (`ctx.dns`) and the connection goes to that pinned address, which must pass
  `allowed(ip)` (by default `exposure.net.scope.in_scope(ip, settings.allow_private)`): a site
  that redirects to `http://10.0.0.1/` or to a name resolving to 127.0.0.1 is refused
  (`FetchError.OUT_OF_SCOPE`), and DNS cannot change between the check and the connection.
- **Bounded.** Connect (including the TLS handshake) within the connect time-out, each answer
  (sending the request, the head, the body) within the read time-out as a whole, not per read
  (a server that trickles a byte at a time cannot hold it), the head within h11's 64 KiB, and
  the whole fetch, redirects included, within a deadline. The body is streamed and
  reading stops at `max_bytes` (a 60 MB page costs `max_bytes` of memory and the bytes in flight,
  `truncated` says so); compressed bodies are inflated with the same cap (no zip bombs).
- **Redirects are followed here, hop by hop**, at most
  `max_redirects`, and each hop is recorded (`FetchResult.hops`), because checks judge the chain
  itself (web.https.no_redirect: "the first hop must go to HTTPS on the same host").
- **Ports as configured.** A URL without a port, or with the default port of its scheme, goes
  to `settings.port("http"|"https")` (the testbed's high ports in a lab); any other explicit port
  is used as given.
- **Polite.** Each hop holds the run's per-IP slot (`ctx.limits.ip`), and with `family` also the
  family's "one connection at a time per IP" slot. Do not call `fetch(family=F)` while holding
  `ctx.limits.family_ip(F, ip)` yourself: the slot is not re-entrant.
- **Could not fetch is a value.** Time-outs, refusals, resets, TLS failures and refused
  redirects come back as `FetchResult.error` (a `FetchError`) with a one-line `detail`; a check
  maps that to a `CheckFailure` (`FetchResult.failure_reason`) and never to a finding.

Why an own client and not httpx (issue 15, measured): httpx's pool is keyed by origin, and an
httpcore network backend that dials the pinned address keeps Host and SNI right, so httpx could
do this (`benchmarks/httpx_variant.py` does, with the same caps, and passes the same tests). Side
by side on the testbed it cost 1.60x the CPU of this client per web-check fetch (http, redirect,
verified https), 2.2x per plain exchange, 1.34x per https fetch (medians of 5 rounds, uvloop;
`benchmarks/README.md`, "http_client.py"), above the 1.25x set beforehand. So each hop is one
connection of our own: `asyncio.open_connection` to the pinned address, `start_tls` with the
run's shared TLS contexts and the host name as SNI, and one HTTP/1.1 request through h11
(`StreamClient`, which the site visit also uses on the TLS probe's connection), with
`Connection: close`. httpx still parses and joins URLs. Failures are classified by exception
type and by what the stream saw (a close before or during the answer is `RESET`, anything else
h11 refuses is `PROTOCOL`), never by the words of a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import h11
import httpx

from exposure.contract import FailureReason
from exposure.net.certlimit import is_local_limit
from exposure.net.dns import DnsStatus
from exposure.net.politeness import connection_slot, silent_addresses, silent_detail
from exposure.net.scope import in_scope
from exposure.net.sslcontexts import contexts

if TYPE_CHECKING:
    from exposure.contract import CheckContext

DEFAULT_MAX_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
#: How every request of the scanner names itself (the web checks, MTA-STS, Shodan): one name, so
#: that a member's hosting provider sees the same visitor in every log line.
USER_AGENT = "exposure/0.1 (passive check for a Meldpunt Cybersecurity)"


class FetchError(StrEnum):
    """Why a fetch produced no (complete) answer."""

    TIMEOUT = "timeout"  # connect, handshake or read time-out, or the fetch's deadline
    REFUSED = "refused"  # TCP connection refused: nothing listens on the port
    UNREACHABLE = "unreachable"  # no route, host down
    RESET = "reset"  # the server reset or closed the connection before a complete answer
    TLS = "tls"  # the TLS handshake failed (no common version, alert, not TLS at all)
    CERTIFICATE = "certificate"  # verify=True and the certificate did not verify
    PROTOCOL = "protocol"  # not a valid HTTP answer
    NO_ADDRESS = "no_address"  # the host name has no A/AAAA record (NXDOMAIN or NODATA)
    DNS = "dns"  # DNS did not answer (time-out, SERVFAIL): could not resolve
    OUT_OF_SCOPE = "out_of_scope"  # the address is private/loopback/link-local (or not allowed)
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BAD_REDIRECT = "bad_redirect"  # a Location that is not an http(s) URL
    INSECURE_REDIRECT = "insecure_redirect"  # https_only_redirects and a hop to plain http
    BAD_URL = "bad_url"  # the URL given by the caller
    LOCAL_LIMIT = "local_limit"  # over a limit of ours (the certificate message): no verdict


@dataclass(frozen=True, slots=True)
class Hop:
    """One request of a fetch and its answer. `location` is set on redirects (as sent)."""

    url: str
    address: str
    status: int
    location: str = ""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a fetch saw. `hops` holds every answered request in order, the final one included.

    On an error, `status`, `headers` and `body` are those of the last answer, if any (a body
    that broke off half-way keeps what arrived); `final_url` is the URL that was being fetched.
    """

    url: str
    final_url: str
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    truncated: bool = False
    hops: tuple[Hop, ...] = ()
    address: str = ""
    tls_version: str | None = None
    error: FetchError | None = None
    detail: str = ""
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """An HTTP answer arrived completely (any status; see `status`)."""
        return self.error is None and self.status is not None

    @property
    def answered(self) -> bool:
        """At least one HTTP answer arrived (even if the fetch then failed)."""
        return bool(self.hops)

    @property
    def redirects(self) -> tuple[Hop, ...]:
        return tuple(h for h in self.hops if h.location)

    def header(self, name: str) -> str | None:
        """The last value of a header (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in reversed(self.headers):
            if key.lower() == wanted:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case ("" when absent)."""
        raw = self.header("content-type") or ""
        return raw.split(";", 1)[0].strip().lower()

    def text(self) -> str:
        """The body as text: the declared charset, else UTF-8, undecodable bytes replaced."""
        charset = "utf-8"
        for param in (self.header("content-type") or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    @property
    def failure_reason(self) -> FailureReason | None:
        """The `CheckFailure` reason a check should report for this error (None when ok)."""
        from exposure.net.failures import could_not_test  # the table imports this module

        return None if self.error is None else could_not_test(self.error)

    def evidence(self) -> dict[str, Any]:
        """A small JSON-ready summary for a finding's evidence."""
        data: dict[str, Any] = {"url": self.url, "final_url": self.final_url}
        if self.status is not None:
            data["status"] = self.status
        if self.address:
            data["address"] = self.address
        if self.redirects:
            data["redirects"] = [
                {"url": h.url, "status": h.status, "location": h.location} for h in self.redirects
            ]
        if self.error is not None:
            data["error"] = str(self.error)
            data["error_detail"] = self.detail
        return data


class _Stop(Exception):
    """Ends a fetch early with an error (internal)."""

    def __init__(self, error: FetchError, detail: str) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail


def effective_port(url: httpx.URL, ports: Mapping[str, int]) -> int:
    """The port to connect to: explicit non-default ports as given, else the configured one."""
    default = DEFAULT_PORTS[url.scheme]
    if url.port is None or url.port == default:
        return ports.get(url.scheme, default)
    return url.port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve_address(ctx: CheckContext, host: str, allowed: Callable[[str], bool]) -> str:
    """The first allowed address of a host name (A before AAAA), or `_Stop` saying why not."""
    if _is_ip(host):
        if not allowed(host):
            raise _Stop(FetchError.OUT_OF_SCOPE, f"{host} is not an address the scan may contact")
        return host
    answers = await asyncio.gather(ctx.dns.resolve(host, "A"), ctx.dns.resolve(host, "AAAA"))
    addresses = [str(r) for a in answers if a.status is DnsStatus.OK for r in a.records]
    for address in addresses:
        if allowed(address):
            return address
    if addresses:
        raise _Stop(
            FetchError.OUT_OF_SCOPE,
            f"{host} resolves to {', '.join(addresses)}: private, loopback or link-local "
            "address space (not contacted)",
        )
    if all(a.decisive for a in answers):
        raise _Stop(FetchError.NO_ADDRESS, f"{host} has no A or AAAA record")
    statuses = ", ".join(f"{a.rdtype}: {a.status}" for a in answers if not a.decisive)
    raise _Stop(FetchError.DNS, f"could not resolve {host} ({statuses})")


class _Capped:
    """Collects a body up to `cap` bytes, inflating gzip/deflate with the same cap."""

    def __init__(self, cap: int, encoding: str) -> None:
        self.cap = cap
        self.parts: list[bytes] = []
        self.size = 0
        self.truncated = False
        encoding = encoding.strip().lower()
        self._inflate: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj()

    def feed(self, chunk: bytes) -> bool:
        """Add raw bytes; False once the cap is reached (stop reading)."""
        if self._inflate is not None:
            try:
                chunk = self._inflate.decompress(chunk, self.cap - self.size + 1)
            except zlib.error:
                self._inflate = None  # not really compressed: keep the raw bytes
            else:
                if self._inflate.unconsumed_tail:
                    self.truncated = True
        room = self.cap - self.size
        if len(chunk) > room:
            chunk = chunk[:room]
            self.truncated = True
        self.parts.append(chunk)
        self.size += len(chunk)
        return not self.truncated

    @property
    def body(self) -> bytes:
        return b"".join(self.parts)


@dataclass(slots=True)
class _State:
    url: str
    final_url: str
    hops: list[Hop] = field(default_factory=list)
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    truncated: bool = False
    address: str = ""
    tls_version: str | None = None


async def fetch(
    ctx: CheckContext,
    url: str,
    *,
    address: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = 5,
    follow_redirects: bool = True,
    https_only_redirects: bool = False,
    verify: bool = True,
    allowed: Callable[[str], bool] | None = None,
    family: str | None = None,
    headers: Mapping[str, str] | None = None,
    deadline: float | None = None,
) -> FetchResult:
    """GET `url` safely (see the module docstring) and say what came back.

    - `address`: connect the first hop to this IP instead of resolving the URL's host (a check
      that judges each A/AAAA address of a host separately); later hops to the same host stay
      on it, hops to other hosts are resolved.
    - `max_bytes`: the body cap. `max_redirects`: redirects followed; a chain longer than that
      ends in `TOO_MANY_REDIRECTS` with the last redirect as `status`.
    - `follow_redirects=False`: a redirect is the answer (`status`, `hops[0].location`), not an
      error; nothing is fetched from its Location.
    - `https_only_redirects`: a redirect to plain http ends the fetch (`INSECURE_REDIRECT`).
    - `verify`: verify certificates against `ca_bundle` (security.txt, MTA-STS policies). With
      `verify=False` the fetch looks at HTTP behaviour only (TLS 1.0-1.3, any certificate).
    - `allowed(ip)`: may this address be contacted? Default: `in_scope(ip, allow_private)`.
    - `family`: also hold the family's one-connection-per-IP slot for each hop.
    - `deadline`: seconds for the whole fetch; default 2 x (connect + read time-out).
    """
    settings = ctx.settings
    permitted = allowed or (lambda ip: in_scope(ip, settings.allow_private))
    limit = (
        deadline if deadline is not None else 2 * (settings.connect_timeout + settings.read_timeout)
    )
    state = _State(url=url, final_url=url)
    started = time.perf_counter()
    error: FetchError | None = None
    detail = ""
    try:
        async with asyncio.timeout(limit):
            await _run(
                ctx,
                state,
                address=address,
                max_bytes=max_bytes,
                max_redirects=max_redirects,
                follow=follow_redirects,
                https_only=https_only_redirects,
                verify=verify,
                allowed=permitted,
                family=family,
                extra_headers=headers or {},
            )
    except _Stop as stop:
        error, detail = stop.error, stop.detail
    except TimeoutError:
        error, detail = FetchError.TIMEOUT, f"no complete answer within {limit:g} s"
    return FetchResult(
        url=url,
        final_url=state.final_url,
        status=state.status,
        headers=state.headers,
        body=state.body,
        truncated=state.truncated,
        hops=tuple(state.hops),
        address=state.address,
        tls_version=state.tls_version,
        error=error,
        detail=detail,
        elapsed=time.perf_counter() - started,
    )


async def _run(
    ctx: CheckContext,
    state: _State,
    *,
    address: str | None,
    max_bytes: int,
    max_redirects: int,
    follow: bool,
    https_only: bool,
    verify: bool,
    allowed: Callable[[str], bool],
    family: str | None,
    extra_headers: Mapping[str, str],
) -> None:
    ssl_contexts = await contexts(ctx)
    tls_context = ssl_contexts.verified if verify else ssl_contexts.wide
    try:
        current = httpx.URL(state.url)
    except httpx.InvalidURL as exc:
        raise _Stop(FetchError.BAD_URL, f"{state.url!r}: {exc}") from None
    if current.scheme not in DEFAULT_PORTS or not current.raw_host:
        raise _Stop(FetchError.BAD_URL, f"{state.url!r} is not an absolute http(s) URL")
    previous_host: str | None = None
    pinned = address
    for hop in range(max_redirects + 1):
        host = current.raw_host.decode("ascii").lower()
        if hop > 0 or pinned is None:
            if host == previous_host and state.address:
                pinned = state.address
            else:
                pinned = await resolve_address(ctx, host, allowed)
        elif not allowed(pinned):
            raise _Stop(FetchError.OUT_OF_SCOPE, f"{pinned} is not an address the scan may contact")
        assert pinned is not None
        state.final_url = str(current)
        state.address = pinned
        previous_host = host
        location = await _one(
            ctx,
            state,
            current,
            host,
            pinned,
            max_bytes=max_bytes,
            family=family,
            tls_context=tls_context,
            extra_headers=extra_headers,
        )
        if location is None or not follow:
            return
        try:
            target = current.join(location)
        except httpx.InvalidURL as exc:
            raise _Stop(FetchError.BAD_REDIRECT, f"Location {location!r}: {exc}") from None
        if target.scheme not in DEFAULT_PORTS or not target.raw_host:
            raise _Stop(FetchError.BAD_REDIRECT, f"Location {location!r} is not http(s)")
        if https_only and target.scheme != "https":
            raise _Stop(FetchError.INSECURE_REDIRECT, f"redirect from {current} to plain {target}")
        if hop == max_redirects:
            break
        current = target
    raise _Stop(
        FetchError.TOO_MANY_REDIRECTS, f"more than {max_redirects} redirects from {state.url}"
    )


async def _one(
    ctx: CheckContext,
    state: _State,
    url: httpx.URL,
    host: str,
    address: str,
    *,
    max_bytes: int,
    family: str | None,
    tls_context: ssl.SSLContext,
    extra_headers: Mapping[str, str],
) -> str | None:
    """One request to a pinned address. Returns the Location of a redirect, else None."""
    settings = ctx.settings
    port = effective_port(url, settings.ports)
    https = url.scheme == "https"
    silent = await silent_addresses(ctx)
    async with connection_slot(ctx, address, family):
        why = silent.why(address, host)
        if why is not None:
            raise _Stop(FetchError.TIMEOUT, silent_detail(address, why))
        try:
            async with asyncio.timeout(settings.connect_timeout):
                reader, writer = await asyncio.open_connection(address, port)
        except TimeoutError:
            silent.mark(address, f"TCP connect to port {port} timed out")
            raise _Stop(FetchError.TIMEOUT, "connect timed out") from None
        except OSError as exc:
            raise _Stop(*_connect_error(exc)) from None
        if https:
            try:
                async with asyncio.timeout(settings.connect_timeout):
                    await writer.start_tls(
                        tls_context,
                        server_hostname=host,
                        ssl_handshake_timeout=settings.connect_timeout + 1,
                    )
            except TimeoutError:
                writer.transport.abort()
                detail = f"TLS handshake timed out after {settings.connect_timeout:g} s"
                silent.mark(address, f"{detail} on port {port}", host)
                raise _Stop(FetchError.TIMEOUT, "connect timed out (TLS handshake)") from None
            except (OSError, EOFError) as exc:
                writer.transport.abort()
                raise _Stop(*_handshake_error(exc)) from None
        answer: FetchResult | None = None
        stream = StreamClient(reader, writer, address=address, read_timeout=settings.read_timeout)
        try:
            answer = await stream.get(str(url), max_bytes=max_bytes, headers=extra_headers)
        except BaseException:
            if stream.answer is not None:  # the fetch's deadline: keep what had arrived
                _keep(state, stream.partial())
            raise
        finally:
            await close_stream(writer, graceful=answer is not None and answer.error is None)
    location = _keep(state, answer)
    if location:
        return location
    if answer.error is not None:
        raise _Stop(answer.error, answer.detail)
    return None


def _keep(state: _State, answer: FetchResult) -> str:
    """Record one hop's answer in the fetch's state; the Location of a redirect, else ""."""
    state.tls_version = answer.tls_version
    if not answer.hops:
        return ""
    hop = answer.hops[0]
    state.status, state.headers = answer.status, answer.headers
    state.hops.append(hop)
    if hop.location:
        return hop.location
    state.body, state.truncated = answer.body, answer.truncated
    return ""


def _connect_error(exc: OSError) -> tuple[FetchError, str]:
    """Why a TCP connection could not be made, as a `FetchError`."""
    if isinstance(exc, ConnectionRefusedError):
        return FetchError.REFUSED, "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return FetchError.RESET, "connection reset by the server"
    return FetchError.UNREACHABLE, exc.strerror or str(exc) or type(exc).__name__


def _handshake_error(exc: BaseException) -> tuple[FetchError, str]:
    """Why the TLS handshake failed: the certificate (when verifying), or TLS itself (an alert,
    no common version, a server that closes or resets on our ClientHello, not TLS at all)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchError.CERTIFICATE, exc.verify_message or str(exc)
    if is_local_limit(exc):
        return FetchError.LOCAL_LIMIT, f"the server's TLS message is over our own limit ({exc})"
    if isinstance(exc, ssl.SSLError):
        return FetchError.TLS, exc.reason or str(exc)
    if isinstance(exc, ConnectionResetError | BrokenPipeError) and exc.errno is not None:
        return FetchError.RESET, "connection reset by the server"  # a TCP reset
    if isinstance(exc, ConnectionError | EOFError):
        # asyncio reports an orderly close during the handshake as a ConnectionResetError
        # without an errno: the server hung up on our ClientHello (an old or picky server)
        return FetchError.TLS, "the server closed the connection during the TLS handshake"
    return FetchError.TLS, f"{type(exc).__name__}: {exc}"[:300]


async def close_stream(writer: asyncio.StreamWriter, *, graceful: bool) -> None:
    """Close politely after a complete exchange (close_notify, briefly awaited); abort at once
    after a failed or hung one, so a silent server costs no extra wait. Shared with the TLS
    probe."""
    if not graceful:
        writer.transport.abort()
        return
    writer.close()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(0.5):
            await writer.wait_closed()


async def fetch_over_stream(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    url: str,
    address: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    read_timeout: float = 10.0,
) -> FetchResult:
    """GET `url` over a connection that is already open (and usually already TLS).

    The TLS probe uses this to look at the HTTPS answer on the very connection it judged the
    certificate on, so a site costs one handshake, not two. One request, no redirects followed
    (a redirect is the answer: `status` and `hops[0].location`), the body capped at `max_bytes`,
    the whole answer within `read_timeout`. The caller owns (and closes) the connection.
    """
    stream = StreamClient(reader, writer, address=address, read_timeout=read_timeout)
    return await stream.get(url, max_bytes=max_bytes)


@dataclass(slots=True)
class _Answer:
    """The answer a `StreamClient` is reading, as far as it got (kept when a deadline cuts the
    read short, so the caller can still say what had arrived)."""

    url: str
    capped: _Capped
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    hops: list[Hop] = field(default_factory=list)


class StreamClient:
    """HTTP/1.1 requests one after another on one open connection (keep-alive).

    A site visit asks for `/.well-known/security.txt` and then `/` over the handshake it judged,
    instead of opening a second connection (and a second handshake) for the file. `get(...,
    keep_alive=True)` reads the whole answer so that the connection can carry the next request;
    `reusable` says whether it can (the server may close, or the answer may exceed the cap). A
    request that cannot be sent because the connection is spent fails with `FetchError.RESET`.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        address: str,
        read_timeout: float = 10.0,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._address = address
        self._read_timeout = read_timeout
        self._conn = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=64 * 1024)
        self.reusable = True
        self.answer: _Answer | None = None  # the last request's answer, as far as it got

    async def get(
        self,
        url: str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        keep_alive: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """GET `url` (its host and port go in the Host header; the connection is already made
        to wherever that is). A redirect is the answer, as in `fetch_over_stream`."""
        started = time.perf_counter()
        if not self.reusable:
            return FetchResult(
                url=url,
                final_url=url,
                address=self._address,
                error=FetchError.RESET,
                detail="the connection cannot carry another request",
            )
        self.reusable = False
        conn = self._conn
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")
        if ":" in host:
            host = f"[{host}]"  # an IPv6 literal
        host_header = host if target.port is None else f"{host}:{target.port}"
        a = self.answer = _Answer(url, _Capped(max_bytes, ""))
        error: FetchError | None = None
        detail = ""
        complete = False
        closed = False  # the server closed its side (a read returned no bytes)
        # one bound for the whole answer, not per read: a server that trickles a byte at a
        # time (each read in time) must not hold the connection for ever
        until = asyncio.get_running_loop().time() + self._read_timeout
        try:
            request = h11.Request(
                method="GET",
                target=target.raw_path or b"/",
                headers=[
                    ("Host", host_header),
                    ("User-Agent", USER_AGENT),
                    ("Accept", "*/*"),
                    ("Accept-Encoding", "identity"),
                    ("Connection", "keep-alive" if keep_alive else "close"),
                    *(headers or {}).items(),
                ],
            )
            self._writer.write(conn.send(request) + (conn.send(h11.EndOfMessage()) or b""))
            async with asyncio.timeout_at(until):
                await self._writer.drain()
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    async with asyncio.timeout_at(until):
                        data = await self._reader.read(64 * 1024)
                    closed = not data
                    conn.receive_data(data)
                    continue
                if isinstance(event, h11.InformationalResponse):
                    continue
                if isinstance(event, h11.Response):
                    a.status = event.status_code
                    a.headers = tuple(
                        (k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers
                    )
                    location = next((v for k, v in a.headers if k.lower() == "location"), "")
                    if a.status in REDIRECT_STATUSES and location:
                        a.hops.append(Hop(url, self._address, a.status, location))
                        if not keep_alive:
                            break
                    else:
                        a.hops.append(Hop(url, self._address, a.status))
                    encoding = next(
                        (v for k, v in a.headers if k.lower() == "content-encoding"), ""
                    )
                    a.capped = _Capped(max_bytes, encoding)
                    continue
                if isinstance(event, h11.Data):
                    if not a.capped.feed(bytes(event.data)):
                        break
                    continue
                complete = isinstance(event, h11.EndOfMessage)
                break  # EndOfMessage, ConnectionClosed
        except TimeoutError:
            error, detail = (
                FetchError.TIMEOUT,
                f"no complete answer within {self._read_timeout:g} s",
            )
        except h11.RemoteProtocolError as exc:
            # by what the stream saw, not by the words of h11's message: a server that closed
            # before or during the answer reset the exchange; anything else is not HTTP
            if closed and a.status is None:
                error, detail = (
                    FetchError.RESET,
                    "the server closed the connection without answering",
                )
            elif closed:
                error, detail = FetchError.RESET, f"the answer broke off: {exc}"
            else:
                error, detail = FetchError.PROTOCOL, str(exc)
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            error, detail = FetchError.RESET, f"{type(exc).__name__}: {exc}"
        if a.status is None and error is None:
            error, detail = FetchError.RESET, "the server closed the connection without answering"
        if keep_alive and complete and error is None and not a.capped.truncated:
            self.reusable = self._next_cycle()
        return self.partial(error, detail, time.perf_counter() - started)

    def partial(
        self, error: FetchError | None = None, detail: str = "", elapsed: float = 0.0
    ) -> FetchResult:
        """The last request's answer as far as it got (all of it, once `get` has returned)."""
        a = self.answer
        assert a is not None, "no request made yet"
        redirected = bool(a.hops and a.hops[-1].location)
        return FetchResult(
            url=a.url,
            final_url=a.url,
            status=a.status,
            headers=a.headers,
            body=b"" if redirected else a.capped.body,
            truncated=a.capped.truncated and not redirected,
            hops=tuple(a.hops),
            address=self._address,
            tls_version=_stream_tls_version(self._writer),
            error=error,
            detail=detail,
            elapsed=elapsed,
        )

    def _next_cycle(self) -> bool:
        conn = self._conn
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return False  # the server said `Connection: close` (or spoke HTTP/1.0)
        try:
            conn.start_next_cycle()
        except h11.LocalProtocolError:
            return False
        return True


def _stream_tls_version(writer: asyncio.StreamWriter) -> str | None:
    ssl_object = writer.get_extra_info("ssl_object")
    return ssl_object.version() if ssl_object is not None else None
