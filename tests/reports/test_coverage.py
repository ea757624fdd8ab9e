"""Three states everywhere: passed, findings, could not test (DESIGN.md, "What a verdict may claim").

Each test fails when the rule is broken: a report, export or overview that shows a topic green,
or grades a company, on tests that did not run.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from exposure.catalogue import Theme
from exposure.contract import FailureReason, ScanTarget, TargetKind
from exposure.models import Target
from exposure.store.db import session as session_scope
from reports import benchmark, company, coverage, export, overview
from reports.coverage import ErrorFact, FindingFact, State, TargetFact
from tests.reports.page import parse
from tests.reports.sample import SPECS, T0, SampleArea, Seen

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FAMILIES = ("exposure", "mail", "securitytxt", "target", "tls", "web")
ALL_FAIL = [(f, FailureReason.TIMEOUT, "no answer in 10 s") for f in FAMILIES]
GREEN_WORDS_NL = ("in orde", "geen problemen gevonden", "goed bezig", "niets dat u hoeft")
GREEN_WORDS_EN = ("fine", "no problems found", "well done", "nothing you need")

DARK = "58120010"
HARBOUR = "58120011"
SLOW = "58120012"


def _ip_company(area: SampleArea, company_id: str, name: str, ip: str) -> None:
    """A member that registered an address and no domain (a marina with a router)."""
    area.company(company_id, name, "leisure")
    with session_scope(area.engine) as db:
        row = Target(company_id=company_id, kind="ip", value=ip)
        db.add(row)
        db.flush()
        assert row.id is not None
        area.targets[company_id] = ScanTarget(company_id, TargetKind.IP, ip, id=row.id)


@pytest.fixture
def lab(area: SampleArea) -> SampleArea:
    return build_lab(area)


def build_lab(area: SampleArea) -> SampleArea:
    """Three more members: nothing tested, no domain (an address only), a timed-out website."""
    area.company(DARK, "Bunkerstation Donker", "maritime", "bunker-donker.test")
    _ip_company(area, HARBOUR, "Jachthaven De Punt", "198.51.100.80")
    area.company(SLOW, "Sleepboot Traag", "maritime", "sleepboot-traag.test")
    slow_fail = [(f, FailureReason.TIMEOUT, "no answer") for f in ("tls", "web", "securitytxt")]
    area.scan(
        {DARK: [], HARBOUR: [], SLOW: [Seen("mail.dmarc.missing", "sleepboot-traag.test")]},
        T0 + timedelta(days=8),
        failures={DARK: ALL_FAIL, SLOW: slow_fail},
    )
    return area


def _report(area: SampleArea, company_id: str, language: str = "nl") -> company.CompanyReport:
    with session_scope(area.engine) as session:
        return company.build(session, company_id, SPECS, language)


@pytest.mark.parametrize(("language", "green"), [("nl", GREEN_WORDS_NL), ("en", GREEN_WORDS_EN)])
def test_nothing_tested_shows_no_green_and_no_grade(
    lab: SampleArea, language: str, green: tuple[str, ...]
) -> None:
    report = _report(lab, DARK, language)
    assert report.coverage.nothing_tested and not report.graded
    assert all(s.state is State.UNTESTED for s in report.sections)
    doc = parse(company.render_html(report))
    grade = doc.by_id("grade")
    assert grade.attrs["data-grade"] == "" and grade.attrs["data-state"] == "untested"
    assert not doc.find_all(cls="ok-line") and not doc.find_all(cls="badge ok")
    assert not doc.find_all(data_state="passed")
    findings_text = doc.by_id("findings").text.lower() + doc.by_id("do-first").text.lower()
    for word in green:
        assert word not in findings_text, word
    compare = doc.by_id("compare").text
    assert ("niets te vergelijken" if language == "nl" else "nothing to compare") in compare


def test_a_company_without_a_domain_is_not_green_for_website_and_mail(lab: SampleArea) -> None:
    report = _report(lab, HARBOUR)
    by_theme = {s.theme: s for s in report.sections}
    for theme in (Theme.WEBSITE, Theme.EMAIL, Theme.SECURITYTXT, Theme.DOMAIN):
        section = by_theme[theme]
        assert section.state is State.UNTESTED and not section.is_passed
        assert "geen domeinnaam" in section.reason
    devices = by_theme[Theme.DEVICES]
    assert devices.is_passed and devices.passed == ("198.51.100.80",)
    doc = parse(company.render_html(report))
    assert doc.find("div", data_theme="devices").find(data_state="passed")
    assert not doc.find("div", data_theme="website").find_all(cls="badge ok")
    assert "geen domeinnaam" in doc.find("div", data_theme="website").text
    # an A on one tested part of five must not say "well protected"
    advice = doc.by_id("grade").find(cls="advice").text
    assert "goed beveiligd" not in advice and "niet konden testen" in advice


def test_a_timed_out_website_is_not_green_and_the_grade_says_what_it_rests_on(
    lab: SampleArea,
) -> None:
    report = _report(lab, SLOW, "en")
    by_theme = {s.theme: s for s in report.sections}
    assert by_theme[Theme.WEBSITE].state is State.UNTESTED
    assert by_theme[Theme.WEBSITE].untested == (("sleepboot-traag.test", "no answer in time"),)
    assert by_theme[Theme.EMAIL].state is State.FINDINGS
    assert by_theme[Theme.DOMAIN].is_passed
    assert report.graded
    cov = report.coverage
    assert (cov.decided, cov.parts) == (3, 5)  # email, devices, domain of five topics
    doc = parse(company.render_html(report))
    basis = doc.by_id("grade").find(cls="basis")
    assert "3 of the 5" in basis.text and "2 parts could not be tested" in basis.text


def test_passed_means_every_check_of_the_topic_completed() -> None:
    target = TargetFact(1, "domain", "a.test")
    everything = coverage.compute(SPECS, [target], [], [], ran(SPECS))
    assert all(t.state is State.PASSED for t in everything.themes)
    one_error = coverage.compute(
        SPECS, [target], [], [ErrorFact("tls", 1, "www.a.test", "timeout")], ran(SPECS)
    )
    assert one_error.theme(Theme.WEBSITE).state is State.UNTESTED
    assert one_error.theme(Theme.EMAIL).state is State.PASSED
    not_run = coverage.compute(SPECS, [target], [], [], ran(SPECS) - {"mail"})
    assert not_run.theme(Theme.EMAIL).state is State.UNTESTED
    assert not_run.theme(Theme.EMAIL).targets[0].reason == coverage.NOT_SCANNED
    never = coverage.compute(SPECS, [target], [], [], set())
    assert never.nothing_tested
    unresolvable = coverage.compute(
        SPECS, [target], [FindingFact("target.unresolvable", 1)], [], ran(SPECS)
    )
    assert unresolvable.theme(Theme.WEBSITE).state is State.UNTESTED
    assert unresolvable.theme(Theme.WEBSITE).targets[0].reason == coverage.UNRESOLVABLE


def ran(specs: object) -> set[str]:
    return set(FAMILIES)


def test_exports_carry_the_three_states(lab: SampleArea) -> None:
    with session_scope(lab.engine) as session:
        doc = export.company_document(session, DARK, SPECS, "nl")
        slow = export.company_document(session, SLOW, SPECS, "nl")
    json.dumps(doc)
    assert doc["score"] is None
    assert {t["state"] for t in doc["coverage"]} == {"untested"}
    website = next(t for t in slow["coverage"] if t["theme"] == "website")
    assert website["state"] == "untested"
    assert website["targets"] == [
        {
            "target": "sleepboot-traag.test",
            "state": "untested",
            "reason": "timeout",
            "reason_text": "geen antwoord binnen de tijd",
        }
    ]


def test_overview_and_benchmarks_leave_out_what_was_not_tested(lab: SampleArea) -> None:
    with session_scope(lab.engine) as session:
        graded = benchmark.graded_scores(session, SPECS)
        view = overview.build(session, SPECS, "nl", named=True)
        ids = {row.id for row in session.exec(select(Target)) if row.company_id == DARK}
    assert ids and DARK not in graded and SLOW in graded
    assert DARK not in {line.id for line in view.companies}
    assert view.companies_untested == 1
    assert sum(view.grades.values()) == view.companies_scanned - 1
    assert "kon niets worden getest" in overview.render_html(view)
