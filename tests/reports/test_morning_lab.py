"""The Meldpunt's morning over real scans of the testbed: a company is warned, fixes its
DMARC record between two runs, and the overview shows it as "fixed after a warning"; the call
list has it before the fix and not after."""

from __future__ import annotations

from datetime import timedelta

from exposure.models import utcnow
from exposure.store.db import session as session_scope
from reports import calls, overview, warning_effect
from reports.specs import Specs
from tests.reports.page import parse
from tests.reports.test_warning_lab import GOOD_DMARC, WarnLab, wl

__all__ = ["wl"]  # the fixture: the testbed area of the warning tests, scanned for real


def now_in_days(lab: WarnLab) -> float:
    """The warning clock of the lab, a moment after the scan that just ran."""
    return (utcnow() - lab.start + timedelta(milliseconds=1)) / timedelta(days=1)


async def test_a_fix_after_a_warning_shows_in_the_trend_and_leaves_the_call_list(
    wl: WarnLab,
) -> None:
    specs = Specs.from_registry(wl.registry)
    await wl.scan()
    with session_scope(wl.lab.engine) as db:
        before = calls.build(db, specs)
    bakery = next(c for c in before.calls if c.company_id == "1001")  # no DMARC: high
    assert bakery.warned is None and bakery.new

    first = wl.warn(days=now_in_days(wl))
    assert "1001" in {m.company_id for m in first.messages}
    with session_scope(wl.lab.engine) as db:
        warned = next(c for c in calls.build(db, specs).calls if c.company_id == "1001")
    assert warned.warned is not None and warned.warned.reference == first.messages[0].reference

    wl.dns("_dmarc.bakkerij-dehaven.test", GOOD_DMARC.format(d="bakkerij-dehaven.test"))
    outcome = await wl.scan()
    assert outcome.summary.stats.resolved == 1

    with session_scope(wl.lab.engine) as db:
        after = calls.build(db, specs)
        effect = warning_effect.build(db)
        view = overview.build(db, specs, "nl", named=True)
    assert "1001" not in {c.company_id for c in after.calls}
    one, two = effect.points
    assert (one.fixed_after_warning, two.fixed_after_warning) == (0, 1)
    assert two.within_14 == 1 and two.open_serious == one.open_serious - 1
    assert effect.median_days is not None and effect.median_days < 1
    html = overview.render_html(view)
    row = parse(html).by_id("effect").find("tr", data_run=str(two.run_id))
    cells = {td.attrs.get("data-label"): td.text for td in row.find_all("td")}
    assert cells["Opgelost na waarschuwing"] == "1"
    assert cells["Binnen 14 dagen"] == "1"
