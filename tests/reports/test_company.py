"""The company report: what an owner reads, in both directions (many findings, none)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from exposure.models import Finding
from exposure.settings import Settings
from exposure.store.db import session as session_scope
from reports import company, publish
from reports.coverage import State
from reports.scoring import Grade
from tests.reports import sample
from tests.reports.page import Node, parse
from tests.reports.sample import SPECS, SampleArea, Seen

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def report_of(engine: Engine, company_id: str, language: str = "nl") -> company.CompanyReport:
    with session_scope(engine) as session:
        return company.build(session, company_id, SPECS, language)


def page_of(engine: Engine, company_id: str, language: str = "nl") -> tuple[str, Node]:
    html = company.render_html(report_of(engine, company_id, language))
    return html, parse(html)


def other_hosts(engine: Engine, company_id: str) -> set[str]:
    """Every target and finding subject of every other company."""
    with session_scope(engine) as session:
        rows = session.exec(select(Finding.company_id, Finding.target)).all()
    hosts = {target for owner, target in rows if owner != company_id}
    from exposure.models import Target

    with session_scope(engine) as session:
        hosts |= {t.value for t in session.exec(select(Target)) if t.company_id != company_id}
    return hosts


def assert_self_contained(html: str, doc: Node) -> None:
    assert not doc.find_all("script")
    assert not doc.find_all("link")
    assert not doc.find_all("img")
    assert not doc.find_all("iframe")
    for node in doc.walk():
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = node.attrs.get(name, "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "javascript:", "file:")), (
                node.tag,
                name,
                value,
            )
    assert "@import" not in html and "url(" not in html
    csp = doc.find("meta", http_equiv="Content-Security-Policy")
    assert "default-src 'none'" in csp.attrs["content"]


def test_a_company_with_many_findings_gets_a_ranked_report(area: SampleArea) -> None:
    engine = area.engine
    html, doc = page_of(engine, sample.FISH)
    assert_self_contained(html, doc)

    grade = doc.by_id("grade")
    assert grade.attrs["data-grade"] == "E"
    assert "Zeer slecht" in grade.text and "punten van de 100" in grade.text
    method = doc.by_id("method")
    assert len(method.find("ol").find_all("li")) >= 6
    assert "We beginnen bij 100 punten" in method.text
    assert "Beginstand" in method.text and "Uw punten" in method.text

    actions = doc.by_id("do-first").find_all("li", cls="action")
    assert len(actions) == company.TOP_ACTIONS
    ranks = [int(a.attrs["data-rank"]) for a in actions]
    assert ranks == sorted(ranks) == list(range(1, len(actions) + 1))
    order = ["info", "low", "medium", "high", "critical"]
    severities = [order.index(a.attrs["data-severity"]) for a in actions]
    assert severities == sorted(severities, reverse=True)
    camera = next(a for a in actions if a.attrs["data-check"] == "exposure.camera")
    assert "en nog 2" in camera.text  # six cameras: four named, two counted

    themes = [t.attrs["data-theme"] for t in doc.find_all(cls="theme")]
    assert themes == ["website", "email", "securitytxt", "devices", "domain"]
    devices = doc.find(cls="theme", data_theme="devices")
    problem = devices.find("article", data_check="exposure.camera")
    assert "Wat betekent dit?" in problem.text and "Wat moet u doen?" in problem.text
    assert len(problem.find("ul", cls="hosts").find_all("li")) == 6
    assert "info" not in {a.attrs["data-severity"] for a in actions}  # info is no action

    text = doc.text
    for host in other_hosts(engine, sample.FISH):
        assert host not in html, host
    assert "Bakkerij" not in text and "Koelhuis" not in text


def test_a_company_without_findings_gets_a_report_that_reads_well(area: SampleArea) -> None:
    html, doc = page_of(area.engine, sample.SHIPYARD)
    assert_self_contained(html, doc)
    grade = doc.by_id("grade")
    assert grade.attrs["data-grade"] == "A" and grade.attrs["data-points"] == "100"
    assert "Goed" in grade.text
    assert not doc.find_all("li", cls="action")
    assert "niets dat u hoeft te doen" in doc.by_id("do-first").text
    for theme in doc.find_all(cls="theme"):
        assert "geen problemen gevonden" in theme.text.lower(), theme.attrs
    assert "Er is niets veranderd" in doc.by_id("changes").text
    assert "Er gingen geen punten af" in doc.by_id("method").text
    for host in other_hosts(area.engine, sample.SHIPYARD):
        assert host not in html, host


def test_what_changed_since_the_previous_scan(area: SampleArea) -> None:
    _, doc = page_of(area.engine, sample.BAKERY)
    changes = doc.by_id("changes")
    assert "Sinds de vorige scan van 2 maart 2026" in changes.text
    assert "Uw punten gingen van 63 naar 83" in changes.text
    fixed = changes.find(cls="change-resolved_since")
    assert "Het certificaat van uw website is verlopen" in fixed.text
    assert not changes.find_all(cls="change-new_since")

    _, garage = page_of(area.engine, sample.GARAGE)
    new = garage.by_id("changes").find(cls="change-new_since")
    assert "Een computer is van buitenaf over te nemen" in new.text
    rdp = garage.find("article", data_check="exposure.remote_access")
    assert "nieuw" in rdp.find(cls="new").text
    assert "Uw punten gingen van" in garage.by_id("changes").text


def test_a_first_scan_says_so(sqlite_engine: Engine) -> None:
    sample.build_area(sqlite_engine, two_runs=False)
    report = report_of(sqlite_engine, sample.BAKERY)
    assert report.changes.previous_scan is None
    _, doc = page_of(sqlite_engine, sample.BAKERY)
    assert "Dit is de eerste scan" in doc.by_id("changes").text


def test_a_company_never_scanned_has_no_grade(area: SampleArea) -> None:
    html, doc = page_of(area.engine, sample.NEVER_SCANNED)
    assert_self_contained(html, doc)
    assert doc.by_id("grade").attrs["data-grade"] == ""
    assert "Nog geen cijfer" in doc.by_id("grade").text
    assert not doc.find_all(cls="grade-letter")
    assert "nieuw-lid.test" in doc.by_id("scope").text


def test_comparison_with_sector_and_area_is_anonymous(area: SampleArea) -> None:
    shipyard = report_of(area.engine, sample.SHIPYARD)
    assert shipyard.comparison is not None
    sector = shipyard.comparison.sector
    assert sector is not None and sector.companies == 3 and sector.points is not None
    assert shipyard.comparison.area.companies == 9  # the never-scanned member does not count
    _, doc = page_of(area.engine, sample.SHIPYARD)
    compare = doc.by_id("compare")
    assert compare.find("svg")
    assert "Gemiddelde in uw sector (Maritiem)" in compare.text
    assert "Tug" not in compare.text and "Kuipers" not in compare.text

    bakery = report_of(area.engine, sample.BAKERY)  # food: two scanned companies
    assert bakery.comparison is not None and bakery.comparison.sector is not None
    assert bakery.comparison.sector.points is None
    _, doc = page_of(area.engine, sample.BAKERY)
    assert "Te weinig bedrijven in uw sector" in doc.by_id("compare").text


def test_accepted_findings_do_not_count_and_are_listed_apart(area: SampleArea) -> None:
    before = report_of(area.engine, sample.COLD_STORE)
    assert before.score.grade is Grade.E
    with session_scope(area.engine) as session:
        ics = session.exec(select(Finding).where(Finding.check_id == "exposure.ics")).one()
        ics.status = "accepted"
        ics.accepted_reason = "Besturing achter een VPN, Shodan ziet de oude poort."
        ics.accepted_until = ics.last_seen + timedelta(days=90)
    after = report_of(area.engine, sample.COLD_STORE)
    assert after.score.points > before.score.points
    assert after.score.worst is not None and after.score.worst.value == "high"
    assert "exposure.ics" not in {a.check_id for a in after.actions}
    _, doc = page_of(area.engine, sample.COLD_STORE)
    accepted = doc.by_id("accepted")
    assert accepted.text == "Aanvaarde risico's"
    assert "Besturing achter een VPN" in doc.text
    assert not doc.find_all("article", data_check="exposure.ics")


def test_what_could_not_be_tested_is_said(area: SampleArea) -> None:
    report = report_of(area.engine, sample.COLD_STORE)
    assert [u.reason for u in report.untested] == ["geen antwoord binnen de tijd"]
    email = next(s for s in report.sections if s.theme and s.theme.value == "email")
    assert email.untested == (("koelhuis-maasvlakte.test", "geen antwoord binnen de tijd"),)
    assert email.state is State.FINDINGS and not email.is_passed
    _, doc = page_of(area.engine, sample.COLD_STORE)
    assert "Wat we niet konden testen" in doc.by_id("untested").text
    # the mail finding the failed check covered stays open: "could not test" is not "fine"
    assert "mail.spf.permissive" in {p.check_id for p in report.appendix}


def test_the_appendix_has_the_evidence_for_the_it_supplier(area: SampleArea) -> None:
    _, doc = page_of(area.engine, sample.COLD_STORE)
    appendix = doc.by_id("appendix")
    ics = appendix.find(cls="evidence", data_check="exposure.ics")
    assert "Modbus" in ics.find("dl", cls="evidence-facts").text and "198.51.100.7" in ics.text
    assert "An ICS protocol" in ics.text  # the technical words of the check
    assert re.search(r"[0-9a-f]{32}", ics.text)  # the fingerprint, for the partner's tooling


def test_english_for_a_company_that_reads_english(area: SampleArea) -> None:
    data = publish.company_output(area.engine, sample.TUG, SPECS, Settings(database="sqlite://"))
    doc = parse(data.decode())
    assert doc.find("html").attrs["lang"] == "en"
    assert "Your grade" in doc.by_id("grade").text
    assert "Do these first" in doc.by_id("do-first").text
    dutch = publish.company_output(
        area.engine, sample.TUG, SPECS, Settings(database="sqlite://"), language="nl"
    )
    assert parse(dutch.decode()).find("html").attrs["lang"] == "nl"


def test_an_unknown_company_is_refused(area: SampleArea) -> None:
    with pytest.raises(company.UnknownCompanyError, match="unknown company"):
        report_of(area.engine, "no-such-id")


def test_the_report_is_the_same_on_every_database(area_any_db: SampleArea) -> None:
    report = report_of(area_any_db.engine, sample.FISH)
    # far below 0 by the points, so 30 minus its 5 problems (rule 5): a fix would show
    assert (report.score.points, report.score.grade) == (25, Grade.E)
    # all high: by harm (anyone watching the cameras, then customers turned away, then mail
    # in the company's name, then mail read along the way), quick fixes first within a harm
    assert [a.check_id for a in report.actions] == [
        "exposure.camera",
        "tls.cert.untrusted",
        "mail.dmarc.missing",
        "mail.spf.missing",
        "mail.starttls.missing",
    ]
    bakery = report_of(area_any_db.engine, sample.BAKERY)
    assert bakery.changes.points_before == 63 and bakery.score.points == 83


def test_a_finding_whose_check_is_not_installed_still_reads(area: SampleArea) -> None:
    area.scan(
        {sample.SHIPYARD: [Seen("mail.dane.missing", "scheepswerf-vandermade.test")]},
        sample.T0 + timedelta(days=14),
    )
    report = report_of(area.engine, sample.SHIPYARD)
    [problem] = [p for s in report.sections for p in s.problems]
    assert problem.check_id == "mail.dane.missing"
    assert problem.title  # the stored title or the id, never empty
    assert "IT-leverancier" in problem.remediation


def test_idn_domains_read_as_their_owner_typed_them() -> None:
    assert company.display_host("xn--bakkerij-d-haven-kqb.test") == "bakkerij-dé-haven.test"
    assert company.display_host("xn--bakkerij-d-haven-kqb.test:443") == "bakkerij-dé-haven.test:443"
    assert company.display_host("192.0.2.7") == "192.0.2.7"
    assert company.display_host("xn--broken--.test") == "xn--broken--.test"
