"""Shodan documents cut down to what the checks read, before they are used or cached.

A real host document can be megabytes: base64 screenshots, whole HTML pages, certificate
chains, years of history. The checks need a few fields per banner (port, module, product,
headers, title, favicon hash, CPEs, tags, timestamp, CVEs, the module's auth facts), so every
answer is projected onto those first; fresh and cached answers then look exactly alike, the
cache rows stay small, and nothing a company would not want stored (an image of its yard)
is kept.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

JSON = Any

log = logging.getLogger("exposure.sources.shodan")
#: What a vulnerability id may look like (MITRE's syntax: a year and at least four digits).
_CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,}")

MAX_TEXT = 2048  # banner `data` and HTML: fingerprints look at the head of a page
MAX_HTML = 4096
MAX_SMALL_TEXT = 256
MAX_ITEMS = 32
MAX_BANNERS = 256  # per host; a host with more is a honeypot or a scanner's dream

#: Module sections whose facts decide authentication, anonymity or ransom (kept, shrunk).
MODULE_SECTIONS = (
    "vnc",
    "rdp",
    "mongodb",
    "elastic",
    "redis",
    "ftp",
    "smb",
    "mysql",
    "postgresql",
    "mssql",
    "couchdb",
    "memcached",
    "cassandra",
    "telnet",
    "rtsp",
    "bacnet",
    "modbus",
    "s7",
    "dnp3",
    "ethernetip",
)

_HOST_SCALARS = ("ip_str", "last_update", "org", "isp", "asn", "os", "country_code")
_BANNER_SCALARS = ("port", "transport", "timestamp", "product", "version", "devicetype", "info")


def slim_host(doc: Mapping[str, JSON]) -> dict[str, JSON]:
    """A REST host document (`/shodan/host/{ip}`) with only what the checks read."""
    out: dict[str, JSON] = {k: _scalar(doc.get(k)) for k in _HOST_SCALARS if k in doc}
    out["ip_str"] = str(doc.get("ip_str", ""))
    out["hostnames"] = _strings(doc.get("hostnames"))
    out["domains"] = _strings(doc.get("domains"))
    out["tags"] = _strings(doc.get("tags"))
    out["vulns"] = clean_cves(doc.get("vulns"))
    banners = [slim_banner(b) for b in _list(doc.get("data"))[:MAX_BANNERS] if isinstance(b, dict)]
    out["data"] = banners
    ports = {p for p in _list(doc.get("ports")) if isinstance(p, int)}
    ports |= {b["port"] for b in banners if isinstance(b.get("port"), int)}
    out["ports"] = sorted(ports)
    return out


def slim_banner(banner: Mapping[str, JSON]) -> dict[str, JSON]:
    """One service banner with only what the checks read."""
    out: dict[str, JSON] = {
        k: _scalar(banner.get(k)) for k in _BANNER_SCALARS if banner.get(k) is not None
    }
    out["data"] = _text(banner.get("data"), MAX_TEXT)
    shodan = banner.get("_shodan")
    if isinstance(shodan, Mapping):
        out["_shodan"] = {"module": _text(shodan.get("module"), 64)}
    for key in ("cpe", "cpe23", "tags", "hostnames", "domains"):
        if banner.get(key):
            out[key] = _strings(banner.get(key))
    http = banner.get("http")
    if isinstance(http, Mapping):
        out["http"] = _slim_http(http)
    screenshot = _screenshot(banner)
    if screenshot is not None:
        out["screenshot"] = screenshot
    vulns = banner.get("vulns")
    if isinstance(vulns, Mapping) and vulns:
        items = list(vulns.items())[: MAX_ITEMS * 4]
        kept = set(clean_cves([cve for cve, _ in items]))
        out["vulns"] = {str(cve): _slim_vuln(info) for cve, info in items if cve in kept}
    for section in MODULE_SECTIONS:
        value = banner.get(section)
        if isinstance(value, Mapping):
            out[section] = _small(value, depth=3)
    return out


def slim_internetdb(doc: Mapping[str, JSON]) -> dict[str, JSON]:
    """InternetDB's summary (`GET /{ip}`): ports, CPEs, host names, tags and CVE ids."""
    return {
        "ip": str(doc.get("ip", "")),
        "ports": sorted({p for p in _list(doc.get("ports")) if isinstance(p, int)}),
        "cpes": _strings(doc.get("cpes")),
        "hostnames": _strings(doc.get("hostnames")),
        "tags": _strings(doc.get("tags")),
        "vulns": clean_cves(doc.get("vulns")),
    }


