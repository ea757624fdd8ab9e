"""A domain with mail but no website at all: the report says "geen website gevonden" (neither
green nor a problem) for the website and security.txt topics, instead of "tested, fine" because
the site checks found nothing to look at (issue 19). The fact comes from the store: the web
check records `web.site.none` (inventory, info) when neither the domain nor `www.` resolves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exposure.catalogue import Theme
from exposure.store.db import session as session_scope
from reports import company, coverage, export
from reports.coverage import FindingFact, State, TargetFact
from tests.reports.page import parse
from tests.reports.sample import SPECS, T0, SampleArea, Seen

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MAILONLY = "58120020"
DOMAIN = "koelhuis-noord.test"
ABSENT = {"nl": "geen website gevonden", "en": "no website found"}
GREEN = {"nl": ("in orde", "geen problemen gevonden"), "en": ("fine", "no problems found")}


def _mail_only(area: SampleArea) -> None:
    area.company(MAILONLY, "Koelhuis Noord", "logistics", DOMAIN)
    area.scan(
        {
            MAILONLY: [
                Seen("web.site.none", DOMAIN, severity="info"),
                Seen("mail.dmarc.missing", DOMAIN),
            ]
        },
        T0 + timedelta(days=8),
    )


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_website_is_neither_green_nor_a_problem(area: SampleArea, language: str) -> None:
    _mail_only(area)
    with session_scope(area.engine) as session:
        report = company.build(session, MAILONLY, SPECS, language)
    by_theme = {s.theme: s for s in report.sections}
    for theme in (Theme.WEBSITE, Theme.SECURITYTXT):
        section = by_theme[theme]
        assert section.state is State.ABSENT and not section.is_passed and not section.problems
    assert "web.site.none" not in {a.check_id for a in report.actions}
    assert "web.site.none" not in {p.check_id for p in report.appendix}
    doc = parse(company.render_html(report))
    website = doc.find("div", data_theme="website")
    text = website.text.lower()
    assert ABSENT[language] in text
    assert website.find(data_state="absent") is not None
    assert not website.find_all(cls="badge ok") and not website.find_all(data_state="passed")
    assert not website.find_all("article", cls="problem")
    for word in GREEN[language]:
        assert word not in text, word
    # a topic with nothing to test is not a part the grade rests on, nor one we failed to test
    assert report.coverage.untested == 0
    assert report.coverage.could_not_test() == ()
    with session_scope(area.engine) as session:
        document = export.company_document(session, MAILONLY, SPECS, language)
    states = {t["theme"]: t["state"] for t in document["coverage"]}
    assert states["website"] == "absent"


def test_a_site_beside_a_domain_without_one_still_passes_and_names_it() -> None:
    targets = [TargetFact(1, "domain", "bakkerij.test"), TargetFact(2, "domain", "mail.test")]
    result = coverage.compute(
        SPECS, targets, [FindingFact("web.site.none", 2)], [], SPECS.families()
    )
    website = result.theme(Theme.WEBSITE)
    assert website.state is State.PASSED
    assert [t.state for t in website.targets] == [State.PASSED, State.ABSENT]
    # without the fact, the domain would read as a site that passed: the old lie
    plain = coverage.compute(SPECS, targets, [], [], SPECS.families())
    assert [t.state for t in plain.theme(Theme.WEBSITE).targets] == [State.PASSED] * 2
