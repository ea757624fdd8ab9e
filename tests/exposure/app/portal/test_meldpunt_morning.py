"""The Meldpunt's morning in the portal: the call list on `/meldpunt`, in Dutch words."""

from __future__ import annotations

from tests.exposure.app.portal.conftest import World
from tests.reports import sample
from tests.reports.page import parse


def call_rows(html: str) -> dict[str, str]:
    section = parse(html).by_id("calls")
    return {
        row.attrs["data-company"]: row.text
        for row in section.find_all("li", where=lambda n: "data-company" in n.attrs)
    }


def test_the_call_list_opens_the_meldpunt_page(world: World) -> None:
    page = world.meldpunt_client().get("/meldpunt")
    assert page.status_code == 200
    rows = call_rows(page.text)
    assert list(rows)[:2] == [sample.COLD_STORE, sample.GARAGE]
    assert sample.BAKERY not in rows  # fixed its certificate
    assert "nog niet geopend" in rows[sample.FISH]
    assert page.text.index('id="calls"') < page.text.index("/meldpunt/company/")
    assert "<script>alert(1)</script>" not in page.text


def test_opening_the_report_shows_as_read(world: World) -> None:
    world.company_client(sample.FISH).get("/report")
    rows = call_rows(world.meldpunt_client().get("/meldpunt").text)
    assert "nog niet geopend" not in rows[sample.FISH]
    assert "nog niet geopend" in rows[sample.GARAGE]


def test_sectors_are_dutch_words(world: World) -> None:
    text = parse(world.meldpunt_client().get("/meldpunt").text).text
    assert "Voeding" in text and "Maritiem" in text
    for code in (" food ", " maritime ", " logistics "):
        assert code not in f" {text} "
