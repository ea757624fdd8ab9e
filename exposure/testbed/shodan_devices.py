"""What Shodan would have seen on the port area's IPs: devices, and the documents built from them.

Scenarios declare devices in a few words (`Device.camera("hikvision", ip, port=80)`,
`Device.database("mongodb", ip, auth=False)`, `Device.ics("modbus", ip)`), and `host_documents()`
turns them into what the Shodan look-alike serves, in Shodan's field layout: the REST host
document (`/shodan/host/{ip}`) with its banners, and the InternetDB summary. The device kinds
and their fingerprints are the table in shodan_catalogue.py.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import ipaddress
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from exposure.testbed.shodan_catalogue import (
    CAMERA_ALIASES,
    CAMERA_VENDORS,
    CATALOGUE,
    CRITICAL,
    HIGH,
    KNOWN_VULNS,
    HttpFacts,
    Profile,
    Service,
    Vuln,
    vuln,
)

__all__ = [
    "CAMERA_VENDORS",
    "CATALOGUE",
    "KNOWN_VULNS",
    "Device",
    "HostInfo",
    "Profile",
    "Service",
    "Vuln",
    "host_document",
    "host_documents",
    "internetdb_document",
    "mmh3_32",
    "vuln",
]

JSON = Any


# ---------------------------------------------------------------------------------------------
# Devices and hosts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Device:
    """One device of the catalogue on one IP, as a scenario declares it.

    `port` moves the primary service; `side_ports=False` leaves out the vendor's other ports;
    `screenshot=True` adds a camera image labelled "webcam" (a live image: critical);
    `vulns` attaches CVEs to the primary service; `tags` adds Shodan tags; `server` replaces
    the HTTP Server header (e.g. another Hikvision firmware's).
    """

    kind: str
    ip: str
    port: int | None = None
    side_ports: bool = True
    screenshot: bool = False
    vulns: tuple[Vuln, ...] = ()
    tags: tuple[str, ...] = ()
    server: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in CATALOGUE:
            raise ValueError(f"unknown device kind {self.kind!r}; known: {', '.join(CATALOGUE)}")
        ipaddress.ip_address(self.ip)

    # --- declarations in a few words -----------------------------------------------------------

    @classmethod
    def camera(cls, vendor: str, ip: str, port: int | None = None, **kwargs: Any) -> Device:
        """A camera/DVR/NVR by vendor: one of `CAMERA_VENDORS` or an alias ("D-Link", "XMEye")."""
        key = vendor.lower().replace("-", "").replace(" ", "_")
        return cls(f"camera.{CAMERA_ALIASES.get(key, key)}", ip, port, **kwargs)

    @classmethod
    def rtsp(cls, ip: str, port: int = 554, *, open_stream: bool = True, **kwargs: Any) -> Device:
        return cls("camera.rtsp" if open_stream else "camera.rtsp_auth", ip, port, **kwargs)

    @classmethod
    def rdp(cls, ip: str, port: int | None = None, **kwargs: Any) -> Device:
        return cls("remote.rdp", ip, port, **kwargs)

    @classmethod
    def vnc(cls, ip: str, port: int | None = None, *, auth: bool = True, **kwargs: Any) -> Device:
        return cls("remote.vnc" if auth else "remote.vnc_noauth", ip, port, **kwargs)

    @classmethod
    def telnet(cls, ip: str, port: int | None = None, **kwargs: Any) -> Device:
        return cls("remote.telnet", ip, port, **kwargs)

    @classmethod
    def smb(cls, ip: str, **kwargs: Any) -> Device:
        return cls("files.smb", ip, **kwargs)

    @classmethod
    def ftp(
        cls, ip: str, port: int | None = None, *, anonymous: bool = False, **kwargs: Any
    ) -> Device:
        return cls("files.ftp_anonymous" if anonymous else "files.ftp", ip, port, **kwargs)

    @classmethod
    def nfs(cls, ip: str, **kwargs: Any) -> Device:
        return cls("files.nfs", ip, **kwargs)

    @classmethod
    def nas(cls, vendor: str, ip: str, port: int | None = None, **kwargs: Any) -> Device:
        return cls(f"nas.{vendor.lower()}", ip, port, **kwargs)

    @classmethod
    def database(
        cls, engine: str, ip: str, port: int | None = None, *, auth: bool = True, **kwargs: Any
    ) -> Device:
        kind = f"db.{engine.lower()}" + ("" if auth else "_noauth")
        return cls(kind, ip, port, **kwargs)

    @classmethod
    def ics(cls, protocol: str, ip: str, port: int | None = None, **kwargs: Any) -> Device:
        return cls(f"ics.{protocol.lower().replace('/', '').replace('-', '')}", ip, port, **kwargs)

    @classmethod
    def web(cls, server: str, ip: str, **kwargs: Any) -> Device:
        return cls(f"web.{server.lower()}", ip, **kwargs)

    @classmethod
    def compromised(cls, ip: str, how: str = "web", **kwargs: Any) -> Device:
        """A host Shodan tags compromised/malware: `how` is "web", "mongodb_ransom" or "doublepulsar"."""
        return cls(f"compromised.{how}", ip, **kwargs)

    # --- what it looks like ------------------------------------------------------------------

    @property
    def profile(self) -> Profile:
        return CATALOGUE[self.kind]

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(service.port for service in self.services())

    def services(self) -> tuple[Service, ...]:
        primary, *rest = self.profile.services
        if self.port is not None:
            primary = replace(primary, port=self.port)
        if self.server is not None and primary.http is not None:
            primary = replace(primary, http=replace(primary.http, server=self.server))
        if self.tags:
            primary = replace(primary, tags=(*primary.tags, *self.tags))
        return (primary, *rest) if self.side_ports else (primary,)

    def expected(self) -> tuple[tuple[str, str], ...]:
        """(finding id, severity) pairs the scanner should raise for this device."""
        severity = self.profile.severity
        if self.screenshot and self.profile.finding == "exposure.camera":
            severity = CRITICAL
        found = [(self.profile.finding, severity)]
        if self.vulns:
            top = max(v.cvss for v in self.vulns)
            kev = any(v.kev for v in self.vulns)
            if not all(v.kev for v in self.vulns):  # all in KEV: `exposure.exploited` alone
                found.append(("exposure.vulnerable", CRITICAL if top >= 9.0 or kev else HIGH))
            if kev:
                found.append(("exposure.exploited", CRITICAL))
        if {"compromised", "malware", "doublepulsar"} & set(
            self.tags
        ) and self.profile.finding != "exposure.compromised":
            found.append(("exposure.compromised", CRITICAL))
        return tuple(found)


@dataclass(frozen=True, slots=True)
class HostInfo:
    """Host-level facts of one IP: owner, place, names. The defaults are a Rotterdam hoster."""

    org: str = "Haven Hosting B.V."
    isp: str = "Haven Hosting B.V."
    asn: str = "AS64500"  # a documentation ASN (RFC 5398)
    country_code: str = "NL"
    country_name: str = "Netherlands"
    city: str = "Rotterdam"
    region_code: str = "ZH"
    latitude: float = 51.9225
    longitude: float = 4.47917
    hostnames: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()  # default: the registrable part of `hostnames`
    os: str | None = None
    tags: tuple[str, ...] = ()  # host-level tags, e.g. "compromised", "cloud", "vpn"


# A tiny stand-in for a camera still: the JPEG markers around a comment; enough for a client
# that sniffs the type, no pixels (the testbed never shows it).
_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xfe\x00\x0ftestbed still\xff\xd9"
_FAVICON = b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00\x20\x00testbed-favicon"


def host_documents(
    devices: Iterable[Device],
    info: Mapping[str, HostInfo] | HostInfo | None = None,
    *,
    when: datetime | None = None,
) -> list[dict[str, JSON]]:
    """REST host documents, one per IP of `devices`; `info` per IP or one for all."""
    by_ip: dict[str, list[Device]] = {}
    for device in devices:
        by_ip.setdefault(str(ipaddress.ip_address(device.ip)), []).append(device)
    docs = []
    for ip, group in by_ip.items():
        host_info = info.get(ip, HostInfo()) if isinstance(info, Mapping) else (info or HostInfo())
        docs.append(host_document(ip, group, host_info, when=when))
    return docs


def host_document(
    ip: str,
    devices: Sequence[Device],
    info: HostInfo | None = None,
    *,
    when: datetime | None = None,
) -> dict[str, JSON]:
    """The `/shodan/host/{ip}` document for the devices on one IP, in Shodan's field layout.

    Deterministic for a fixed `when`: ids and hashes derive from the content, so a rescan of an
    unchanged host gives the same document.
    """
    info = info or HostInfo()
    ip = str(ipaddress.ip_address(ip))
    when = when or datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=6)
    # One banner per (port, transport), as in Shodan: a device's own (primary) service wins over
    # another device's side port; two primaries on one port are a scenario mistake.
    chosen: dict[tuple[int, str], tuple[bool, Device, Service]] = {}
    for device in devices:
        if str(ipaddress.ip_address(device.ip)) != ip:
            raise ValueError(f"device {device.kind} is on {device.ip}, not on {ip}")
        for index, service in enumerate(device.services()):
            slot, primary = (service.port, service.transport), index == 0
            taken = chosen.get(slot)
            if taken is not None and taken[0] and primary:
                raise ValueError(f"{ip}: {taken[1].kind} and {device.kind} both on port {slot[0]}")
            if taken is None or primary:
                chosen[slot] = (primary, device, service)
    banners = [
        _banner(
            ip,
            service,
            info,
            when - timedelta(minutes=7 * n),
            vulns=device.vulns if primary else (),
            screenshot=device.screenshot and primary,
        )
        for n, (primary, device, service) in enumerate(chosen.values())
    ]
    banners.sort(key=lambda b: (b["port"], b["transport"]))
    tags = sorted({*info.tags, *(t for b in banners for t in b.get("tags", []))})
    vulns = sorted({cve for b in banners for cve in b.get("vulns", {})})
    doc: dict[str, JSON] = {
        "region_code": info.region_code,
        "postal_code": None,
        "country_code": info.country_code,
        "city": info.city,
        "last_update": _stamp(when),
        "latitude": info.latitude,
        "tags": tags,
        "area_code": None,
        "country_name": info.country_name,
        "hostnames": list(info.hostnames),
        "org": info.org,
        "data": banners,
        "asn": info.asn,
        "isp": info.isp,
        "longitude": info.longitude,
        "country_code3": None,
        "domains": list(_domains(info)),
        "ip_str": ip,
        "os": info.os or next((b["os"] for b in banners if b.get("os")), None),
        "ports": sorted({b["port"] for b in banners}),
    }
    doc.update(_ip_fields(ip))
    if vulns:
        doc["vulns"] = vulns
    return doc


def internetdb_document(host: Mapping[str, JSON]) -> dict[str, JSON]:
    """The InternetDB summary (`GET /{ip}`) of a REST host document, in InternetDB's key order."""
    banners = host.get("data", [])
    return {
        "cpes": sorted({cpe for b in banners for cpe in b.get("cpe", [])}),
        "hostnames": list(host.get("hostnames", [])),
        "ip": host["ip_str"],
        "ports": sorted(host.get("ports", [])),
        "tags": sorted(host.get("tags", [])),
        "vulns": sorted(host.get("vulns", [])),
    }


def _banner(
    ip: str,
    service: Service,
    info: HostInfo,
    when: datetime,
    *,
    vulns: Sequence[Vuln],
    screenshot: bool,
) -> dict[str, JSON]:
    data = _http_head(service.http) if service.http is not None else service.data
    seed = f"{ip}:{service.port}/{service.transport}:{service.module}"
    banner: dict[str, JSON] = {
        "hash": mmh3_32(data.encode("utf-8")),
        "timestamp": _stamp(when),
        "port": service.port,
        "transport": service.transport,
        "data": data,
        "ip_str": ip,
        "org": info.org,
        "isp": info.isp,
        "asn": info.asn,
        "hostnames": list(info.hostnames),
        "domains": list(_domains(info)),
        "os": service.os or info.os,
        "location": {
            "city": info.city,
            "region_code": info.region_code,
            "area_code": None,
            "longitude": info.longitude,
            "latitude": info.latitude,
            "country_code3": None,
            "country_name": info.country_name,
            "postal_code": None,
            "dma_code": None,
            "country_code": info.country_code,
        },
        "opts": {},
        "_shodan": {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"shodan-testbed:{seed}:{_stamp(when)}")),
            "module": service.module,
            "crawler": hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest(),
            "ptr": bool(info.hostnames),
            "options": {},
            "region": "eu",
        },
    }
    banner.update(_ip_fields(ip))
    for key in ("product", "version", "devicetype", "info"):
        value = getattr(service, key)
        if value is not None:
            banner[key] = value
    if service.cpe23:
        banner["cpe23"] = list(service.cpe23)
        banner["cpe"] = [_cpe22(cpe) for cpe in service.cpe23]
    if service.tags:
        banner["tags"] = sorted(set(service.tags))
    if service.http is not None:
        banner["http"] = _http_section(ip, service)
    if service.tls:
        banner["ssl"] = _ssl_section(info, when)
    if vulns:
        banner["vulns"] = {v.cve: v.as_shodan() for v in vulns}
    if screenshot:
        banner["screenshot"] = {
            "data": base64.b64encode(_JPEG).decode("ascii"),
            "mime": "image/jpeg",
            "hash": mmh3_32(_JPEG),
            "labels": ["webcam"],
        }
    banner.update(copy.deepcopy(dict(service.extra)))
    return banner


