"""Camera, DVR and NVR fingerprints: a table of (vendor, signal, pattern, confidence), not ifs.

Shodan has no "webcam" tag, and most cameras do not say "camera": they say `App-webs/` in a
Server header, carry a vendor's favicon, answer on Dahua's 37777 or Xiongmai's 34567, or show a
title like "NETSurveillance WEB". Each row is one such signal. A banner is a camera when the
signals it matches add up to `CAMERA_SCORE` (one HIGH row, or a MEDIUM and a LOW, or two
MEDIUM rows of different kinds); a LOW row alone (port 8000, a `Boa` server) never is, because
plenty of other devices share it. Once a host has a camera, its other banners that match any
row (the vendor's side ports: RTSP on 554, Hikvision's 8000) belong to that camera.

Every row carries an `example`: a value it matches, used by the tests (one per row) and as
documentation. Sources: Shodan's own field values for these devices, the vendors' well-known
`http.favicon.hash` values, and the testbed catalogue (exposure/testbed/shodan_catalogue.py),
which follows them.

Only CPE and PORT rows apply to an InternetDB summary (it has no banners); that is what lets a
run without an API key still find cameras, and why it cannot see the rest.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from checks.shodan.banners import Banner, Cpe

HTML_HEAD = 8192  # fingerprints look at the start of a page


class Signal(StrEnum):
    PRODUCT = "product"  # the banner's `product` (Shodan's own identification)
    SERVER = "server"  # the HTTP Server header
    TITLE = "title"  # the HTML title
    FAVICON = "favicon"  # `http.favicon.hash` (mmh3 of the base64 favicon)
    HTML = "html"  # a marker in the page (the start of it)
    HEADER = "header"  # a marker in the banner text, e.g. a WWW-Authenticate realm
    RTSP = "rtsp"  # an RTSP server; the pattern is matched on its Server line ("" = any)
    CPE = "cpe"  # `vendor:product` of a CPE
    PORT = "port"  # the port number
    MODULE = "module"  # Shodan's crawler module (`_shodan.module`)
    SCREENSHOT = "screenshot"  # a label of Shodan's screenshot (`screenshot.labels`)
    DEVICETYPE = "devicetype"  # Shodan's `devicetype`


class Confidence(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


CAMERA_SCORE = 3


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One signal of one vendor's cameras. `vendor` "" is a signal of cameras in general."""

    vendor: str
    signal: Signal
    pattern: str  # a regex (case-insensitive); a number for FAVICON and PORT; a name for MODULE
    confidence: Confidence
    example: str  # a value this row matches

    def matches(self, banner: Banner) -> bool:
        text = signal_text(self.signal, banner)
        if text is not None:
            return self._search(text)
        match self.signal:
            case Signal.FAVICON:
                return banner.favicon is not None and banner.favicon == int(self.pattern)
            case Signal.PORT:
                return banner.port == int(self.pattern)
            case Signal.MODULE:
                return banner.module == self.pattern
            case Signal.RTSP:
                return is_rtsp(banner) and self._search(rtsp_server(banner))
            case Signal.SCREENSHOT:
                return self.pattern in banner.screenshot_labels
            case Signal.DEVICETYPE:
                return _compiled(self.pattern).fullmatch(banner.devicetype.strip()) is not None
            case Signal.CPE:
                return self.matches_cpes(banner.cpes)
        return False  # pragma: no cover - every Signal is handled above

    def matches_cpes(self, cpes: Iterable[Cpe]) -> bool:
        return self.signal is Signal.CPE and any(self._search(c.name) for c in cpes)

    def matches_port(self, port: int) -> bool:
        return self.signal is Signal.PORT and port == int(self.pattern)

    def _search(self, text: str) -> bool:
        if not self.pattern:
            return True
        return bool(text) and _compiled(self.pattern).search(text) is not None

    @property
    def label(self) -> str:
        """How the row shows in evidence: `server: App-webs/ (Hikvision)`."""
        who = f" ({self.vendor})" if self.vendor else ""
        return f"{self.signal}: {self.example}{who}"


