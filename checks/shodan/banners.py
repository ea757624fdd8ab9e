"""Shodan's documents as typed values: a `Host` with its `Banner`s, and CPEs taken apart.

The rules of this family (fingerprints, service classes, escalations) read these, never the raw
JSON, so that a field Shodan moves (the screenshot went from `opts.screenshot` to `screenshot`,
the Server header lives in `http.server` and in the banner text) is handled in one place.

A REST host document gives banners; an InternetDB summary gives only ports, host-level CPEs,
tags and CVE ids (`Host.banners` is then empty and `Host.full` False).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from exposure.sources.shodan import HostView, ViewKind

JSON = Any

STALE_AFTER = timedelta(days=30)  # older banners are reported as such, not as fresh


@dataclass(frozen=True, slots=True)
class Cpe:
    """A CPE (2.2 `cpe:/h:hikvision:ip_camera` or 2.3 `cpe:2.3:h:hikvision:ip_camera:*`)."""

    part: str  # a (application), h (hardware), o (operating system)
    vendor: str
    product: str
    version: str = ""

    @classmethod
    def parse(cls, raw: str) -> Cpe | None:
        text = raw.strip().lower()
        if text.startswith("cpe:2.3:"):
            fields = text.split(":")[2:]
        elif text.startswith("cpe:/"):
            fields = text[5:].split(":")
        else:
            return None
        fields = [f for f in fields if f not in ("", "*", "-")] + ["", "", "", ""]
        if not fields[0] or not fields[1]:
            return None
        return cls(fields[0], fields[1], fields[2], fields[3])

    @property
    def name(self) -> str:
        """`vendor:product`, what the fingerprint tables match on."""
        return f"{self.vendor}:{self.product}"

    def __str__(self) -> str:
        return ":".join(p for p in (self.part, self.vendor, self.product, self.version) if p)


@dataclass(frozen=True, slots=True)
class Vuln:
    """A CVE Shodan lists; CVSS and `verified` only where the REST API gave them."""

    cve: str
    cvss: float | None = None
    verified: bool = False
    summary: str = ""
    port: int | None = None


@dataclass(frozen=True, slots=True)
class Banner:
    """One service Shodan saw on one port."""

    port: int
    transport: str = "tcp"
    module: str = ""
    product: str = ""
    version: str = ""
    devicetype: str = ""
    data: str = ""  # the banner text (for HTTP, the response head)
    http_status: int | None = None
    server: str = ""
    title: str = ""
    html: str = ""
    favicon: int | None = None
    cpes: tuple[Cpe, ...] = ()
    tags: frozenset[str] = frozenset()
    timestamp: datetime | None = None
    screenshot_labels: tuple[str, ...] = ()
    screenshot: bool = False
    vulns: tuple[Vuln, ...] = ()
    sections: Mapping[str, JSON] | None = None  # module sections: vnc, mongodb, ftp, …

    @classmethod
    def from_shodan(cls, raw: Mapping[str, JSON]) -> Banner | None:
        port = raw.get("port")
        if not isinstance(port, int) or not 0 < port < 65536:
            return None
        http = raw.get("http") if isinstance(raw.get("http"), Mapping) else {}
        assert isinstance(http, Mapping)
        data = _str(raw.get("data"))
        favicon = http.get("favicon")
        shodan = raw.get("_shodan") if isinstance(raw.get("_shodan"), Mapping) else {}
        assert isinstance(shodan, Mapping)
        shot = raw.get("screenshot")
        vulns = raw.get("vulns") if isinstance(raw.get("vulns"), Mapping) else {}
        assert isinstance(vulns, Mapping)
        sections = {
            k: v
            for k, v in raw.items()
            if isinstance(v, Mapping) and k not in ("http", "_shodan", "screenshot", "vulns")
        }
        return cls(
            port=port,
            transport=_str(raw.get("transport")) or "tcp",
            module=_str(shodan.get("module")).lower(),
            product=_str(raw.get("product")),
            version=_str(raw.get("version")),
            devicetype=_str(raw.get("devicetype")),
            data=data,
            http_status=http.get("status") if isinstance(http.get("status"), int) else None,
            server=_str(http.get("server")) or _header(data, "server"),
            title=_str(http.get("title")),
            html=_str(http.get("html")),
            favicon=favicon.get("hash") if isinstance(favicon, Mapping) else None,
            cpes=_cpes([*_strs(raw.get("cpe23")), *_strs(raw.get("cpe"))]),
            tags=frozenset(t.lower() for t in _strs(raw.get("tags"))),
            timestamp=parse_time(raw.get("timestamp")),
            screenshot_labels=tuple(label.lower() for label in _strs(shot.get("labels")))
            if isinstance(shot, Mapping)
            else (),
            screenshot=isinstance(shot, Mapping),
            vulns=tuple(
                Vuln(
                    cve=str(cve),
                    cvss=_float(info.get("cvss")) if isinstance(info, Mapping) else None,
                    verified=bool(info.get("verified")) if isinstance(info, Mapping) else False,
                    summary=_str(info.get("summary")) if isinstance(info, Mapping) else "",
                    port=port,
                )
                for cve, info in vulns.items()
            ),
            sections=sections,
        )

    @property
    def label(self) -> str:
        return f"{self.port}/{self.transport}"

    def section(self, name: str) -> Mapping[str, JSON]:
        value = (self.sections or {}).get(name)
        return value if isinstance(value, Mapping) else {}

    @property
    def web(self) -> bool:
        return self.module.startswith(("http", "https")) or self.http_status is not None


@dataclass(frozen=True, slots=True)
class Host:
    """Everything known about one address, from the REST API (`full`) or InternetDB."""

    ip: str
    full: bool
    ports: tuple[int, ...]
    banners: tuple[Banner, ...] = ()
    cpes: tuple[Cpe, ...] = ()  # host level: InternetDB's list, or the union of the banners'
    tags: frozenset[str] = frozenset()
    vulns: tuple[Vuln, ...] = ()
    hostnames: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    degraded: str = ""  # why only InternetDB's summary is known
    fetched_at: datetime | None = None
    cached: bool = False

    @classmethod
    def from_view(cls, view: HostView) -> Host:
        doc = view.doc
        common = {
            "ip": view.ip,
            "hostnames": tuple(h.lower() for h in _strs(doc.get("hostnames"))),
            "domains": tuple(d.lower() for d in _strs(doc.get("domains"))),
            "degraded": view.degraded,
            "fetched_at": view.fetched_at,
            "cached": view.cached,
        }
        if view.kind is ViewKind.FULL:
            banners = tuple(
                b
                for raw in doc.get("data", ())
                if isinstance(raw, Mapping)
                for b in (Banner.from_shodan(raw),)
                if b is not None
            )
            by_cve: dict[str, Vuln] = {}
            for banner in banners:
                for vuln in banner.vulns:
                    known = by_cve.get(vuln.cve)
                    if known is None or (vuln.cvss or 0) > (known.cvss or 0):
                        by_cve[vuln.cve] = vuln
            for cve in _strs(doc.get("vulns")):
                by_cve.setdefault(cve, Vuln(cve))
            ports = {p for p in doc.get("ports", ()) if isinstance(p, int)}
            return cls(
                full=True,
                ports=tuple(sorted(ports | {b.port for b in banners})),
                banners=banners,
                cpes=tuple(dict.fromkeys(c for b in banners for c in b.cpes)),
                tags=frozenset(t.lower() for t in _strs(doc.get("tags")))
                | frozenset(t for b in banners for t in b.tags),
                vulns=tuple(sorted(by_cve.values(), key=lambda v: v.cve)),
                **common,  # type: ignore[arg-type]
            )
        return cls(
            full=False,
            ports=tuple(sorted(p for p in doc.get("ports", ()) if isinstance(p, int))),
            cpes=_cpes(_strs(doc.get("cpes"))),
            tags=frozenset(t.lower() for t in _strs(doc.get("tags"))),
            vulns=tuple(Vuln(cve) for cve in sorted(set(_strs(doc.get("vulns"))))),
            **common,  # type: ignore[arg-type]
        )


def parse_time(value: JSON) -> datetime | None:
    """Shodan's `2026-03-01T09:12:33.123456` (naive UTC) as a naive UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.replace(tzinfo=None) - (parsed.utcoffset() or timedelta(0))
    return parsed


def _cpes(raw: Sequence[str]) -> tuple[Cpe, ...]:
    seen: dict[str, Cpe] = {}
    for text in raw:
        cpe = Cpe.parse(text)
        if cpe is not None:
            seen.setdefault(str(cpe), cpe)
    return tuple(seen.values())


def _header(data: str, name: str) -> str:
    match = re.search(rf"(?im)^{re.escape(name)}:[ \t]*(.+?)\s*$", data[:4096])
    return match.group(1) if match else ""


def _str(value: JSON) -> str:
    return value if isinstance(value, str) else ""


def _strs(value: JSON) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else []


def _float(value: JSON) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
