"""The declarative description of a simulated port area, and its layout on loopback.

Tests, the demo and the benchmarks describe companies, not sockets:

    Area(companies=[
        CompanySpec("10000001", "Bakkerij De Haven", "info@dehaven.test", "food",
                    domains=[DomainSpec("dehaven.test", site=SiteSpec(cert="expired"),
                                        txt=["v=spf1 -all"], dmarc="v=DMARC1; p=reject")]),
    ])

Addresses are symbolic: an address that is not an IP literal (`"hosting-1"`, `"garage-wan"`) is
allocated from the testbed's 127.N.0.0/16 block when the testbed starts, the same symbol always
getting the same address (that is how many small businesses end up on one hosting IP). `"auto"`
gives a domain's site an address of its own. Literal addresses must be loopback, so that a scan
of the testbed never sends a packet anywhere else.

`layout(area, block)` turns an area into what the servers need (DNS records, sites per IP,
mail hosts and devices with real addresses, the member list); it opens no socket.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

import idna

from exposure.testbed.ca import CertDefect, CertSpec, TlsVersions
from exposure.testbed.dns import Records, add_zone
from exposure.testbed.dnssec import ZoneSigner
from exposure.testbed.httpd import Response, stream_bytes
from exposure.testbed.shodan_devices import Device
from exposure.testbed.smtp import MailHostSpec

AUTO = "auto"
HSTS_GOOD = "max-age=31536000; includeSubDomains"
HSTS_SHORT = "max-age=300"
DEFAULT_NAMESERVERS = ("ns1.dns-provider.test", "ns2.dns-provider.test")


class ScenarioError(ValueError):
    """A scenario that cannot be laid out (bad address, duplicate host, unknown MX host …)."""


def _freeze(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


# --- web -----------------------------------------------------------------------------------------


class HttpMode(StrEnum):
    """What port 80 does for a host."""

    REDIRECT = "redirect"  # 301 to https on the same host
    REDIRECT_OTHER = "redirect_other"  # 301 to http://www.<domain> (or `redirect_to`) first,
    # which then redirects to https
    PLAIN = "plain"  # serves the site over plain HTTP, no redirect
    ABSENT = "absent"  # nothing listens on port 80 (on a shared IP: the hoster's default page)


@dataclass(frozen=True, slots=True)
class Route:
    """One path of a site. `{host}`, `{scheme}` and `{origin}` (scheme://host, with the port when
    it is not the default one) in `body` and `location` are filled in.

    `size > 0` streams that many filler bytes instead of `body` (with a Content-Length unless
    `chunked`), `chunk_delay` slows the stream; `hang`/`reset` misbehave on this path only.
    """

    status: int = 200
    body: str | bytes = ""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    location: str = ""
    size: int = 0
    chunk_delay: float = 0.0
    chunked: bool = False
    delay: float = 0.0
    hang: bool = False
    reset: bool = False

    @classmethod
    def text(cls, body: str, content_type: str = "text/plain; charset=utf-8") -> Route:
        return cls(body=body, content_type=content_type)

    @classmethod
    def html(cls, body: str, status: int = 200) -> Route:
        return cls(status=status, body=body, content_type="text/html; charset=utf-8")

    @classmethod
    def redirect(cls, location: str, status: int = 301) -> Route:
        return cls(status=status, location=location, content_type="")

    @classmethod
    def stream(cls, size: int, content_type: str = "text/plain", chunk_delay: float = 0.0) -> Route:
        return cls(size=size, content_type=content_type, chunk_delay=chunk_delay)

    def response(self, host: str, scheme: str, origin: str = "") -> Response:
        origin = origin or f"{scheme}://{host}"
        headers: list[tuple[str, str]] = []
        if self.content_type:
            headers.append(("Content-Type", self.content_type))
        if self.location:
            headers.append(("Location", _fill(self.location, host, scheme, origin)))
        headers.extend(self.headers)
        common = {"status": self.status, "delay": self.delay, "hang": self.hang}
        if self.size > 0:
            return Response(
                headers=tuple(headers),
                stream=stream_bytes(self.size, delay=self.chunk_delay),
                length=None if self.chunked else self.size,
                reset=self.reset,
                **common,  # type: ignore[arg-type]
            )
        body = self.body if isinstance(self.body, bytes) else _fill(self.body, host, scheme, origin)
        raw = body if isinstance(body, bytes) else body.encode("utf-8")
        return Response(headers=tuple(headers), body=raw, reset=self.reset, **common)  # type: ignore[arg-type]


def _fill(text: str, host: str, scheme: str, origin: str) -> str:
    return text.replace("{origin}", origin).replace("{host}", host).replace("{scheme}", scheme)


SECURITY_TXT_PATH = "/.well-known/security.txt"
#: A symbolic address inside a TXT value (`ip4:{ip:office}`), see `DomainSpec`.
_ADDRESS_REF = re.compile(r"\{ip:([^{}\s]+)\}")


def security_txt(
    contact: str | None = "mailto:security@{host}",
    expires: datetime | Literal["future", "past", "omit"] = "future",
    *,
    canonical: str | None = "{origin}/.well-known/security.txt",
    extra: Sequence[str] = (),
) -> str:
    """An RFC 9116 file: by default valid, expiring 180 days from now. None/"omit" leave a
    field out (which makes the file invalid: Contact and Expires are MUSTs)."""
    lines = []
    if contact:
        lines.append(f"Contact: {contact}")
    if expires != "omit":
        if expires == "future":
            when = datetime.now(UTC) + timedelta(days=180)
        elif expires == "past":
            when = datetime.now(UTC) - timedelta(days=30)
        else:
            assert isinstance(expires, datetime)
            when = expires
        lines.append(f"Expires: {when.strftime('%Y-%m-%dT%H:%M:%S.000Z')}")
    if canonical:
        lines.append(f"Canonical: {canonical}")
    lines.extend(extra)
    lines.append("Preferred-Languages: nl, en")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SiteSpec:
    """A web site, served for a domain (and its www) on the domain's address.

    `cert` takes a `CertSpec`, a `CertDefect` or text (`"expired"`, `"expiring:5"`); `tls` a
    `TlsVersions` or text (`"1.2+"`, `"1.0-1.1"`, `"1.0-1.3"`). `hang`: the host accepts TCP and
    never answers (TLS ClientHello and HTTP request alike); `reset`: it resets the connection
    mid-handshake / on the request. `catch_all`: every unknown path is an HTML 200 (a "soft 404",
    which a security.txt check must not take for a file).
    """

    cert: CertSpec | CertDefect | str = field(default_factory=CertSpec)
    tls: TlsVersions | str = field(default_factory=TlsVersions)
    https: bool = True
    http: HttpMode | str = HttpMode.REDIRECT
    redirect_to: str = ""  # REDIRECT_OTHER: the other host (default: www.<domain>)
    hsts: str | None = HSTS_GOOD
    routes: Mapping[str, Route] = field(default_factory=dict)
    catch_all: bool = False
    home: Route = field(
        default_factory=lambda: Route.html("<!doctype html><title>{host}</title><h1>{host}</h1>")
    )
    hang: bool = False
    reset: bool = False
    server: str = "nginx"

    def __post_init__(self) -> None:
        _freeze(self, "cert", CertSpec.of(self.cert))
        _freeze(self, "tls", TlsVersions.of(self.tls))
        _freeze(self, "http", HttpMode(self.http))
        _freeze(self, "routes", MappingProxyType(dict(self.routes)))

    @property
    def cert_spec(self) -> CertSpec:
        assert isinstance(self.cert, CertSpec)
        return self.cert

    @property
    def tls_versions(self) -> TlsVersions:
        assert isinstance(self.tls, TlsVersions)
        return self.tls

    @property
    def http_mode(self) -> HttpMode:
        return HttpMode(self.http)


# --- DNS, domains, companies ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One extra DNS record. `name` is relative to the domain (`"@"` the apex, `"_dmarc"`),
    or absolute when it ends in a dot."""

    name: str
    type: str
    value: str
    ttl: int = 300


