"""The KEV catalogue (exposure/sources/kev.py): the shipped snapshot, `update-kev` against a
loopback look-alike of CISA's feed (refusing malformed and oversized feeds, keeping the old
file), and `exposure.exploited` / the KEV-first order of `exposure.vulnerable`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio

from checks.shodan.analysis import analyse
from checks.shodan.banners import Host
from exposure.settings import load_settings
from exposure.sources.kev import (
    MAX_FEED_BYTES,
    SNAPSHOT,
    KevError,
    catalogue_for,
    fetch_feed,
    load_catalogue,
    parse_catalogue,
    update,
)
from exposure.sources.shodan import HostView, ViewKind
from exposure.sources.shodan_documents import slim_host
from exposure.testbed.httpd import HttpServer, Request, Response
from exposure.testbed.shodan_catalogue import KNOWN_VULNS, vuln
from exposure.testbed.shodan_devices import Device, host_document, internetdb_document

IP = "127.40.0.1"
NOW = datetime(2026, 3, 2, 2, 0)


def _feed(entries: int = 150, **change: object) -> dict[str, object]:
    data = json.loads(SNAPSHOT.read_bytes())
    data["vulnerabilities"] = data["vulnerabilities"][:entries]
    data["count"] = entries
    data["catalogVersion"] = "2026.03.01"
    data["dateReleased"] = "2026-03-01T17:00:00.0000Z"
    data.update(change)
    return data


class FeedServer:
    """CISA's feed on loopback: `body` (bytes) answered with `status`."""

    def __init__(self) -> None:
        self.server = HttpServer()
        self.body = json.dumps(_feed()).encode()
        self.status = 200
        self.requests = 0
        self.delay = 0.0

    async def handle(self, request: Request) -> Response:
        self.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return Response.text(self.body.decode("utf-8", "replace"), self.status, "application/json")

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}/feeds/known_exploited_vulnerabilities.json"


@pytest_asyncio.fixture
async def feed() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.server.start("127.0.0.1", 0, server.handle)
    try:
        yield server
    finally:
        await server.server.close()


def _settings(tmp_path: Path, feed: FeedServer):
    return load_settings(kev_file=str(tmp_path / "kev.json"), kev_url=feed.url)


# --- the snapshot --------------------------------------------------------------------------------


def test_the_shipped_snapshot_is_the_real_catalogue():
    kev = load_catalogue(SNAPSHOT)
    assert len(kev) >= 1400 and kev.version == "2025.08.25" and kev.origin == "snapshot"
    bluekeep = kev.get("CVE-2019-0708")
    assert bluekeep is not None and bluekeep.vendor == "Microsoft"
    assert sum(e.ransomware for e in kev.entries.values()) > 200
    licence = SNAPSHOT.with_name("kev_snapshot.LICENSE.txt").read_text()
    assert "CC0" in licence and "2025-08-25" in licence


def test_the_testbed_marks_its_cves_as_the_snapshot_does():
    kev = load_catalogue(SNAPSHOT)
    for cve, v in KNOWN_VULNS.items():
        assert v.kev == (kev.get(cve) is not None), cve


def test_without_a_kev_file_the_scan_uses_the_snapshot(tmp_path):
    settings = load_settings(kev_file=str(tmp_path / "none.json"))
    assert catalogue_for(settings).origin == "snapshot"
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert catalogue_for(load_settings(kev_file=str(broken))).origin == "snapshot"


# --- update-kev ----------------------------------------------------------------------------------


async def test_update_installs_a_good_feed(tmp_path, feed):
    settings = _settings(tmp_path, feed)
    kev = await update(settings)
    assert len(kev) == 150 and kev.version == "2026.03.01"
    used = catalogue_for(settings)
    assert used.origin == str(tmp_path / "kev.json") and len(used) == 150
    assert kev.age_days(datetime(2026, 3, 11)) == 10


@pytest.mark.parametrize(
    "body",
    [
        b"<html>maintenance</html>",
        json.dumps({"title": "x"}).encode(),
        json.dumps(_feed(entries=5)).encode(),  # far too short for the catalogue
        json.dumps(_feed(count=9999)).encode(),
        json.dumps(
            _feed(vulnerabilities=[{"cveID": "CVE-XX", "dateAdded": "2024-01-01"}] * 150, count=150)
        ).encode(),
    ],
    ids=["html", "no-list", "too-short", "wrong-count", "bad-entry"],
)
async def test_update_refuses_a_malformed_feed_and_keeps_the_old_file(tmp_path, feed, body):
    settings = _settings(tmp_path, feed)
    await update(settings)
    before = (tmp_path / "kev.json").read_bytes()
    feed.body = body
    with pytest.raises(KevError):
        await update(settings)
    assert (tmp_path / "kev.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kev-")]


async def test_update_refuses_an_oversized_feed(tmp_path, feed):
    settings = _settings(tmp_path, feed)
    with pytest.raises(KevError, match="cap"):
        await update(settings, max_bytes=10_000)
    assert not (tmp_path / "kev.json").exists()


async def test_update_refuses_an_error_answer(tmp_path, feed):
    feed.status = 503
    with pytest.raises(KevError, match="503"):
        await update(_settings(tmp_path, feed))


async def test_update_gives_up_on_a_feed_that_does_not_answer_in_time(tmp_path, feed):
    feed.delay = 5.0
    with pytest.raises(KevError, match="within"):
        await fetch_feed(feed.url, wait=0.3)
    assert not (tmp_path / "kev.json").exists()


