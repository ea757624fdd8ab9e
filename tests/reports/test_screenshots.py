"""The pages in a real browser: headless Chromium lays them out at desktop and phone width.

Two looks per page and width:
- a measurement: a copy of the page with a small script added (the report itself has none and
  its Content-Security-Policy forbids one) reports, after layout, every element that runs off
  the right edge (outside a table that scrolls on purpose), any text smaller than 12px, and the
  page height. The copy sits in an iframe of exactly the width under test (headless Chromium
  will not make its window narrower than 500px) and posts its findings to the outer page,
  which Chromium prints with `--dump-dom`;
- a screenshot, to prove the page paints (not blank) and to look at by hand when a test fails.

Needs Debian's `chromium`. Skipped locally without it; on CI (CI=true) a missing browser fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest
from sqlalchemy import Engine

from exposure.store.db import session as session_scope
from reports import company, overview
from tests.reports import sample
from tests.reports.sample import SPECS, SampleArea
from tests.reports.test_coverage import DARK, HARBOUR, SLOW, build_lab

SHOT_HEIGHT = 1600
MIN_FONT_PX = 12

MEASURE = """<script>
(function () {
  var vw = document.documentElement.clientWidth;
  var out = {vw: vw, height: document.documentElement.scrollHeight, over: [], small: []};
  var all = document.body.querySelectorAll("*");
  for (var i = 0; i < all.length; i++) {
    var el = all[i];
    var r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    var wrap = el.closest(".table-wrap");
    if (!(wrap && wrap !== el) && (r.right > vw + 0.5 || r.left < -0.5)) {
      out.over.push(el.tagName + "." + el.getAttribute("class") + " right=" + Math.round(r.right));
    }
    var hasText = false;
    for (var j = 0; j < el.childNodes.length; j++) {
      var n = el.childNodes[j];
      if (n.nodeType === 3 && n.textContent.trim()) { hasText = true; break; }
    }
    if (hasText) {
      var size = parseFloat(getComputedStyle(el).fontSize);
      if (size < MIN_FONT) out.small.push(el.tagName + " " + size + "px");
    }
  }
  parent.postMessage(JSON.stringify(out), "*");
})();
</script>""".replace("MIN_FONT", str(MIN_FONT_PX))


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("chromium is not installed; CI must install it", pytrace=False)
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def _run(args: list[str], profile: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def measure(html_file: Path, width: int) -> dict:
    """Lay the page out at `width` and return what the added script measured."""
    return probe(html_file, width, MEASURE, "probe")


def probe(html_file: Path, width: int, script: str, tag: str) -> dict:
    """Lay a copy of the page with `script` added out at `width` (in an iframe of that width,
    the page's CSP removed) and return the JSON the script posted to the outer page."""
    html = html_file.read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    page = html_file.with_name(f"{html_file.stem}-{tag}-{width}.html")
    page.write_text(html.replace("</body>", script + "</body>"), encoding="utf-8")
    frame = html_file.with_name(f"{html_file.stem}-{tag}frame-{width}.html")
    frame.write_text(
        '<!DOCTYPE html><html><body style="margin:0"><pre id="measured"></pre><script>'
        'window.addEventListener("message", function (e) {'
        ' document.getElementById("measured").textContent = e.data; });</script>'
        f'<iframe src="{page.name}" style="width:{width}px;height:900px;border:0"></iframe>'
        "</body></html>",
        encoding="utf-8",
    )
    with tempfile.TemporaryDirectory() as profile:
        done = _run(
            ["--window-size=1400,1000", "--virtual-time-budget=5000", "--dump-dom", frame.as_uri()],
            profile,
        )
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert found, f"{page.name}: no measurement in the dumped DOM"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def screenshot(html_file: Path, width: int, out: Path) -> Path:
    with tempfile.TemporaryDirectory() as profile:
        _run(
            [f"--window-size={width},{SHOT_HEIGHT}", f"--screenshot={out}", html_file.as_uri()],
            profile,
        )
    return out


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 0xFF
        previous = line
        rgb = bytes(line) if channels == 3 else bytes(b for j, b in enumerate(line) if j % 4 != 3)
        rows.append(rgb)
    return width, height, rows


def check_painted(png: Path, width: int, margin: int) -> None:
    """The top of the page is painted, and nothing paints into the right margin."""
    w, _h, rows = read_png(png)
    assert w == width
    white = b"\xff" * (3 * w)
    assert any(row != white for row in rows), f"{png.name}: blank"
    right = b"\xff" * (3 * margin)
    overflow = [y for y, row in enumerate(rows) if row[-3 * margin :] != right]
    assert not overflow, f"{png.name}: something paints into the right margin at y={overflow[:5]}"


def _pages(engine: Engine, folder: Path) -> dict[str, Path]:
    pages: dict[str, Path] = {}
    with session_scope(engine) as session:
        for company_id in (sample.FISH, sample.SHIPYARD, sample.HOSTILE, sample.NEVER_SCANNED):
            html = company.render_html(company.build(session, company_id, SPECS, "nl"))
            pages[company_id] = folder / f"{company_id}.html"
            pages[company_id].write_text(html, encoding="utf-8")
        for named in (False, True):
            name = "overview-named" if named else "overview"
            html = overview.render_html(overview.build(session, SPECS, named=named))
            pages[name] = folder / f"{name}.html"
            pages[name].write_text(html, encoding="utf-8")
    return pages


@pytest.mark.slow
def test_reports_lay_out_in_chromium_at_desktop_and_phone_width(
    area: SampleArea, tmp_path: Path
) -> None:
    _chromium()
    pages = _pages(area.engine, tmp_path)
    heights: dict[tuple[str, int], int] = {}
    for name, page in pages.items():
        for width in (390, 1280):
            found = measure(page, width)
            assert found["vw"] == width, found["vw"]
            assert not found["over"], f"{name} at {width}px runs off the edge: {found['over'][:5]}"
            assert not found["small"], f"{name} at {width}px has tiny text: {found['small'][:5]}"
            heights[(name, width)] = found["height"]
    # a phone stacks what a desktop puts side by side: longer, never shorter
    for name in pages:
        assert heights[(name, 390)] >= heights[(name, 1280)], name
    # many findings make a long report; none a short one, but not an empty one
    assert heights[(sample.FISH, 390)] > 2 * heights[(sample.SHIPYARD, 390)]
    assert heights[(sample.SHIPYARD, 390)] > 1500


@pytest.mark.slow
def test_reports_paint_in_chromium(area: SampleArea, tmp_path: Path) -> None:
    _chromium()
    pages = _pages(area.engine, tmp_path)
    for name in (sample.FISH, "overview"):
        # phone: .8rem (12.8px) side padding, so 8px on the right stay white
        check_painted(screenshot(pages[name], 390, tmp_path / f"{name}-390.png"), 390, 8)
        desktop = screenshot(pages[name], 1280, tmp_path / f"{name}-1280.png")
        assert desktop.stat().st_size > 20_000


def _keep(png: Path) -> None:
    """Copy a screenshot to `EXPOSURE_SCREENSHOT_DIR` when set, to look at by hand."""
    folder = os.environ.get("EXPOSURE_SCREENSHOT_DIR", "").strip()
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(folder) / png.name)


