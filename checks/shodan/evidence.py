"""Evidence and wording shared by the family: what was seen, where, and how long ago.

Shodan's data is a record of the past. A banner from last week is a fair picture of today; one
from three months ago may describe a device long gone. So every service carries Shodan's
timestamp, and one older than `STALE_AFTER` is marked `stale` and worded as "last seen …, may no
longer be current", never as fresh. InternetDB has no timestamps at all: its services say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from checks.shodan.banners import STALE_AFTER, Banner, Host
from checks.shodan.edge import identify as identify_edge

JSON = Any


@dataclass(frozen=True, slots=True)
class Seen:
    """When Shodan last saw something, relative to the run's clock."""

    at: datetime | None
    now: datetime

    @property
    def age_days(self) -> int | None:
        return None if self.at is None else max(0, (self.now - self.at).days)

    @property
    def stale(self) -> bool:
        return self.at is not None and self.now - self.at > STALE_AFTER

    def phrase(self) -> str:
        if self.at is None:
            return "no date (InternetDB summary)"
        days = self.age_days
        text = f"seen by Shodan {self.at:%Y-%m-%d} ({days} day{'s' if days != 1 else ''} ago)"
        return text + ("; may no longer be current" if self.stale else "")


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def latest(banners: Iterable[Banner], now: datetime) -> Seen:
    stamps = [b.timestamp for b in banners if b.timestamp is not None]
    return Seen(max(stamps) if stamps else None, now)


def service_evidence(
    host: Host, banner: Banner | None, port: int, now: datetime, signals: Iterable[str] = ()
) -> dict[str, JSON]:
    """One service as evidence: port, transport, product, signals, Shodan's timestamp."""
    if banner is None:
        return {
            "port": port,
            "transport": None,
            "product": None,
            "signals": list(signals) or [f"port {port} open (InternetDB)"],
            "seen": None,
            "stale": False,
        }
    seen = Seen(banner.timestamp, now)
    out: dict[str, JSON] = {
        "port": banner.port,
        "transport": banner.transport,
        "module": banner.module or None,
        "product": banner.product or None,
        "version": banner.version or None,
        "signals": list(signals),
        "seen": banner.timestamp.isoformat(timespec="seconds") if banner.timestamp else None,
        "stale": seen.stale,
    }
    if banner.vulns:
        out["cves"] = sorted(v.cve for v in banner.vulns)  # details: exposure.vulnerable
    eol = sorted(t for t in banner.tags if t.startswith("eol-"))
    if eol:
        out["end_of_life"] = eol
    edge = identify_edge(banner)
    if edge is not None:  # "your Fortinet VPN (FortiOS 7.0.12)" rather than "port 443"
        out["edge"] = edge.evidence()
    return out


def host_evidence(host: Host, via: str, services: Sequence[Mapping[str, JSON]]) -> dict[str, JSON]:
    """What every finding of an address carries: the address, the source, the services."""
    stamps = [s["seen"] for s in services if s.get("seen")]
    out: dict[str, JSON] = {
        "ip": host.ip,
        "source": "shodan" if host.full else "internetdb",
        "services": list(services),
        "last_seen": max(stamps) if stamps else None,
        "stale": bool(services) and all(s.get("stale") for s in services),
    }
    if via:
        out["domain"] = via
    if host.degraded:
        out["degraded"] = host.degraded
    if host.cached and host.fetched_at is not None:
        out["cached_from"] = host.fetched_at.isoformat(timespec="seconds")
    return out


def product_phrase(banner: Banner | None) -> str:
    if banner is None:
        return ""
    text = " ".join(p for p in (banner.product, banner.version) if p)
    return f" ({text})" if text else ""
