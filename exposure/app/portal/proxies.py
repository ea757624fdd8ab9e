"""Whom the portal believes about the client: only its own reverse proxies.

Two request headers carry claims that matter: `X-Forwarded-For` (the client address that the
rate limits count) and `portal_auth_header` (the Meldpunt user a proxy authenticated). A client
that reaches the port directly can send either, so both are read only when the connection
itself comes from a configured proxy (`portal_trusted_proxies`, default this machine). Of
`X-Forwarded-For` only the right-most address that is not a trusted proxy counts: a proxy
appends the address it saw, and everything to its left was written by the client.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from exposure.net.scope import IPAddress, IPNetwork
from exposure.settings import Settings

log = logging.getLogger("exposure.app.portal")

LOOPBACK = ("127.0.0.1", "::1")
#: The connection's own peer, kept in the ASGI scope before the client is rewritten.
PEER = "exposure.peer"


def _address(text: str) -> IPAddress | None:
    """An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class TrustedProxies:
    """The configured proxy addresses and networks."""

    def __init__(self, specs: Iterable[str]) -> None:
        self.networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(spec.strip(), strict=False) for spec in specs
        ) or tuple(ipaddress.ip_network(a) for a in LOOPBACK)

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustedProxies:
        return cls(settings.portal_trusted_proxies)

    def __contains__(self, host: object) -> bool:
        ip = _address(host) if isinstance(host, str) else None
        return ip is not None and any(ip in net for net in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client address of a connection from `peer` that sent `forwarded_for`."""
        if peer not in self or not forwarded_for:
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in self:
                ip = _address(hop)
                # A hop that is not an address was not written by a proxy: the peer it is.
                return str(ip) if ip is not None else peer
        first = _address(hops[0]) if hops else None
        return str(first) if first is not None else peer


def peer_of(request: Request) -> str:
    """The address of the connection itself (a proxy's, when there is one)."""
    peer = request.scope.get(PEER)
    if isinstance(peer, str):
        return peer
    return request.client.host if request.client else "-"


def proxied_user(request: Request, header: str, proxies: TrustedProxies) -> str | None:
    """The user a trusted proxy authenticated, or None (no header, or not from a proxy)."""
    if not header or peer_of(request) not in proxies:
        return None
    user = request.headers.get(header, "").strip()
    if not user or len(user) > 128 or not user.isprintable():
        return None
    return user


class ForwardedMiddleware:
    """Sets the ASGI client to the real client and the scheme to the proxy's, when the peer is a
    trusted proxy; keeps the peer under `PEER` for the checks that must see the connection."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies, enabled: bool = True) -> None:
        self.app = app
        self.proxies = proxies
        self.enabled = enabled
        self._warned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("-", 0)
        peer = str(client[0])
        scope[PEER] = peer
        if self.enabled and peer in self.proxies:
            forwarded = _joined(scope, b"x-forwarded-for")
            if forwarded is None:
                self._warn_once(peer)
            scope["client"] = (self.proxies.client(peer, forwarded), 0)
            proto = _joined(scope, b"x-forwarded-proto")
            if proto:
                last = proto.split(",")[-1].strip().lower()
                if last in ("http", "https"):
                    scope["scheme"] = last
        await self.app(scope, receive, send)

    def _warn_once(self, peer: str) -> None:
        if not self._warned and peer not in LOOPBACK:
            self._warned = True
            log.warning(
                "requests from the proxy %s carry no X-Forwarded-For: every client behind it "
                "counts as one address for the rate limits",
                peer,
            )


def _joined(scope: Scope, name: bytes) -> str | None:
    values = [bytes(v).decode("latin-1") for k, v in scope.get("headers", []) if k == name]
    return ",".join(values) if values else None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    ip = _address(host)
    return ip is not None and ip.is_loopback


def serve_problem(host: str, settings: Settings) -> str | None:
    """Why `exposure serve` must not start on this address with these settings, or None."""
    if (
        settings.portal_auth_header
        and not is_loopback(host)
        and not settings.portal_trusted_proxies
    ):
        return (
            f"portal_auth_header is set and --host {host} is not a loopback address: set "
            "portal_trusted_proxies to the reverse proxy's address, or anyone who reaches the "
            "port could claim to be the Meldpunt"
        )
    return None
