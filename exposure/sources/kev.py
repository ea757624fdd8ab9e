"""CISA's Known Exploited Vulnerabilities (KEV) catalogue: the flaws attackers use right now.

A CVE list sorted by CVSS is not a priority list. What gets small firms ransomed is the short
list of flaws in active use, mostly in edge devices (VPN gateways, firewalls, mail servers), and
CISA's KEV catalogue names them, with `knownRansomwareCampaignUse` ("Known" / "Unknown").

- exposure ships a dated snapshot (`kev_snapshot.json`, the official feed unchanged; source,
  date and licence in `kev_snapshot.LICENSE.txt`);
- `exposure update-kev` fetches the feed from `kev_url` (the official one by default), refuses
  an answer larger than `MAX_FEED_BYTES` or one that fails the schema check below, and only then
  replaces `kev_file` (written whole and renamed, so a failed update keeps the old catalogue);
- a scan reads `kev_file` when it exists, else the snapshot (`catalogue_for`); a `kev_file`
  that does not parse is logged and the snapshot is used, so a bad file never stops a night.

The schema check is what the scanner relies on, not the whole of CISA's JSON schema: an object
with a `vulnerabilities` list of at least `MIN_ENTRIES` objects, each with a well-formed
`cveID`, a `dateAdded` date, `vendorProject`, `product` and `knownRansomwareCampaignUse`; and,
when `count` is given, as many entries as it says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from exposure.net.http import USER_AGENT

if TYPE_CHECKING:
    from exposure.settings import Settings

log = logging.getLogger(__name__)

SNAPSHOT = Path(__file__).with_name("kev_snapshot.json")
OFFICIAL_FEED = (
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
)
MAX_FEED_BYTES = 16 * 1024 * 1024  # the feed is ~1.3 MB (2025); a hundredfold is no catalogue
MIN_ENTRIES = 100  # the catalogue has had more than a thousand entries since 2024
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


class KevError(ValueError):
    """A feed or file that is not a KEV catalogue (the message says why)."""


@dataclass(frozen=True, slots=True)
class KevEntry:
    cve: str
    vendor: str
    product: str
    name: str
    date_added: date
    ransomware: bool  # knownRansomwareCampaignUse == "Known"
    due_date: str = ""
    description: str = ""

    def evidence(self) -> dict[str, Any]:
        return {
            "cve": self.cve,
            "vendor": self.vendor,
            "product": self.product,
            "name": self.name,
            "date_added": self.date_added.isoformat(),
            "ransomware": self.ransomware,
        }


@dataclass(frozen=True, slots=True)
class KevCatalogue:
    version: str
    released: str
    entries: Mapping[str, KevEntry] = field(default_factory=dict)
    origin: str = "snapshot"  # "snapshot" or the file it came from

    def get(self, cve: str) -> KevEntry | None:
        return self.entries.get(cve.upper())

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def released_date(self) -> date | None:
        try:
            return date.fromisoformat(self.released[:10])
        except ValueError:
            return None

    def age_days(self, now: datetime | None = None) -> float | None:
        released = self.released_date
        if released is None:
            return None
        today = (now or datetime.now(UTC)).date()
        return float((today - released).days)


def parse_catalogue(raw: bytes | str, origin: str = "snapshot") -> KevCatalogue:
    """The catalogue in `raw` (the official feed's JSON), or KevError."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise KevError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise KevError("not a JSON object")
    items = data.get("vulnerabilities")
    if not isinstance(items, list):
        raise KevError("no 'vulnerabilities' list")
    if len(items) < MIN_ENTRIES:
        raise KevError(f"only {len(items)} entries (a KEV catalogue has at least {MIN_ENTRIES})")
    count = data.get("count")
    if count is not None and count != len(items):
        raise KevError(f"'count' says {count}, the list has {len(items)}")
    entries: dict[str, KevEntry] = {}
    for n, item in enumerate(items):
        where = f"entry {n + 1}"
        if not isinstance(item, dict):
            raise KevError(f"{where}: not an object")
        cve = item.get("cveID")
        if not isinstance(cve, str) or not _CVE.match(cve):
            raise KevError(f"{where}: bad cveID {cve!r}")
        try:
            added = date.fromisoformat(str(item.get("dateAdded")))
        except ValueError:
            raise KevError(f"{where} ({cve}): bad dateAdded {item.get('dateAdded')!r}") from None
        ransomware = item.get("knownRansomwareCampaignUse")
        if ransomware not in ("Known", "Unknown"):
            raise KevError(f"{where} ({cve}): bad knownRansomwareCampaignUse {ransomware!r}")
        for name in ("vendorProject", "product"):
            if not isinstance(item.get(name), str):
                raise KevError(f"{where} ({cve}): no {name}")
        entries[cve.upper()] = KevEntry(
            cve=cve.upper(),
            vendor=item["vendorProject"],
            product=item["product"],
            name=str(item.get("vulnerabilityName") or ""),
            date_added=added,
            ransomware=ransomware == "Known",
            due_date=str(item.get("dueDate") or ""),
            description=str(item.get("shortDescription") or "")[:300],
        )
    return KevCatalogue(
        version=str(data.get("catalogVersion") or ""),
        released=str(data.get("dateReleased") or ""),
        entries=entries,
        origin=origin,
    )


_loaded: dict[tuple[str, int, int], KevCatalogue] = {}


def load_catalogue(path: Path) -> KevCatalogue:
    """The catalogue in `path`, parsed once per (path, mtime, size)."""
    stat = path.stat()
    if stat.st_size > MAX_FEED_BYTES:
        raise KevError(f"{path}: {stat.st_size} bytes, more than the cap of {MAX_FEED_BYTES}")
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    found = _loaded.get(key)
    if found is None:
        origin = "snapshot" if path == SNAPSHOT else str(path)
        found = parse_catalogue(path.read_bytes(), origin)
        _loaded.clear()  # one catalogue in memory at a time (an update replaces the old one)
        _loaded[key] = found
    return found


def catalogue_for(settings: Settings) -> KevCatalogue:
    """`kev_file` when it exists and parses, else the shipped snapshot."""
    path = Path(settings.kev_file)
    if settings.kev_file and path.is_file():
        try:
            return load_catalogue(path)
        except (OSError, KevError) as exc:
            log.warning("kev: %s is not usable (%s); using the shipped snapshot", path, exc)
    return load_catalogue(SNAPSHOT)


async def fetch_feed(url: str, *, wait: float = 30.0, max_bytes: int = MAX_FEED_BYTES) -> bytes:
    """The feed's bytes; KevError for an error answer, one larger than `max_bytes`, or none
    within `wait` seconds in all (httpx's own time-out bounds each read, not a slow trickle)."""
    try:
        async with asyncio.timeout(wait):
            return await _fetch(url, wait, max_bytes)
    except TimeoutError:
        raise KevError(f"{url}: no whole answer within {wait:g} s") from None


async def _fetch(url: str, wait: float, max_bytes: int) -> bytes:
    async with httpx.AsyncClient(
        timeout=wait,
        follow_redirects=True,
        trust_env=False,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    ) as client:
        try:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise KevError(f"{url} answered HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise KevError(f"{url}: {declared} bytes, more than the cap of {max_bytes}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise KevError(f"{url}: more than the cap of {max_bytes} bytes")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise KevError(f"{url}: {type(exc).__name__}: {exc}"[:300]) from None
    return b"".join(chunks)


async def update(
    settings: Settings, *, url: str | None = None, max_bytes: int = MAX_FEED_BYTES
) -> KevCatalogue:
    """Fetch, check and install the feed as `kev_file`; KevError leaves the old file as it was."""
    raw = await fetch_feed(
        url or settings.kev_url, wait=settings.read_timeout * 3, max_bytes=max_bytes
    )
    target = Path(settings.kev_file)
    catalogue = parse_catalogue(raw, str(target))
    await asyncio.to_thread(_install, raw, target)
    return catalogue


def _install(raw: bytes, target: Path) -> None:
    """Write `raw` beside `target` and rename it over: the old file or the new, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kev-", suffix=".json", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
