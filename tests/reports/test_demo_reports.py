"""Every demo company's report, from a real scan of the testbed area, with whatever checks are
installed: a grade, ranked actions, the themes, and nothing of any other company."""

from __future__ import annotations

from pathlib import Path

import pytest

from exposure.app.harness import Lab
from exposure.registry import load
from exposure.store.db import session as session_scope
from exposure.testbed.area_demo import demo_area
from exposure.testbed.runner import Testbed
from reports import publish
from reports.coverage import INVENTORY_IDS
from reports.specs import Specs
from tests.reports.page import parse
from tests.reports.test_company import assert_self_contained

SEVERITY_ORDER = ["info", "low", "medium", "high", "critical"]
FAST = {"connect_timeout": 1.0, "read_timeout": 2.0, "dns_timeout": 1.0, "check_timeout": 10.0}


@pytest.mark.slow
async def test_every_demo_company_gets_a_sound_report(tmp_path: Path) -> None:
    async with Testbed(demo_area()) as testbed:
        lab = Lab(testbed, tmp_path)
        try:
            outcome = await lab.scan(**FAST)
            specs = Specs.from_registry(load())
            written, index = publish.write_all(
                lab.engine, specs, lab.settings(), tmp_path / "reports", tmp_path / "overview"
            )
            with session_scope(lab.engine) as session:
                from sqlmodel import select

                from exposure.models import Target

                targets = [(t.company_id, t.value) for t in session.exec(select(Target))]
            members = testbed.members_rows()
        finally:
            lab.close()

    assert outcome.summary.status == "complete"
    companies = {row["id"] for row in members}
    assert {w.company_id for w in written} == companies
    subjects = {(row.company_id, row.target) for row in outcome.findings}
    for item in written:
        html = item.path.read_text(encoding="utf-8")
        doc = parse(html)
        assert_self_contained(html, doc)
        grade = doc.by_id("grade")
        assert grade.attrs["data-grade"] in {"A", "B", "C", "D", "E"}, item.path
        assert grade.attrs["data-grade"] == item.grade
        assert len(doc.by_id("method").find("ol").find_all("li")) >= 6
        actions = doc.by_id("do-first").find_all("li", cls="action")
        assert [int(a.attrs["data-rank"]) for a in actions] == list(range(1, len(actions) + 1))
        ranks = [SEVERITY_ORDER.index(a.attrs["data-severity"]) for a in actions]
        assert ranks == sorted(ranks, reverse=True), item.path
        assert len(doc.find_all(cls="theme")) >= 5
        own = item.company_id
        for company_id, host in [*targets, *subjects]:
            if company_id != own and not any(
                o == own and host == h for o, h in [*targets, *subjects]
            ):
                assert host not in html, (own, host)
        mine = {
            row.check_id
            for row in outcome.findings
            if row.company_id == own and row.check_id not in INVENTORY_IDS  # a state, not a problem
        }
        shown = {a.attrs["data-check"] for a in doc.find_all("article", cls="problem")}
        assert shown == mine, item.path  # every open finding, in its theme
    overview = parse(index.read_text(encoding="utf-8"))
    for row in members:
        assert row["name"] not in overview.text