def _http_head(http: HttpFacts) -> str:
    reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 401: "Unauthorized"}.get(
        http.status, "OK"
    )
    lines = [f"HTTP/1.1 {http.status} {reason}"]
    if http.server:
        lines.append(f"Server: {http.server}")
    lines.append("Content-Type: text/html")
    lines.extend(f"{name}: {value}" for name, value in http.headers)
    if http.html:
        lines.append(f"Content-Length: {len(http.html.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n"


def _http_section(ip: str, service: Service) -> dict[str, JSON]:
    http = service.http
    assert http is not None
    location = dict(http.headers).get("Location", "/")
    section: dict[str, JSON] = {
        "status": http.status,
        "title": http.title or None,
        "server": http.server or None,
        "host": ip,
        "location": "/" if location.startswith("http") else location,
        "html": http.html,
        "html_hash": mmh3_32(http.html.encode("utf-8")),
        "headers_hash": mmh3_32(_http_head(http).encode("utf-8")),
        "robots": None,
        "robots_hash": None,
        "sitemap": None,
        "sitemap_hash": None,
        "securitytxt": None,
        "securitytxt_hash": None,
        "redirects": [],
        "components": {name: {"categories": [category]} for name, category in http.components},
    }
    if http.favicon_hash is not None:
        section["favicon"] = {
            "hash": http.favicon_hash,
            "data": base64.encodebytes(_FAVICON).decode("ascii"),
            "location": f"http{'s' if service.tls else ''}://{ip}:{service.port}/favicon.ico",
        }
    return section


def _ssl_section(info: HostInfo, when: datetime) -> dict[str, JSON]:
    name = info.hostnames[0] if info.hostnames else "localhost"
    return {
        "versions": ["-SSLv2", "-SSLv3", "-TLSv1", "-TLSv1.1", "TLSv1.2", "TLSv1.3"],
        "cipher": {"version": "TLSv1.3", "bits": 256, "name": "TLS_AES_256_GCM_SHA384"},
        "cert": {
            "subject": {"CN": name},
            "issuer": {"C": "US", "O": "Let's Encrypt", "CN": "R3"},
            "issued": (when - timedelta(days=30)).strftime("%Y%m%d%H%M%SZ"),
            "expires": (when + timedelta(days=60)).strftime("%Y%m%d%H%M%SZ"),
            "expired": False,
            "sig_alg": "sha256WithRSAEncryption",
            "pubkey": {"type": "rsa", "bits": 2048},
        },
    }


def _ip_fields(ip: str) -> dict[str, JSON]:
    addr = ipaddress.ip_address(ip)
    return {"ip": int(addr)} if addr.version == 4 else {"ipv6": str(addr)}


def _domains(info: HostInfo) -> tuple[str, ...]:
    if info.domains:
        return info.domains
    return tuple(sorted({".".join(h.split(".")[-2:]) for h in info.hostnames if "." in h}))


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _cpe22(cpe23: str) -> str:
    """`cpe:2.3:a:f5:nginx:1.18.0` -> `cpe:/a:f5:nginx:1.18.0` (the form InternetDB and `cpe` use)."""
    parts = cpe23.split(":")
    if len(parts) < 4 or parts[:2] != ["cpe", "2.3"]:
        return cpe23
    fields = [p for p in parts[2:] if p not in ("*", "-")]
    return "cpe:/" + ":".join(fields)


def mmh3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit, signed like `mmh3.hash`: Shodan's banner, html and favicon hash."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    length = len(data)
    end = length - length % 4
    for i in range(0, end, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[end:]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if tail:
        k ^= tail[0]
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h - 0x100000000 if h & 0x80000000 else h
