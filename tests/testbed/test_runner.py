"""The whole testbed: start-up, the settings it hands the scanner, the demo area, clean shutdown."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from exposure.net.dns import AiodnsResolver, DnsStatus
from exposure.settings import Settings, load_settings
from exposure.testbed.area_demo import EXPECTED, demo_area, synthetic_area
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import (
    Area,
    CompanySpec,
    DomainSpec,
    Layout,
    ScenarioError,
    SiteSpec,
)

IDN = "bakkerij-dé-haven.test"
IDN_ASCII = "xn--bakkerij-d-haven-kqb.test"


@pytest.fixture
async def demo() -> AsyncIterator[Testbed]:
    async with Testbed(demo_area(), latency=0.01) as tb:
        yield tb


@pytest.fixture
async def resolver(demo: Testbed) -> AsyncIterator[AiodnsResolver]:
    settings = Settings(**demo.settings_overrides())
    res = AiodnsResolver(settings.resolver_addresses(), timeout=1.0, tries=1)
    try:
        yield res
    finally:
        await res.close()


async def test_demo_starts_fast() -> None:
    start = time.monotonic()
    async with Testbed(demo_area()) as tb:
        assert time.monotonic() - start < 2.0
        assert 16 <= tb.block <= 250


async def test_settings_overrides_are_settings(
    demo: Testbed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no exposure.toml around
    overrides = demo.settings_overrides()
    assert set(overrides) == {
        "resolvers",
        "ca_bundle",
        "ports",
        "shodan_api_url",
        "internetdb_url",
        "allow_private",
        "discovery_ct_url",
        "discovery_ct_interval",  # the look-alike is ours: no pause between searches
        "canary_mx",
    }
    assert set(overrides) <= set(Settings.model_fields)
    settings = load_settings(**overrides)
    assert settings.resolver_addresses() == [(f"127.{demo.block}.0.1", demo.dns.port)]  # type: ignore[union-attr]
    assert settings.port("https") == demo.ports["https"] != 443
    assert settings.allow_private
    assert settings.canary_mx == [f"127.{demo.block}.0.1"]  # the testbed's own canary MX
    assert settings.ca_bundle is not None and settings.ca_bundle.is_file()
    assert "shodan_api_key" in demo.settings_overrides(shodan_key=True)
    for name, value in demo.env().items():
        monkeypatch.setenv(name, value)
    from_env = load_settings()
    for name in overrides:
        assert getattr(from_env, name) == getattr(settings, name), name


async def test_member_list_csv(demo: Testbed, tmp_path: Path) -> None:
    path = demo.write_members_csv(tmp_path / "members.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["id", "name", "email", "domains", "ips", "sector", "phone"]
    assert len(rows) == len(demo.area.companies) == len(EXPECTED)
    assert all(row["phone"] for row in rows)  # the Meldpunt's call list has whom to call
    by_id = {row["id"]: row for row in rows}
    assert by_id["58120001"]["domains"] == IDN
    assert by_id["58120009"]["domains"] == "havenlogistiek.test;havenlogistiek-rijnmond.test"
    ips = by_id["58120013"]["ips"].split(";")
    assert ips and all(ip.startswith(f"127.{demo.block}.") for ip in ips)
    members = pytest.importorskip("targets.csv").read_members(path)
    assert len(members) == len(rows)
    assert members[0].phone == "0255 51 20 01"


async def test_demo_dns(demo: Testbed, resolver: AiodnsResolver) -> None:
    start = time.monotonic()
    idn = await resolver.resolve(IDN_ASCII, "A")
    assert time.monotonic() - start >= 0.01  # the latency knob
    assert idn.status is DnsStatus.OK and idn.records[0].startswith(f"127.{demo.block}.1.")
    assert (await resolver.resolve("havenlogistiek.test", "A")).status is DnsStatus.NXDOMAIN
    mx = await resolver.resolve(IDN_ASCII, "MX")
    assert sorted(mx.records) == [(10, "mx1.havenmail.test"), (20, "mx2.havenmail.test")]
    assert (await resolver.resolve("mx1.havenmail.test", "A")).status is DnsStatus.OK
    null_mx = await resolver.resolve("machinefabriek-deschroef.test", "MX")
    assert null_mx.records[0][0] == 0
    chain = await resolver.resolve("_spf.havenmail.test", "TXT")
    assert chain.texts == ["v=spf1 include:_spf2.havenmail.test ~all"]
    dmarc = await resolver.resolve("_dmarc.noordzee-offshore.test", "TXT")
    assert len(dmarc.texts) == 2
    assert (
        await resolver.resolve("_domainkey.scheepswerf-vandermade.test", "TXT")
    ).status is DnsStatus.NODATA
    # shared hosting: several companies on one address
    same = {
        (await resolver.resolve(d, "A")).records[0]
        for d in (IDN_ASCII, "visgroothandel-zeebries.test", "garage-brouwer.test")
    }
    assert len(same) == 1


async def test_records_change_between_scans(demo: Testbed, resolver: AiodnsResolver) -> None:
    demo.records.set("_dmarc.garage-brouwer.test", "TXT", "v=DMARC1; p=reject")
    answer = await resolver.resolve("_dmarc.garage-brouwer.test", "TXT")
    assert answer.texts == ["v=DMARC1; p=reject"]
    assert demo.counters().dns_by_type["TXT"] >= 1


async def smtp_starttls(ip: str, port: int, host: str, bundle: Path) -> str:
    """'ok' after a verified STARTTLS handshake, else the verification error."""
    reader, writer = await asyncio.open_connection(ip, port)
    try:
        assert (await reader.readline()).startswith(b"220 ")
        writer.write(b"EHLO scanner.test\r\n")
        lines = []
        while True:
            line = await reader.readline()
            lines.append(line)
            if line[3:4] == b" ":
                break
        assert any(b"STARTTLS" in line for line in lines)
        writer.write(b"STARTTLS\r\n")
        assert (await reader.readline()).startswith(b"220")
        ctx = ssl.create_default_context(cafile=str(bundle))
        try:
            await writer.start_tls(ctx, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            return exc.verify_message
        return "ok"
    finally:
        writer.close()


async def test_demo_mail_hosts(demo: Testbed, resolver: AiodnsResolver) -> None:
    port = demo.ports["smtp"]
    assert demo.ca_bundle is not None

    async def ip(name: str) -> str:
        return str((await resolver.resolve(name, "A")).records[0])

    good = "mail.scheepswerf-vandermade.test"
    assert await smtp_starttls(await ip(good), port, good, demo.ca_bundle) == "ok"
    expired = "mail.scheepsbevoorrading-dekaap.test"
    result = await smtp_starttls(await ip(expired), port, expired, demo.ca_bundle)
    assert "expired" in result
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(await ip("mail.sleepdienst-kuipers.test"), port)
    assert demo.mail[good].counters.tls_handshakes == 1
    assert demo.mail[good].mail_from_seen == 0


async def test_demo_web_and_shodan(demo: Testbed, resolver: AiodnsResolver) -> None:
    ip = (await resolver.resolve("koelhuis-maasvlakte.test", "A")).records[0]
    async with httpx.AsyncClient(timeout=3) as client:
        plain = await client.get(
            f"http://{ip}:{demo.ports['http']}/", headers={"Host": "koelhuis-maasvlakte.test"}
        )
        assert plain.status_code == 200
        idb = await client.get(f"{demo.internetdb_url}/{ip}")
        assert idb.status_code == 200 and 502 in idb.json()["ports"]
    assert demo.counters().http_requests["koelhuis-maasvlakte.test"] == 1


async def test_close_leaves_nothing_running(tmp_path: Path) -> None:
    before = asyncio.all_tasks()
    tb = Testbed(demo_area())
    async with tb:
        directory = tb.directory
        dns_ip, dns_port = tb.dns.host, tb.dns.port  # type: ignore[union-attr]
        site_ip = tb.address("haven-hosting-1")
        https = tb.ports["https"]
        _, idle = await asyncio.open_connection(site_ip, https)  # an idle client, left open
    idle.close()
    assert directory is not None and not directory.exists()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()
    for host, port in ((site_ip, https), (dns_ip, dns_port)):
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(host, port)


async def test_two_testbeds_side_by_side() -> None:
    async with Testbed(demo_area()) as one, Testbed(demo_area()) as two:
        assert (one.block, one.ports) != (two.block, two.ports)
        for tb in (one, two):
            res = AiodnsResolver(Settings(**tb.settings_overrides()).resolver_addresses())
            try:
                answer = await res.resolve(IDN_ASCII, "A")
            finally:
                await res.close()
            assert answer.records[0].startswith(f"127.{tb.block}.")


async def test_synthetic_area_starts_in_a_few_seconds() -> None:
    area = synthetic_area(1000, seed=7)
    again = synthetic_area(1000, seed=7)
    assert [d for c in area.companies for d in c.domains] == [
        d for c in again.companies for d in c.domains
    ] or [(d.name, d.nxdomain) for c in area.companies for d in c.domains] == [
        (d.name, d.nxdomain) for c in again.companies for d in c.domains
    ]
    assert len(area.companies) == 1000
    nx = sum(d.nxdomain for c in area.companies for d in c.domains)
    hang = sum(bool(d.site and d.site.hang) for c in area.companies for d in c.domains)
    assert 20 <= nx <= 80 and 20 <= hang <= 80
    start = time.monotonic()
    async with Testbed(area) as tb:
        assert time.monotonic() - start < 5.0
        assert tb.web is not None and len(tb.web.ips) < 300  # shared hosting
        res = AiodnsResolver(Settings(**tb.settings_overrides()).resolver_addresses())
        try:
            domain = next(d for d in area.companies[0].domains)
            answer = await res.resolve(domain.ascii, "MX")
            assert answer.status in (DnsStatus.OK, DnsStatus.NXDOMAIN)
        finally:
            await res.close()


def test_layout_addresses() -> None:
    area = Area(
        companies=[
            CompanySpec(
                "1",
                "A",
                domains=[
                    DomainSpec("a.test", a=["shared"]),
                    DomainSpec("b.test", a=["shared"]),
                    DomainSpec("c.test"),
                    DomainSpec("d.test", site=None),
                ],
                ips=["office", "127.0.0.9"],
            )
        ]
    )
    layout = Layout(area, 42)
    a, b, c = (layout.host_site(n) for n in ("a.test", "b.test", "c.test"))
    assert a is not None and b is not None and c is not None
    assert a.ip == b.ip != c.ip
    assert a.ip.startswith("127.42.1.")
    assert layout.records.get("d.test", "A") is None
    assert layout.members[0].ips == (layout.alloc.resolve("office"), "127.0.0.9")
    assert layout.default_sites.get(c.ip) == c and a.ip not in layout.default_sites


@pytest.mark.parametrize(
    "company",
    [
        CompanySpec("1", "A", domains=[DomainSpec("a.test", a=["192.0.2.1"])]),
        CompanySpec("1", "A", ips=["8.8.8.8"]),
        CompanySpec("1", "A", domains=[DomainSpec("a.test"), DomainSpec("A.test")]),
    ],
)
def test_scenarios_that_cannot_be_laid_out(company: CompanySpec) -> None:
    with pytest.raises(ScenarioError):
        Layout(Area(companies=[company]), 42)


def test_site_spec_accepts_text() -> None:
    site = SiteSpec(cert="expiring:3", tls="1.0-1.3", http="plain")
    assert site.cert_spec.days == 3 and site.tls_versions.legacy
    with pytest.raises(ValueError):
        SiteSpec(cert="sparkly")


def test_testbed_in_its_own_process(tmp_path: Path) -> None:
    info = tmp_path / "info.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPOSURE_")}
    log = tmp_path / "testbed.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exposure.testbed",
                "--area",
                "synthetic:30",
                "--info",
                str(info),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 20
        while not info.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert info.exists(), log.read_text()
        data = json.loads(info.read_text())
        assert set(data["env"]) >= {"EXPOSURE_RESOLVERS", "EXPOSURE_CA_BUNDLE", "EXPOSURE_PORTS"}
        assert Path(data["members_csv"]).is_file()
        assert Path(data["settings"]["ca_bundle"]).is_file()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
    assert code == 0
    assert not Path(data["settings"]["ca_bundle"]).exists()  # cleaned up on exit
