"""Issue #22's "done when", in `exposure demo`: discovery proposes exactly the planted hosts
(none of the shared hosting, CDN or wildcard decoys), confirming them makes their findings (the
exploited VPN gateway, the camera behind the SPF record) appear in the scan, the report and the
warning, and the rejected host stays out, also when discovery sees it again. The demo checks
itself against its table: a proposal nobody planted fails it."""

from __future__ import annotations

import email
import io
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import select

from exposure.app.demo import run_demo
from exposure.app.demo_discovery import discover_and_decide
from exposure.models import DiscoveredHost, Finding, Target
from exposure.settings import load_settings
from exposure.store.db import make_engine, migrate, session
from exposure.testbed.area_demo import (
    DISCOVERY,
    EXPECTED_DISCOVERED,
    OLD_WEBSHOP,
    demo_area,
)
from exposure.testbed.runner import Testbed
from targets.csv import read_members
from targets.sync import apply_import, plan_import

VPN = "vpn.noorderhaven-sleep.test"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    output = tmp_path_factory.mktemp("demo")
    buffer = io.StringIO()
    code = run_demo(output, Console(file=buffer, width=200, color_system=None))
    return output, buffer.getvalue(), code


def test_the_demo_proposes_exactly_the_planted_hosts_and_keeps_the_rejected_one_out(
    demo: tuple[Path, str, int],
) -> None:
    output, text, code = demo
    assert code == 0, text
    assert "not planted but proposed" not in text and "planted but not proposed" not in text
    planted = len(DISCOVERY)
    assert f"{planted} hosts proposed for 15 companies, 2 addresses left out" in text
    assert "discovery again: 0 new proposals, 1 rejected host seen again and left out" in text
    engine = make_engine(f"sqlite:///{output / 'exposure.db'}")
    try:
        with session(engine) as db:
            hosts = list(db.exec(select(DiscoveredHost)))
            targets = {(t.kind, t.value): t for t in db.exec(select(Target))}
            findings = list(db.exec(select(Finding)))
    finally:
        engine.dispose()
    states = {h.value: h.state for h in hosts}
    wanted = {"confirm": "confirmed", "reject": "rejected", "wait": "proposed"}
    assert len(hosts) == planted
    for (_company, kind, value), decision in DISCOVERY.items():
        if kind == "domain":
            assert states[value] == wanted[decision], value
    assert sorted(states.values()).count("confirmed") == 2
    # the decoys: the shared hosting server, the CDN edge and the wildcard zone's names
    assert not [v for v in states if v.endswith(".wildhaven.test")]
    assert len([h for h in hosts if h.kind == "ip"]) == 1  # the camera only
    # the VPN name became a host target, the camera's address an IP target; the web shop none
    assert targets[("host", VPN)].origin == "discovered"
    assert not [t for (_k, v), t in targets.items() if v == OLD_WEBSHOP]
    ip_targets = [t for (k, _v), t in targets.items() if k == "ip" and t.origin == "discovered"]
    assert [t.company_id for t in ip_targets] == ["59220002"]
    on_discovered = {t.id for t in [targets[("host", VPN)], *ip_targets]}
    found = {(f.company_id, f.check_id) for f in findings if f.target_id in on_discovered}
    for company, ids in EXPECTED_DISCOVERED.items():
        assert {(company, i) for i in ids} <= found, company
    assert not [f for f in findings if OLD_WEBSHOP in f.target]


def test_the_warning_and_the_report_name_the_discovered_hosts(
    demo: tuple[Path, str, int],
) -> None:
    output, _text, _code = demo
    [eml] = (output / "outbox").glob("*-59220001.eml")
    message = email.message_from_bytes(eml.read_bytes())
    body = next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    assert "Lek dat aanvallers nu misbruiken" in body.split("WAT WE VONDEN")[0]
    assert f"certificaatregistratie: {VPN}" in body
    # one flaw in CISA's KEV catalogue is one problem, not also "known vulnerabilities"
    assert "[exposure.vulnerable]" not in body
    vpn_report = (output / "reports" / "59220001.html").read_text(encoding="utf-8")
    assert f"(gevonden via uw eigen DNS-gegevens en certificaatregistratie: {VPN})" in vpn_report
    report = (output / "reports" / "59220002.html").read_text(encoding="utf-8")
    assert "gevonden via uw eigen DNS-gegevens" in report
    assert "Camera of videorecorder zichtbaar op internet" in report
    # the listed-only companies of the demo have no such section
    assert "gevonden via" not in (output / "reports" / "58120001.html").read_text(encoding="utf-8")


async def test_the_demo_fails_on_a_proposal_nobody_planted(tmp_path: Path) -> None:
    """The self-check can fail: a certificate for a name the area did not plant."""
    async with Testbed(demo_area()) as tb:
        assert tb.ct is not None
        tb.ct.add_certificate(["intranet.garage-brouwer.test"])
        settings = load_settings(
            database=f"sqlite:///{tmp_path / 'x.db'}", **tb.settings_overrides()
        )
        engine = make_engine(settings.database)
        try:
            migrate(engine)
            members = read_members(tb.write_members_csv(tmp_path / "members.csv"))
            with session(engine) as db:
                apply_import(db, plan_import(db, members, prune=False))
            buffer = io.StringIO()
            result = await discover_and_decide(
                settings, engine, tb.address, Console(file=buffer, width=200)
            )
        finally:
            engine.dispose()
    assert not result.as_planted
    assert result.unexpected == ("58120005 domain intranet.garage-brouwer.test",)
    assert result.missed == ()
    assert "not planted but proposed" in buffer.getvalue()
    assert (result.confirmed, result.rejected) == (2, 1)
