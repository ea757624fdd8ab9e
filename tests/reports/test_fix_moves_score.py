"""A company deep in the red sees every fix in its points (issue 19): "Three demo companies sit
at 0/100, so their first fixes show no progress at all." The report says how (the method, and
a row in "where the points went"), in Dutch and English."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exposure.store.db import session as session_scope
from reports import company
from reports.scoring import Grade
from tests.reports.page import parse
from tests.reports.sample import SPECS, T0, SampleArea, Seen

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RED = "58120030"
DOMAIN = "rederij-rood.test"
PROBLEMS = [
    Seen("mail.spf.missing", DOMAIN),
    Seen("mail.dmarc.missing", DOMAIN),
    Seen("mail.starttls.missing", f"mail.{DOMAIN}"),
    Seen("tls.cert.untrusted", DOMAIN),
    Seen("tls.cert.expired", f"www.{DOMAIN}", discriminator="443"),
    Seen("exposure.ics", "198.51.100.30", evidence={"port": 502}, discriminator="502"),
]
FLOOR_ROW = {
    "nl": "Onder 30 punten: u houdt 30 min uw 6 open problemen",
    "en": "Below 30 points: you keep 30 minus your 6 open problems",
}
METHOD = {"nl": "30 min het aantal open problemen", "en": "30 minus the number of open problems"}


def _report(area: SampleArea, language: str) -> company.CompanyReport:
    with session_scope(area.engine) as session:
        return company.build(session, RED, SPECS, language)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_company_below_zero_sees_its_first_fix(area: SampleArea, language: str) -> None:
    area.company(RED, "Rederij Rood", "maritime", DOMAIN)
    area.scan({RED: PROBLEMS}, T0 + timedelta(days=8))
    before = _report(area, language)
    # 100 - 40 - 5 x 20 is below 0: the old rule said 0, and 0 again after a fix
    assert (before.score.points, before.score.grade) == (24, Grade.E)
    doc = parse(company.render_html(before))
    method = doc.by_id("method")
    assert METHOD[language] in " ".join(method.find("ol").text.split())
    floor = method.find("tr", data_row="floor")
    assert floor is not None and FLOOR_ROW[language] in floor.text

    area.scan({RED: PROBLEMS[:-2]}, T0 + timedelta(days=15))  # the certificate renewed, ICS off
    after = _report(area, language)
    assert after.score.points == 26 > before.score.points
    assert after.changes.points_before == 24
    area.scan({RED: PROBLEMS[:1]}, T0 + timedelta(days=22))
    assert _report(area, language).score.points > after.score.points


def test_no_grade_before_from_a_scan_that_tested_nothing(area: SampleArea) -> None:
    """A previous scan where every check timed out graded nothing: "since the last scan: A, 100
    points" would be a grade on tests that did not run (the point of issue 19)."""
    from exposure.contract import FailureReason

    area.company(RED, "Rederij Rood", "maritime", DOMAIN)
    families = sorted(set(SPECS.family_of.values()))
    blind = [(f, FailureReason.TIMEOUT, "no answer within the time") for f in families]
    area.scan({RED: []}, T0 + timedelta(days=8), failures={RED: blind})
    area.scan({RED: PROBLEMS[:2]}, T0 + timedelta(days=15))
    after = _report(area, "nl")
    assert after.changes.previous_scan is not None
    assert after.changes.points_before is None and after.changes.grade_before is None
    # a scan that did test keeps its grade (the test above: points_before == 24)
    area.scan({RED: PROBLEMS[:1]}, T0 + timedelta(days=22))
    assert _report(area, "nl").changes.points_before == after.score.points