def hosts_from_banners(banners: Iterable[Mapping[str, JSON]]) -> dict[str, dict[str, JSON]]:
    """Host documents built from search matches (`net:` searches return banners, not hosts)."""
    grouped: dict[str, list[Mapping[str, JSON]]] = {}
    for banner in banners:
        raw = banner.get("ip_str")
        if not isinstance(raw, str):
            continue
        try:
            ip = str(ipaddress.ip_address(raw))
        except ValueError:
            continue
        grouped.setdefault(ip, []).append(banner)
    hosts: dict[str, dict[str, JSON]] = {}
    for ip, group in grouped.items():
        hostnames = sorted({h for b in group for h in _strings(b.get("hostnames"))})
        domains = sorted({d for b in group for d in _strings(b.get("domains"))})
        tags = sorted({t for b in group for t in _strings(b.get("tags"))})
        cves = sorted({c for b in group if isinstance(b.get("vulns"), Mapping) for c in b["vulns"]})
        stamps = [str(b["timestamp"]) for b in group if b.get("timestamp")]
        doc: dict[str, JSON] = {
            "ip_str": ip,
            "hostnames": hostnames,
            "domains": domains,
            "tags": tags,
            "vulns": cves,
            "data": list(group),
            "ports": sorted({b["port"] for b in group if isinstance(b.get("port"), int)}),
            "last_update": max(stamps) if stamps else None,
        }
        hosts[ip] = slim_host(doc)
    return hosts


def clean_cves(value: JSON) -> list[str]:
    """CVE ids of a `vulns` list or map; Shodan's old `!CVE-…` entries meant "not vulnerable".

    Anything else that is not a CVE id is dropped (and logged): these ids are stored, shown in
    reports and mailed to members, so a source must not be able to put text of its choosing
    there (`CVE-<script>`)."""
    items: Iterable[Any] = value.keys() if isinstance(value, Mapping) else _list(value)
    kept: set[str] = set()
    dropped: list[str] = []
    for item in items:
        if isinstance(item, str) and item.startswith("!"):
            continue
        if isinstance(item, str) and _CVE_ID.fullmatch(item):
            kept.add(item)
        else:
            dropped.append(ascii(item)[:60])
    if dropped:
        log.warning(
            "dropped %d vulnerability id(s) that are not CVE ids: %s",
            len(dropped),
            ", ".join(dropped[:5]),
        )
    return sorted(kept)


# --- helpers -------------------------------------------------------------------------------------


def _slim_http(http: Mapping[str, JSON]) -> dict[str, JSON]:
    out: dict[str, JSON] = {
        "status": http.get("status") if isinstance(http.get("status"), int) else None,
        "title": _text(http.get("title"), MAX_SMALL_TEXT),
        "server": _text(http.get("server"), MAX_SMALL_TEXT),
        "html": _text(http.get("html"), MAX_HTML),
    }
    favicon = http.get("favicon")
    if isinstance(favicon, Mapping) and isinstance(favicon.get("hash"), int):
        out["favicon"] = {"hash": favicon["hash"]}
    components = http.get("components")
    if isinstance(components, Mapping):
        out["components"] = sorted(str(k) for k in components)[:MAX_ITEMS]
    return out


def _screenshot(banner: Mapping[str, JSON]) -> dict[str, JSON] | None:
    """The screenshot's labels and type, never its image. Older banners keep it in `opts`."""
    shot = banner.get("screenshot")
    if not isinstance(shot, Mapping):
        opts = banner.get("opts")
        shot = opts.get("screenshot") if isinstance(opts, Mapping) else None
    if not isinstance(shot, Mapping):
        return None
    return {
        "labels": _strings(shot.get("labels")),
        "mime": _text(shot.get("mime"), 64),
    }


def _slim_vuln(info: JSON) -> dict[str, JSON]:
    if not isinstance(info, Mapping):
        return {}
    cvss = info.get("cvss")
    if not isinstance(cvss, int | float) or isinstance(cvss, bool):
        cvss = info.get("cvss_v2") if isinstance(info.get("cvss_v2"), int | float) else None
    return {
        "cvss": float(cvss) if cvss is not None else None,
        "verified": info.get("verified") is True,
        "summary": _text(info.get("summary"), 300),
    }


def _small(value: JSON, depth: int) -> JSON:
    """A JSON value shrunk: short strings, few items, shallow."""
    if isinstance(value, str):
        return value[:MAX_SMALL_TEXT]
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth <= 0:
        return None
    if isinstance(value, Mapping):
        return {str(k)[:64]: _small(v, depth - 1) for k, v in list(value.items())[:MAX_ITEMS]}
    if isinstance(value, Sequence):
        return [_small(v, depth - 1) for v in list(value)[:MAX_ITEMS]]
    return str(value)[:MAX_SMALL_TEXT]


def _scalar(value: JSON) -> JSON:
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:MAX_SMALL_TEXT]


def _text(value: JSON, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _list(value: JSON) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _strings(value: JSON) -> list[str]:
    return [str(v)[:MAX_SMALL_TEXT] for v in _list(value)[: MAX_ITEMS * 8] if isinstance(v, str)]
