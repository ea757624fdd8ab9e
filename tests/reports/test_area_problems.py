"""Every problem in the overview, the most serious first, and the sector shares."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from sqlalchemy import Engine
from sqlmodel import select

from exposure.models import Finding
from exposure.severity import Severity
from exposure.store.db import session as session_scope
from reports import overview
from tests.reports import sample
from tests.reports.page import parse
from tests.reports.sample import SampleArea


def build(engine: Engine, named: bool = False, **kwargs) -> overview.Overview:
    with session_scope(engine) as db:
        return overview.build(db, sample.SPECS, "nl", named=named, **kwargs)


def open_problem_types(engine: Engine) -> set[str]:
    with session_scope(engine) as db:
        rows = db.exec(select(Finding.check_id, Finding.severity).where(Finding.status == "open"))
        return {check_id for check_id, sev in rows if Severity.parse(sev) > Severity.INFO}


def test_every_open_problem_type_is_counted(area: SampleArea) -> None:
    view = build(area.engine)
    shown = [p.check_id for g in view.problem_groups for p in g.problems]
    assert set(shown) == open_problem_types(area.engine) and len(shown) == len(set(shown))
    doc = parse(overview.render_html(view))
    rows = doc.by_id("problems").find_all("tr", where=lambda n: "data-check" in n.attrs)
    assert {r.attrs["data-check"] for r in rows} == open_problem_types(area.engine)
    assert "exposure.camera" in {r.attrs["data-check"] for r in rows}


def test_grouped_by_severity_critical_first_then_by_companies(area: SampleArea) -> None:
    groups = build(area.engine).problem_groups
    ranks = [g.severity.rank for g in groups]
    assert ranks == sorted(ranks, reverse=True) and groups[0].severity is Severity.CRITICAL
    assert [p.check_id for p in groups[0].problems] == ["exposure.ics"]
    for group in groups:
        assert all(p.severity is group.severity for p in group.problems)
        companies = [p.companies for p in group.problems]
        assert companies == sorted(companies, reverse=True)
    doc = parse(overview.render_html(build(area.engine)))
    bodies = doc.by_id("problems").find_all("tbody")
    assert [b.attrs["data-severity"] for b in bodies] == [g.severity.value for g in groups]


def test_sector_shares_keep_small_sectors_together_unless_named(area: SampleArea) -> None:
    shares = {s.label: s for s in build(area.engine).sector_shares}
    assert set(shares) == {"Maritiem", "Overige sectoren"}
    assert shares["Maritiem"].shares == ()  # nothing serious at the shipyard, tug, shipowner
    other = shares["Overige sectoren"]
    assert other.other and other.companies == 6
    camera = next(c for c in other.shares if c.check_id == "exposure.camera")
    assert camera.companies == 1
    assert any(
        line.startswith("1 van de 6 bedrijven in Overige sectoren: ")
        for line in other.sentences("nl")
    )
    named = {s.label: s for s in build(area.engine, named=True).sector_shares}
    assert named["Logistiek"].companies == 2
    assert named["Logistiek"].shares[0].check_id == "exposure.ics"  # critical first


def test_the_sector_table_names_the_most_serious_problem(area: SampleArea) -> None:
    lines = {s.label: s for s in build(area.engine, named=True).sectors}
    assert lines["Logistiek"].top_problem == sample.SPECS.title("exposure.ics", "nl")


def test_sector_names_from_members_are_text(area: SampleArea) -> None:
    html = overview.render_html(build(area.engine, named=True))
    assert "<script>alert(1)</script>" not in html
    section = parse(html).by_id("sector-shares")
    assert sample.HOSTILE_NAME in section.text


def test_the_named_table_follows_the_letters_worst_first(area: SampleArea) -> None:
    # one high problem: 80 points, capped at C; three medium ones: 76 points, a B
    area.company("70000001", "Jachthaven De Punt", "leisure", "jachthaven.test")
    area.company("70000002", "Sleepdienst Oost", "maritime", "sleepdienst-oost.test")
    area.scan(
        {
            "70000001": [sample.Seen("tls.cert.untrusted", "jachthaven.test")],
            "70000002": [
                sample.Seen("tls.protocol.legacy", "sleepdienst-oost.test"),
                sample.Seen("web.https.no_redirect", "sleepdienst-oost.test"),
                sample.Seen("mail.dmarc.policy_none", "sleepdienst-oost.test"),
            ],
        },
        sample.T0 + timedelta(days=8),
    )
    lines = build(area.engine, named=True).companies
    by_id = {line.id: line for line in lines}
    assert (by_id["70000001"].grade.value, by_id["70000001"].points) == ("C", 80)
    assert (by_id["70000002"].grade.value, by_id["70000002"].points) == ("B", 76)
    order = [line.id for line in lines]
    assert order.index("70000001") < order.index("70000002")
    ranks = [line.grade.rank for line in lines]
    assert ranks == sorted(ranks, reverse=True)
    for a, b in pairwise(lines):
        assert a.grade.rank > b.grade.rank or a.points <= b.points
