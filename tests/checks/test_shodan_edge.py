"""Edge-device fingerprints (checks/shodan/edge.py): each row matches its example, the testbed's
FortiGate and Exchange banners are named with product and version, and an exploited FortiGate
says so in `exposure.exploited`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from checks.shodan.analysis import analyse
from checks.shodan.banners import Banner, Cpe, Host
from checks.shodan.edge import PRODUCTS, ROWS, identify
from checks.shodan.fingerprints import Signal
from exposure.sources.kev import SNAPSHOT, load_catalogue
from exposure.sources.shodan import HostView, ViewKind
from exposure.sources.shodan_documents import slim_host
from exposure.testbed.shodan_catalogue import vuln
from exposure.testbed.shodan_devices import Device, host_document

IP = "127.41.0.1"
NOW = datetime(2026, 3, 2, 2, 0)


def _banner_for(signal: Signal, value: str) -> Banner:
    base = Banner(port=443, module="https")
    match signal:
        case Signal.PRODUCT:
            return replace(base, product=value)
        case Signal.SERVER:
            return replace(base, server=value)
        case Signal.TITLE:
            return replace(base, title=value)
        case Signal.HTML:
            return replace(base, html=value)
        case Signal.HEADER:
            return replace(base, data=value)
        case Signal.CPE:
            vendor, product = value.split(":", 1)
            return replace(base, cpes=(Cpe("a", vendor, product),))
    raise AssertionError(signal)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.key}-{r.signal.value}")
def test_each_row_matches_its_example_and_names_its_device(row):
    banner = _banner_for(row.signal, row.example)
    assert row.matches(banner)
    found = identify(banner)
    assert found is not None and found.product.key == row.key


def test_every_device_of_the_issue_has_rows():
    assert set(PRODUCTS) == {r.key for r in ROWS} == {
        "fortigate", "netscaler", "ivanti", "sonicwall", "globalprotect", "cisco_asa", "exchange"
    }  # fmt: skip


def test_ordinary_web_servers_are_no_edge_devices():
    for device in (Device.web("nginx", IP), Device.web("apache", IP)):
        doc = slim_host(host_document(IP, [device], when=NOW))
        host = Host.from_view(HostView(IP, ViewKind.FULL, doc))
        assert all(identify(b) is None for b in host.banners)


def _host(device: Device) -> Host:
    doc = slim_host(host_document(IP, [device], when=NOW))
    return Host.from_view(HostView(IP, ViewKind.FULL, doc))


def test_a_fortigate_is_named_with_its_fortios_version():
    host = _host(Device("edge.fortigate", IP))
    found = identify(host.banners[0])
    assert found is not None
    assert found.label("nl") == "Fortinet-VPN (FortiOS 7.0.12)"
    assert found.label("en") == "Fortinet VPN (FortiOS 7.0.12)"
    [service] = analyse(host, NOW).candidates
    assert service.check_id == "exposure.service"
    assert service.evidence["edge"]["vendor"] == "Fortinet"
    assert service.detail.startswith("Fortinet VPN (FortiOS 7.0.12) on ")


def test_exchange_is_named_with_the_owa_version_not_the_web_servers():
    found = identify(_host(Device("edge.owa", IP)).banners[0])
    assert found is not None and found.product.key == "exchange" and found.version == "15.1.2507.6"


def test_an_exploited_fortigate_names_the_device_in_exposure_exploited():
    host = _host(Device("edge.fortigate", IP, vulns=(vuln("CVE-2024-21762"),)))
    verdict = analyse(host, NOW, "", load_catalogue(SNAPSHOT))
    exploited = next(c for c in verdict.candidates if c.check_id == "exposure.exploited")
    assert (
        "CVE-2024-21762" in exploited.detail and "Fortinet VPN (FortiOS 7.0.12)" in exploited.detail
    )
    assert exploited.evidence["kev"][0]["seen_product"] == "Fortinet VPN (FortiOS 7.0.12)"
    assert exploited.evidence["kev"][0]["ransomware"] is True
