"""`exposure report` as the ICT partner and the Meldpunt use it."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import reports.publish
from exposure.app.cli import app
from exposure.store.db import make_engine, migrate
from reports import export
from reports.specs import Specs
from tests.reports import sample
from tests.reports.page import parse


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    # the sample's words, whatever checks are installed
    monkeypatch.setattr(Specs, "from_registry", classmethod(lambda cls, _r: sample.SPECS))


@pytest.fixture
def database(tmp_path: Path) -> list[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate(engine)
    sample.build_area(engine)
    engine.dispose()
    return ["--database", url]


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_html_report_to_a_file(database: list[str], tmp_path: Path) -> None:
    target = tmp_path / "out" / "bakkerij.html"
    target.parent.mkdir()
    result = run(*database, "report", "--company", sample.BAKERY, "--output", str(target))
    assert result.exit_code == 0, result.output
    doc = parse(target.read_text(encoding="utf-8"))
    assert doc.by_id("grade").attrs["data-grade"] == "B"
    assert [p.name for p in target.parent.iterdir()] == ["bakkerij.html"]  # no temp file left


def test_an_output_folder_gets_the_company_id_as_file_name(
    database: list[str], tmp_path: Path
) -> None:
    result = run(*database, "report", "--company", sample.FISH, "--format", "csv", "--output", ".")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO((tmp_path / f"{sample.FISH}.csv").read_text())))
    assert tuple(rows[0]) == export.FINDING_FIELDS and len(rows) > 5


def test_json_to_standard_output_validates(database: list[str]) -> None:
    result = run(*database, "report", "--company", sample.TUG, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(export.schema()).validate(data)
    assert data["language"] == "en"  # the company reads English
    result = run(
        *database, "report", "--company", sample.TUG, "--format", "json", "--language", "nl"
    )
    assert json.loads(result.stdout)["language"] == "nl"


def test_an_unknown_company_is_one_line_and_exit_2(database: list[str], tmp_path: Path) -> None:
    result = run(*database, "report", "--company", "nope", "--output", str(tmp_path / "x.html"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown company 'nope'" in lines[0]
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "either --company ID or --overview"),
        (("--company", "1", "--overview", "--output", "x"), "either --company ID or --overview"),
        (("--overview",), "--overview needs --output"),
        (("--overview", "--output", "x", "--format", "json"), "html only"),
        (("--company", sample.BAKERY, "--named"), "--named applies to --overview only"),
        (("--company", sample.BAKERY, "--format", "pdf"), "--format pdf needs --output"),
        (("--company", sample.BAKERY, "--language", "de"), "not nl or en"),
    ],
)
def test_bad_combinations_are_refused(database: list[str], args: tuple, message: str) -> None:
    result = run(*database, "report", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_overview_to_a_folder_without_and_with_names(database: list[str], tmp_path: Path) -> None:
    result = run(*database, "report", "--overview", "--output", "area")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "area" / "index.html").read_text(encoding="utf-8")
    assert "Bakkerij" not in html and len(parse(html).by_id("trend").find_all("svg")) == 2
    assert "index.html" in result.stderr

    result = run(*database, "report", "--overview", "--output", "intern", "--named")
    assert result.exit_code == 0, result.output
    assert "Bakkerij Dé Haven" in (tmp_path / "intern" / "index.html").read_text(encoding="utf-8")


def test_pdf_without_weasyprint_is_a_clear_error(
    database: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(_html: str) -> bytes:
        raise reports.publish.PdfUnavailableError(
            "PDF needs WeasyPrint: pip install 'exposure[pdf]'"
        )

    monkeypatch.setattr(reports.publish, "html_to_pdf", unavailable)
    out = tmp_path / "r.pdf"
    result = run(
        *database, "report", "--company", sample.BAKERY, "--format", "pdf", "--output", str(out)
    )
    assert result.exit_code == 2 and "WeasyPrint" in result.stderr
    assert not out.exists()


def test_file_names_from_hostile_ids_stay_in_the_folder() -> None:
    from reports.publish import safe_name

    assert safe_name("58120001") == "58120001"
    assert "/" not in safe_name("../../etc/passwd") and ".." not in safe_name("../../etc/passwd")
    assert safe_name("a/b") != safe_name("a_b")  # cleaned names never collide


def test_pdf_with_weasyprint(database: list[str], tmp_path: Path) -> None:
    pytest.importorskip("weasyprint", reason="the optional `pdf` extra is not installed")
    out = tmp_path / "r.pdf"
    result = run(
        *database, "report", "--company", sample.BAKERY, "--format", "pdf", "--output", str(out)
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    assert "WARNING" not in result.stderr