def test_a_kev_file_past_the_cap_is_not_read(tmp_path):
    big = tmp_path / "kev.json"
    big.write_bytes(b" " * (MAX_FEED_BYTES + 1))
    with pytest.raises(KevError, match="cap"):
        load_catalogue(big)
    assert catalogue_for(load_settings(kev_file=str(big))).origin == "snapshot"


def test_parse_keeps_the_ransomware_field():
    kev = parse_catalogue(json.dumps(_feed()))
    assert {e.ransomware for e in kev.entries.values()} == {True, False}


# --- the findings --------------------------------------------------------------------------------


def _full(*devices: Device) -> Host:
    return Host.from_view(
        HostView(IP, ViewKind.FULL, slim_host(host_document(IP, devices, when=NOW)))
    )


def _summary(*devices: Device) -> Host:
    doc = internetdb_document(host_document(IP, devices, when=NOW))
    from exposure.sources.shodan_documents import slim_internetdb

    return Host.from_view(HostView(IP, ViewKind.SUMMARY, slim_internetdb(doc)))


def _by_id(host: Host):
    verdict = analyse(host, NOW, "", load_catalogue(SNAPSHOT))
    return {c.check_id: c for c in verdict.candidates}


def test_a_kev_cve_raises_exposure_exploited_with_the_kev_fields():
    found = _by_id(_full(Device.rdp(IP, vulns=(vuln("CVE-2019-0708"),))))
    exploited = found["exposure.exploited"]
    assert exploited.severity.value == "critical"
    [entry] = exploited.evidence["kev"]
    assert entry["cve"] == "CVE-2019-0708" and entry["vendor"] == "Microsoft"
    assert entry["date_added"] == "2021-11-03" and entry["ransomware"] is True
    assert entry["port"] == 3389
    assert exploited.evidence["kev_catalogue"]["version"] == "2025.08.25"
    assert "CISA's KEV since 2021-11-03" in exploited.detail and "ransomware" in exploited.detail


def test_a_cve_not_in_kev_raises_no_exposure_exploited():
    found = _by_id(_full(Device.web("apache", IP, vulns=(vuln("CVE-2022-37436"),))))
    assert "exposure.exploited" not in found
    assert found["exposure.vulnerable"].severity.value == "high"  # CVSS 5.3, not exploited
    assert found["exposure.vulnerable"].evidence["cves"][0]["kev"] is False


def test_exploited_cves_come_first_and_make_the_cve_finding_critical():
    vulns = (vuln("CVE-2022-37436"), vuln("CVE-2021-41773"))  # 5.3 (not KEV), 7.5 (KEV)
    found = _by_id(_full(Device.web("apache", IP, vulns=vulns)))
    vulnerable = found["exposure.vulnerable"]
    assert [c["cve"] for c in vulnerable.evidence["cves"]] == ["CVE-2021-41773", "CVE-2022-37436"]
    assert vulnerable.severity.value == "critical"
    assert vulnerable.evidence["kev_count"] == 1
    assert "exploited now (CISA KEV: CVE-2021-41773" in vulnerable.detail


def test_ransomware_used_cves_rank_before_other_exploited_ones():
    kev = load_catalogue(SNAPSHOT)
    # CVE-2021-36260 (Hikvision, added 2022) is not known to be used by ransomware;
    # CVE-2019-0708 (BlueKeep, added 2021) is: it comes first although it was added earlier
    assert not kev.get("CVE-2021-36260").ransomware and kev.get("CVE-2019-0708").ransomware
    vulns = (vuln("CVE-2021-36260"), vuln("CVE-2019-0708"))
    found = _by_id(_full(Device.rdp(IP, vulns=vulns)))
    listed = [e["cve"] for e in found["exposure.exploited"].evidence["kev"]]
    assert listed == ["CVE-2019-0708", "CVE-2021-36260"]
    # every CVE here is in KEV: one problem (`exposure.exploited`), not also "vulnerable"
    assert "exposure.vulnerable" not in found
    # with one CVE outside KEV, the CVE finding lists the KEV ones first, ransomware first
    found = _by_id(_full(Device.rdp(IP, vulns=(vuln("CVE-2023-25690"), *vulns))))
    cves = [c["cve"] for c in found["exposure.vulnerable"].evidence["cves"]]
    assert cves == ["CVE-2019-0708", "CVE-2021-36260", "CVE-2023-25690"]


def test_internetdb_cve_ids_are_enough_for_exposure_exploited():
    found = _by_id(_summary(Device.rdp(IP, vulns=(vuln("CVE-2019-0708"),))))
    assert found["exposure.exploited"].evidence["source"] == "internetdb"


# --- the command ---------------------------------------------------------------------------------


def _serve(body: bytes, status: int = 200):
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/kev.json"


def test_the_update_kev_command(tmp_path):
    from typer.testing import CliRunner

    from exposure.app.cli import app

    env = {"EXPOSURE_KEV_FILE": str(tmp_path / "kev.json")}
    good, good_url = _serve(json.dumps(_feed()).encode())
    bad, bad_url = _serve(b"{}")
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["update-kev", "--url", good_url], env=env)
        assert result.exit_code == 0, result.output
        assert "2026.03.01" in result.output and "150 entries" in result.output
        before = (tmp_path / "kev.json").read_bytes()
        result = runner.invoke(app, ["update-kev", "--url", bad_url], env=env)
        assert result.exit_code == 4
        assert (tmp_path / "kev.json").read_bytes() == before
    finally:
        good.shutdown()
        bad.shutdown()
