"""`exposure.camera`: an IP camera, DVR or NVR that anyone on the internet can reach.

The finding that started the Meldpunt: burglars look such cameras up to study a shop or a yard
before they come. A camera is one device behind several ports (web interface, RTSP, the
vendor's own protocol), so it is one finding per address, with every port in the evidence.
It is critical when Shodan got a live picture without a password: an RTSP stream that answered
200 without asking for credentials, or a screenshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from checks.shodan.banners import Banner, Host
from checks.shodan.evidence import host_evidence, latest, service_evidence
from checks.shodan.fingerprints import Signal, match_banner, match_summary, rtsp_open
from checks.shodan.ports import WEB_PORTS
from exposure.contract import Effort, FindingCandidate, FindingSpec
from exposure.severity import Severity
from exposure.text import Text

CAMERA = FindingSpec(
    id="exposure.camera",
    severity=Severity.HIGH,
    title=Text(
        nl="Camera of videorecorder zichtbaar op internet",
        en="Camera or video recorder visible on the internet",
    ),
    risk=Text(
        nl="Een beveiligingscamera of de recorder van uw camera's is vanaf het hele internet "
        "te bereiken. Inbrekers zoeken zulke camera's op om uw winkel, kantoor of terrein van "
        "tevoren te bekijken: wanneer er niemand is, waar de kassa staat, wanneer de poort "
        "openstaat. Staat het beeld open zonder wachtwoord, dan kan iedereen live meekijken. "
        "Camera's met oude software of een standaardwachtwoord worden bovendien overgenomen "
        "en misbruikt.",
        en="A security camera or the recorder of your cameras can be reached from anywhere on "
        "the internet. Burglars look such cameras up to study your shop, office or yard "
        "before they come: when nobody is there, where the till is, when the gate is open. "
        "If the picture is open without a password, anyone can watch live. Cameras with old "
        "software or a default password are also taken over and misused.",
    ),
    remediation=Text(
        nl="Vraag uw camera-leverancier of installateur om de camera of recorder van internet "
        "af te halen. Kijk op afstand mee via de app of VPN van de leverancier in plaats van "
        "via een open poort in uw router.",
        en="Ask your camera supplier or installer to take the camera or recorder off the "
        "internet. Watch remotely through the supplier's app or VPN instead of an open port "
        "on your router.",
    ),
    technical=Text(
        nl="Shodan zag op dit adres de webinterface, RTSP-stream of het eigen protocol van een "
        "IP-camera, DVR of NVR (poorten en kenmerken staan in het bewijs). Verwijder de "
        "port forwarding (bijv. 80/443, 554, 8000, 37777, 34567) en zet UPnP uit op de "
        "router; werk de firmware bij en vervang standaardwachtwoorden; gebruik voor toegang "
        "op afstand een VPN of de P2P/cloud-dienst van de fabrikant. Kritiek: Shodan kreeg "
        "een live beeld (RTSP zonder wachtwoord of een schermafdruk).",
        en="Shodan saw the web interface, RTSP stream or proprietary protocol of an IP camera, "
        "DVR or NVR on this address (ports and signals are in the evidence). Remove the port "
        "forwards (e.g. 80/443, 554, 8000, 37777, 34567) and disable UPnP on the router; "
        "update the firmware and replace default passwords; use a VPN or the vendor's "
        "P2P/cloud service for remote access. Critical: Shodan got a live picture (RTSP "
        "without a password, or a screenshot).",
    ),
    effort=Effort.LOW,
)


@dataclass(frozen=True, slots=True)
class CameraVerdict:
    """A camera on an address, and the ports it accounts for (not listed as other services)."""

    candidate: FindingCandidate
    ports: frozenset[int]


def find_camera(
    host: Host, banners: Sequence[Banner], now: datetime, via: str = ""
) -> CameraVerdict | None:
    """A camera among the banners of a REST host document."""
    matched = [(b, match_banner(b)) for b in banners]
    cameras = [(b, m) for b, m in matched if m.camera]
    if not cameras:
        return None
    parts = [(b, m) for b, m in matched if m.rows]  # the camera and its side ports
    vendor = next(
        (m.vendor for _, m in sorted(cameras, key=lambda bm: -bm[1].score) if m.vendor), ""
    )
    open_streams = [b for b, _ in parts if rtsp_open(b)]
    screenshots = [b for b, _ in parts if b.screenshot]
    live = bool(open_streams or screenshots)
    services = []
    for banner, match in parts:
        service = service_evidence(host, banner, banner.port, now, match.signals)
        service["rtsp_open"] = rtsp_open(banner)
        service["screenshot"] = banner.screenshot
        services.append(service)
    evidence = host_evidence(host, via, services)
    evidence.update(
        {
            "vendor": vendor or None,
            "ports": sorted({b.port for b, _ in parts}),
            "live_view": live,
            "rtsp_open": sorted({b.port for b in open_streams}),
            "screenshot": sorted({b.port for b in screenshots}),
        }
    )
    what = f"{vendor} camera/recorder" if vendor else "camera/recorder"
    ports = ", ".join(b.label for b, _ in parts)
    how = []
    if open_streams:
        how.append("RTSP stream answers without a password")
    if screenshots:
        how.append("Shodan holds a screenshot of it")
    detail = f"{what} on {host.ip} ({ports}); " + (
        "; ".join(how) if how else "login page or stream behind a password"
    )
    detail += f"; {latest([b for b, _ in parts], now).phrase()}"
    candidate = CAMERA.candidate(
        host.ip, evidence, severity=Severity.CRITICAL if live else CAMERA.severity, detail=detail
    )
    return CameraVerdict(candidate, frozenset(b.port for b, _ in parts))


def find_camera_summary(host: Host, now: datetime, via: str = "") -> CameraVerdict | None:
    """A camera in an InternetDB summary: by CPE and by the vendors' ports, nothing else.

    Whether its stream is open cannot be seen without banners: the severity stays high and the
    evidence says the live view is unknown.
    """
    match, port_hits = match_summary(host.cpes, host.ports)
    if not match.camera:
        return None
    by_cpe = any(r.signal is Signal.CPE for r in match.rows)
    ports = set(port_hits)
    if by_cpe:  # the device's web interface: InternetDB does not say which port, so all of them
        ports |= {p for p in host.ports if p in WEB_PORTS or p in port_hits}
    services = [service_evidence(host, None, p, now) for p in sorted(ports)]
    what = f"{match.vendor} camera/recorder" if match.vendor else "camera/recorder"
    evidence = host_evidence(host, via, services)
    evidence.update(
        {
            "vendor": match.vendor or None,
            "ports": sorted(ports),
            "cpes": [str(c) for c in host.cpes],
            "signals": match.signals,
            "live_view": None,  # unknown: InternetDB has no banners
            # A vendor's port alone is a guess; its CPE (Shodan's product match) is not.
            "certainty": "certain" if by_cpe else "probable",
            "service": what,
        }
    )
    detail = (
        f"{what} on {host.ip} according to InternetDB ({', '.join(match.signals)}); "
        "whether its stream is open is unknown without Shodan's banners"
    )
    candidate = CAMERA.candidate(host.ip, evidence, detail=detail)
    return CameraVerdict(candidate, frozenset(ports))
