"""A minimal asyncio HTTP/1.1 server for the testbed (web sites, Shodan look-alikes).

Why not aiohttp or http.server: the testbed must misbehave on purpose (hang, reset, stream 60 MB
slowly, answer every path with 200) and must know the SNI of each TLS connection, which the
usual servers hide. It only has to be correct enough for httpx and the scanner's own probes.

What it does:
- one handler coroutine `Request -> Response`, per request;
- HTTP/1.1 keep-alive (up to `max_requests` per connection, `Connection: close` honoured),
  HTTP/1.0 closes after the response;
- caps: request line, header block and request body sizes (a test server must not be a memory
  hog either), and an idle timeout;
- optional TLS through an `ssl.SSLContext`, or chosen per connection from the SNI of the
  ClientHello (`tls_select`), which is also how a host can hang or reset mid-handshake; the SNI
  is in `Request.sni`;
- bodies as bytes, or as an async iterator of chunks (sent chunked, or with a declared
  `Content-Length`), for huge or slow streams;
- behaviours: `Response(hang=True)` (never answer), `Response(reset=True)` (TCP RST),
  `Response(delay=...)`;
- `BlackholeServer`: a port that accepts TCP and then hangs or resets, for hosts that are dead
  at the TCP level.

Every connection is tracked, so `close()` leaves nothing running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import ssl
import struct
from collections import Counter
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

MAX_REQUEST_LINE = 8 * 1024
MAX_HEADER_BYTES = 32 * 1024
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024

#: A body stream: an async iterable of chunks, or a zero-argument callable returning a fresh one
#: (use the callable form in `Response` values that are served more than once).
BodyStream = AsyncIterable[bytes] | Callable[[], AsyncIterable[bytes]]


class Headers(Mapping[str, str]):
    """Case-insensitive, order-keeping header list; `[name]` gives the last value."""

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._items: list[tuple[str, str]] = list(items or [])

    def __getitem__(self, name: str) -> str:
        wanted = name.lower()
        for key, value in reversed(self._items):
            if key.lower() == wanted:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for key, _ in self._items:
            if key.lower() not in seen:
                seen.add(key.lower())
                yield key

    def __len__(self) -> int:
        return len({key.lower() for key, _ in self._items})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self._items)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self._items if key.lower() == wanted]

    def items_list(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed request, as a handler sees it."""

    method: str
    target: str  # the raw request target, e.g. "/a/b?x=1"
    path: str
    query: dict[str, str]
    version: str  # "HTTP/1.1"
    headers: Headers
    body: bytes
    client: tuple[str, int]
    server: tuple[str, int]
    sni: str | None = None  # the server name the TLS client asked for (None: plain HTTP / no SNI)
    tls: bool = False

    @property
    def host(self) -> str:
        """The host the client meant: Host header (lower-case, no port), else SNI, else our IP."""
        raw = self.headers.get("host", "").strip().lower()
        if raw:
            if raw.startswith("["):
                return raw[1 : raw.find("]")] if "]" in raw else raw
            return raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw
        return (self.sni or self.server[0]).lower()