RecordLike = Record | tuple[str, str, str]


def _record(value: RecordLike) -> Record:
    return value if isinstance(value, Record) else Record(*value)


@dataclass(frozen=True)
class HostSpec:
    """A host of a domain on an address of its own (`vpn.` at the office's connection), with
    its own site and certificate when `site` is set (a VPN gateway's log-in page). Its name is
    in DNS and, with a site, in the certificate-transparency look-alike; the member list does
    not name it: that is what discovery is for."""

    label: str
    address: str
    site: SiteSpec | None = None


@dataclass(frozen=True)
class DomainSpec:
    """A registered domain of a company.

    `a`: addresses of the apex (`"auto"`: a fresh address when there is a site, none otherwise;
    symbols and loopback literals otherwise). `mx`: `"10 mx.example.test"`, just a host name
    (preferences 10, 20, … are added) or `"0 ."` for a null MX. `txt`: apex TXT records (SPF
    goes here). `dmarc`: the `_dmarc` TXT record. `records`: anything else. `subsites`: more
    hosts on the same addresses, by label (`{"mta-sts": SiteSpec(...)}`), each with a certificate
    of its own. `elsewhere`: hosts of the domain on other addresses (`HostSpec`). TXT values
    (in `txt`, `dmarc` and `records`) may name a symbolic address as `{ip:symbol}`, e.g. an SPF
    `ip4:{ip:office}` term, filled in with the address the symbol gets. `nxdomain`: the
    domain is in the member list but does not exist in DNS at all. `dns`: "timeout"/"servfail"
    makes every query for the domain's names fail that way. `dnssec`: sign the zone (`signed`),
    or sign it in a way that fails validation (`expired` signatures, `ds_mismatch` after a bad
    key rollover), or sign it without a DS at the parent (`no_ds`); see exposure.testbed.dnssec.
    """

    name: str
    a: Sequence[str] | str = AUTO
    aaaa: Sequence[str] = ()
    mx: Sequence[str] = ()
    txt: Sequence[str] = ()
    dmarc: str | None = None
    records: Sequence[RecordLike] = ()
    site: SiteSpec | None = field(default_factory=SiteSpec)
    www: bool = True
    subsites: Mapping[str, SiteSpec] = field(default_factory=dict)
    nxdomain: bool = False
    dns: Literal["ok", "timeout", "servfail"] = "ok"
    nameservers: Sequence[str] = DEFAULT_NAMESERVERS
    ttl: int = 300
    dnssec: Literal["none", "signed", "expired", "ds_mismatch", "no_ds"] = "none"
    elsewhere: Sequence[HostSpec] = ()

    def __post_init__(self) -> None:
        _freeze(self, "elsewhere", tuple(self.elsewhere))
        _freeze(self, "a", self.a if isinstance(self.a, str) else tuple(self.a))
        for name in ("aaaa", "mx", "txt", "nameservers"):
            _freeze(self, name, tuple(getattr(self, name)))
        _freeze(self, "records", tuple(_record(r) for r in self.records))
        _freeze(self, "subsites", MappingProxyType(dict(self.subsites)))

    @property
    def ascii(self) -> str:
        """The A-label form (what DNS, SNI and certificates use)."""
        return to_ascii(self.name)

    @property
    def hosts(self) -> tuple[str, ...]:
        """The web host names: the apex, and www when `www`."""
        return (self.ascii, f"www.{self.ascii}") if self.www else (self.ascii,)


