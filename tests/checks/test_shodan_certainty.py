"""Certainty follows evidence: a finding that rests on a port number alone is "probable".

InternetDB gives ports without banners; a port is what a service usually is. The evidence says
so (`certainty`) and names the service inferred, so reports can say "waarschijnlijk RDP op poort
3389" instead of a flat "RDP, VNC of Telnet is open". A banner (the full API) makes it certain.
"""

from __future__ import annotations

from datetime import datetime

from checks.shodan.analysis import analyse
from checks.shodan.banners import Host
from exposure.sources.shodan import HostView, ViewKind
from exposure.sources.shodan_documents import slim_host
from exposure.testbed.shodan_devices import Device, host_document, internetdb_document

NOW = datetime(2026, 3, 2, 2, 0)
IP = "192.0.2.21"


def _summary(device: Device) -> Host:
    doc = internetdb_document(host_document(IP, [device], when=NOW))
    return Host.from_view(HostView(IP, ViewKind.SUMMARY, doc))


def _full(device: Device) -> Host:
    doc = slim_host(host_document(IP, [device], when=NOW))
    return Host.from_view(HostView(IP, ViewKind.FULL, doc))


def test_a_port_alone_is_probable_and_names_what_was_seen() -> None:
    [rdp] = [c for c in analyse(_summary(Device.rdp(IP)), NOW).candidates]
    assert rdp.check_id == "exposure.remote_access"
    assert rdp.evidence["certainty"] == "probable"
    assert rdp.evidence["service"] == "RDP" and rdp.evidence["port"] == 3389


def test_a_banner_makes_it_certain() -> None:
    [rdp] = [c for c in analyse(_full(Device.rdp(IP)), NOW).candidates]
    assert rdp.check_id == "exposure.remote_access"
    assert rdp.evidence.get("certainty", "certain") == "certain"