@dataclass(frozen=True, slots=True)
class Response:
    """What a handler answers. Values are reusable (use a callable for `stream`).

    `body` is sent as is with a Content-Length; `stream` (when given) replaces it and is sent
    chunked, or with `Content-Length: length` when `length` is declared (it must then yield
    exactly that many bytes). `hang` keeps the connection
    open without ever answering; `reset` closes it with a TCP RST. `delay` waits before answering.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    stream: BodyStream | None = None
    length: int | None = None  # declared Content-Length for a stream
    reason: str = ""
    hang: bool = False
    reset: bool = False
    delay: float = 0.0

    @classmethod
    def text(
        cls,
        text: str | bytes,
        status: int = 200,
        content_type: str = "text/plain; charset=utf-8",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Response:
        body = text.encode("utf-8") if isinstance(text, str) else text
        return cls(status=status, headers=(("Content-Type", content_type), *headers), body=body)

    @classmethod
    def html(cls, html: str, status: int = 200) -> Response:
        return cls.text(html, status, "text/html; charset=utf-8")

    @classmethod
    def json(cls, data: object, status: int = 200) -> Response:
        return cls.text(json.dumps(data), status, "application/json")

    @classmethod
    def redirect(cls, location: str, status: int = 301) -> Response:
        return cls(status=status, headers=(("Location", location),), body=b"")


Handler = Callable[[Request], Awaitable[Response]]


def stream_bytes(
    total: int, chunk_size: int = 64 * 1024, delay: float = 0.0, fill: bytes = b"A"
) -> Callable[[], AsyncIterable[bytes]]:
    """A reusable stream of `total` bytes in chunks, optionally `delay` seconds apart."""
    chunk = (fill * (chunk_size // max(len(fill), 1) + 1))[:chunk_size]

    async def gen() -> AsyncIterable[bytes]:
        left = total
        while left > 0:
            if delay:
                await asyncio.sleep(delay)
            part = chunk if left >= len(chunk) else chunk[:left]
            left -= len(part)
            yield part

    return gen


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), the way a crashing or filtering host does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Tracked:
    """Listening socket, accept loop and connection bookkeeping shared by both server kinds.

    An own accept loop (rather than `asyncio.start_server`) lets a TLS server look at the
    ClientHello before any TLS state exists, and lets `close()` end every connection, including
    those still in their handshake, so that nothing is left running.
    """

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._accept_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._socks: set[socket.socket] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.host = ""
        self.port = 0
        self.connections = 0
        #: seconds added before each accepted connection is served (a round trip, roughly)
        self.latency = 0.0

    async def _listen(self, host: str, port: int) -> None:
        if self._sock is not None:
            raise RuntimeError("server already started")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(1024)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self.host, self.port = sock.getsockname()[:2]
        self._accept_task = asyncio.create_task(self._accept_loop(sock))

    async def _accept_loop(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(sock)
            except OSError as exc:  # EMFILE and friends: back off instead of spinning
                log.warning("testbed server %s:%d: accept failed: %s", self.host, self.port, exc)
                await asyncio.sleep(0.1)
                continue
            conn.setblocking(False)
            self.connections += 1
            task = asyncio.create_task(self._guard(conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _guard(self, conn: socket.socket) -> None:
        self._socks.add(conn)
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            await self._connection(conn)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError):
            pass
        except OSError as exc:
            log.debug("testbed server %s:%d: %s", self.host, self.port, exc)
        except Exception:
            log.exception("testbed server %s:%d: connection failed", self.host, self.port)
        finally:
            self._socks.discard(conn)
            conn.close()

    async def _connection(self, conn: socket.socket) -> None:
        raise NotImplementedError

    async def _streams(
        self, conn: socket.socket, ctx: ssl.SSLContext | None, handshake_timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Wrap an accepted socket in streams (doing the TLS handshake when `ctx` is given)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_REQUEST_LINE + 2)
        protocol = asyncio.StreamReaderProtocol(reader)
        kwargs: dict[str, object] = {}
        if ctx is not None:
            kwargs = {"ssl": ctx, "ssl_handshake_timeout": handshake_timeout}
        transport, _ = await loop.connect_accepted_socket(lambda: protocol, conn, **kwargs)  # type: ignore[arg-type]
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        self._writers.add(writer)
        return reader, writer

    def _done(self, writer: asyncio.StreamWriter) -> None:
        self._writers.discard(writer)
        writer.transport.abort()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    async def close(self) -> None:
        """Stop listening and end every open connection."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._accept_task is not None:
            self._accept_task.cancel()
            await asyncio.gather(self._accept_task, return_exceptions=True)
        sock.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


Behaviour = Literal["hang", "reset"]

#: Chooses, from the SNI of a ClientHello (None: no SNI), the context to answer with, or a
#: behaviour: "hang" (never answer the ClientHello) or "reset" (TCP RST mid-handshake).
TlsSelect = Callable[[str | None], "ssl.SSLContext | Behaviour"]


