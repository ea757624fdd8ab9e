"""Every table of the Meldpunt's pages fits at 1280 px and at 390 px: no column hidden.

The layout test of `test_screenshots` forgives a `.table-wrap` that scrolls sideways (a table
may scroll on purpose); this one does not, for the Meldpunt's pages: a trend whose most
important column sits beyond the right edge, or a warnings table whose subject is cut, is a
column the volunteer never sees. So after layout in headless Chromium every table must be no
wider than its frame, at desktop and at phone width (where wide tables stack into cards). A
screenshot of each page and width is taken too, to prove it paints and to look at by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exposure.store.db import session as session_scope
from reports import overview
from tests.reports.sample import SPECS, SampleArea
from tests.reports.test_screenshots import _chromium, check_painted, probe, screenshot

WIDTHS = (390, 1280)

PROBE = """<script>
(function () {
  var out = {vw: document.documentElement.clientWidth, cut: [], tables: 0};
  var wraps = document.querySelectorAll(".table-wrap");
  for (var i = 0; i < wraps.length; i++) {
    var wrap = wraps[i];
    var table = wrap.querySelector("table");
    if (!table) continue;
    out.tables += 1;
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      var section = wrap.closest("section");
      out.cut.push((section ? section.id : "") + " table." + table.getAttribute("class")
        + " " + wrap.scrollWidth + ">" + wrap.clientWidth);
    }
  }
  parent.postMessage(JSON.stringify(out), "*");
})();
</script>"""


def table_fit(html_file: Path, width: int) -> dict:
    """Lay the page out at `width` in an iframe; which tables are wider than their frame."""
    return probe(html_file, width, PROBE, "fit")


def assert_tables_fit(pages: dict[str, Path], shots: Path) -> None:
    """Every table of every page fits at both widths; each page paints at both widths."""
    for name, page in pages.items():
        for width in WIDTHS:
            found = table_fit(page, width)
            assert found["vw"] == width
            assert found["tables"] > 0, f"{name}: no table measured"
            assert not found["cut"], f"{name} at {width}px hides columns: {found['cut']}"
        check_painted(screenshot(page, 390, shots / f"{name}-390.png"), 390, 8)
        assert screenshot(page, 1280, shots / f"{name}-1280.png").stat().st_size > 10_000


@pytest.mark.slow
def test_overview_tables_fit_at_desktop_and_phone_width(area: SampleArea, tmp_path: Path) -> None:
    _chromium()
    pages = {}
    with session_scope(area.engine) as db:
        for named in (False, True):
            name = "overview-named" if named else "overview"
            view = overview.build(db, SPECS, "nl", named=named)
            pages[name] = tmp_path / f"{name}.html"
            pages[name].write_text(overview.render_html(view), encoding="utf-8")
    assert_tables_fit(pages, tmp_path)


@pytest.mark.slow
def test_a_too_wide_table_is_caught(tmp_path: Path) -> None:
    """The probe sees a cut column (a long unbreakable cell in a nowrap table)."""
    _chromium()
    page = tmp_path / "wide.html"
    cells = "".join(f'<td style="white-space:nowrap">column {i} {"x" * 30}</td>' for i in range(8))
    page.write_text(
        f'<html><body><div class="table-wrap" style="overflow-x:auto"><table><tr>{cells}</tr>'
        "</table></div></body></html>",
        encoding="utf-8",
    )
    found = table_fit(page, 1280)
    assert found["tables"] == 1 and found["cut"]