def signal_text(signal: Signal, banner: Banner) -> str | None:
    """The banner text a text signal's pattern is searched in; None for the other signals."""
    match signal:
        case Signal.PRODUCT:
            return banner.product
        case Signal.SERVER:
            return banner.server
        case Signal.TITLE:
            return banner.title
        case Signal.HTML:
            return banner.html[:HTML_HEAD]
        case Signal.HEADER:
            return banner.data[:HTML_HEAD]
    return None


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def is_rtsp(banner: Banner) -> bool:
    return banner.module.startswith("rtsp") or banner.data.startswith("RTSP/")


def rtsp_server(banner: Banner) -> str:
    match = re.search(r"(?im)^server:[ \t]*(.+?)\s*$", banner.data[:2048])
    return match.group(1) if match else ""


def rtsp_open(banner: Banner) -> bool:
    """An RTSP server that answered without asking for a password: anyone can watch."""
    if not is_rtsp(banner):
        return False
    head = banner.data[:2048]
    return (
        re.match(r"RTSP/1\.\d 200\b", head) is not None
        and re.search(r"(?im)^www-authenticate:", head) is None
    )


H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
S = Signal

# The table is kept one row per line, as a table; the formatter would scatter it.
# fmt: off
CAMERA_FINGERPRINTS: tuple[Fingerprint, ...] = (
    # --- Hikvision ------------------------------------------------------------------------------
    Fingerprint("Hikvision", S.PRODUCT, r"\bhikvision\b", H, "Hikvision IP Camera"),
    Fingerprint("Hikvision", S.SERVER, r"^App-webs/", H, "App-webs/"),
    Fingerprint("Hikvision", S.SERVER, r"^DNVRS-Webs", H, "DNVRS-Webs"),
    Fingerprint("Hikvision", S.SERVER, r"^DVRDVS-Webs", H, "DVRDVS-Webs"),
    Fingerprint("Hikvision", S.SERVER, r"^Hikvision-Webs", H, "Hikvision-Webs"),
    Fingerprint("Hikvision", S.FAVICON, "999357577", H, "999357577"),
    Fingerprint("Hikvision", S.HTML, r"/doc/page/login\.asp", H, '"/doc/page/login.asp?_"'),
    Fingerprint("Hikvision", S.CPE, r"^hikvision:", H, "cpe:/h:hikvision:ip_camera"),
    Fingerprint("Hikvision", S.MODULE, "hikvision", H, "hikvision"),
    Fingerprint("Hikvision", S.PORT, "8000", L, "8000"),
    # --- Dahua ----------------------------------------------------------------------------------
    Fingerprint("Dahua", S.PRODUCT, r"\bdahua\b", H, "Dahua DVR Web"),
    Fingerprint("Dahua", S.TITLE, r"^WEB SERVICE$", M, "WEB SERVICE"),
    Fingerprint("Dahua", S.FAVICON, "2019488876", H, "2019488876"),
    Fingerprint("Dahua", S.HTML, r"/jsBase/", M, '<script src="/jsBase/lib/jquery.js">'),
    Fingerprint("Dahua", S.CPE, r"^dahua:", H, "cpe:/h:dahua:dvr"),
    Fingerprint("Dahua", S.MODULE, "dahua-dvr", H, "dahua-dvr"),
    Fingerprint("Dahua", S.PORT, "37777", H, "37777"),
    # --- Axis -----------------------------------------------------------------------------------
    Fingerprint("Axis", S.PRODUCT, r"\baxis\b.*\b(camera|video|encoder)", H, "Axis Network Camera"),
    Fingerprint("Axis", S.TITLE, r"^AXIS\b", M, "AXIS"),
    Fingerprint("Axis", S.FAVICON, "-1616143106", H, "-1616143106"),
    Fingerprint("Axis", S.HTML, r"/view/viewer_index\.shtml|/axis-cgi/", H, "URL=/view/viewer_index.shtml?id=1"),
    Fingerprint("Axis", S.CPE, r"^axis:", H, "cpe:/h:axis:network_camera"),
    # --- Vivotek --------------------------------------------------------------------------------
    Fingerprint("Vivotek", S.PRODUCT, r"\bvivotek\b", H, "Vivotek Network Camera"),
    Fingerprint("Vivotek", S.FAVICON, "-1654229048", H, "-1654229048"),
    Fingerprint("Vivotek", S.HEADER, r'realm="streaming_server"', M, 'WWW-Authenticate: Basic realm="streaming_server"'),
    Fingerprint("Vivotek", S.CPE, r"^vivotek:", H, "cpe:/h:vivotek:network_camera"),
    # --- Foscam / Netwave -----------------------------------------------------------------------
    Fingerprint("Foscam/Netwave", S.PRODUCT, r"\b(netwave|foscam)\b", H, "Netwave IP camera http config"),
    Fingerprint("Foscam/Netwave", S.SERVER, r"^Netwave IP Camera", H, "Netwave IP Camera"),
    Fingerprint("Foscam/Netwave", S.CPE, r"^(foscam|netwave):", H, "cpe:/h:foscam:ip_camera"),
    # --- Mobotix --------------------------------------------------------------------------------
    Fingerprint("Mobotix", S.PRODUCT, r"\bmobotix\b", H, "MOBOTIX Camera"),
    Fingerprint("Mobotix", S.SERVER, r"^thttpd/[\d.]+-MX", H, "thttpd/2.19-MX"),
    Fingerprint("Mobotix", S.TITLE, r"\bMOBOTIX\b", H, "M15 MOBOTIX Camera"),
    Fingerprint("Mobotix", S.FAVICON, "661332347", H, "661332347"),
    Fingerprint("Mobotix", S.CPE, r"^mobotix:", H, "cpe:/h:mobotix:camera"),
    # --- GeoVision ------------------------------------------------------------------------------
    Fingerprint("GeoVision", S.PRODUCT, r"\bgeo(vision|httpserver)\b", H, "GeoVision GeoHttpServer"),
    Fingerprint("GeoVision", S.SERVER, r"^GeoHttpServer", H, "GeoHttpServer"),
    Fingerprint("GeoVision", S.TITLE, r"\bGeoVision\b", H, "GeoVision Inc. - IP Camera"),
    Fingerprint("GeoVision", S.CPE, r"^geovision:", H, "cpe:/h:geovision:ip_camera"),
    # --- Avtech ---------------------------------------------------------------------------------
    Fingerprint("Avtech", S.PRODUCT, r"\bavtech\b", H, "Avtech AVN801 network camera"),
    Fingerprint("Avtech", S.SERVER, r"\bAvtech/", H, "Linux/2.x UPnP/1.0 Avtech/1.0"),
    Fingerprint("Avtech", S.TITLE, r"VIDEO WEB SERVER", H, "--- VIDEO WEB SERVER ---"),
    Fingerprint("Avtech", S.FAVICON, "-194439630", H, "-194439630"),
    Fingerprint("Avtech", S.CPE, r"^avtech:", H, "cpe:/h:avtech:network_camera"),
    # --- Xiongmai / XMEye -----------------------------------------------------------------------
    Fingerprint("Xiongmai/XMEye", S.PRODUCT, r"\b(xiongmai|netsurveillance|xmeye)\b", H, "Xiongmai NETSurveillance"),
    Fingerprint("Xiongmai/XMEye", S.SERVER, r"^uc-httpd", H, "uc-httpd 1.0.0"),
    Fingerprint("Xiongmai/XMEye", S.TITLE, r"\bNETSurveillance\b", H, "NETSurveillance WEB"),
    Fingerprint("Xiongmai/XMEye", S.CPE, r"^xiongmai", H, "cpe:/h:xiongmaitech:netsurveillance"),
    Fingerprint("Xiongmai/XMEye", S.MODULE, "dvrip", H, "dvrip"),
    Fingerprint("Xiongmai/XMEye", S.PORT, "34567", H, "34567"),
    # --- Hipcam ---------------------------------------------------------------------------------
    Fingerprint("Hipcam", S.PRODUCT, r"\bhipcam\b", H, "Hipcam IP camera"),
    Fingerprint("Hipcam", S.SERVER, r"^Hipcam", H, "Hipcam"),
    Fingerprint("Hipcam", S.TITLE, r"^IPCAM$", M, "IPCAM"),
    Fingerprint("Hipcam", S.RTSP, r"Hipcam RealServer", H, "Hipcam RealServer/V1.0"),
    Fingerprint("Hipcam", S.CPE, r"^hipcam:", H, "cpe:/h:hipcam:ip_camera"),
    # --- D-Link DCS -----------------------------------------------------------------------------
    Fingerprint("D-Link DCS", S.PRODUCT, r"\bd-link dcs|\bdcs-\d{3,4}", H, "D-Link DCS-930L"),
    Fingerprint("D-Link DCS", S.SERVER, r"^dcs-lig-httpd", H, "dcs-lig-httpd"),
    Fingerprint("D-Link DCS", S.HEADER, r'realm="DCS-\d+', H, 'WWW-Authenticate: Basic realm="DCS-930L"'),
    Fingerprint("D-Link DCS", S.FAVICON, "-355305208", H, "-355305208"),
    Fingerprint("D-Link DCS", S.CPE, r"^d-?link:dcs", H, "cpe:/h:dlink:dcs-930l"),
    # --- TRENDnet -------------------------------------------------------------------------------
    Fingerprint("TRENDnet", S.PRODUCT, r"\btrendnet tv-ip", H, "TRENDnet TV-IP310PI"),
    Fingerprint("TRENDnet", S.HEADER, r'realm="netcam"', M, 'WWW-Authenticate: Basic realm="netcam"'),
    Fingerprint("TRENDnet", S.FAVICON, "512590457", H, "512590457"),
    Fingerprint("TRENDnet", S.CPE, r"^trendnet:tv-ip", H, "cpe:/h:trendnet:tv-ip310pi"),
    # --- TBK DVRs -------------------------------------------------------------------------------
    Fingerprint("TBK", S.PRODUCT, r"\btbk\b.*\bdvr", H, "TBK DVR4104"),
    Fingerprint("TBK", S.SERVER, r"^GNU rsp/", M, "GNU rsp/1.0"),
    Fingerprint("TBK", S.TITLE, r"^DVR Login$", M, "DVR Login"),
    Fingerprint("TBK", S.HTML, r"/login\.rsp", M, '<form action="/login.rsp">'),
    Fingerprint("TBK", S.CPE, r"^tbkvision:", H, "cpe:/h:tbkvision:tbk-dvr4104"),
    # --- webcamXP / webcam 7 --------------------------------------------------------------------
    Fingerprint("webcamXP", S.PRODUCT, r"\bwebcamxp\b", H, "webcamXP httpd"),
    Fingerprint("webcamXP", S.SERVER, r"^webcamXP", H, "webcamXP 5"),
    Fingerprint("webcamXP", S.TITLE, r"\bwebcamXP\b", H, "webcamXP 5"),
    Fingerprint("webcamXP", S.CPE, r"^darkwet:webcamxp", H, "cpe:/a:darkwet:webcamxp:5"),
    Fingerprint("webcam 7", S.PRODUCT, r"^webcam 7\b", H, "webcam 7 httpd"),
    Fingerprint("webcam 7", S.SERVER, r"^webcam 7\b", H, "webcam 7"),
    Fingerprint("webcam 7", S.TITLE, r"^webcam 7\b", H, "webcam 7"),
    Fingerprint("webcam 7", S.CPE, r"^moonware:webcam", H, "cpe:/a:moonware:webcam_7"),
    # --- Reolink --------------------------------------------------------------------------------
    Fingerprint("Reolink", S.PRODUCT, r"\breolink\b", H, "Reolink IP camera"),
    Fingerprint("Reolink", S.TITLE, r"^Reolink\b", H, "Reolink"),
    Fingerprint("Reolink", S.CPE, r"^reolink:", H, "cpe:/h:reolink:ip_camera"),
    Fingerprint("Reolink", S.MODULE, "reolink", H, "reolink"),
    # --- UniFi Video ----------------------------------------------------------------------------
    Fingerprint("UniFi Video", S.PRODUCT, r"\bunifi (video|protect)\b", H, "UniFi Video"),
    Fingerprint("UniFi Video", S.TITLE, r"^UniFi (Video|Protect)\b", H, "UniFi Video"),
    Fingerprint("UniFi Video", S.CPE, r"^(ui|ubiquiti):unifi_(video|protect)", H, "cpe:/a:ui:unifi_video"),
    # --- cameras in general ---------------------------------------------------------------------
    Fingerprint("", S.RTSP, "", H, "RTSP Server/1.0"),  # an RTSP stream server: camera or NVR
    Fingerprint("", S.PORT, "554", H, "554"),  # RTSP's port, for InternetDB summaries
    Fingerprint("", S.PORT, "8554", M, "8554"),
    Fingerprint("", S.SCREENSHOT, "webcam", H, "webcam"),  # Shodan's image classifier
    Fingerprint("", S.DEVICETYPE, r"webcam|(ip )?camera|dvr|nvr", H, "webcam"),
    Fingerprint("", S.PRODUCT, r"\b(ip|network) ?cam(era)?\b|\bwebcam\b|\b[dn]vr\b", M, "Generic IP Camera httpd"),
    Fingerprint("", S.TITLE, r"\b(ip|network) ?cam(era)?\b|\bwebcam\b|\b[DN]VR\b", M, "Network Camera"),
    Fingerprint("", S.SERVER, r"^Boa/", L, "Boa/0.94.14rc21"),  # many cameras, many routers too
)
# fmt: on


