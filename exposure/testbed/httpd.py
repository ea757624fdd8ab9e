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
- optional TLS through an `ssl.SSLContext`; the SNI the client sent is in `Request.sni`
  (recorded by wrapping the context's `sni_callback`, so callers may install their own);
- bodies as bytes, or as an async iterator of chunks (sent chunked, or with a declared
  `Content-Length`), for huge or slow streams;
- behaviours: `Response(hang=True)` (never answer), `Response(reset=True)` (TCP RST),
  `Response(delay=...)`;
- `BlackholeServer`: a port that accepts TCP and then hangs or resets, for hosts that are dead
  at the TCP/TLS level.

Every connection is tracked, so `close()` leaves nothing running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import struct
import weakref
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
    chunked, or close-delimited by `length` when that is declared. `hang` keeps the connection
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
        import json

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
    """Connection bookkeeping shared by both server kinds: close() must leave nothing behind."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.host = ""
        self.port = 0
        self.connections = 0

    async def _listen(
        self,
        host: str,
        port: int,
        serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    ) -> None:
        if self._server is not None:
            raise RuntimeError("server already started")

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            self._writers.add(writer)
            self.connections += 1
            try:
                await serve(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError):
                pass
            except Exception:
                log.exception("testbed server %s:%d: connection failed", self.host, self.port)
            finally:
                self._writers.discard(writer)
                self._tasks.discard(task)
                writer.transport.abort()

        self._server = await asyncio.start_server(
            on_client, host, port, limit=MAX_REQUEST_LINE + 2, reuse_address=True
        )
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = sockname[0], sockname[1]

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    async def close(self) -> None:
        """Stop listening and end every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


class HttpServer(_Tracked):
    """HTTP/1.1 (optionally over TLS) on one address; see the module docstring.

    `requests` counts requests answered or refused; `handshakes` counts completed TLS handshakes.
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
        self._handler: Handler | None = None
        self._ssl: ssl.SSLContext | None = None
        self._sni: weakref.WeakKeyDictionary[object, str | None] = weakref.WeakKeyDictionary()

    async def start(
        self,
        host: str,
        port: int,
        handler: Handler,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Bind `host:port` (0 = ephemeral; see `.port`) and serve `handler`.

        With `ssl_context` every connection speaks TLS. The context's `sni_callback` (if any) is
        wrapped so that the SNI is recorded; it still runs and may switch the context.
        """
        self._handler = handler
        if ssl_context is not None:
            self._ssl = ssl_context
            self._install_sni_recorder(ssl_context)
        await self._listen(host, port, self._serve)

    def _install_sni_recorder(self, ctx: ssl.SSLContext) -> None:
        inner = ctx.sni_callback
        sni = self._sni

        def record(obj: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> int | None:
            sni[obj] = name
            return inner(obj, name, context) if inner is not None else None

        ctx.sni_callback = record  # type: ignore[assignment]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sni: str | None = None
        if self._ssl is not None:
            # start_tls must be the very first await: nothing may read the ClientHello before it.
            await writer.start_tls(self._ssl, ssl_handshake_timeout=self.handshake_timeout)
            self.handshakes += 1
            sni = self._sni.get(writer.get_extra_info("ssl_object"))
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


Behaviour = Literal["hang", "reset"]


class BlackholeServer(_Tracked):
    """A port that accepts TCP and then never answers (`hang`) or resets (`reset`).

    `reset` waits for the client's first bytes (a TLS ClientHello or an HTTP request line), so
    the client sees the reset in the middle of its handshake rather than at connect.
    """

    def __init__(self, behaviour: Behaviour = "hang") -> None:
        super().__init__()
        self.behaviour = behaviour

    async def start(self, host: str, port: int) -> None:
        await self._listen(host, port, self._serve)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.behaviour == "reset":
            await reader.read(1)
            _reset(writer)
            return
        await _drain_until_eof(reader)
