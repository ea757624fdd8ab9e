"""The Meldpunt's overview: the area's state, sectors, the trend, and no names unless asked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from exposure.contract import FailureReason
from exposure.models import Company
from exposure.store.db import session as session_scope
from reports import history, overview, scoring
from reports.scoring import Grade
from tests.reports import sample
from tests.reports.page import parse
from tests.reports.sample import SPECS, SampleArea, Seen
from tests.reports.test_company import assert_self_contained


def build(engine: Engine, named: bool = False, **kwargs) -> overview.Overview:
    with session_scope(engine) as session:
        return overview.build(session, SPECS, "nl", named=named, **kwargs)


def names_and_ids(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return [(c.name, c.id) for c in session.exec(select(Company))]


def test_the_overview_shows_two_runs_as_a_trend(area: SampleArea) -> None:
    view = build(area.engine)
    assert len(view.trend) == 2
    first, last = view.trend
    assert first.run_id < last.run_id and first.at < last.at
    assert first.companies == last.companies == 9
    assert last.average == view.average  # the last point is the present
    assert sum(last.grades.values()) == 9
    # the bakery fixed its certificate (+20), the garage opened RDP (-20) and the forwarder
    # fixed its certificate: the area improved
    assert first.average is not None and last.average is not None
    assert last.average > first.average
    html = overview.render_html(view)
    doc = parse(html)
    assert_self_contained(html, doc)
    trend = doc.by_id("trend")
    assert len(trend.find_all("svg")) == 2  # the average line and the grades per scan
    assert len(trend.find_all("line", where=lambda n: n.attrs.get("stroke-width") == "3")) == 1
    rows = trend.find("table", cls="trend-table").find("tbody").find_all("tr")
    assert [r.attrs["data-run"] for r in rows] == [str(first.run_id), str(last.run_id)]


def test_the_overview_names_no_company_unless_asked(area: SampleArea) -> None:
    html = overview.render_html(build(area.engine))
    for name, company_id in names_and_ids(area.engine):
        assert name not in html, name
        assert company_id not in html, company_id
    assert not parse(html).find_all(id="companies")

    named = overview.render_html(build(area.engine, named=True))
    doc = parse(named)
    table = doc.by_id("companies")
    rows = table.find("tbody").find_all("tr")
    assert len(rows) == 9  # the scanned ones; the never-scanned member has no grade yet
    assert "Bakkerij Dé Haven" in table.text and "Nieuw Lid" not in table.text
    points = [int(r.find_all("td")[3].text) for r in rows]
    assert points == sorted(points)  # the worst first: who needs a call
    assert "Intern" in doc.find("header").text


def test_small_sectors_are_combined_so_no_one_is_recognised(area: SampleArea) -> None:
    view = build(area.engine)
    labels = {s.label: s for s in view.sectors}
    assert set(labels) == {"Maritiem", "Overige sectoren"}
    assert labels["Maritiem"].companies == 3 and labels["Maritiem"].average is not None
    assert labels["Overige sectoren"].companies == 6
    assert sum(s.companies for s in view.sectors) == view.companies_scanned
    named = build(area.engine, named=True)
    assert "Voeding" in {s.label for s in named.sectors}


def test_companies_by_grade_and_common_problems(area: SampleArea) -> None:
    view = build(area.engine)
    assert sum(view.grades.values()) == view.companies_scanned == 9
    assert view.companies_total == 10
    assert view.grades[Grade.A] == 3  # the shipyard, and two with one low problem each
    counts = {p.check_id: p.companies for g in view.problem_groups for p in g.problems}
    assert counts["web.hsts.missing"] == 3 and counts["securitytxt.missing"] == 3
    assert "exposure.service" not in counts  # information is not a problem
    for group in view.problem_groups:  # within a severity, the most companies first
        assert [p.companies for p in group.problems] == sorted(
            (p.companies for p in group.problems), reverse=True
        )
    doc = parse(overview.render_html(view))
    grades = doc.by_id("grades")
    assert grades.find("svg") and grades.find("tr", data_grade="A").text.endswith("3")
    assert doc.by_id("problems").find("tr", data_check="web.hsts.missing")


def test_one_run_is_not_yet_a_trend(sqlite_engine: Engine) -> None:
    sample.build_area(sqlite_engine, two_runs=False)
    view = build(sqlite_engine)
    assert len(view.trend) == 1
    doc = parse(overview.render_html(view))
    assert "pas één scan" in doc.by_id("trend").text
    assert not doc.by_id("trend").find_all("svg")


def test_a_run_that_tested_nothing_of_a_company_does_not_grade_it_in_the_trend(
    sqlite_engine: Engine,
) -> None:
    """The night our resolver died every check of the shipyard timed out: it found nothing,
    but tested nothing either, so that point of the trend must not count it as spotless."""
    area = SampleArea(sqlite_engine)
    area.company(sample.BAKERY, "Bakkerij", "food", "bakkerij-de-haven.test")
    area.company(sample.SHIPYARD, "Scheepswerf", "maritime", "scheepswerf-vandermade.test")
    families = sorted(set(SPECS.family_of.values()))
    blind = [(fam, FailureReason.TIMEOUT, "DNS did not answer") for fam in families]
    bakery = sample.bakery_findings()
    area.scan(
        {sample.BAKERY: bakery, sample.SHIPYARD: []},
        sample.T0,
        failures={sample.SHIPYARD: blind},
    )
    area.scan({sample.BAKERY: bakery, sample.SHIPYARD: []}, sample.T0 + timedelta(days=7))
    first, last = build(sqlite_engine).trend
    assert first.companies == 1  # the bakery only: the shipyard's night tested nothing
    assert last.companies == 2
    assert first.average is not None and last.average is not None
    assert last.average > first.average  # the shipyard's clean scan, once it was one


def test_an_empty_store_gives_an_empty_overview(sqlite_engine: Engine) -> None:
    view = build(sqlite_engine)
    assert view.companies_scanned == 0 and view.trend == ()
    doc = parse(overview.render_html(view))
    assert "nog geen scan" in doc.text.lower()


def test_the_trend_is_sampled_to_a_readable_number_of_points(area: SampleArea) -> None:
    for week in range(2, 8):
        area.scan(
            {sample.SHIPYARD: [Seen("web.hsts.missing", "scheepswerf-vandermade.test")]}
            if week % 2
            else {sample.SHIPYARD: []},
            sample.T0 + timedelta(days=7 * week),
        )
    view = build(area.engine, points=4)
    assert len(view.trend) == 4
    assert view.trend[0].run_id == area.runs[0] and view.trend[-1].run_id == area.runs[-1]


def test_the_trend_is_the_same_on_every_database(area_any_db: SampleArea) -> None:
    view = build(area_any_db.engine)
    assert [p.companies for p in view.trend] == [9, 9]
    assert view.trend[-1].average == view.average


def test_history_replays_the_state_after_each_run(area: SampleArea) -> None:
    with session_scope(area.engine) as session:
        runs = history.runs_with_results(session)
        first, second = history.snapshots(session, runs, [sample.BAKERY])
    assert first.companies == second.companies == frozenset({sample.BAKERY})
    states = {s.key.check_id: s.status for s in first.of(sample.BAKERY)}
    assert states["tls.cert.expired"] == "open"
    states = {s.key.check_id: s.status for s in second.of(sample.BAKERY)}
    assert states["tls.cert.expired"] == "resolved"
    items = [
        (s.key.check_id, s.severity, s.status, False, s.key.target) for s in first.of(sample.BAKERY)
    ]
    assert scoring.score(items).points == 63


def test_sampling_keeps_the_first_and_the_last() -> None:
    runs = [history.RunInfo(i, sample.T0, None, "complete") for i in range(1, 101)]
    picked = history.sample(runs, 5)
    assert [r.id for r in picked] == [1, 26, 51, 75, 100]
    assert history.sample(runs[:3], 5) == runs[:3]
    assert history.sample(runs, 1) == [runs[-1]]