@dataclass(frozen=True, slots=True)
class CameraMatch:
    """The rows one banner (or an InternetDB summary) matched, and what they add up to."""

    rows: tuple[Fingerprint, ...]

    @property
    def score(self) -> int:
        """The best row per kind of signal, summed: two server rows are one signal."""
        best: dict[Signal, int] = {}
        for row in self.rows:
            best[row.signal] = max(best.get(row.signal, 0), int(row.confidence))
        return sum(best.values())

    @property
    def camera(self) -> bool:
        return self.score >= CAMERA_SCORE

    @property
    def vendor(self) -> str:
        """The vendor of the strongest vendor-specific row ("" when only general rows)."""
        named = [r for r in self.rows if r.vendor]
        if not named:
            return ""
        return max(named, key=lambda r: int(r.confidence)).vendor

    @property
    def signals(self) -> list[str]:
        return [r.label for r in self.rows]


def match_banner(banner: Banner, table: Iterable[Fingerprint] = CAMERA_FINGERPRINTS) -> CameraMatch:
    return CameraMatch(tuple(row for row in table if row.matches(banner)))


def match_summary(
    cpes: Iterable[Cpe], ports: Iterable[int], table: Iterable[Fingerprint] = CAMERA_FINGERPRINTS
) -> tuple[CameraMatch, frozenset[int]]:
    """Rows an InternetDB summary matches, and the ports PORT rows matched."""
    cpes = tuple(cpes)
    ports = tuple(ports)
    rows: list[Fingerprint] = []
    matched_ports: set[int] = set()
    for row in table:
        if row.matches_cpes(cpes):
            rows.append(row)
        for port in ports:
            if row.matches_port(port):
                rows.append(row)
                matched_ports.add(port)
    return CameraMatch(tuple(rows)), frozenset(matched_ports)
