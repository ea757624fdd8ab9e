"""The web sites of the port area: per site IP one HTTP and one HTTPS server, shared by hosts.

Many small businesses share one hosting IP, so every server dispatches by host: HTTPS by the
SNI of the ClientHello (read before the handshake, see `HttpServer`'s `tls_select`: that is what
lets two hosts on one IP accept different TLS versions, which an `sni_callback` cannot do), and
both by the Host header. A client without SNI, or with an unknown name, gets the IP's default
site when the IP serves one domain only (or an `IpSpec` site), and otherwise the hoster's panel
certificate (made out to `shared-hosting.example`) and a 404 page, as a shared server does.

Certificates and contexts are made lazily, on the first handshake for a host, and cached: a
signature costs about a millisecond, while making them all up front would make a testbed of a
thousand companies slow to start.

Redirects carry the testbed's port when it is not the default one (`https://host:8443/`),
because a client that follows them must land on the testbed again.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from exposure.testbed.ca import WRONG_HOST_NAME, CertSpec, ThrowawayCA, TlsVersions
from exposure.testbed.httpd import Behaviour, HttpServer, Request, Response
from exposure.testbed.scenario import HostSite, HttpMode, Layout, Route, SiteSpec, to_ascii

NOT_FOUND = Route.html("<!doctype html><title>404 Not Found</title><h1>Not Found</h1>", 404)
PARKING = Route.html(
    "<!doctype html><title>Default page</title><h1>This site is hosted by Haven Hosting</h1>", 404
)
CATCH_ALL = Route.html("<!doctype html><title>{host}</title><p>Welkom bij {host}</p>")


@dataclass(frozen=True, slots=True)
class WebPorts:
    http: int
    https: int


class CertCache:
    """Server contexts per (names, certificate, TLS versions), made on first use."""

    def __init__(self, ca: ThrowawayCA) -> None:
        self.ca = ca
        self._contexts: dict[tuple[tuple[str, ...], CertSpec, TlsVersions], ssl.SSLContext] = {}
        self.issued = 0

    def context(
        self, names: tuple[str, ...], cert: CertSpec, versions: TlsVersions
    ) -> ssl.SSLContext:
        key = (names, cert, versions)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = self._contexts[key] = self.ca.server_context(names, cert, versions)
            self.issued += 1
        return ctx

    def panel(self) -> ssl.SSLContext:
        """The shared server's own certificate, for clients asking for a host it does not know."""
        return self.context((WRONG_HOST_NAME,), CertSpec(), TlsVersions())

    def forget(self, names: Iterable[str]) -> None:
        wanted = set(names)
        for key in [k for k in self._contexts if wanted & set(k[0])]:
            del self._contexts[key]


class SiteIp:
    """The HTTP and HTTPS servers of one IP and the hosts they serve."""

    def __init__(self, ip: str, web: Web) -> None:
        self.ip = ip
        self.web = web
        self.http: HttpServer | None = None
        self.https: HttpServer | None = None

    @property
    def hosts(self) -> dict[str, HostSite]:
        return self.web.layout.sites.get(self.ip, {})

    @property
    def default(self) -> HostSite | None:
        return self.web.layout.default_sites.get(self.ip)

    def wants_http(self) -> bool:
        return any(h.site.http_mode is not HttpMode.ABSENT or _dead(h.site) for h in self._all())

    def wants_https(self) -> bool:
        return any(h.site.https or _dead(h.site) for h in self._all())

    def _all(self) -> list[HostSite]:
        sites = list(self.hosts.values())
        if self.default is not None:
            sites.append(self.default)
        return sites

    async def ensure(self) -> None:
        """Start the servers this IP needs now (sites may be added between scans)."""
        ports = self.web.ports
        if self.http is None and self.wants_http():
            server = HttpServer(server_header="nginx")
            server.latency = self.web.latency
            await server.start(self.ip, ports.http, self._handle_http)
            self.http = server
        if self.https is None and self.wants_https():
            server = HttpServer(server_header="nginx")
            server.latency = self.web.latency
            await server.start(self.ip, ports.https, self._handle_https, tls_select=self._select)
            self.https = server

    async def close(self) -> None:
        for server in (self.http, self.https):
            if server is not None:
                await server.close()
        self.http = self.https = None

    # --- dispatch ------------------------------------------------------------------------------

    def _lookup(self, name: str | None) -> HostSite | None:
        if name:
            found = self.hosts.get(name)
            if found is not None:
                return found
        return self.default

    def _select(self, sni: str | None) -> ssl.SSLContext | Behaviour:
        found = self._lookup(sni)
        certs = self.web.certs
        if found is None:
            return certs.panel()
        site = found.site
        if site.hang:
            return "hang"
        if site.reset:
            return "reset"
        if not site.https:
            return certs.panel()
        return certs.context(found.cert_names, site.cert_spec, site.tls_versions)

    async def _handle_http(self, request: Request) -> Response:
        return self.web.respond(self._lookup(request.host), request, "http")

    async def _handle_https(self, request: Request) -> Response:
        found = self._lookup(request.host)
        if found is not None and not found.site.https:
            found = None
        return self.web.respond(found, request, "https")


