"""Vulnerability ids from Shodan and InternetDB: only CVE ids get past the source boundary,
so a hostile or broken answer cannot put its own text into findings, reports and e-mail."""

from __future__ import annotations

import logging

import pytest

from exposure.sources.shodan_documents import hosts_from_banners, slim_host, slim_internetdb

HOSTILE = [
    "CVE-<script>alert(1)</script>",
    "CVE-2021-44228\r\nBcc: all@example.nl",
    "CVE-2021-123",  # three digits: not a CVE id
    "cve-2021-44228",
    "CVE-２０２１-44228",  # full-width digits
    "see https://evil.example",
]
GOOD = ["CVE-2021-44228", "CVE-2024-1234567"]


def test_internetdb_ids_that_are_not_cve_ids_are_dropped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="exposure.sources.shodan"):
        doc = slim_internetdb({"ip": "192.0.2.1", "vulns": [*HOSTILE, *GOOD, "!CVE-2020-1234", 7]})
    assert doc["vulns"] == GOOD
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "dropped 7 vulnerability id(s)" in lines[0]
    assert "\r" not in lines[0] and "\n" not in lines[0]  # the log line is one line


def test_rest_host_and_banner_ids_are_checked_too() -> None:
    banner = {
        "port": 80,
        "ip_str": "192.0.2.1",
        "vulns": {cve: {"cvss": 9.8, "verified": False} for cve in [*HOSTILE, *GOOD]},
    }
    doc = slim_host({"ip_str": "192.0.2.1", "vulns": [*HOSTILE, *GOOD], "data": [banner]})
    assert doc["vulns"] == GOOD
    assert sorted(doc["data"][0]["vulns"]) == GOOD
    searched = hosts_from_banners([banner])["192.0.2.1"]
    assert searched["vulns"] == GOOD
    assert sorted(searched["data"][0]["vulns"]) == GOOD


def test_a_clean_answer_is_kept_whole(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="exposure.sources.shodan"):
        doc = slim_internetdb({"ip": "192.0.2.1", "vulns": GOOD})
    assert doc["vulns"] == GOOD
    assert not caplog.records
