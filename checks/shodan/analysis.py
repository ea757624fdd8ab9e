"""From what Shodan knows about one address to findings, and to what it could not decide.

With the REST API's host document (banners), in this order: services Shodan tags compromised
(`exposure.compromised`, and nothing else for those ports), a camera (`exposure.camera`, which
takes its side ports along), each remaining service by class (remote access, file share,
database, ICS) or as inventory (`exposure.service`), the CVEs in CISA's KEV catalogue
(`exposure.exploited`) and all the CVEs (`exposure.vulnerable`, KEV ones first).

With InternetDB's summary only (no API key, or the plan has no host look-ups), the same rules
run on what it has: host-level CPEs, tags, CVE ids, and ports. What it cannot see is returned as
`undecided`: the ids the full API might still find on this address. A port on which only
banners could tell a website from a camera's or NAS's login page leaves `exposure.camera` and
`exposure.file_share` undecided; a port of unknown service leaves every class undecided. The
check reports those as "could not decide" so the store does not resolve, on InternetDB's word,
a finding only the full API could see. The rest InternetDB decides as well as the API would:
its ports, tags and CVE ids are Shodan's own, so a port that is gone is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from checks.shodan.banners import Host
from checks.shodan.camera import CAMERA, find_camera, find_camera_summary
from checks.shodan.compromised import compromised_banners, find_compromised
from checks.shodan.exploited import find_exploited
from checks.shodan.ports import FIRM_OTHER_PORTS, WEB_PORTS
from checks.shodan.services import (
    BY_PORT,
    CLASS_IDS,
    FILE_SHARE,
    NAS,
    SERVICE,
    SERVICE_CLASSES,
    class_candidate,
    classify,
    nas_by_cpe,
    service_candidate,
    summary_candidate,
)
from checks.shodan.vulns import find_vulnerable
from exposure.contract import FindingCandidate
from exposure.sources.kev import KevCatalogue

_TAG_CLASSES = {c.tag: c for c in SERVICE_CLASSES if c.tag}  # "ics", "database"


@dataclass(frozen=True, slots=True)
class HostVerdict:
    candidates: tuple[FindingCandidate, ...] = ()
    undecided: frozenset[str] = frozenset()  # ids only the full API could decide here


def analyse(
    host: Host, now: datetime, via: str = "", kev: KevCatalogue | None = None
) -> HostVerdict:
    """`now` is the run's clock (naive UTC); `via` the domain the address came from, if any;
    `kev` the Known Exploited Vulnerabilities catalogue (None: no `exposure.exploited`)."""
    verdict = _full(host, now, via, kev) if host.full else _summary(host, now, via, kev)
    exploited = find_exploited(host, now, via, kev)
    if exploited is None:
        return verdict
    return HostVerdict((exploited, *verdict.candidates), verdict.undecided)


def _full(host: Host, now: datetime, via: str, kev: KevCatalogue | None = None) -> HostVerdict:
    found: list[FindingCandidate] = []
    tagged = compromised_banners(host.banners)
    compromised = find_compromised(host, tagged, now, via)
    if compromised is not None:
        found.append(compromised)
    taken = {(b.port, b.transport) for b in tagged}
    rest = [b for b in host.banners if (b.port, b.transport) not in taken]
    camera = find_camera(host, rest, now, via)
    if camera is not None:
        found.append(camera.candidate)
        rest = [b for b in rest if b.port not in camera.ports]
    for banner in rest:
        classified = classify(banner)
        if classified is None:
            found.append(service_candidate(host, banner, now, via))
        else:
            cls, signal = classified
            found.append(class_candidate(host, banner, cls, signal, now, via))
    vulnerable = find_vulnerable(host, now, via, kev)
    if vulnerable is not None:
        found.append(vulnerable)
    return HostVerdict(tuple(found))


def _summary(host: Host, now: datetime, via: str, kev: KevCatalogue | None = None) -> HostVerdict:
    found: list[FindingCandidate] = []
    undecided: set[str] = set()
    camera = find_camera_summary(host, now, via)
    taken: frozenset[int] = frozenset()
    if camera is not None:
        found.append(camera.candidate)
        taken = camera.ports
    rest = [p for p in host.ports if p not in taken]
    compromised = find_compromised(host, [], now, via, ports=rest)
    if compromised is not None:
        # InternetDB's tags are per address: which port carries the break-in is unknown. The
        # REST API would report the tagged services as compromised only, so they are listed in
        # that finding, and what the other ports are stays undecided.
        found.append(compromised)
        if rest:
            undecided |= CLASS_IDS | {SERVICE.id} | ({CAMERA.id} if camera is None else set())
        rest = []
    nas = nas_by_cpe(host.cpes)
    for port in rest:
        cls = BY_PORT.get(port)
        if cls is not None:
            found.append(summary_candidate(host, port, cls, f"port {port}", now, via))
        elif port in FIRM_OTHER_PORTS:
            name = FIRM_OTHER_PORTS[port]
            found.append(summary_candidate(host, port, None, f"port {port}", now, via, name))
        elif port in WEB_PORTS:
            if nas is not None:
                found.append(summary_candidate(host, port, NAS, f"cpe: {nas}", now, via))
            else:
                name = "web interface (unknown)"
                found.append(summary_candidate(host, port, None, f"port {port}", now, via, name))
                undecided |= {CAMERA.id, FILE_SHARE.id}
        else:
            tagged = next(
                (c for tag, c in _TAG_CLASSES.items() if tag in host.tags),
                None,
            )
            signal = f"tag: {tagged.tag}" if tagged is not None else f"port {port}"
            found.append(summary_candidate(host, port, tagged, signal, now, via))
            undecided |= CLASS_IDS | {CAMERA.id}
    if camera is not None:
        undecided.discard(CAMERA.id)
    vulnerable = find_vulnerable(host, now, via, kev)
    if vulnerable is not None:
        found.append(vulnerable)
    return HostVerdict(tuple(found), frozenset(undecided))
