"""The portal in a real browser: `exposure serve` in a subprocess, headless Chromium driven by
Playwright. A company opens its link, reads its report, downloads its export, accepts a risk,
and cannot open another company's page.

Uses Debian's `/usr/bin/chromium` (never `playwright install`). Skipped locally without it or
without the playwright package; on CI (CI=true) either missing is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from exposure.app.portal.auth import create_link
from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from tests.reports import sample

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _missing(what: str) -> None:
    if _on_ci():
        pytest.fail(f"{what} is not installed; CI must install it", pytrace=False)
    pytest.skip(f"{what} is not installed")


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if not found:
        _missing("chromium (apt-get install chromium)")
    assert found
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    url: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """`exposure serve` on 127.0.0.1 over the sample area in `url`; yields (base URL, tokens).
    `extra_env`: more settings (EXPOSURE_*) for the server."""
    engine = make_engine(url)
    migrate(engine)
    sample.build_area(engine)
    with session_scope(engine) as db:
        tokens = {
            cid: create_link(db, cid, 90, by="test").token
            for cid in (sample.COLD_STORE, sample.FISH)
        }
    engine.dispose()
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("EXPOSURE_") and key != "SHODAN_API_KEY"
    }
    env.update(
        EXPOSURE_DATABASE=url,
        EXPOSURE_PORTAL_SECURE_COOKIES="false",  # plain http on 127.0.0.1 only
        EXPOSURE_MELDPUNT_PHONE="010-123 45 67",
    )
    env.update(extra_env or {})
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from exposure.app.cli import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text()) from None
                time.sleep(0.2)
        yield base, tokens
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    served_log = log_path.read_text()
    assert "/t/[redacted] 303" in served_log  # the access log is on, and writes no token
    for token in tokens.values():
        assert token not in served_log, "a token reached the server's log"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    with serving(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path) as found:
        yield found


def test_serve_runs_on_sqlite_and_postgresql(database_url: str, tmp_path: Path) -> None:
    with serving(database_url, tmp_path) as (base, tokens), httpx.Client(base_url=base) as client:
        opened = client.get(f"/t/{tokens[sample.FISH]}")
        assert opened.status_code == 303 and opened.headers["location"] == "/report"
        report = client.get("/report")
        assert report.status_code == 200
        assert "Visgroothandel Zeebries" in report.text
        assert "Koelhuis" not in report.text
        assert client.get(f"/meldpunt/company/{sample.COLD_STORE}").status_code == 403


def test_a_company_opens_its_link_in_a_browser(
    served: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (pip install playwright)")
    base, tokens = served
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                accept_downloads=True, viewport={"width": 1000, "height": 900}
            )
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            page.goto(f"{base}/t/{tokens[sample.COLD_STORE]}")
            assert page.url == f"{base}/report"  # the token is gone from the address bar
            assert page.locator("h1").inner_text() == "Koelhuis Maasvlakte"
            assert page.locator("#grade").get_attribute("data-grade") == "E"
            page.screenshot(path=str(shots / "portal-report.png"), full_page=False)

            with page.expect_download() as info:
                page.get_by_role("link", name="Download (JSON)").click()
            download = info.value
            path = tmp_path / download.suggested_filename
            download.save_as(path)
            assert download.suggested_filename == f"{sample.COLD_STORE}.json"
            document = json.loads(path.read_text(encoding="utf-8"))
            assert document["company"]["id"] == sample.COLD_STORE
            assert {f["company_id"] for f in document["findings"]} == {sample.COLD_STORE}

            problem = page.locator('article.problem[data-check="exposure.ics"]')
            problem.locator("summary").click()
            problem.locator("textarea[name=reason]").first.fill(
                "De besturing zit achter de VPN; Shodan zag een oude poort."
            )
            problem.get_by_role("button", name="Aanvaarden").first.click()
            page.wait_for_url(f"{base}/report?done=accepted#accepted")
            assert "Het risico is aanvaard." in page.locator(".notice").inner_text()
            accepted = page.locator('li.accepted-risk[data-check="exposure.ics"]')
            assert accepted.locator("s").count() == 1
            decoration = accepted.locator("s").evaluate(
                "el => getComputedStyle(el).textDecorationLine"
            )
            assert "line-through" in decoration
            assert "achter de VPN" in accepted.inner_text()
            assert page.locator("#grade").get_attribute("data-grade") != "E"
            accepted.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "portal-accepted.png"), full_page=False)

            page.goto(f"{base}/report/history")
            assert "achter de VPN" in page.content()

            # another company's page, by URL: refused, and nothing of it on the page
            response = page.goto(f"{base}/meldpunt/company/{sample.FISH}")
            assert response is not None and response.status == 403
            assert "Visgroothandel" not in page.content()
            response = page.goto(f"{base}/report?company={sample.FISH}")
            assert response is not None and response.status == 200
            assert "Visgroothandel" not in page.content()
            assert page.locator("h1").inner_text() == "Koelhuis Maasvlakte"

            page.goto(f"{base}/t/{'x' * 43}")
            assert "werkt niet" in page.content()
            page.screenshot(path=str(shots / "portal-bad-link.png"), full_page=False)
        finally:
            browser.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors
