"""The httpx variant of `exposure.net.http.fetch`, measured against the own client (issue 15).

`exposure.net.http.fetch` resolves every hop's host name itself, checks the address against the
scope (`allowed(ip)`) and then needs an HTTP client that connects to *that* address while the
URL, the Host header and the SNI keep the host name. httpx can do this with a network backend
of its own: `PinnedBackend.connect_tcp` ignores the host name httpcore hands it and dials the
address (and port) of the current hop (`Dial`, held in a context variable for the task that
makes the request), and the TLS handshake uses the fetch's context (verified or wide) with the
host name as SNI. httpx's pool is keyed by origin, never by address; nothing is kept
(`max_keepalive_connections=0`, `Connection: close`), so a connection made for one pinned address
is never handed to a request meant for another. The stream is asyncio's own, so uvloop does the
TLS, and each failure is raised as `Failed`, an httpcore error carrying its `FetchError`.

`use()` swaps `_one_httpx` in for the own client's hop (`exposure.net.http._one`) and `restore()`
puts it back: redirects, scope checks, caps, slots and the deadline stay `fetch`'s own. The own
client won the measurement (`benchmarks/README.md`, "http_client.py"), so this lives here, not
in the product; it passes `tests/exposure/net/test_http.py` and `test_http_hostile.py` as they
are (`python benchmarks/httpx_variant.py` runs them on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import importlib.util
import ssl
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import exposure.net.http as http  # noqa: E402
from exposure.net.http import (  # noqa: E402
    REDIRECT_STATUSES,
    USER_AGENT,
    FetchError,
    Hop,
    _Capped,
    _State,
    _Stop,
    effective_port,
)

if TYPE_CHECKING:
    from exposure.contract import CheckContext

if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    # as in `exposure.sources.shodan`: httpcore imports sniffio on every lock it sets up; when
    # it is not installed each try searches sys.path again. The variant gets the same help.
    sys.modules["sniffio"] = None  # type: ignore[assignment]


class Failed(httpcore.NetworkError):
    """A connect, handshake, read or write that failed, with its `FetchError` class."""

    def __init__(self, error: FetchError, detail: str) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail


@dataclass(slots=True)
class Dial:
    """Where the current hop connects, and what its stream saw (read by `fetch` afterwards)."""

    address: str
    port: int
    tls_context: ssl.SSLContext
    stream: PinnedStream | None = None
    connected: bool = False
    handshake_started: bool = False
    handshake_done: bool = False


_DIAL: contextvars.ContextVar[Dial] = contextvars.ContextVar("exposure_pinned_dial")


@contextlib.contextmanager
def dialing(dial: Dial) -> Any:
    """Make `dial` the address the next connection of this task goes to."""
    token = _DIAL.set(dial)
    try:
        yield dial
    finally:
        _DIAL.reset(token)


def _connect_error(exc: OSError) -> tuple[FetchError, str]:
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
    if isinstance(exc, ssl.SSLError):
        return FetchError.TLS, exc.reason or str(exc)
    if isinstance(exc, ConnectionResetError | BrokenPipeError) and exc.errno is not None:
        return FetchError.RESET, "connection reset by the server"  # a TCP reset
    # asyncio reports an orderly close during the handshake as a ConnectionResetError without
    # an errno: the server hung up on our ClientHello (an old or picky server)
    return FetchError.TLS, "the server closed the connection during the TLS handshake"


class PinnedStream(httpcore.AsyncNetworkStream):
    """One TCP (and maybe TLS) connection as asyncio streams; every wait bounded by `timeout`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, dial: Dial):
        self._reader = reader
        self._writer = writer
        self._dial = dial
        self.eof = False  # the server closed its side (read returned no bytes)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout):
                data = await self._reader.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout(f"no data within {timeout:g} s") from None
        except (OSError, ssl.SSLError) as exc:
            raise Failed(FetchError.RESET, f"{type(exc).__name__}: {exc}") from exc
        if not data:
            self.eof = True
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not send within {timeout:g} s") from None
        except (OSError, ssl.SSLError) as exc:
            raise Failed(FetchError.RESET, f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        # httpcore closes after a complete exchange and after a failed one alike: abort at once
        # (a silent server costs no extra wait), as the own client did after a failed exchange
        self._writer.transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
    ) -> httpcore.AsyncNetworkStream:
        """The handshake with the fetch's context (not the client's): verified or wide."""
        dial = self._dial
        dial.handshake_started = True
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(
                    dial.tls_context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=(timeout or 60.0) + 1,
                )
        except TimeoutError:
            self._writer.transport.abort()
            raise httpcore.ConnectTimeout("TLS handshake timed out") from None
        except (OSError, EOFError) as exc:
            self._writer.transport.abort()
            raise Failed(*_handshake_error(exc)) from exc
        dial.handshake_done = True
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        return None


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dials the current `Dial`'s address and port, whatever host name the URL has."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        dial = _DIAL.get()
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(dial.address, dial.port)
        except TimeoutError:
            raise httpcore.ConnectTimeout("connect timed out") from None
        except OSError as exc:
            raise Failed(*_connect_error(exc)) from exc
        dial.connected = True
        dial.stream = PinnedStream(reader, writer, dial)
        return dial.stream

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise NotImplementedError("a scan connects over TCP only")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def pinned_client(connect_timeout: float, read_timeout: float) -> httpx.AsyncClient:
    """An httpx client whose every connection goes to the current `Dial` and is not kept.

    Redirects are not followed here (`fetch` follows them hop by hop, each hop scope-checked);
    no proxy or netrc from the environment; no connection limit of its own (the run's per-IP
    slots are the limit); nothing pooled, so nothing to close but the client itself.
    """
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
    )
    # the transport's pool, with our backend instead of anyio's (httpx has no public argument
    # for it; `AsyncHTTPTransport` keeps the pool as `_pool`)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT),  # a placeholder: see start_tls
        max_connections=None,
        max_keepalive_connections=0,
        network_backend=PinnedBackend(),
        retries=0,
    )
    return httpx.AsyncClient(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=None
        ),
    )