class HttpServer(_Tracked):
    """HTTP/1.1 (optionally over TLS) on one address; see the module docstring.

    `requests` counts requests answered or refused; `handshakes` counts completed TLS handshakes
    and `handshakes_by_name` the same per SNI ("" for none).
    """

    def __init__(
        self,
        *,
        idle_timeout: float = 15.0,
        handshake_timeout: float = 10.0,
        max_requests: int = 100,
        server_header: str = "testbed",
    ) -> None:
        super().__init__()
        self.idle_timeout = idle_timeout
        self.handshake_timeout = handshake_timeout
        self.max_requests = max_requests
        self.server_header = server_header
        self.requests = 0
        self.handshakes = 0
        self.handshakes_by_name: Counter[str] = Counter()
        self._handler: Handler | None = None
        self._ssl: ssl.SSLContext | None = None
        self._select: TlsSelect | None = None

    async def start(
        self,
        host: str,
        port: int,
        handler: Handler,
        ssl_context: ssl.SSLContext | None = None,
        *,
        tls_select: TlsSelect | None = None,
    ) -> None:
        """Bind `host:port` (0 = ephemeral; see `.port`) and serve `handler`.

        With `ssl_context` every connection speaks TLS with that context. With `tls_select` the
        server reads the SNI from the ClientHello first and lets it choose the context (or a
        misbehaviour). Choosing before the handshake matters: OpenSSL fixes the protocol version
        and cipher list before an `sni_callback` runs, so per-host TLS versions on a shared IP
        cannot be done with the callback.
        """
        self._handler = handler
        self._ssl = ssl_context
        self._select = tls_select
        await self._listen(host, port)

    @property
    def tls(self) -> bool:
        return self._ssl is not None or self._select is not None

    async def _connection(self, conn: socket.socket) -> None:
        sni: str | None = None
        ctx = self._ssl
        if self._select is not None:
            hello = await asyncio.wait_for(_peek_client_hello(conn), self.handshake_timeout)
            if not hello:
                return
            sni = client_hello_sni(hello)
            choice = self._select(sni)
            if choice == "reset":
                _reset_socket(conn)
                return
            if choice == "hang":
                await _hold(conn)
                return
            assert isinstance(choice, ssl.SSLContext)
            ctx = choice
        elif ctx is not None:
            hello = await asyncio.wait_for(_peek_client_hello(conn), self.handshake_timeout)
            sni = client_hello_sni(hello) if hello else None
        reader, writer = await self._streams(conn, ctx, self.handshake_timeout)
        try:
            if ctx is not None:
                self.handshakes += 1
                self.handshakes_by_name[sni or ""] += 1
            await self._serve(reader, writer, sni)
        finally:
            self._done(writer)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sni: str | None
    ) -> None:
        client = writer.get_extra_info("peername") or ("", 0)
        server = writer.get_extra_info("sockname") or ("", 0)
        for served in range(self.max_requests):
            try:
                request = await asyncio.wait_for(
                    self._read_request(reader, client[:2], server[:2], sni), self.idle_timeout
                )
            except _BadRequest as exc:
                self.requests += 1
                await self._write(writer, None, Response.text(str(exc), exc.status), close=True)
                return
            if request is None:
                return
            self.requests += 1
            assert self._handler is not None
            try:
                response = await self._handler(request)
            except Exception:
                log.exception("testbed handler failed for %s %s", request.method, request.target)
                response = Response.text("internal error", 500)
            if response.delay:
                await asyncio.sleep(response.delay)
            if response.reset:
                _reset(writer)
                return
            if response.hang:
                await _drain_until_eof(reader)
                return
            last = served == self.max_requests - 1
            if await self._write(writer, request, response, close=last or _wants_close(request)):
                return

    async def _read_request(
        self,
        reader: asyncio.StreamReader,
        client: tuple[str, int],
        server: tuple[str, int],
        sni: str | None,
    ) -> Request | None:
        try:
            line = await reader.readline()
        except (ValueError, asyncio.LimitOverrunError):
            raise _BadRequest(414, "request line too long") from None
        if not line:
            return None
        if line in (b"\r\n", b"\n"):  # tolerated stray CRLF between requests (RFC 9112 2.2)
            line = await reader.readline()
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest(400, "malformed request line")
        method, target, version = parts
        items: list[tuple[str, str]] = []
        size = 0
        while True:
            try:
                raw = await reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                raise _BadRequest(431, "header line too long") from None
            if not raw:
                raise asyncio.IncompleteReadError(b"", None)
            size += len(raw)
            if size > MAX_HEADER_BYTES or len(items) >= MAX_HEADERS:
                raise _BadRequest(431, "request headers too large")
            if raw in (b"\r\n", b"\n"):
                break
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep or not name or name != name.strip():
                raise _BadRequest(400, "malformed header line")
            items.append((name, value.strip()))
        headers = Headers(items)
        body = b""
        if "transfer-encoding" in headers:
            raise _BadRequest(501, "chunked request bodies are not supported")
        if "content-length" in headers:
            raw_length = headers["content-length"]
            if not raw_length.isdigit():
                raise _BadRequest(400, "bad Content-Length")
            if int(raw_length) > MAX_BODY:
                raise _BadRequest(413, "request body too large")
            body = await reader.readexactly(int(raw_length))
        split = urlsplit(target)
        path = split.path or ("/" if not target.startswith("*") else "*")
        return Request(
            method=method.upper(),
            target=target,
            path=path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            version=version,
            headers=headers,
            body=body,
            client=client,
            server=server,
            sni=sni,
            tls=self._ssl is not None,
        )

    async def _write(
        self,
        writer: asyncio.StreamWriter,
        request: Request | None,
        response: Response,
        *,
        close: bool,
    ) -> bool:
        """Send one response; returns whether the connection must be closed afterwards."""
        reason = response.reason or _reason(response.status)
        head = [f"HTTP/1.1 {response.status} {reason}"]
        names = {name.lower() for name, _ in response.headers}
        head.extend(f"{name}: {value}" for name, value in response.headers)
        if "server" not in names:
            head.append(f"Server: {self.server_header}")
        if "connection" in names:
            close = close or any(
                n.lower() == "connection" and v.lower() == "close" for n, v in response.headers
            )
        stream = response.stream
        chunked = False
        no_body = (request is not None and request.method == "HEAD") or response.status in (
            204,
            304,
        )
        if stream is not None:
            if response.length is not None:
                head.append(f"Content-Length: {response.length}")
            elif "content-length" not in names:
                head.append("Transfer-Encoding: chunked")
                chunked = True
        elif "content-length" not in names and response.status not in (204, 304):
            head.append(f"Content-Length: {len(response.body)}")
        if "connection" not in names:
            head.append("Connection: close" if close else "Connection: keep-alive")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if no_body:
            await writer.drain()
            return close
        if stream is None:
            writer.write(response.body)
            await writer.drain()
            return close
        iterable = stream() if callable(stream) else stream
        async for chunk in iterable:
            if not chunk:
                continue
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
        await writer.drain()
        return close