def _dead(site: SiteSpec) -> bool:
    return site.hang or site.reset


class Web:
    """All site IPs of a layout. `ports` must be bindable on every site IP."""

    def __init__(self, layout: Layout, ca: ThrowawayCA, ports: WebPorts) -> None:
        self.layout = layout
        self.ports = ports
        self.certs = CertCache(ca)
        self.ips: dict[str, SiteIp] = {}
        self.requests: Counter[str] = Counter()  # by host (Host header)
        self.latency = 0.0  # seconds added per accepted connection (see `HttpServer.latency`)

    def site_ips(self) -> list[str]:
        return sorted(
            set(self.layout.sites) | set(self.layout.default_sites), key=ipaddress.ip_address
        )

    async def start(self) -> None:
        for ip in self.site_ips():
            await self._ensure(ip)

    async def _ensure(self, ip: str) -> None:
        site_ip = self.ips.get(ip)
        if site_ip is None:
            site_ip = self.ips[ip] = SiteIp(ip, self)
        await site_ip.ensure()

    async def close(self) -> None:
        for site_ip in self.ips.values():
            await site_ip.close()
        self.ips.clear()

    async def set_site(self, host: str, site: SiteSpec) -> None:
        """Change a host's site between scans (a fixed certificate, a new redirect …)."""
        host = to_ascii(host)
        found = self.layout.host_site(host)
        if found is None:
            raise KeyError(f"{host}: no such site in this testbed")
        changed = replace(found, site=site)
        self.layout.sites[found.ip][host] = changed
        if self.layout.default_sites.get(found.ip) == found:
            self.layout.default_sites[found.ip] = changed
        self.certs.forget(found.cert_names)
        await self._ensure(found.ip)

    # --- counters ------------------------------------------------------------------------------

    @property
    def handshakes(self) -> Counter[str]:
        """Completed TLS handshakes by SNI ("" for none)."""
        total: Counter[str] = Counter()
        for site_ip in self.ips.values():
            if site_ip.https is not None:
                total.update(site_ip.https.handshakes_by_name)
        return total

    @property
    def request_total(self) -> int:
        return sum(self.requests.values())

    # --- answering -----------------------------------------------------------------------------

    def origin(self, scheme: str, host: str) -> str:
        port = self.ports.http if scheme == "http" else self.ports.https
        default = 80 if scheme == "http" else 443
        return f"{scheme}://{host}" if port == default else f"{scheme}://{host}:{port}"

    def respond(self, found: HostSite | None, request: Request, scheme: str) -> Response:
        host = request.host
        self.requests[host] += 1
        if found is None:
            return PARKING.response(host, scheme, self.origin(scheme, host))
        site = found.site
        if site.hang:
            return Response(hang=True)
        if site.reset:
            return Response(reset=True)
        served_host = host if host in (found.host, *found.cert_names) else found.host
        if scheme == "http":
            mode = site.http_mode
            if mode is HttpMode.ABSENT:
                return PARKING.response(host, scheme, self.origin(scheme, host))
            if mode is HttpMode.REDIRECT:
                return Response.redirect(self.origin("https", served_host) + request.target)
            if mode is HttpMode.REDIRECT_OTHER:
                other = to_ascii(site.redirect_to) if site.redirect_to else _other(found)
                if other != served_host:
                    return Response.redirect(self.origin("http", other) + request.target)
                return Response.redirect(self.origin("https", served_host) + request.target)
        route = site.routes.get(request.path) or _fallback(site, request.path)
        response = route.response(served_host, scheme, self.origin(scheme, served_host))
        extra: list[tuple[str, str]] = []
        if site.server:
            extra.append(("Server", site.server))
        if scheme == "https" and site.hsts:
            extra.append(("Strict-Transport-Security", site.hsts))
        if extra:
            response = replace(response, headers=(*response.headers, *extra))
        return response


def _fallback(site: SiteSpec, path: str) -> Route:
    if path == "/":
        return site.home
    return CATCH_ALL if site.catch_all else NOT_FOUND


def _other(found: HostSite) -> str:
    """The host a REDIRECT_OTHER site sends plain-HTTP visitors to first: www.<domain>."""
    return f"www.{found.domain}"
