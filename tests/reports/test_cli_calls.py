"""`exposure report --calls`: the call list for the ICT partner's morning mail."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from reports import calls
from tests.reports import sample
from tests.reports.test_cli_report import database, isolated, run

__all__ = ["database", "isolated"]  # the fixtures of the report CLI tests


def test_calls_as_a_table_by_default(database: list[str]) -> None:
    result = run(*database, "report", "--calls")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Wie bellen we vandaag?")
    assert result.stdout.index("Koelhuis Maasvlakte") < result.stdout.index("Autogarage Brouwer")


def test_calls_as_json_and_csv(database: list[str], tmp_path: Path) -> None:
    result = run(*database, "report", "--calls", "--format", "json", "--language", "en")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["calls"][0]["company_id"] == sample.COLD_STORE
    assert document["calls"][0]["could_not_test"] == ["no answer in time"]
    target = tmp_path / "calls.csv"
    result = run(*database, "report", "--calls", "--format", "csv", "--output", str(target))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == calls.FIELDS and rows[1][1] == sample.COLD_STORE


def test_calls_refuse_what_does_not_fit(database: list[str]) -> None:
    for args in (
        ("--calls", "--format", "html"),
        ("--calls", "--company", sample.BAKERY),
        ("--calls", "--overview"),
        ("--company", sample.BAKERY, "--format", "table"),
    ):
        result = run(*database, "report", *args)
        assert result.exit_code == 2, (args, result.output)
