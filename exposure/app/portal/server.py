"""The portal's HTTP server: uvicorn's h11 protocol with the limits uvicorn lacks.

uvicorn closes an idle kept-alive connection, but a client that sends half a request's headers
and then nothing holds its connection (and a file descriptor) for ever; a few hundred such
clients exhaust the process's file limit and everyone else is refused (slowloris). So here:

- a request's headers must be complete within `portal_header_timeout` seconds of the connection
  opening or of the previous response;
- at most `portal_max_connections` connections are open: a new one beyond that closes the
  oldest connection that has no request in progress (a stalled or idle one), and is refused
  only when every open connection is busy;
- the server's own 400 answer to a malformed request carries the portal's security headers.

A reverse proxy in front should have matching limits (nginx: `client_header_timeout`,
`keepalive_timeout`, `limit_conn`); README, "The portal".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from exposure.app.portal.security import HEADERS
from exposure.settings import Settings

log = logging.getLogger("exposure.app.portal")


class PortalProtocol(H11Protocol):
    """One connection, with a header deadline and a share of the connection cap."""

    header_timeout: ClassVar[float] = 10.0
    max_connections: ClassVar[int] = 200

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._waiting_since = self.loop.time()
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        self._waiting_since = self.loop.time()
        self._arm_header_timer()
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a malformed request, with the portal's security headers."""
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        headers += [(name.encode(), value.encode()) for name, value in HEADERS]
        events: list[h11.Event] = [
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=b"Bad request.\n"),
            h11.EndOfMessage(),
        ]
        with contextlib.suppress(h11.LocalProtocolError):  # too broken for an answer
            self.transport.write(b"".join(self.conn.send(event) or b"" for event in events))
        self.transport.close()

    # --- the header deadline ------------------------------------------------------------------

    def _busy(self) -> bool:
        """Is a request (headers complete) in progress on this connection?"""
        return self.cycle is not None and not self.cycle.response_complete

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_deadline)

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _header_deadline(self) -> None:
        self._header_timer = None
        if not self._busy() and not self.transport.is_closing():
            self.transport.close()

    # --- the connection cap -------------------------------------------------------------------

    def _make_room(self) -> None:
        idle = [
            c
            for c in self.connections
            if isinstance(c, PortalProtocol) and c is not self and not c._busy()
        ]
        if idle:
            oldest = min(idle, key=lambda c: c._waiting_since)
            oldest.transport.close()
            oldest.connections.discard(oldest)
        else:
            log.warning("portal: %d connections, all busy: refusing one", len(self.connections))
            self.transport.close()
            self.connections.discard(self)


def protocol_class(settings: Settings) -> type[PortalProtocol]:
    """`PortalProtocol` with this installation's limits."""
    return type(
        "PortalProtocol",
        (PortalProtocol,),
        {
            "header_timeout": settings.portal_header_timeout,
            "max_connections": settings.portal_max_connections,
        },
    )


def raise_file_limit(settings: Settings) -> None:
    """Make sure the process may hold the connection cap's sockets (and some files besides)."""
    needed = settings.portal_max_connections + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < needed:
            log.warning(
                "portal: the file limit (%d) is below portal_max_connections + 64 (%d)",
                target,
                needed,
            )


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options for the portal's time-outs and connection cap."""
    return {
        "http": protocol_class(settings),
        "timeout_keep_alive": settings.portal_keepalive_timeout,
        "backlog": max(128, settings.portal_max_connections),
    }
