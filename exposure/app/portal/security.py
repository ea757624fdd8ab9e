"""The portal's outer layer: security headers, request size limit, rate limits, access log.

Plain ASGI middleware, so it wraps every response (errors and redirects too), and no route
can forget it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("exposure.app.portal.access")
log = logging.getLogger("exposure.app.portal")

#: No script at all, nothing from elsewhere, no framing; forms only to ourselves.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CSP),
    ("strict-transport-security", "max-age=63072000; includeSubDomains"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ("cache-control", "no-store"),
)

_TOKEN_PATH = re.compile(r"^/t/[^/]*")


def redact(path: str) -> str:
    """A path as the access log writes it: link tokens never reach a log file."""
    return _TOKEN_PATH.sub("/t/[redacted]", path)


class SecurityMiddleware:
    """Security headers on every response, a body size limit, and the access log."""

    def __init__(
        self, app: ASGIApp, max_body: int, error_page: Callable[[], bytes] | None = None
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = [0]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers[name] = value
                if "server" in headers:
                    del headers["server"]
            await send(message)

        try:
            length = int(_header(scope, b"content-length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.max_body:
            await _plain(send_wrapper, 413, "Request too large.")
        else:
            seen = [0]

            async def receive_limited() -> Message:
                message = await receive()
                if message["type"] == "http.request":
                    seen[0] += len(message.get("body", b""))
                    if seen[0] > self.max_body:
                        raise BodyTooLarge
                return message

            try:
                await self.app(scope, receive_limited, send_wrapper)
            except BodyTooLarge:
                if status[0] == 0:
                    await _plain(send_wrapper, 413, "Request too large.")
            except Exception as exc:
                # Caught here rather than by Starlette's outermost error handler, so that a 500
                # has the security headers too; the details go to the log only.
                log.error("portal error: %s", exc.__class__.__name__, exc_info=exc)
                if status[0] == 0:
                    await self._error(send_wrapper)
        client = scope.get("client") or ("-", 0)
        access_log.info(
            "%s %s %s %d %.0fms",
            client[0],
            scope.get("method", "-"),
            redact(scope.get("path", "")),
            status[0],
            (time.monotonic() - started) * 1000,
        )

    async def _error(self, send: Send) -> None:
        try:
            body = self.error_page() if self.error_page else b""
        except Exception:
            body = b""
        if not body:
            await _plain(send, 500, "Internal error.")
            return
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """At most `limit` events per `window` seconds per key (a client address), in memory.

    One process serves the portal; behind a reverse proxy, `proxies.ForwardedMiddleware` makes
    the client address the real one (only the trusted proxies' header counts).
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def peek(self, key: str, now: float | None = None) -> float:
        """The seconds to wait before `key` may have another event (0: now), without counting."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.get(key)
            if not events:
                return 0.0
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(events[0] + self.window - now, 1.0)
            return 0.0

    def hit(self, key: str, now: float | None = None) -> float:
        """Count one event; returns 0 when allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(events[0] + self.window - now, 1.0)
            events.append(now)
            if len(self._events) > 100_000:  # a flood of addresses must not eat the memory
                self._events = defaultdict(deque, {key: events})
            return 0.0
