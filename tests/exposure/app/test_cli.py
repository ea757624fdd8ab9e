"""The command line as a user meets it: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exposure.app.cli import app

HEADER = "id,name,email,domains,ips,sector\n"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that table cells are not folded
    monkeypatch.chdir(tmp_path)


def run(*args: str):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result


def db(tmp_path: Path) -> list[str]:
    return ["--database", f"sqlite:///{tmp_path / 'cli.db'}"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_list_and_reimport(tmp_path):
    members = write(
        tmp_path,
        "members.csv",
        HEADER
        + '1001,Bakkerij Dé Haven,info@dehaven.test,"dehaven.test;Bakkerij-Dé-Haven.test",192.0.2.7,food\n'
        + "1002,Scheepswerf,werf@werf.test,werf.test,198.51.100.0/30,shipbuilding\n",
    )
    result = run(*db(tmp_path), "targets", "import", str(members))
    assert result.exit_code == 0, result.output
    assert "2 companies added" in result.output
    listing = run(*db(tmp_path), "targets", "list")
    assert listing.exit_code == 0
    assert "xn--bakkerij-d-haven-kqb.test" in listing.output
    assert "198.51.100.0/30" in listing.output
    again = run(*db(tmp_path), "targets", "import", str(members))
    assert "0 companies added, 0 updated" in again.output


def test_a_bad_file_stores_nothing_and_names_every_line(tmp_path):
    members = write(
        tmp_path,
        "members.csv",
        HEADER
        + "1001,Bakkerij,info@bakkerij.test,bakkerij.test,,food\n"
        + "1002,Werf,not-an-address,werf.test,,\n"
        + "1003,Garage,garage@garage.test,garage.test,10.0.0.0/16,\n",
    )
    result = run(*db(tmp_path), "targets", "import", str(members))
    assert result.exit_code == 2
    lines = (
        result.stderr.strip().splitlines()
        if hasattr(result, "stderr")
        else result.output.splitlines()
    )
    assert any(line.startswith(f"{members}:3: email:") for line in lines), lines
    assert any(line.startswith(f"{members}:4: ips:") for line in lines), lines
    listing = run(*db(tmp_path), "targets", "list")
    assert "0 companies, 0 targets" in listing.output


def test_dry_run_stores_nothing(tmp_path):
    members = write(tmp_path, "m.csv", HEADER + "1001,Bakkerij,info@b.test,b.test,,\n")
    result = run(*db(tmp_path), "targets", "import", "--dry-run", str(members))
    assert result.exit_code == 0
    assert "nothing stored" in result.output
    assert "0 companies, 0 targets" in run(*db(tmp_path), "targets", "list").output


def test_settings_error_is_one_line_and_exit_2(tmp_path):
    write(tmp_path, "exposure.toml", 'databse = "x"\n')
    result = run("findings")
    assert result.exit_code == 2
    assert "exposure.toml: unknown setting 'databse'" in result.output


def test_bad_severity_and_unknown_company(tmp_path):
    result = run(*db(tmp_path), "findings", "--min-severity", "urgent")
    assert result.exit_code == 2
    assert "unknown severity 'urgent'" in result.output
    result = run(*db(tmp_path), "scan", "--company", "nope")
    assert result.exit_code == 2
    assert "unknown or inactive company: nope" in result.output


def test_checks_lists_the_catalogue():
    result = run("checks")
    assert result.exit_code == 0
    assert "target.unresolvable" in result.output
    assert "exposure.camera" in result.output


def test_findings_json_and_csv_after_a_demo_scan(tmp_path):
    """The demo's database, read back through `exposure findings` (fields as DESIGN.md says)."""
    out = tmp_path / "demo"
    result = run("demo", "--output", str(out))
    assert result.exit_code == 0, result.output
    database = f"sqlite:///{out / 'exposure.db'}"
    as_json = run("--database", database, "findings", "--status", "all", "--format", "json")
    assert as_json.exit_code == 0
    rows = json.loads(as_json.stdout)
    assert rows, "the demo area has problems to find"
    for key in (
        "company_id",
        "check_id",
        "severity",
        "target",
        "title",
        "status",
        "first_seen",
        "last_seen",
        "evidence",
    ):
        assert all(key in row for row in rows), key
    assert {r["severity"] for r in rows} <= {"info", "low", "medium", "high", "critical"}
    high = run("--database", database, "findings", "--min-severity", "high", "--format", "json")
    assert all(r["severity"] in ("high", "critical") for r in json.loads(high.stdout))
    as_csv = run("--database", database, "findings", "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(parsed) == len([r for r in rows if r["status"] == "open"])


def test_csv_neutralises_formulas():
    from reports.findings import safe_cell

    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("+31 255") == "'+31 255"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("bakkerij.test") == "bakkerij.test"


def test_demo_runs_fast_and_leaves_nothing_running(tmp_path):
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "exposure.app.cli", "demo", "--output", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 60
    assert "nothing left running" in proc.stdout
    # the demo writes its warnings to an outbox and says where
    outbox = tmp_path / "d" / "outbox"
    assert f"warnings: {outbox}" in " ".join(proc.stdout.split())
    assert list(outbox.glob("MP-*.eml"))


def test_tables_show_what_servers_and_members_wrote_as_text(tmp_path):
    """A server's error message or a member's name is text, not rich markup: `[/x]` in it
    crashed `runs --errors` and `targets list` with a MarkupError."""
    from exposure.models import CheckError, Company, ScanRun, Target
    from exposure.store.db import make_engine, migrate
    from exposure.store.db import session as session_scope

    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        session.add(Company(id="1", name="Bakkerij [/x] [bold]Haven", email="info@b.test"))
        session.add(Target(company_id="1", kind="domain", value="b.test"))
        session.add(ScanRun(id=1, status="complete"))
        session.flush()
        session.add(
            CheckError(
                run_id=1, company_id="1", target="b.test", check_id="web",
                reason="protocol_error", message="HTTP/1.1 400 [/x] [red]bad[/red]",
            )
        )  # fmt: skip
    engine.dispose()
    errors = run("--database", url, "runs", "--errors", "1")
    assert errors.exit_code == 0, errors.output
    assert "[/x] [red]bad[/red]" in errors.output.replace("\n", "")
    listed = run("--database", url, "targets", "list")
    assert listed.exit_code == 0, listed.output
    assert "[/x] [bold]Haven" in " ".join(listed.output.split())
