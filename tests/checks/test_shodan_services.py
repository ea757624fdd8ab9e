"""The service-class table row by row, authentication and escalations, what InternetDB alone can
decide, and the shared-hosting threshold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from checks.shodan.analysis import analyse
from checks.shodan.banners import Banner, Host
from checks.shodan.hosting import SHARED_HOSTING_DOMAINS, registrable, shared_hosting
from checks.shodan.services import (
    BY_PORT,
    SERVICE_CLASSES,
    ServiceClass,
    authentication,
    classify,
)
from exposure.sources.shodan import HostView, ViewKind
from exposure.sources.shodan_documents import slim_host
from exposure.testbed.shodan_devices import CATALOGUE, Device, host_document, internetdb_document

NOW = datetime(2026, 3, 2, 2, 0)
IP = "192.0.2.20"

#: A product string Shodan shows for each row (by name), to prove its product pattern.
PRODUCTS = {
    "Modbus": "Modbus",
    "Siemens S7": "Siemens S7 PLC",
    "BACnet": "BACnet",
    "EtherNet/IP": "EtherNet/IP",
    "DNP3": "DNP3",
    "Niagara Fox": "Niagara Fox",
    "IEC 60870-5-104": "IEC 60870-5-104",
    "Omron FINS": "Omron FINS",
    "PCWorx": "PCWorx",
    "Red Lion Crimson": "Red Lion Controls Crimson",
    "GE SRTP": "GE SRTP",
    "CODESYS": "CODESYS runtime",
    "ProConOS": "ProConOS",
    "MongoDB": "MongoDB",
    "Elasticsearch": "Elastic",
    "Redis": "Redis key-value store",
    "MySQL": "MySQL",
    "PostgreSQL": "PostgreSQL",
    "Microsoft SQL Server": "MS-SQL Server",
    "CouchDB": "CouchDB",
    "Memcached": "Memcached",
    "Cassandra": "Apache Cassandra",
    "InfluxDB": "InfluxDB http admin",
    "RDP": "Remote Desktop Protocol",
    "VNC": "VNC",
    "Telnet": "BusyBox telnetd",
    "SMB": "Samba",
    "FTP": "vsftpd",
    "NFS": "NFS",
    "AFP": "Apple Filing Protocol",
    "NAS": "Synology DiskStation Manager",
}
TAG_ONLY = {c.name for c in SERVICE_CLASSES if c.tag}


def _banner(**raw: Any) -> Banner:
    raw.setdefault("port", 65000)
    banner = Banner.from_shodan(raw)
    assert banner is not None
    return banner


def _rows(*, with_: str) -> list[ServiceClass]:
    return [c for c in SERVICE_CLASSES if getattr(c, with_)]


def test_every_row_has_a_product_example_or_is_a_tag_row():
    assert set(PRODUCTS) | TAG_ONLY == {c.name for c in SERVICE_CLASSES}


@pytest.mark.parametrize("cls", _rows(with_="modules"), ids=lambda c: c.name)
def test_each_row_is_found_by_its_crawler_modules(cls: ServiceClass):
    for module in cls.modules:
        found = classify(_banner(_shodan={"module": module}))
        assert found is not None and found[0] == cls, module


@pytest.mark.parametrize("cls", _rows(with_="ports"), ids=lambda c: c.name)
def test_each_row_is_found_by_its_ports_when_shodan_names_no_module(cls: ServiceClass):
    for port in cls.ports:
        assert BY_PORT[port] == cls
        found = classify(_banner(port=port))
        assert found is not None and found[0] == cls
        # ... but a module that says otherwise wins: SSH on port 21 is SSH
        assert classify(_banner(port=port, _shodan={"module": "ssh"})) is None


@pytest.mark.parametrize(
    "cls", [c for c in SERVICE_CLASSES if c.name in PRODUCTS], ids=lambda c: c.name
)
def test_each_row_is_found_by_its_product(cls: ServiceClass):
    found = classify(_banner(product=PRODUCTS[cls.name], _shodan={"module": "http"}))
    assert found is not None and found[0] == cls


@pytest.mark.parametrize("cls", _rows(with_="tag"), ids=lambda c: c.name)
def test_tag_rows_take_the_specific_row_of_a_known_port(cls: ServiceClass):
    found = classify(_banner(tags=[cls.tag], _shodan={"module": "unknown-proto"}))
    assert found is not None and found[0] == cls
    port = min(p for c in SERVICE_CLASSES if c.finding == cls.finding for p in c.ports)
    found = classify(_banner(port=port, tags=[cls.tag], _shodan={"module": "x"}))
    assert found is not None and found[0] == BY_PORT[port]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", {"title": "Synology DiskStation"}),
        ("title", {"title": "QNAP Turbo NAS"}),
        ("cpe", ["cpe:/o:synology:diskstation_manager"]),
        ("cpe", ["cpe:2.3:o:qnap:qts:5.0"]),
        ("devicetype", "NAS"),
    ],
)
def test_a_nas_admin_page_is_a_file_share(field: str, value: Any):
    raw: dict[str, Any] = {"port": 5000, "_shodan": {"module": "http"}}
    if field == "title":
        raw["http"] = value
    else:
        raw[field] = value
    found = classify(_banner(**raw))
    assert found is not None and found[0].name == "NAS"


def test_ordinary_services_are_no_class():
    for raw in (
        {"port": 443, "_shodan": {"module": "https"}, "product": "nginx"},
        {"port": 22, "_shodan": {"module": "ssh"}, "product": "OpenSSH"},
        {"port": 25, "_shodan": {"module": "smtp"}, "product": "Postfix smtpd"},
        {"port": 80, "_shodan": {"module": "http"}, "http": {"title": "Welkom"}},
    ):
        assert classify(_banner(**raw)) is None, raw


# --- authentication and escalation ---------------------------------------------------------------

_BY_NAME = {c.name: c for c in SERVICE_CLASSES}


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("VNC", {"vnc": {"security_types": {"1": "None"}}}, "none"),
        ("VNC", {"vnc": {"security_types": {"2": "VNC Authentication"}}}, "required"),
        ("VNC", {"data": "RFB 003.008\nauthentication disabled\n"}, "none"),
        ("VNC", {"screenshot": {"labels": ["desktop"]}}, "none"),
        ("VNC", {"data": "RFB 003.008\n"}, None),
        ("MongoDB", {"mongodb": {"authentication": False}}, "none"),
        ("MongoDB", {"mongodb": {"authentication": True}}, "required"),
        ("MongoDB", {"data": "command listDatabases requires authentication"}, "required"),
        ("Elasticsearch", {"data": "HTTP/1.1 401 Unauthorized\r\n"}, "required"),
        ("Elasticsearch", {"elastic": {"cluster": {"status": "green"}}}, "none"),
        ("Redis", {"data": "-NOAUTH Authentication required.\r\n"}, "required"),
        ("Redis", {"data": "# Server\r\nredis_version:6.0.16\r\n"}, "none"),
        ("PostgreSQL", {"data": "Authentication disabled (trust)\n"}, "none"),
        ("PostgreSQL", {"data": "Authentication: password\n"}, "required"),
        ("Memcached", {"data": "STAT pid 1234\r\nSTAT version 1.6\r\n"}, "none"),
        ("MySQL", {"data": "5.7.33-0ubuntu0.16.04.1 mysql_native_password"}, None),
    ],
)
def test_authentication_as_the_banner_says(name: str, raw: dict[str, Any], expected: str | None):
    assert authentication(_banner(**raw), _BY_NAME[name]) == expected


@pytest.mark.parametrize(
    ("device", "severity", "facts"),
    [
        (Device.vnc(IP, auth=False), "critical", {"authentication": "none"}),
        (Device.vnc(IP), "high", {"authentication": "required"}),
        (Device.database("redis", IP, auth=False), "critical", {"authentication": "none"}),
        (Device.database("mysql", IP), "high", {"authentication": None}),
        (Device.ftp(IP, anonymous=True), "high", {"anonymous": True}),
        (Device.ftp(IP), "high", {"anonymous": False}),
        (Device.ics("bacnet", IP), "critical", {"transport": "udp"}),
    ],
)
def test_escalations_and_the_facts_behind_them(device: Device, severity: str, facts: dict):
    [candidate] = analyse(_full(device), NOW).candidates
    assert candidate.severity == severity
    for key, value in facts.items():
        assert candidate.evidence[key] == value, key
    assert candidate.discriminator == f"{IP}:{device.ports[0]}"


def test_an_end_of_life_product_is_said_so():
    [candidate] = analyse(_full(Device.rdp(IP, tags=("eol-product",))), NOW).candidates
    assert candidate.evidence["end_of_life"] == ["eol-product"]
    assert "end-of-life product" in candidate.detail


def test_a_service_shodan_tags_compromised_is_reported_as_compromised_only():
    for kind in ("compromised.mongodb_ransom", "compromised.doublepulsar", "compromised.web"):
        verdict = analyse(_full(Device(kind, IP)), NOW)
        assert [c.check_id for c in verdict.candidates] == ["exposure.compromised"], kind
        [candidate] = verdict.candidates
        assert candidate.evidence["tags"]
        assert candidate.evidence["services"][0]["port"] == Device(kind, IP).ports[0]


@pytest.mark.parametrize("kind", sorted(CATALOGUE))
def test_every_catalogue_device_gives_exactly_its_expected_findings(kind: str):
    device = Device(kind, IP)
    found: dict[str, str] = {}
    for c in analyse(_full(device), NOW).candidates:
        found[c.check_id] = max(found.get(c.check_id, "info"), c.severity, key=_rank)
    assert found == dict(device.expected())


# --- InternetDB only: what it decides, what it leaves undecided ---------------------------------


@pytest.mark.parametrize(
    ("device", "found", "undecided"),
    [
        (Device.rdp(IP), {"exposure.remote_access"}, set()),
        (Device("other.ssh", IP), {"exposure.service"}, set()),
        (Device.ics("modbus", IP), {"exposure.ics"}, set()),
        (Device.camera("dahua", IP), {"exposure.camera"}, set()),
        (Device.nas("synology", IP), {"exposure.file_share"}, set()),
        (Device.web("nginx", IP), {"exposure.service"}, {"exposure.camera", "exposure.file_share"}),
        (
            Device.vnc(IP, port=5999),
            {"exposure.service"},
            {
                "exposure.camera",
                "exposure.remote_access",
                "exposure.file_share",
                "exposure.database",
                "exposure.ics",
            },
        ),
        (
            Device.compromised(IP, "mongodb_ransom"),
            {"exposure.compromised"},
            {
                "exposure.camera",
                "exposure.remote_access",
                "exposure.file_share",
                "exposure.database",
                "exposure.ics",
                "exposure.service",
            },
        ),
    ],
    ids=lambda v: v.kind if isinstance(v, Device) else None,
)
def test_what_internetdb_alone_decides(device: Device, found: set, undecided: set):
    verdict = analyse(_summary(device), NOW)
    assert {c.check_id for c in verdict.candidates} == found
    assert verdict.undecided == undecided
    for candidate in verdict.candidates:
        assert candidate.evidence["source"] == "internetdb"


def test_internetdb_cves_have_no_scores_and_keep_the_default_severity():
    device = Device.web("apache", IP, vulns=())
    doc = internetdb_document(host_document(IP, [device], when=NOW))
    doc["vulns"] = ["CVE-2021-42013"]
    verdict = analyse(Host.from_view(HostView(IP, ViewKind.SUMMARY, doc)), NOW)
    [vulnerable] = [c for c in verdict.candidates if c.check_id == "exposure.vulnerable"]
    assert vulnerable.severity == "high"
    assert vulnerable.evidence["cvss_known"] is False
    assert "CVSS scores unknown without a Shodan API key" in vulnerable.detail


# --- shared hosting --------------------------------------------------------------------------------


def test_registrable_domains():
    assert registrable("www.bakkerij.nl") == "bakkerij.nl"
    assert registrable("shop.bakkerij.co.uk") == "bakkerij.co.uk"
    assert registrable("Mail.Bakkerij.NL.") == "bakkerij.nl"


def test_shared_hosting_starts_at_five_other_domains():
    def view(names: list[str], tags: tuple[str, ...] = ()) -> HostView:
        return HostView(IP, ViewKind.SUMMARY, {"hostnames": names, "ports": [80], "tags": tags})

    # its own names and the access provider's reverse DNS: one other domain
    own = ["bakkerij.nl", "www.bakkerij.nl", "mail.bakkerij.nl", "1-2-3-4.ip.provider.nl"]
    brands = [f"www.merk{n}.nl" for n in range(SHARED_HOSTING_DOMAINS - 2)]
    assert shared_hosting(view(own + brands), "bakkerij.nl") is None  # 4 others: its own server
    reason = shared_hosting(view([*own, *brands, "www.buurman.nl"]), "bakkerij.nl")
    assert reason is not None and "shared hosting" in reason and "5 other domains" in reason
    assert shared_hosting(view(own, ("cdn",)), "bakkerij.nl") is not None


# --- helpers ---------------------------------------------------------------------------------------


def _full(*devices: Device) -> Host:
    doc = slim_host(host_document(IP, devices, when=NOW))
    return Host.from_view(HostView(IP, ViewKind.FULL, doc))


def _summary(*devices: Device) -> Host:
    doc = internetdb_document(host_document(IP, devices, when=NOW))
    return Host.from_view(HostView(IP, ViewKind.SUMMARY, doc))


def _rank(severity: str) -> int:
    return ("info", "low", "medium", "high", "critical").index(severity)