async def _client(ctx: CheckContext) -> httpx.AsyncClient:
    """The run's httpx client for fetches (`exposure.net.pinned`), made on first use."""

    async def make() -> httpx.AsyncClient:
        settings = ctx.settings
        return pinned_client(settings.connect_timeout, settings.read_timeout)

    return await ctx.memo.once("net.http", "client", make)


async def _one_httpx(
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
    """One request to a pinned address through httpx. The Location of a redirect, else None."""
    settings = ctx.settings
    port = effective_port(url, settings.ports)
    client = await _client(ctx)
    silent = await http.silent_addresses(ctx)
    dial = Dial(address, port, tls_context)
    request = client.build_request(
        "GET",
        url,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
            "Accept-Encoding": "identity",
            "Connection": "close",
            **extra_headers,
        },
    )
    async with http.connection_slot(ctx, address, family):  # as patched by tests
        why = silent.why(address, host)
        if why is not None:
            raise _Stop(FetchError.TIMEOUT, http.silent_detail(address, why))
        capped: _Capped | None = None
        answered = False
        location = ""
        try:
            with dialing(dial):
                response = await client.send(request, stream=True)
                try:
                    answered = True
                    headers = tuple(
                        (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw
                    )
                    state.status, state.headers = response.status_code, headers
                    stream = response.extensions.get("network_stream")
                    ssl_object = stream.get_extra_info("ssl_object") if stream else None
                    state.tls_version = ssl_object.version() if ssl_object is not None else None
                    location = next((v for k, v in headers if k.lower() == "location"), "")
                    if response.status_code in REDIRECT_STATUSES and location:
                        state.hops.append(Hop(str(url), address, response.status_code, location))
                        return location
                    state.hops.append(Hop(str(url), address, response.status_code))
                    encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
                    capped = _Capped(max_bytes, encoding)
                    state.body, state.truncated = b"", False
                    async for chunk in response.aiter_raw():
                        more = capped.feed(chunk)
                        state.body, state.truncated = capped.body, capped.truncated
                        if not more:
                            break
                finally:
                    await response.aclose()
        except httpx.TimeoutException:
            if not dial.connected:
                silent.mark(address, f"TCP connect to port {port} timed out")
                raise _Stop(FetchError.TIMEOUT, "connect timed out") from None
            if dial.handshake_started and not dial.handshake_done:
                detail = f"TLS handshake timed out after {settings.connect_timeout:g} s"
                silent.mark(address, f"{detail} on port {port}", host)
                raise _Stop(FetchError.TIMEOUT, "connect timed out (TLS handshake)") from None
            raise _Stop(
                FetchError.TIMEOUT, f"no complete answer within {settings.read_timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise _Stop(*_transport_error(exc, dial, answered)) from None
    return None


def _transport_error(
    exc: httpx.TransportError, dial: Dial, answered: bool
) -> tuple[FetchError, str]:
    """A failed exchange as a `FetchError`, by exception type and by what the stream saw."""
    cause = exc.__cause__
    if isinstance(cause, Failed):  # our backend's connect, handshake, read or write
        return cause.error, cause.detail
    if isinstance(exc, httpx.RemoteProtocolError):
        if dial.stream is not None and dial.stream.eof:
            if not answered:
                return FetchError.RESET, "the server closed the connection without answering"
            return FetchError.RESET, f"the server closed the connection mid-answer ({exc})"
        return FetchError.PROTOCOL, str(exc)
    if isinstance(exc, httpx.ProtocolError):
        return FetchError.PROTOCOL, str(exc)
    return FetchError.RESET, f"{type(exc).__name__}: {exc}"


_OWN = http._one


def use() -> None:
    """Make `fetch` go through httpx."""
    http._one = _one_httpx  # type: ignore[assignment]


def restore() -> None:
    http._one = _OWN  # type: ignore[assignment]


if __name__ == "__main__":
    import pytest

    use()
    tests = ["tests/exposure/net/test_http.py", "tests/exposure/net/test_http_hostile.py"]
    raise SystemExit(pytest.main(["-q", "-p", "no:warnings", *[str(ROOT / t) for t in tests]]))
