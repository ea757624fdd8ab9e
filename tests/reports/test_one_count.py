"""One count, one word: a problem is one check id per company (its hosts listed under it), and
the report, the overview, the warn table and the e-mail all count in that unit; the grade has one
Dutch word (cijfer), its number another (punten)."""

from __future__ import annotations

import re

import pytest

from exposure.severity import Severity
from exposure.store.db import session as session_scope
from reports import company, overview
from reports.warning_output import _reasons
from tests.reports import sample
from tests.reports.page import parse
from tests.reports.sample import SPECS, SampleArea
from tests.reports.test_warning_message import company as member
from tests.reports.test_warning_message import finding, render

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_report_and_overview_count_the_same_problems(area: SampleArea) -> None:
    with session_scope(area.engine) as session:
        report = company.build(session, sample.FISH, SPECS, "nl")
        view = overview.build(session, SPECS, "nl", named=True)
    doc = parse(company.render_html(report))
    articles = [
        a for a in doc.find_all("article", cls="problem") if a.attrs["data-severity"] != "info"
    ]
    line = next(c for c in view.companies if c.id == sample.FISH)
    in_overview = sum(n for s, n in line.open_by_severity.items() if s is not Severity.INFO)
    assert report.score.problems == len(articles) == in_overview == 5  # six cameras: one problem
    assert view.trend[-1].problems == sum(
        sum(n for s, n in c.open_by_severity.items() if s is not Severity.INFO)
        for c in view.companies
    )


def test_the_warn_table_counts_problems_like_the_email() -> None:
    rows = [
        finding("a", "mail.dmarc.missing", "high", "bakkerij.test"),
        finding("b", "mail.dmarc.missing", "high", "www.bakkerij.test"),
        finding("c", "exposure.camera", "critical", "192.0.2.7"),
    ]
    message = render(member(), *rows)
    assert "2 problemen" in " ".join(message["Subject"].split())
    assert _reasons({"new": 2}) == "2 new (2 problems)"
    assert _reasons({"new": 1}) == "1 new (1 problem)"


def test_one_word_for_the_grade_in_dutch(area: SampleArea) -> None:
    with session_scope(area.engine) as session:
        report = company.build(session, sample.BAKERY, SPECS, "nl")
    text = parse(company.render_html(report)).by_id("grade").text
    text += parse(company.render_html(report)).by_id("method").text
    assert "cijfer" in text.lower() and "punten" in text
    assert not re.search(r"\bscore\b|\bletter\b", text.lower())
