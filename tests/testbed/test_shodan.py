"""The Shodan look-alikes answer like the real services: proven with the official library and httpx."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import shodan

from exposure.testbed.shodan import (
    DEFAULT_KEY,
    NO_CREDITS_ERROR,
    NO_INFORMATION_ERROR,
    RATE_LIMIT_ERROR,
    UPGRADE_ERROR,
    ApiKey,
    ShodanLookalike,
)
from exposure.testbed.shodan_devices import (
    CAMERA_VENDORS,
    CATALOGUE,
    Device,
    HostInfo,
    host_document,
    host_documents,
    internetdb_document,
    mmh3_32,
    vuln,
)

CAM_IP = "127.0.20.10"
DB_IP = "127.0.20.11"
WEB_IP = "127.0.20.12"
UNKNOWN_IP = "127.0.20.99"

DEVICES = (
    Device.camera("hikvision", CAM_IP, port=80, screenshot=True, vulns=(vuln("CVE-2021-36260"),)),
    Device.rtsp(CAM_IP),
    Device.database("mongodb", DB_IP, auth=False),
    Device.vnc(DB_IP, auth=False),
    Device.web("nginx", WEB_IP),
)
INFO = {CAM_IP: HostInfo(hostnames=("cam.havenbedrijf.nl",))}


@pytest.fixture
async def look() -> AsyncIterator[ShodanLookalike]:
    """A look-alike with the 1 request/second limit switched off (tests that need it set it)."""
    lookalike = ShodanLookalike(
        (
            ApiKey(),
            ApiKey("freeKey", plan="oss", query_credits=0),
            ApiKey("poorKey", query_credits=1),
        ),
        rate_interval=0,
    )
    lookalike.add_devices(*DEVICES, info=INFO)
    await lookalike.start("127.0.0.1")
    yield lookalike
    await lookalike.close()


def client(look: ShodanLookalike, key: str = DEFAULT_KEY) -> shodan.Shodan:
    api = shodan.Shodan(key)
    api.base_url = look.rest_url
    api._session.trust_env = False  # never a proxy for loopback
    if look.rate_interval <= 0:
        api.api_rate_limit = 0  # the library's own pacing would only slow these tests down
    return api


def http() -> httpx.AsyncClient:
    return httpx.AsyncClient(trust_env=False, timeout=5)


# --- InternetDB -------------------------------------------------------------------------------


async def test_internetdb_known_ip(look: ShodanLookalike) -> None:
    async with http() as h:
        r = await h.get(f"{look.internetdb_url}/{CAM_IP}")
    assert r.status_code == 200
    doc = r.json()
    assert list(doc) == ["cpes", "hostnames", "ip", "ports", "tags", "vulns"]
    assert doc["ip"] == CAM_IP
    assert doc["ports"] == [80, 554, 8000]
    assert doc["hostnames"] == ["cam.havenbedrijf.nl"]
    assert doc["vulns"] == ["CVE-2021-36260"]
    assert "cpe:/h:hikvision:ip_camera" in doc["cpes"]
    assert look.counters.internetdb_lookups[CAM_IP] == 1


async def test_internetdb_unknown_ip(look: ShodanLookalike) -> None:
    async with http() as h:
        r = await h.get(f"{look.internetdb_url}/{UNKNOWN_IP}")
        bad = await h.get(f"{look.internetdb_url}/not-an-ip")
    assert r.status_code == 404
    assert r.json() == {"detail": "No information available"}
    assert bad.status_code == 404


async def test_internetdb_needs_no_key_and_is_not_rate_limited(look: ShodanLookalike) -> None:
    look.rate_interval = 1.0
    async with http() as h:
        codes = [(await h.get(f"{look.internetdb_url}/{DB_IP}")).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    assert look.counters.rate_limited == 0


# --- REST: the host document ------------------------------------------------------------------


async def test_host_document_parses_with_the_official_library(look: ShodanLookalike) -> None:
    host = await asyncio.to_thread(client(look).host, CAM_IP)
    assert host["ip_str"] == CAM_IP
    assert host["ip"] == 2130711562  # 127.0.20.10 as an integer
    assert host["ports"] == [80, 554, 8000]
    assert host["hostnames"] == ["cam.havenbedrijf.nl"]
    assert host["domains"] == ["havenbedrijf.nl"]
    assert host["vulns"] == ["CVE-2021-36260"]
    for key in ("org", "isp", "asn", "os", "tags", "last_update", "country_code", "city"):
        assert key in host
    web = next(b for b in host["data"] if b["port"] == 80)
    for key in ("transport", "product", "cpe23", "cpe", "timestamp", "hash", "data", "_shodan"):
        assert key in web
    assert web["_shodan"]["module"] == "http"
    assert set(web["_shodan"]) >= {"module", "crawler", "id", "ptr"}
    assert web["http"]["server"] == "App-webs/"
    assert web["http"]["favicon"]["hash"] == 999357577
    assert web["screenshot"]["labels"] == ["webcam"]
    assert web["screenshot"]["mime"] == "image/jpeg"
    cve = web["vulns"]["CVE-2021-36260"]
    assert cve["cvss"] == 9.8 and cve["verified"] is False and cve["references"]
    rtsp = next(b for b in host["data"] if b["port"] == 554)
    assert rtsp["data"].startswith("RTSP/1.0 200 OK")
    assert look.counters.host_lookups[CAM_IP] == 1


async def test_host_minify_drops_the_banners(look: ShodanLookalike) -> None:
    host = await asyncio.to_thread(client(look).host, CAM_IP, minify=True)
    assert "data" not in host and host["ports"] == [80, 554, 8000]


async def test_unknown_ip_is_404_with_shodans_text(look: ShodanLookalike) -> None:
    with pytest.raises(shodan.APIError, match="No information available for that IP"):
        await asyncio.to_thread(client(look).host, UNKNOWN_IP)
    async with http() as h:
        r = await h.get(f"{look.rest_url}/shodan/host/{UNKNOWN_IP}", params={"key": DEFAULT_KEY})
    assert r.status_code == 404
    assert r.json() == {"error": NO_INFORMATION_ERROR}


async def test_a_list_of_addresses_is_one_request_with_the_official_library(
    look: ShodanLookalike,
) -> None:
    """`Shodan.host([...])` sends `/shodan/host/ip1,ip2,...`: a list of the host documents of the
    addresses with data, in the order asked, the others left out (issue 21)."""
    hosts = await asyncio.to_thread(client(look).host, [WEB_IP, UNKNOWN_IP, CAM_IP])
    assert isinstance(hosts, list)
    assert [h["ip_str"] for h in hosts] == [WEB_IP, CAM_IP]
    assert hosts[1] == await asyncio.to_thread(client(look).host, CAM_IP)  # the same layout
    assert look.counters.requests["host"] == 2 and look.counters.batches == 1
    assert look.counters.host_lookups[UNKNOWN_IP] == 1


async def test_a_list_without_any_data_is_404_and_a_bad_address_400(look: ShodanLookalike) -> None:
    with pytest.raises(shodan.APIError, match="No information available for that IP"):
        await asyncio.to_thread(client(look).host, [UNKNOWN_IP, "127.0.20.98"])
    async with http() as h:
        r = await h.get(
            f"{look.rest_url}/shodan/host/{CAM_IP},not-an-ip", params={"key": DEFAULT_KEY}
        )
        assert r.status_code == 400
        minified = await h.get(
            f"{look.rest_url}/shodan/host/{CAM_IP},{DB_IP}",
            params={"key": DEFAULT_KEY, "minify": "true"},
        )
    assert [d["ip_str"] for d in minified.json()] == [CAM_IP, DB_IP]
    assert all("data" not in d for d in minified.json())


async def test_a_list_takes_one_turn_of_the_rate_limit(look: ShodanLookalike) -> None:
    look.rate_interval = 1.0
    async with http() as h:
        url = f"{look.rest_url}/shodan/host/{CAM_IP},{DB_IP},{WEB_IP}"
        first = await h.get(url, params={"key": DEFAULT_KEY})
        second = await h.get(url, params={"key": DEFAULT_KEY})
    assert first.status_code == 200 and len(first.json()) == 3
    assert second.status_code == 429 and look.counters.rate_limited == 1


async def test_hosts_can_change_between_scans(look: ShodanLookalike) -> None:
    look.remove_host(WEB_IP)
    with pytest.raises(shodan.APIError, match="No information"):
        await asyncio.to_thread(client(look).host, WEB_IP)
    look.add_host(host_document(WEB_IP, [Device.web("apache", WEB_IP)]))
    host = await asyncio.to_thread(client(look).host, WEB_IP)
    assert {b["product"] for b in host["data"]} == {"Apache httpd"}


# --- REST: keys, plans, credits, rate limit ---------------------------------------------------


async def test_invalid_key_is_401(look: ShodanLookalike) -> None:
    with pytest.raises(shodan.APIError, match="Invalid API key"):
        await asyncio.to_thread(client(look, "wrong").host, CAM_IP)
    async with http() as h:
        r = await h.get(f"{look.rest_url}/shodan/host/{CAM_IP}", params={"key": "wrong"})
        missing = await h.get(f"{look.rest_url}/api-info")
    assert r.status_code == 401 and "401 Unauthorized" in r.text
    assert missing.status_code == 401
    look.invalid_key_json = True
    async with http() as h:
        r = await h.get(f"{look.rest_url}/api-info", params={"key": "wrong"})
    assert r.status_code == 401 and r.json() == {"error": "Invalid API key"}
    assert look.counters.unauthorized == 4
    assert look.counters.host_lookups[CAM_IP] == 0


async def test_rate_limit_is_enforced_per_key(look: ShodanLookalike) -> None:
    look.rate_interval = 1.0
    url = f"{look.rest_url}/shodan/host/{CAM_IP}"
    async with http() as h:
        first = await h.get(url, params={"key": DEFAULT_KEY})
        second = await h.get(url, params={"key": DEFAULT_KEY})
        other_key = await h.get(url, params={"key": "poorKey"})
        await asyncio.sleep(1.0)
        third = await h.get(url, params={"key": DEFAULT_KEY})
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json() == {"error": RATE_LIMIT_ERROR}
    assert other_key.status_code == 200
    assert third.status_code == 200
    assert look.counters.rate_limited == 1


async def test_the_official_library_stays_under_the_limit(look: ShodanLookalike) -> None:
    """The library paces itself at 1/s; the look-alike must not call that a violation."""
    look.rate_interval = 1.0
    api = client(look)

    def three_lookups() -> list[str]:
        return [api.host(ip)["ip_str"] for ip in (CAM_IP, DB_IP, WEB_IP)]

    started = time.monotonic()
    assert await asyncio.to_thread(three_lookups) == [CAM_IP, DB_IP, WEB_IP]
    assert time.monotonic() - started >= 2.0
    assert look.counters.rate_limited == 0


async def test_api_info_and_profile(look: ShodanLookalike) -> None:
    info = await asyncio.to_thread(client(look).info)
    assert info["plan"] == "dev"
    assert info["query_credits"] == 100 and info["scan_credits"] == 100
    assert set(info) >= {"unlocked", "https", "usage_limits"}
    async with http() as h:
        r = await h.get(f"{look.rest_url}/account/profile", params={"key": DEFAULT_KEY})
    assert r.status_code == 200 and r.json()["member"] is True


async def test_search_by_network(look: ShodanLookalike) -> None:
    result = await asyncio.to_thread(client(look).search, "net:127.0.20.8/30")
    assert result["total"] == 5  # camera 80/554/8000, mongodb, vnc
    assert {m["ip_str"] for m in result["matches"]} == {CAM_IP, DB_IP}
    assert all("port" in m and "data" in m for m in result["matches"])
    count = await asyncio.to_thread(client(look).count, "net:127.0.20.0/24 port:80")
    assert count["total"] == 2  # the camera's web port and nginx on 80
    info = await asyncio.to_thread(client(look).info)
    assert info["query_credits"] == 99  # the filtered search cost one credit, count none


async def test_search_with_credits_spent(look: ShodanLookalike) -> None:
    api = client(look, "poorKey")
    await asyncio.to_thread(api.search, "net:127.0.20.0/24")
    with pytest.raises(shodan.APIError, match="Insufficient query credits"):
        await asyncio.to_thread(api.search, "net:127.0.20.0/24")
    async with http() as h:
        r = await h.get(
            f"{look.rest_url}/shodan/host/search",
            params={"key": "poorKey", "query": "net:127.0.20.0/24"},
        )
    assert r.status_code == 401 and r.json() == {"error": NO_CREDITS_ERROR}
    assert look.counters.credits_refused == 2


async def test_host_lookup_can_cost_credits(look: ShodanLookalike) -> None:
    look.host_lookup_costs_credit = True
    api = client(look, "poorKey")
    await asyncio.to_thread(api.host, CAM_IP)
    with pytest.raises(shodan.APIError, match="Insufficient query credits"):
        await asyncio.to_thread(api.host, CAM_IP)


async def test_free_plan_is_refused(look: ShodanLookalike) -> None:
    api = client(look, "freeKey")
    with pytest.raises(shodan.APIError, match="403"):
        await asyncio.to_thread(api.host, CAM_IP)
    with pytest.raises(shodan.APIError, match="upgrade your API plan"):
        await asyncio.to_thread(api.search, "net:127.0.20.0/24")
    async with http() as h:
        r = await h.get(
            f"{look.rest_url}/shodan/host/search",
            params={"key": "freeKey", "query": "net:127.0.20.0/24"},
        )
    assert r.status_code == 401 and r.json() == {"error": UPGRADE_ERROR}
    info = await asyncio.to_thread(api.info)
    assert info["plan"] == "oss" and info["query_credits"] == 0


async def test_invalid_search_query(look: ShodanLookalike) -> None:
    with pytest.raises(shodan.APIError, match="query was invalid"):
        await asyncio.to_thread(client(look).search, "product:nginx")


async def test_slow_answers_and_outage(look: ShodanLookalike) -> None:
    look.delay = 0.5
    async with httpx.AsyncClient(trust_env=False, timeout=0.1) as h:
        with pytest.raises(httpx.ReadTimeout):
            await h.get(f"{look.rest_url}/api-info", params={"key": DEFAULT_KEY})
    look.delay = 0
    look.outage = 502
    with pytest.raises(shodan.APIError, match="Bad Gateway"):
        await asyncio.to_thread(client(look).host, CAM_IP)


async def test_counters(look: ShodanLookalike) -> None:
    async with http() as h:
        await h.get(f"{look.rest_url}/shodan/host/{CAM_IP}", params={"key": DEFAULT_KEY})
        await h.get(f"{look.rest_url}/shodan/host/{CAM_IP}", params={"key": DEFAULT_KEY})
        await h.get(f"{look.rest_url}/api-info", params={"key": DEFAULT_KEY})
        await h.get(f"{look.internetdb_url}/{DB_IP}")
    c = look.counters
    assert c.requests == {"host": 2, "api-info": 1, "internetdb": 1}
    assert c.host_lookups == {CAM_IP: 2}
    assert c.paths[f"/shodan/host/{CAM_IP}"] == 2
    assert c.rest_requests == 3


async def test_binds_loopback_only() -> None:
    with pytest.raises(ValueError):
        await ShodanLookalike().start("0.0.0.0")


# --- the device catalogue ---------------------------------------------------------------------


def test_every_kind_builds_a_json_document() -> None:
    for index, kind in enumerate(CATALOGUE):
        ip = f"127.0.30.{index + 1}"
        doc = host_document(ip, [Device(kind, ip)])
        json.dumps(doc)
        assert doc["ip_str"] == ip and doc["ports"] and doc["data"]
        for banner in doc["data"]:
            assert {"port", "transport", "data", "timestamp", "hash", "_shodan", "location"} <= set(
                banner
            )
        idb = internetdb_document(doc)
        assert idb["ports"] == doc["ports"]


def test_camera_vendors_of_the_brief_are_catalogued() -> None:
    wanted = {
        "hikvision", "dahua", "axis", "vivotek", "foscam", "mobotix", "geovision", "avtech",
        "xiongmai", "hipcam", "dlink", "trendnet", "tbk", "webcamxp", "webcam7", "reolink",
        "unifi_video",
    }  # fmt: skip
    assert wanted <= set(CAMERA_VENDORS)
    for alias, kind in (
        ("D-Link", "camera.dlink"),
        ("XMEye", "camera.xiongmai"),
        ("Netwave", "camera.foscam"),
    ):
        assert Device.camera(alias, CAM_IP).kind == kind
    servers = {
        CATALOGUE[f"camera.{v}"].services[0].http.server  # type: ignore[union-attr]
        for v in CAMERA_VENDORS
    }
    assert {
        "App-webs/",
        "DNVRS-Webs",
        "DVRDVS-Webs",
        "Hikvision-Webs",
        "webcamXP 5",
        "GeoHttpServer",
    } <= servers
    assert any(s.startswith("uc-httpd") for s in servers)
    side_ports = {s.port for v in CAMERA_VENDORS for s in CATALOGUE[f"camera.{v}"].services}
    assert {554, 37777, 34567, 8000} <= side_ports


def test_ics_devices_are_tagged_and_bacnet_is_udp() -> None:
    ports = {}
    for proto in ("modbus", "s7", "bacnet", "EtherNet/IP", "dnp3"):
        doc = host_document(CAM_IP, [Device.ics(proto, CAM_IP)])
        assert "ics" in doc["tags"]
        banner = doc["data"][0]
        ports[proto] = (banner["port"], banner["transport"])
    assert ports == {
        "modbus": (502, "tcp"), "s7": (102, "tcp"), "bacnet": (47808, "udp"),
        "EtherNet/IP": (44818, "tcp"), "dnp3": (20000, "tcp"),
    }  # fmt: skip


def test_auth_variants_differ_in_the_banner() -> None:
    def data(device: Device) -> str:
        return host_document(device.ip, [device])["data"][0]["data"]

    assert "authentication disabled" in data(Device.vnc(DB_IP, auth=False))
    assert "authentication disabled" not in data(Device.vnc(DB_IP))
    assert "requires authentication" in data(Device.database("mongodb", DB_IP))
    assert "requires authentication" not in data(Device.database("mongodb", DB_IP, auth=False))
    assert "NOAUTH" in data(Device.database("redis", DB_IP))
    ftp = host_document(DB_IP, [Device.ftp(DB_IP, anonymous=True)])["data"][0]
    assert ftp["ftp"]["anonymous"] is True and "230 Anonymous" in ftp["data"]


def test_compromised_and_vulnerable_hosts() -> None:
    doc = host_document(
        DB_IP, [Device.compromised(DB_IP, "doublepulsar")], HostInfo(tags=("compromised",))
    )
    assert {"compromised", "doublepulsar", "malware"} <= set(doc["tags"])
    web = Device.web(
        "apache", WEB_IP, vulns=(vuln("CVE-2021-42013", verified=True), vuln("CVE-2022-37436"))
    )
    doc = host_document(WEB_IP, [web])
    assert doc["vulns"] == ["CVE-2021-42013", "CVE-2022-37436"]
    scores = {cve: v["cvss"] for cve, v in doc["data"][0]["vulns"].items()}
    assert scores == {"CVE-2021-42013": 9.8, "CVE-2022-37436": 5.3}
    assert doc["data"][0]["vulns"]["CVE-2021-42013"]["verified"] is True
    assert "vulns" not in host_document(WEB_IP, [Device.web("nginx", WEB_IP)])


def test_expectations() -> None:
    assert Device.web("nginx", WEB_IP).expected() == (("exposure.service", "info"),)
    assert Device.camera("axis", CAM_IP).expected() == (("exposure.camera", "high"),)
    assert Device.camera("axis", CAM_IP, screenshot=True).expected() == (
        ("exposure.camera", "critical"),
    )
    assert Device.rtsp(CAM_IP).expected() == (("exposure.camera", "critical"),)
    assert Device.vnc(DB_IP, auth=False).expected() == (("exposure.remote_access", "critical"),)
    assert Device.ics("s7", DB_IP).expected() == (("exposure.ics", "critical"),)
    assert Device.web("apache", WEB_IP, vulns=(vuln("CVE-2022-37436"),)).expected()[1] == (
        "exposure.vulnerable",
        "high",
    )


def test_devices_on_one_ip_are_merged_and_side_ports_optional() -> None:
    docs = host_documents(
        [
            Device.camera("dahua", CAM_IP),
            Device.rdp(CAM_IP),
            Device.camera("axis", WEB_IP, side_ports=False),
        ]
    )
    by_ip = {d["ip_str"]: d for d in docs}
    assert by_ip[CAM_IP]["ports"] == [80, 554, 3389, 37777]
    assert by_ip[WEB_IP]["ports"] == [80]
    with pytest.raises(ValueError, match="unknown device kind"):
        Device("camera.nonexistent", CAM_IP)


def test_documents_are_deterministic() -> None:
    from datetime import datetime

    when = datetime(2026, 11, 20, 3, 14, 15, 926535)
    first = host_documents(DEVICES, INFO, when=when)
    assert first == host_documents(DEVICES, INFO, when=when)
    assert first[0]["last_update"] == "2026-11-20T03:14:15.926535"


def test_mmh3_matches_the_reference() -> None:
    assert mmh3_32(b"foo") == -156908512
    assert mmh3_32(b"") == 0
    assert mmh3_32(b"The quick brown fox jumps over the lazy dog") == 0x2E4FF723
