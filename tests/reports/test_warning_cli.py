"""`exposure warn` and `exposure warnings list` as an operator meets them: exit codes, one-line
errors, a dry run that records nothing, an outbox, a quiet second run, the audit trail."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from exposure.app.cli import app
from exposure.app.harness import Lab
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec
from tests.reports.lab_checks import lab_registry

AREA = Area(
    companies=[
        CompanySpec(
            "1001",
            "Bakkerij De Haven",
            "info@bakkerij.test",
            domains=[DomainSpec("bakkerij.test", site=None, txt=["v=spf1 -all"])],
        ),
        CompanySpec(
            "1002",
            "Garage [bold]Oost[/bold]",  # Rich markup in a name stays text
            "garage@garage-oost.test",
            domains=[DomainSpec("garage-oost.test", site=None, txt=["v=spf1 -all"])],
        ),
    ]
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXPOSURE_MELDPUNT_NAME", "Meldpunt Cybersecurity IJmuiden")
    monkeypatch.setenv("EXPOSURE_MELDPUNT_EMAIL", "meldpunt@meldpunt-ijmuiden.test")
    monkeypatch.setenv("EXPOSURE_MELDPUNT_PHONE", "0255 123 456")
    monkeypatch.setenv("EXPOSURE_MELDPUNT_URL", "www.meldpunt-ijmuiden.test")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[str]:
    """A store after one scan of AREA: two companies with DMARC missing (high)."""
    async with Testbed(AREA, shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        try:
            await lab.scan(registry=lab_registry(), dns_timeout=0.5, dns_tries=1)
        finally:
            lab.close()
        yield lab.database_url


def run(database: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["--database", database, *args], catch_exceptions=False)


async def test_bad_input_is_one_line_and_exit_2(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nothing = run(database, "warn")
    assert nothing.exit_code == 2
    assert "--outbox DIR, --send" in nothing.output
    bad = run(database, "warn", "--dry-run", "--min-severity", "urgent")
    assert bad.exit_code == 2 and "unknown severity 'urgent'" in bad.output
    no_smtp = run(database, "warn", "--send")
    assert no_smtp.exit_code == 2 and "smtp_url" in no_smtp.output
    bad_url = run(database, "--smtp-url", "smtp://u:s3cr3t@mail.test?starttls=0", "warn", "--send")
    assert bad_url.exit_code == 2 and "unencrypted" in bad_url.output
    assert "s3cr3t" not in bad_url.output
    unknown = run(database, "warn", "--dry-run", "--company", "9999")
    assert unknown.exit_code == 2 and "unknown or inactive company: 9999" in unknown.output
    monkeypatch.delenv("EXPOSURE_MELDPUNT_PHONE")
    missing = run(database, "warn", "--outbox", str(tmp_path / "out"))
    assert missing.exit_code == 2 and "meldpunt_phone" in missing.output
    assert not (tmp_path / "out").exists()
    listing = run(database, "warnings", "list")
    assert "no warnings recorded" in listing.output


async def test_dry_run_outbox_quiet_second_run_and_the_audit_trail(
    database: str, tmp_path: Path
) -> None:
    preview = run(database, "warn", "--dry-run", "--show")
    assert preview.exit_code == 0, preview.output
    assert "dry run: 2 messages would go out" in preview.output
    assert "BESTE BAKKERIJ" not in preview.output and "Beste Bakkerij De Haven," in preview.output
    assert "Garage [bold]Oost[/bold]" in preview.output
    assert "no warnings recorded" in run(database, "warnings", "list").output

    outbox = tmp_path / "outbox"
    first = run(database, "warn", "--outbox", str(outbox))
    assert first.exit_code == 0, first.output
    assert "2 messages" in first.output and "2 written" in first.output
    assert len(list(outbox.glob("*.eml"))) == 2

    second = run(database, "warn", "--outbox", str(outbox))
    assert second.exit_code == 0
    assert "nothing new to warn about" in second.output
    assert len(list(outbox.glob("*.eml"))) == 2

    table = run(database, "warnings", "list")
    assert table.exit_code == 0
    assert "2 warnings" in table.output and "MP-" in table.output
    only = run(database, "warnings", "list", "--company", "1001", "--format", "json")
    rows = json.loads(only.output)
    assert [(r["company_id"], r["kind"], r["status"]) for r in rows] == [("1001", "new", "written")]
    assert rows[0]["recipients"] == ["info@bakkerij.test"]
    assert list(rows[0]["reasons"].values()) == ["new"]
    assert "1 probleem bij Bakkerij De Haven" in rows[0]["subject"]
    assert rows[0]["created_at"].endswith("Z")
    assert "written to" in rows[0]["result"]
    later = run(database, "warnings", "list", "--since", "2999-01-01")
    assert "no warnings recorded" in later.output
    bad = run(database, "warnings", "list", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since" in bad.output


async def test_failed_messages_give_exit_1_and_are_tried_again(
    database: str, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    failed = run(database, "warn", "--outbox", str(blocked))
    assert failed.exit_code == 3
    assert "failed: MP-" in failed.output and "tried again on the next run" in failed.output
    retry = run(database, "warn", "--outbox", str(tmp_path / "outbox"))
    assert retry.exit_code == 0 and "2 written" in retry.output