def to_ascii(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    if name.isascii():
        return name
    return idna.encode(name, uts46=True).decode("ascii")


@dataclass(frozen=True)
class IpSpec:
    """A plain IP target of a company, optionally with a site of its own (a router's web admin)."""

    address: str
    site: SiteSpec | None = None


def _ip_spec(value: str | IpSpec) -> IpSpec:
    return IpSpec(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class DeviceSpec:
    """A device (from `shodan_devices.Device`) placed on a symbolic or literal address.

    The device's own `ip` is ignored (build it with any address, e.g. `ANY_IP`).
    """

    address: str
    device: Device


ANY_IP = "0.0.0.0"


@dataclass(frozen=True)
class CompanySpec:
    """A member company: its registered domains and IPs, its mail hosts and exposed devices."""

    id: str
    name: str
    email: str = ""
    sector: str = ""
    domains: Sequence[DomainSpec] = ()
    ips: Sequence[str | IpSpec] = ()
    mail_hosts: Sequence[MailHostSpec] = ()
    devices: Sequence[DeviceSpec] = ()
    language: str = ""
    phone: str = ""  # the member list's optional phone column (the Meldpunt's call list)

    def __post_init__(self) -> None:
        _freeze(self, "domains", tuple(self.domains))
        _freeze(self, "ips", tuple(_ip_spec(i) for i in self.ips))
        _freeze(self, "mail_hosts", tuple(self.mail_hosts))
        _freeze(self, "devices", tuple(self.devices))


@dataclass(frozen=True)
class Area:
    """A port area: the companies, plus what providers share (mail hosts, DNS records such as
    the SPF include targets of a mail provider)."""

    companies: Sequence[CompanySpec] = ()
    mail_hosts: Sequence[MailHostSpec] = ()
    records: Sequence[RecordLike] = ()
    name: str = "port area"
    # Certificates the CT look-alike has logged besides those of the area's sites (a wildcard
    # certificate, one of a host that is gone): each a tuple of names.
    certificates: Sequence[Sequence[str]] = ()

    def __post_init__(self) -> None:
        _freeze(self, "certificates", tuple(tuple(c) for c in self.certificates))
        _freeze(self, "companies", tuple(self.companies))
        _freeze(self, "mail_hosts", tuple(self.mail_hosts))
        _freeze(self, "records", tuple(_record(r) for r in self.records))

    def company(self, company_id: str) -> CompanySpec:
        for company in self.companies:
            if company.id == company_id:
                return company
        raise KeyError(company_id)


# --- the layout -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostSite:
    """A site as served: the host name, its site, the certificate names, the address."""

    host: str
    site: SiteSpec
    ip: str
    cert_names: tuple[str, ...]
    domain: str  # the registered domain (A-label)


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One line of the member-list CSV (DESIGN.md)."""

    id: str
    name: str
    email: str
    domains: tuple[str, ...]
    ips: tuple[str, ...]
    sector: str
    language: str = ""  # the optional column: "" = the Meldpunt's default
    phone: str = ""  # the optional column: whom the Meldpunt calls


class Allocator:
    """Symbolic addresses to 127.N.x.y addresses, in order of first use.

    127.N.0.1 is the DNS server, 127.N.0.2 the Shodan look-alikes; sites, mail hosts and
    devices get 127.N.1.1 onwards.
    """

    def __init__(self, block: int) -> None:
        if not 1 <= block <= 254:
            raise ValueError("block must be 1..254")
        self.block = block
        self.symbols: dict[str, str] = {}
        self._next = 0

    @property
    def dns_ip(self) -> str:
        return f"127.{self.block}.0.1"

    @property
    def shodan_ip(self) -> str:
        return f"127.{self.block}.0.2"

    def fresh(self) -> str:
        index = self._next
        self._next += 1
        third, fourth = 1 + index // 254, 1 + index % 254
        if third > 255:
            raise ScenarioError("more than 65,000 addresses in one testbed")
        return f"127.{self.block}.{third}.{fourth}"

    def resolve(self, address: str) -> str:
        """A literal (checked to be loopback) or the address a symbol stands for."""
        address = address.strip()
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if ip is not None:
            if not ip.is_loopback:
                raise ScenarioError(
                    f"{address}: testbed addresses must be loopback (127.0.0.0/8 or ::1), "
                    "so that a scan never leaves this machine"
                )
            return str(ip)
        if not address:
            raise ScenarioError("empty address")
        found = self.symbols.get(address)
        if found is None:
            found = self.symbols[address] = self.fresh()
        return found


class Layout:
    """An area placed on one 127.N.0.0/16 block: everything the servers need, no sockets."""

    def __init__(self, area: Area, block: int) -> None:
        self.area = area
        self.alloc = Allocator(block)
        self.records = Records()
        self.sites: dict[str, dict[str, HostSite]] = {}  # ip -> host -> site
        self.default_sites: dict[str, HostSite] = {}  # ip -> the site for no/unknown SNI
        self.mail_hosts: dict[str, MailHostSpec] = {}  # name -> spec with a real ip
        self.devices: list[Device] = []
        self.members: list[MemberRow] = []
        self.dns_timeouts: set[str] = set()
        self.dns_servfail: set[str] = set()
        self.names_by_ip: dict[str, list[str]] = {}
        self.signer = ZoneSigner()
        self._build()

    @property
    def block(self) -> int:
        return self.alloc.block

    @property
    def dns_ip(self) -> str:
        return self.alloc.dns_ip

    @property
    def shodan_ip(self) -> str:
        return self.alloc.shodan_ip

    def host_site(self, host: str) -> HostSite | None:
        host = to_ascii(host)
        for hosts in self.sites.values():
            if host in hosts:
                return hosts[host]
        return None

    # --- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        area = self.area
        for spec in area.mail_hosts:
            self._mail_host(spec)
        for company in area.companies:
            for spec in company.mail_hosts:
                self._mail_host(spec)
        seen_domains: set[str] = set()
        for company in area.companies:
            ips: list[str] = []
            for domain in company.domains:
                if domain.ascii in seen_domains:
                    raise ScenarioError(f"{domain.name}: domain declared twice")
                seen_domains.add(domain.ascii)
                self._domain(domain)
            for ip_spec in company.ips:
                ips.append(self._ip_target(_ip_spec(ip_spec)))
            for placed in company.devices:
                ip = self.alloc.resolve(placed.address)
                self.devices.append(replace(placed.device, ip=ip))
            self.members.append(
                MemberRow(
                    id=company.id,
                    name=company.name,
                    email=company.email,
                    domains=tuple(d.name for d in company.domains),
                    ips=tuple(ips),
                    sector=company.sector,
                    language=company.language,
                    phone=company.phone,
                )
            )
        for record in area.records:
            self._add_record(_record(record), None)
        for name, spec in self.mail_hosts.items():
            if spec.ip is not None and not self.records.get(name, "A"):
                self.records.add(name, "A", spec.ip)
                self.names_by_ip.setdefault(spec.ip, []).append(name)
        for ip, hosts in self.sites.items():
            if ip not in self.default_sites and len({s.domain for s in hosts.values()}) == 1:
                self.default_sites[ip] = next(iter(hosts.values()))

    def _mail_host(self, spec: MailHostSpec) -> None:
        name = to_ascii(spec.name)
        ip = self.alloc.resolve(spec.ip) if spec.ip else self.alloc.resolve(f"mx:{name}")
        placed = replace(spec, name=name, ip=ip)
        known = self.mail_hosts.get(name)
        if known is not None and known != placed:
            raise ScenarioError(f"mail host {name} declared twice, differently")
        for other in self.mail_hosts.values():
            if other.ip == ip and other.name != name:
                raise ScenarioError(
                    f"mail hosts {other.name} and {name} on one address {spec.ip or ip}: "
                    "one SMTP server per address"
                )
        self.mail_hosts[name] = placed

    def _domain(self, domain: DomainSpec) -> None:
        if domain.nxdomain:
            return
        apex = domain.ascii
        if domain.dns == "timeout":
            self.dns_timeouts.update(self._names_of(domain))
        elif domain.dns == "servfail":
            self.dns_servfail.update(self._names_of(domain))
        add_zone(self.records, apex, domain.nameservers, ttl=domain.ttl)
        if domain.dnssec != "none":
            zone = self.signer.add_zone(apex, domain.dnssec)
            for rtype, value in self.signer.records(zone):
                self.records.set(apex, rtype, value, ttl=domain.ttl)
        if domain.a == AUTO:
            wanted = domain.site is not None or bool(domain.subsites)
            served_ips = [self.alloc.resolve(f"site:{apex}")] if wanted else []
            addresses = served_ips if domain.site else []
        else:
            assert not isinstance(domain.a, str)
            addresses = served_ips = [self.alloc.resolve(a) for a in domain.a]
        v6 = [self.alloc.resolve(a) for a in domain.aaaa]
        for host in domain.hosts:
            if addresses:
                self.records.set(host, "A", *addresses, ttl=domain.ttl)
                for ip in addresses:
                    self.names_by_ip.setdefault(ip, []).append(host)
            if v6:
                self.records.set(host, "AAAA", *v6, ttl=domain.ttl)
        mx_values = []
        for index, value in enumerate(domain.mx):
            parts = value.split()
            if len(parts) == 1:
                parts = [str(10 * (index + 1)), parts[0]]
            host = parts[1].rstrip(".")  # a host without MailHostSpec or record: NXDOMAIN
            mx_values.append(f"{parts[0]} {to_ascii(host) + '.' if host else '.'}")
        if mx_values:
            self.records.set(apex, "MX", *mx_values, ttl=domain.ttl)
        if domain.txt:
            self.records.set(apex, "TXT", *map(self._filled, domain.txt), ttl=domain.ttl)
        if domain.dmarc is not None:
            self.records.set(f"_dmarc.{apex}", "TXT", self._filled(domain.dmarc), ttl=domain.ttl)
        for record in domain.records:
            self._add_record(_record(record), apex)
        if (domain.site is not None or domain.subsites) and not served_ips:
            raise ScenarioError(f"{domain.name}: a site needs an address (a=...)")
        served: list[tuple[tuple[str, ...], SiteSpec]] = []
        if domain.site is not None:
            served.append((domain.hosts, domain.site))
        for label, site in domain.subsites.items():
            host = to_ascii(f"{label}.{apex}")
            self.records.set(host, "A", *served_ips, ttl=domain.ttl)
            served.append(((host,), site))
        for ip in served_ips if served else ():
            hosts = self.sites.setdefault(ip, {})
            for names, site in served:
                for host in names:
                    if host in hosts:
                        raise ScenarioError(f"{host}: site declared twice on {ip}")
                    hosts[host] = HostSite(host, site, ip, names, apex)
        for other in domain.elsewhere:
            self._elsewhere(other, apex, domain.ttl)

    def _elsewhere(self, spec: HostSpec, apex: str, ttl: int) -> None:
        host = to_ascii(f"{spec.label}.{apex}")
        ip = self.alloc.resolve(spec.address)
        self.records.set(host, "A", ip, ttl=ttl)
        self.names_by_ip.setdefault(ip, []).append(host)
        if spec.site is not None:
            hosts = self.sites.setdefault(ip, {})
            if host in hosts:
                raise ScenarioError(f"{host}: site declared twice on {ip}")
            hosts[host] = HostSite(host, spec.site, ip, (host,), apex)

    def _filled(self, text: str) -> str:
        """A TXT value with each `{ip:symbol}` replaced by the symbol's address."""
        return _ADDRESS_REF.sub(lambda m: self.alloc.resolve(m.group(1)), text)

    def _names_of(self, domain: DomainSpec) -> set[str]:
        apex = domain.ascii
        names = {apex, *domain.hosts, f"_dmarc.{apex}"}
        for record in map(_record, domain.records):
            if not record.name.endswith(".") and record.name != "@":
                names.add(f"{record.name}.{apex}")
        return names

    def _add_record(self, record: Record, apex: str | None) -> None:
        name = record.name
        if name.endswith(".") or apex is None:
            owner = name
        else:
            owner = apex if name == "@" else f"{name}.{apex}"
        value = record.value
        rtype = record.type.upper()
        if rtype == "TXT":
            value = self._filled(value)
        if rtype in ("A", "AAAA"):
            value = self.alloc.resolve(value)
            self.names_by_ip.setdefault(value, []).append(to_ascii(owner))
        self.records.add(to_ascii(owner), rtype, value, ttl=record.ttl)

    def _ip_target(self, spec: IpSpec) -> str:
        text = spec.address.strip()
        if "/" in text:  # a network target: check it is loopback, keep it as given
            try:
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ScenarioError(f"{text}: not a network") from None
            if not net.network_address.is_loopback:
                raise ScenarioError(f"{text}: testbed networks must be in 127.0.0.0/8")
            return str(net)
        ip = self.alloc.resolve(text)
        if spec.site is not None:
            site = HostSite(ip, spec.site, ip, (ip,), ip)
            hosts = self.sites.setdefault(ip, {})
            hosts[ip] = site
            self.default_sites[ip] = site
        return ip


def layout(area: Area, block: int) -> Layout:
    return Layout(area, block)


def names(values: Iterable[str]) -> tuple[str, ...]:
    """A-labels of several names (convenience for tests)."""
    return tuple(to_ascii(v) for v in values)