def _wants_close(request: Request) -> bool:
    connection = request.headers.get("connection", "").lower()
    if request.version == "HTTP/1.0":
        return "keep-alive" not in connection
    return "close" in connection


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


async def _drain_until_eof(reader: asyncio.StreamReader, cap: int = 1024 * 1024) -> None:
    """Read and discard what the client sends until it gives up (or `cap` bytes), never answering."""
    seen = 0
    while seen < cap:
        data = await reader.read(16 * 1024)
        if not data:
            return
        seen += len(data)
    await asyncio.Event().wait()  # over the cap: stop reading, still hold the connection


class BlackholeServer(_Tracked):
    """A port that accepts TCP and then never answers (`hang`) or resets (`reset`).

    `reset` waits for the client's first bytes (a TLS ClientHello or an HTTP request line), so
    the client sees the reset in the middle of its handshake rather than at connect.
    """

    def __init__(self, behaviour: Behaviour = "hang") -> None:
        super().__init__()
        self.behaviour = behaviour

    async def start(self, host: str, port: int) -> None:
        await self._listen(host, port)

    async def _connection(self, conn: socket.socket) -> None:
        if self.behaviour == "reset":
            await _peek_client_hello(conn)
            _reset_socket(conn)
        else:
            await _hold(conn)


# --- raw socket helpers ----------------------------------------------------------------------------


async def _readable(conn: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not fut.done():
            fut.set_result(None)

    loop.add_reader(conn.fileno(), wake)
    try:
        await fut
    finally:
        loop.remove_reader(conn.fileno())


async def _peek_client_hello(conn: socket.socket, cap: int = 16 * 1024 + 5) -> bytes:
    """The first TLS record (normally the whole ClientHello), left unread in the socket.

    Returns what arrived when the record is complete, the cap is reached, or the data is not a
    TLS handshake record at all; b"" when the client closed without sending anything.
    """
    while True:
        await _readable(conn)
        try:
            data = conn.recv(cap, socket.MSG_PEEK)
        except BlockingIOError:
            continue
        if not data:
            return b""
        if data[0] != 0x16 or len(data) >= cap:
            return data
        if len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[3:5], "big"):
            return data
        await asyncio.sleep(0.005)  # a partial record stays readable: do not spin


def client_hello_sni(data: bytes) -> str | None:
    """The host name in a TLS ClientHello's server_name extension (lower-case), if any."""
    try:
        if data[0] != 0x16 or data[5] != 0x01:
            return None
        pos = 5 + 4 + 2 + 32  # record header, handshake header, client_version, random
        pos += 1 + data[pos]  # session id
        pos += 2 + int.from_bytes(data[pos : pos + 2], "big")  # cipher suites
        pos += 1 + data[pos]  # compression methods
        end = pos + 2 + int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        while pos + 4 <= min(end, len(data)):
            ext_type = int.from_bytes(data[pos : pos + 2], "big")
            ext_len = int.from_bytes(data[pos + 2 : pos + 4], "big")
            body = data[pos + 4 : pos + 4 + ext_len]
            if ext_type == 0 and len(body) >= 5 and body[2] == 0:
                name_len = int.from_bytes(body[3:5], "big")
                return body[5 : 5 + name_len].decode("ascii", errors="replace").lower()
            pos += 4 + ext_len
    except IndexError:
        return None
    return None


async def _hold(conn: socket.socket, cap: int = 1024 * 1024) -> None:
    """Accept what the client sends (up to `cap`), answer nothing, until it gives up."""
    seen = 0
    while seen < cap:
        await _readable(conn)
        try:
            data = conn.recv(16 * 1024)
        except BlockingIOError:
            continue
        if not data:
            return
        seen += len(data)
    await asyncio.Event().wait()


def _reset_socket(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
