"""The Meldpunt's portal pages in Dutch words, every table fitting at 1280 and 390 px."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from exposure.models import WarningRecord, utcnow
from exposure.store.db import session as session_scope
from tests.exposure.app.portal.conftest import World
from tests.exposure.app.portal.test_browser import CHROMIUM_ARGS, _chromium, _missing, serving
from tests.reports import sample
from tests.reports.page import parse
from tests.reports.test_tables_fit import assert_tables_fit

SUBJECT = (
    "Meldpunt Cybersecurity IJmuiden: belangrijk beveiligingsprobleem bij "
    "Scheepswerf Van der Made B.V. (referentie MP-2026-000123), herinnering"
)

#: The codes the store keeps, which a Dutch page must not show as they are.
ENGLISH = ("new", "reminder", "outbox", "smtp", "written", "sent", "failed", "pending")


def add_warnings(world: World) -> None:
    states = [
        ("new", "outbox", "written"),
        ("reminder", "smtp", "sent"),
        ("new", "smtp", "failed"),
        ("new", "smtp", "pending"),
    ]
    with session_scope(world.engine) as db:
        for i, (kind, channel, status) in enumerate(states):
            db.add(
                WarningRecord(
                    reference=f"MP-2026-{i + 1:06d}",
                    company_id=sample.SHIPYARD,
                    created_at=utcnow() - timedelta(hours=i),
                    kind=kind,
                    channel=channel,
                    status=status,
                    recipients=[
                        "ict@scheepswerf-vandermade.test",
                        "security-contact-long-name@scheepswerf-vandermade.test",
                    ],
                    subject=SUBJECT,
                )
            )


def words_of(html: str, section_tag: str = "table") -> list[str]:
    return parse(html).find(section_tag).text.split()


def test_the_warnings_page_says_its_states_in_dutch(world: World) -> None:
    add_warnings(world)
    html = world.meldpunt_client().get("/meldpunt/warnings").text
    table = parse(html).find("table")
    text = table.text
    for word in ("nieuw", "herinnering", "per e-mail", "verstuurd", "mislukt", "geschreven"):
        assert word in text
    shown = {w.strip("·,()") for w in text.split()}
    assert not shown & set(ENGLISH), shown & set(ENGLISH)
    assert [th.text for th in table.find_all("th")] == [
        "Referentie",
        "Bedrijf",
        "Wanneer",
        "Aan",
        "Status",
        "Onderwerp",
    ]


def test_the_companies_page_has_named_columns_and_dutch_sectors(world: World) -> None:
    table = parse(world.meldpunt_client().get("/meldpunt").text).find("table", cls="portal-table")
    heads = [th.text for th in table.find_all("th")]
    assert all(heads) and "Sector" in heads
    cells = {td.text for td in table.find_all("td")}
    assert "Logistiek" in cells and "logistics" not in cells


@pytest.mark.slow
def test_meldpunt_pages_fit_at_desktop_and_phone_width(world: World, tmp_path: Path) -> None:
    _chromium()  # the Debian browser, as the portal's browser test finds it
    add_warnings(world)
    client = world.meldpunt_client()
    pages = {}
    for name, url in (
        ("meldpunt", "/meldpunt"),
        ("warnings", "/meldpunt/warnings"),
        ("overview", "/meldpunt/overview"),
    ):
        response = client.get(url)
        assert response.status_code == 200
        pages[name] = tmp_path / f"{name}.html"
        pages[name].write_text(response.text, encoding="utf-8")
    assert_tables_fit(pages, tmp_path)


FITS = """() => Array.from(document.querySelectorAll('.table-wrap'))
    .filter(w => w.scrollWidth > w.clientWidth + 1)
    .map(w => (w.closest('section') || {}).id + ' ' + w.scrollWidth + '>' + w.clientWidth)"""


def test_the_meldpunt_morning_in_a_browser(tmp_path: Path) -> None:
    """Logged in through the reverse proxy's header: the call list first, every page in
    Dutch and without a cut column at 1280 and 390 px; screenshots for a person to look at."""
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (pip install playwright)")
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    with serving(url, tmp_path, {"EXPOSURE_PORTAL_AUTH_HEADER": "X-Remote-User"}) as (base, tokens):
        assert httpx.get(f"{base}/t/{tokens[sample.FISH]}").status_code == 303  # read
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                for width in (1280, 390):
                    context = browser.new_context(
                        viewport={"width": width, "height": 900},
                        extra_http_headers={"X-Remote-User": "meldpunt"},
                    )
                    page = context.new_page()
                    page.goto(f"{base}/meldpunt/login")
                    assert page.url == f"{base}/meldpunt"
                    first = page.locator("#calls li.call").first
                    assert first.get_attribute("data-company") == sample.COLD_STORE
                    assert "kritiek" in first.inner_text()
                    fish = page.locator(f'#calls li.call[data-company="{sample.FISH}"]')
                    assert "nog niet geopend" not in fish.inner_text()
                    for name in ("meldpunt", "warnings", "overview"):
                        if name != "meldpunt":
                            page.goto(f"{base}/meldpunt/{name}")
                        assert page.evaluate(FITS) == [], (name, width)
                        page.screenshot(path=str(shots / f"meldpunt-{name}-{width}.png"))
                    context.close()
            finally:
                browser.close()
