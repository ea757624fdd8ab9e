"""Reports name a host discovery found as such (issue #22): an owner sees it was not on the
member list, and through which source it was found."""

from __future__ import annotations

import pytest

from exposure.store.db import session as session_scope
from exposure.store.discovery import Sighting, confirm, record_sightings
from reports import company
from reports.discovered import found_via
from tests.reports import sample
from tests.reports.page import parse
from tests.reports.sample import SPECS, SampleArea

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_found_via_in_both_languages() -> None:
    assert found_via("vpn.bedrijf.nl", ["ct"], "nl") == (
        "gevonden via certificaatregistratie: vpn.bedrijf.nl"
    )
    assert found_via("192.0.2.7", ["shodan", "dns"], "en") == (
        "found through your own DNS records and Shodan: 192.0.2.7"
    )


def test_a_confirmed_discovered_host_is_named_in_the_report(area: SampleArea) -> None:
    with session_scope(area.engine) as db:
        stats = record_sightings(
            db, [Sighting(sample.NEVER_SCANNED, "domain", "vpn.nieuw-lid.test", "ct")]
        )
        confirm(db, stats.proposed[0], by="meldpunt")
    with session_scope(area.engine) as db:
        report = company.build(db, sample.NEVER_SCANNED, SPECS, "nl")
    doc = parse(company.render_html(report))
    scope = doc.by_id("scope").text
    assert "gevonden via certificaatregistratie: vpn.nieuw-lid.test" in scope
    assert "nieuw-lid.test" in scope  # the listed domain as before


def test_a_proposed_host_is_not_in_the_report(area: SampleArea) -> None:
    with session_scope(area.engine) as db:
        record_sightings(
            db, [Sighting(sample.NEVER_SCANNED, "domain", "cam.nieuw-lid.test", "dns")]
        )
    with session_scope(area.engine) as db:
        report = company.build(db, sample.NEVER_SCANNED, SPECS, "nl")
    assert "cam.nieuw-lid.test" not in company.render_html(report)


def test_a_finding_on_a_discovered_host_says_where_it_was_found(area: SampleArea) -> None:
    """The camera sits on an address reached through the confirmed name: "Doe dit eerst" and
    the problem's hosts say so, like the warning does; a finding on the name itself shows the
    label alone (the name is in it)."""
    from sqlmodel import select

    from exposure.contract import ScanTarget, TargetKind
    from exposure.models import Target

    vpn = "vpn.nieuw-lid.test"
    with session_scope(area.engine) as db:
        stats = record_sightings(db, [Sighting(sample.NEVER_SCANNED, "domain", vpn, "ct")])
        confirm(db, stats.proposed[0], by="meldpunt")
    with session_scope(area.engine) as db:
        target = db.exec(select(Target).where(Target.value == vpn)).one()
        assert target.kind == "host" and target.id is not None
        area.targets[sample.NEVER_SCANNED] = ScanTarget(
            sample.NEVER_SCANNED, TargetKind.HOST, vpn, id=target.id
        )
    area.scan(
        {
            sample.NEVER_SCANNED: [
                sample.Seen("exposure.camera", "203.0.113.9", discriminator="8000"),
                sample.Seen("tls.cert.expired", vpn, discriminator="443"),
            ]
        },
        sample.T0,
    )
    with session_scope(area.engine) as db:
        report = company.build(db, sample.NEVER_SCANNED, SPECS, "nl")
    label = f"gevonden via certificaatregistratie: {vpn}"
    camera = next(p for p in report.appendix if p.check_id == "exposure.camera")
    assert camera.targets == (f"203.0.113.9 ({label})",)
    expired = next(p for p in report.appendix if p.check_id == "tls.cert.expired")
    assert expired.targets == (label,)
    assert {a.check_id: a.targets for a in report.actions}["exposure.camera"] == (
        f"203.0.113.9 ({label})",
    )
    html = company.render_html(report)
    assert f"203.0.113.9 ({label})" in parse(html).by_id("do-first").text
    assert f"203.0.113.9 ({label})" in parse(html).by_id("findings").text
