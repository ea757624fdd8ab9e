"""The camera fingerprint table, row by row, and in both directions.

Every row matches a banner that carries its signal (its own `example`) and nothing else; no
row makes a camera out of the ordinary devices of the testbed catalogue (web servers, NAS,
databases, remote desktops); every camera vendor of the catalogue is found and named; and the
escalation to critical happens for an open RTSP stream or a screenshot and for nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from checks.shodan.analysis import analyse
from checks.shodan.banners import Banner, Cpe, Host
from checks.shodan.fingerprints import (
    CAMERA_FINGERPRINTS,
    CAMERA_SCORE,
    Confidence,
    Fingerprint,
    Signal,
    match_banner,
    match_summary,
    rtsp_open,
)
from exposure.sources.shodan import HostView, ViewKind
from exposure.sources.shodan_documents import slim_host
from exposure.testbed.shodan_devices import (
    CAMERA_VENDORS,
    CATALOGUE,
    Device,
    host_document,
    internetdb_document,
)

NOW = datetime(2026, 3, 2, 2, 0)
IP = "192.0.2.10"


def banner_with(signal: Signal, value: str) -> Banner:
    """A banner that shows `value` for `signal` and nothing else a camera row could match."""
    raw: dict[str, Any] = {"port": 9999, "transport": "tcp", "data": "", "_shodan": {"module": ""}}
    match signal:
        case Signal.PRODUCT:
            raw["product"] = value
        case Signal.SERVER:
            raw["http"] = {"server": value, "status": 200}
        case Signal.TITLE:
            raw["http"] = {"title": value, "status": 200}
        case Signal.HTML:
            raw["http"] = {"html": f"<html><body>{value}</body></html>", "status": 200}
        case Signal.HEADER:
            raw["data"] = f"HTTP/1.1 401 Unauthorized\r\n{value}\r\n\r\n"
        case Signal.FAVICON:
            raw["http"] = {"favicon": {"hash": int(value)}, "status": 200}
        case Signal.PORT:
            raw["port"] = int(value)
        case Signal.MODULE:
            raw["_shodan"] = {"module": value}
        case Signal.RTSP:
            raw["_shodan"] = {"module": "rtsp-tcp"}
            raw["data"] = f"RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nServer: {value}\r\n\r\n"
        case Signal.SCREENSHOT:
            raw["screenshot"] = {"labels": [value], "mime": "image/jpeg"}
        case Signal.DEVICETYPE:
            raw["devicetype"] = value
        case Signal.CPE:
            raw["cpe"] = [value]
    banner = Banner.from_shodan(raw)
    assert banner is not None
    return banner


def _row_id(row: Fingerprint) -> str:
    return f"{row.vendor or 'generic'}-{row.signal}-{row.example}"


@pytest.mark.parametrize("row", CAMERA_FINGERPRINTS, ids=_row_id)
def test_every_row_matches_a_banner_with_its_signal(row: Fingerprint):
    banner = banner_with(row.signal, row.example)
    match = match_banner(banner)
    assert row in match.rows
    if row.confidence is Confidence.HIGH:
        assert match.camera, "a HIGH row alone makes a camera"
    if row.vendor:
        assert match.vendor == row.vendor or any(
            r.vendor == match.vendor and r.confidence >= row.confidence for r in match.rows
        )


#: For each signal, an ordinary value: what a web server, router or PC shows there.
ORDINARY = {
    Signal.PRODUCT: "nginx",
    Signal.SERVER: "nginx/1.18.0 (Ubuntu)",
    Signal.TITLE: "Welkom bij Bakkerij De Haven",
    Signal.HTML: "<form action='/cgi-bin/luci'>",
    Signal.HEADER: 'WWW-Authenticate: Basic realm="Router"',
    Signal.FAVICON: "116323821",
    Signal.PORT: "443",
    Signal.MODULE: "https",
    Signal.RTSP: "",  # see below: an HTTP banner is not an RTSP server
    Signal.SCREENSHOT: "desktop",
    Signal.DEVICETYPE: "router",
    Signal.CPE: "cpe:/a:f5:nginx:1.18.0",
}


@pytest.mark.parametrize("row", CAMERA_FINGERPRINTS, ids=_row_id)
def test_no_row_matches_an_ordinary_value_of_its_signal(row: Fingerprint):
    """The other direction: the same kind of signal, an ordinary value, no match."""
    if row.signal is Signal.RTSP:
        ordinary = banner_with(Signal.SERVER, row.example or "RTSP Server/1.0")
    else:
        ordinary = banner_with(row.signal, ORDINARY[row.signal])
    assert row not in match_banner(ordinary).rows


def test_a_low_row_alone_is_not_a_camera():
    for row in CAMERA_FINGERPRINTS:
        if row.confidence is Confidence.LOW:
            match = match_banner(banner_with(row.signal, row.example))
            assert match.score < CAMERA_SCORE, row


def test_two_medium_signals_of_different_kinds_are_a_camera():
    raw = {
        "port": 80,
        "_shodan": {"module": "http"},
        "http": {"title": "WEB SERVICE", "html": '<script src="/jsBase/lib/x.js">', "status": 200},
    }
    banner = Banner.from_shodan(raw)
    assert banner is not None and match_banner(banner).camera
    one = Banner.from_shodan({"port": 80, "http": {"title": "WEB SERVICE"}})
    assert one is not None and not match_banner(one).camera


def test_only_cpe_and_port_rows_apply_to_internetdb():
    hik = Cpe.parse("cpe:/h:hikvision:ip_camera")
    assert hik is not None
    match, ports = match_summary([hik], [80, 8000])
    assert match.camera and match.vendor == "Hikvision" and ports == {8000}
    match, ports = match_summary([], [554])
    assert match.camera and ports == {554}
    match, _ = match_summary([], [8000, 80, 443])
    assert not match.camera  # port 8000 alone is a web server as often as a Hikvision


# --- the testbed's devices, as Shodan documents ----------------------------------------------------


def _host(*devices: Device, full: bool = True) -> Host:
    doc = host_document(IP, devices, when=NOW)
    if full:
        return Host.from_view(HostView(IP, ViewKind.FULL, slim_host(doc)))
    summary = internetdb_document(doc)
    return Host.from_view(HostView(IP, ViewKind.SUMMARY, summary))


VENDOR_NAMES = {
    "hikvision": "Hikvision",
    "hikvision_nvr": "Hikvision",
    "hikvision_dvr": "Hikvision",
    "hikvision_webs": "Hikvision",
    "dahua": "Dahua",
    "axis": "Axis",
    "vivotek": "Vivotek",
    "foscam": "Foscam/Netwave",
    "mobotix": "Mobotix",
    "geovision": "GeoVision",
    "avtech": "Avtech",
    "xiongmai": "Xiongmai/XMEye",
    "hipcam": "Hipcam",
    "dlink": "D-Link DCS",
    "trendnet": "TRENDnet",
    "tbk": "TBK",
    "webcamxp": "webcamXP",
    "webcam7": "webcam 7",
    "reolink": "Reolink",
    "unifi_video": "UniFi Video",
}


def test_every_vendor_of_the_catalogue_has_a_name_here():
    assert set(VENDOR_NAMES) == set(CAMERA_VENDORS)


@pytest.mark.parametrize("vendor", CAMERA_VENDORS)
def test_each_camera_vendor_is_found_and_named(vendor: str):
    device = Device.camera(vendor, IP)
    verdict = analyse(_host(device), NOW)
    [camera] = [c for c in verdict.candidates if c.check_id == "exposure.camera"]
    assert camera.evidence["vendor"] == VENDOR_NAMES[vendor]
    assert camera.severity == "high"
    assert set(camera.evidence["ports"]) == set(device.ports)  # side ports belong to it
    assert {c.check_id for c in verdict.candidates} == {"exposure.camera"}


@pytest.mark.parametrize("vendor", CAMERA_VENDORS)
def test_each_camera_vendor_is_found_from_internetdb_alone(vendor: str):
    verdict = analyse(_host(Device.camera(vendor, IP), full=False), NOW)
    [camera] = [c for c in verdict.candidates if c.check_id == "exposure.camera"]
    assert camera.evidence["vendor"] == VENDOR_NAMES[vendor]
    assert camera.evidence["live_view"] is None  # unknown without banners


@pytest.mark.parametrize(
    "kind", [k for k, p in CATALOGUE.items() if p.finding != "exposure.camera"]
)
def test_no_other_device_of_the_catalogue_looks_like_a_camera(kind: str):
    device = Device(kind, IP)
    for full in (True, False):
        host = _host(device, full=full)
        assert "exposure.camera" not in {c.check_id for c in analyse(host, NOW).candidates}
        for banner in host.banners:
            assert not match_banner(banner).camera, (kind, banner.label)


def test_an_open_rtsp_stream_or_a_screenshot_makes_a_camera_critical():
    for device in (Device.rtsp(IP), Device.camera("dahua", IP, screenshot=True)):
        [camera] = [c for c in analyse(_host(device), NOW).candidates]
        assert camera.severity == "critical", device
        assert camera.evidence["live_view"] is True
    for device in (Device.rtsp(IP, open_stream=False), Device.camera("hikvision", IP)):
        [camera] = [c for c in analyse(_host(device), NOW).candidates]
        assert camera.severity == "high", device


def test_rtsp_open_needs_a_200_without_a_challenge():
    def rtsp(data: str) -> Banner:
        banner = Banner.from_shodan({"port": 554, "_shodan": {"module": "rtsp-tcp"}, "data": data})
        assert banner is not None
        return banner

    assert rtsp_open(rtsp("RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE\r\n"))
    assert not rtsp_open(rtsp("RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n"))
    assert not rtsp_open(rtsp('RTSP/1.0 200 OK\r\nWWW-Authenticate: Digest realm="x"\r\n'))


def test_a_screenshot_in_the_older_opts_field_counts_too():
    raw = {
        "port": 80,
        "_shodan": {"module": "http"},
        "http": {"server": "App-webs/"},
        "opts": {"screenshot": {"labels": ["webcam"], "data": "AAAA", "mime": "image/jpeg"}},
    }
    doc = slim_host({"ip_str": IP, "data": [raw], "ports": [80]})
    assert "data" not in doc["data"][0]["screenshot"]  # the image itself is never kept
    [camera] = analyse(Host.from_view(HostView(IP, ViewKind.FULL, doc)), NOW).candidates
    assert camera.severity == "critical"