@pytest.mark.slow
def test_the_three_states_lay_out_and_paint(area: SampleArea, tmp_path: Path) -> None:
    """The pages that changed with issue 19: nothing tested (no grade), no domain, a website
    that timed out, a report with a probable finding and evidence codes; desktop and 390 px."""
    _chromium()
    build_lab(area)
    pages: dict[str, Path] = {}
    with session_scope(area.engine) as session:
        for company_id in (DARK, HARBOUR, SLOW, sample.COLD_STORE):
            for language in ("nl", "en"):
                html = company.render_html(company.build(session, company_id, SPECS, language))
                name = f"{company_id}-{language}"
                pages[name] = tmp_path / f"{name}.html"
                pages[name].write_text(html, encoding="utf-8")
        html = overview.render_html(overview.build(session, SPECS, named=True))
        pages["overview-named"] = tmp_path / "overview-named.html"
        pages["overview-named"].write_text(html, encoding="utf-8")
    for name, page in pages.items():
        for width in (390, 1280):
            found = measure(page, width)
            assert not found["over"], f"{name} at {width}px runs off the edge: {found['over'][:5]}"
            assert not found["small"], f"{name} at {width}px has tiny text: {found['small'][:5]}"
            png = screenshot(page, width, tmp_path / f"{name}-{width}.png")
            if width == 390:
                check_painted(png, 390, 8)
            _keep(png)
