"""Values from members and scanned servers are inert: in HTML, in CSV, in JSON, in charts."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import Engine

from exposure.store.db import session as session_scope
from reports import company, export, overview, svg
from reports.export import FINDING_FIELDS
from tests.reports import sample
from tests.reports.page import parse
from tests.reports.sample import HOSTILE_FORMULA, HOSTILE_NAME, HOSTILE_TEXT, SPECS, SampleArea

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _company_html(engine: Engine, company_id: str) -> str:
    with session_scope(engine) as session:
        return company.render_html(company.build(session, company_id, SPECS, "nl"))


def test_a_hostile_name_and_evidence_are_text_in_the_company_report(area: SampleArea) -> None:
    html = _company_html(area.engine, sample.HOSTILE)
    doc = parse(html)
    assert not doc.find_all("script")
    assert not doc.find_all("img")
    assert "<script>alert(1)</script>" not in html
    assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the name is shown, as text, where a person expects it
    assert doc.find("h1").text == HOSTILE_NAME
    assert doc.find("title").text.endswith(HOSTILE_NAME)
    assert HOSTILE_NAME in doc.find("footer").text
    # the evidence and the detail from the server, as text in the appendix
    appendix = doc.by_id("appendix")
    assert HOSTILE_TEXT in appendix.text
    assert HOSTILE_FORMULA in appendix.text
    for node in doc.walk():
        assert not any(name.startswith("on") for name in node.attrs), node.tag


def test_a_hostile_name_is_text_in_the_named_overview(area: SampleArea) -> None:
    with session_scope(area.engine) as session:
        html = overview.render_html(overview.build(session, SPECS, named=True))
    doc = parse(html)
    assert not doc.find_all("script") and not doc.find_all("img")
    assert "<script>alert(1)</script>" not in html
    row = doc.find("tr", data_company=sample.HOSTILE)
    assert HOSTILE_NAME in row.text
    # ... and in the unnamed overview the hostile sector (one company) is not shown at all
    with session_scope(area.engine) as session:
        unnamed = overview.render_html(overview.build(session, SPECS))
    assert "alert(1)" not in unnamed and "HYPERLINK" not in unnamed


def test_the_csv_neutralises_formulas(area: SampleArea) -> None:
    with session_scope(area.engine) as session:
        text = export.company_csv(session, sample.HOSTILE, SPECS)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == FINDING_FIELDS
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    details = [row[FINDING_FIELDS.index("detail")] for row in rows[1:]]
    assert "'" + HOSTILE_FORMULA in details  # kept, readable, but as text
    evidence = [json.loads(row[FINDING_FIELDS.index("evidence")]) for row in rows[1:]]
    assert {"banner": HOSTILE_TEXT} in evidence


def test_a_csv_cell_that_starts_like_a_formula_is_neutralised_in_every_column(
    area: SampleArea,
) -> None:
    """Not only `detail`: a target, a title or an accepted reason can start with `=` too."""
    from sqlmodel import select

    from exposure.models import Finding

    with session_scope(area.engine) as session:
        for finding in session.exec(select(Finding).where(Finding.company_id == sample.HOSTILE)):
            finding.target = "+cmd|' /C calc'!A0"
            finding.discriminator = "-2+3"
            finding.accepted_reason = "@SUM(1+1)"
            finding.title = "=1+1"
    with session_scope(area.engine) as session:
        text = export.company_csv(session, sample.HOSTILE, SPECS)
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        assert not [c for c in row if c.startswith(FORMULA_START)], row


def test_the_json_keeps_values_exact(area: SampleArea) -> None:
    """JSON is data, not markup: values are kept as they are (the reader escapes)."""
    with session_scope(area.engine) as session:
        document = export.company_document(session, sample.HOSTILE, SPECS)
    assert document["company"]["name"] == HOSTILE_NAME
    details = {f["detail"] for f in document["findings"]}
    assert HOSTILE_FORMULA in details and HOSTILE_TEXT in details


def test_chart_labels_are_escaped() -> None:
    chart = svg.hbars([svg.Bar(HOSTILE_TEXT, 3)], title=HOSTILE_NAME)
    assert "<script>" not in chart and "<img" not in chart
    assert "&lt;script&gt;" in chart
    doc = parse(str(chart))
    assert doc.find("div", cls="hbars").attrs["aria-label"] == HOSTILE_NAME
    assert doc.find("div", cls="hbar-label").text == HOSTILE_TEXT
    for make in (
        lambda: svg.columns([svg.Bar(HOSTILE_TEXT, 1)], HOSTILE_TEXT),
        lambda: svg.line([svg.Point(HOSTILE_TEXT, 5), svg.Point("x", 6)], HOSTILE_TEXT),
        lambda: svg.stacked([(HOSTILE_TEXT, [(HOSTILE_TEXT, 1.0, "#000")])], HOSTILE_TEXT),
        lambda: svg.share_bar([(HOSTILE_TEXT, 1.0, '"><script>')], HOSTILE_TEXT),
    ):
        out = str(make())
        assert "<script>" not in out and "<img" not in out, out
        assert not parse(out).find_all("script")
