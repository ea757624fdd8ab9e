"""`exposure discovery run|list|confirm|reject` as the Meldpunt meets it, against the testbed's
discovery scenario: exit codes, one-line errors, and a decision that sticks."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exposure.app.cli import app
from exposure.testbed.area_discovery import discovery_area, expected
from exposure.testbed.runner import Testbed


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


async def arun(*args: str, env: dict[str, str] | None = None):
    """The command in a thread: the testbed serves from this test's event loop meanwhile."""
    return await asyncio.to_thread(run, *args, env=env)


def _env(tb: Testbed, tmp_path: Path) -> dict[str, str]:
    return {
        **tb.env(shodan_key=True),
        "EXPOSURE_DATABASE": f"sqlite:///{tmp_path / 'cli.db'}",
        "EXPOSURE_SHODAN_REQUEST_INTERVAL": "0.06",
        "EXPOSURE_DISCOVERY_CT_INTERVAL": "0",
    }


async def test_run_list_confirm_reject(tmp_path: Path) -> None:
    async with Testbed(discovery_area()) as tb:
        assert tb.shodan is not None
        tb.shodan.rate_interval = 0.05
        env = _env(tb, tmp_path)
        members = tb.write_members_csv(tmp_path / "members.csv")
        assert run("targets", "import", str(members), env=env).exit_code == 0

        result = await arun("discovery", "run", env=env)
        assert result.exit_code == 0, result.output
        assert "3/3 companies; 3 proposed" in result.output

        listed = run("discovery", "list", "--format", "json", env=env)
        assert listed.exit_code == 0
        hosts = json.loads(listed.stdout)
        assert {(h["company_id"], h["kind"], h["host"]) for h in hosts} == expected(tb)
        ids = {h["host"]: h["id"] for h in hosts}
        camera, vpn = tb.address("kade-office"), "vpn.noorderhaven-sleep.test"

        ok = run("discovery", "confirm", str(ids[camera]), "--note", "called the owner", env=env)
        assert ok.exit_code == 0 and "confirmed" in ok.output
        no = run("discovery", "reject", str(ids[vpn]), env=env)
        assert no.exit_code == 0 and "never proposed again" in no.output
        table = run("targets", "list", "--company", "59220002", env=env)
        assert camera in table.output

        again = await arun("discovery", "run", "--company", "59220001", env=env)
        assert again.exit_code == 0, again.output
        assert "1 rejected seen again" in again.output
        rejected = run("discovery", "list", "--state", "rejected", "--format", "json", env=env)
        assert [h["host"] for h in json.loads(rejected.stdout)] == [vpn]

        # a source down: exit 3, its could-not-test named, what DNS showed still stored
        assert tb.ct is not None
        tb.ct.outage = 503
        down = await arun("discovery", "run", env={**env, "EXPOSURE_DISCOVERY_CACHE_DAYS": "0"})
        assert down.exit_code == 3, down.output
        assert "could not test: ct" in down.output


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    db = ["--database", f"sqlite:///{tmp_path / 'cli.db'}"]
    result = run(*db, "discovery", "confirm", "999")
    assert result.exit_code == 2
    assert result.output.strip() == "exposure: error: no discovered host #999"
    result = run(*db, "discovery", "list", "--state", "maybe")
    assert result.exit_code == 2 and "--state: 'maybe' is not one of" in result.output
    result = run(*db, "discovery", "run", "--company", "nope")
    assert result.exit_code == 2 and "--company: no active company nope" in result.output
    result = run(*db, "discovery", "run", "--deadline", "0")
    assert result.exit_code == 2
    result = run(*db, "--config", str(tmp_path / "none.toml"), "discovery", "list")
    assert result.exit_code == 2


def _findings(env: dict[str, str]) -> list[dict]:
    result = run("findings", "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_nightly_discovers_first_and_confirmed_hosts_are_scanned(tmp_path: Path) -> None:
    """The issue's "done when": the rule confirms the VPN gateway's name and tonight's scan
    reports its vulnerable service; the camera, confirmed by the Meldpunt, is in the next scan."""
    async with Testbed(discovery_area()) as tb:
        assert tb.shodan is not None
        tb.shodan.rate_interval = 0.05
        env = {**_env(tb, tmp_path), "EXPOSURE_DISCOVERY_AUTO_CONFIRM": "true"}
        members = tb.write_members_csv(tmp_path / "members.csv")
        assert run("targets", "import", str(members), env=env).exit_code == 0

        nightly = await arun("nightly", env=env)
        assert nightly.exit_code in (0, 3), nightly.output
        # the gateway's address is reached through the confirmed name (the shodan family)
        office = tb.address("noorderhaven-office")
        vpn = {(f["company_id"], f["check_id"]) for f in _findings(env) if f["target"] == office}
        assert ("59220001", "exposure.exploited") in vpn, vpn  # KEV: one problem, not two
        assert ("59220001", "exposure.vulnerable") not in vpn, vpn
        # the warning names the gateway as a host discovery found
        sender = {
            "EXPOSURE_MELDPUNT_NAME": "Meldpunt Test",
            "EXPOSURE_MELDPUNT_EMAIL": "meldpunt@meldpunt.test",
            "EXPOSURE_MELDPUNT_PHONE": "0255 123 456",
            "EXPOSURE_MELDPUNT_URL": "www.meldpunt.test",
        }
        outbox = tmp_path / "outbox"
        warned = run("warn", "--outbox", str(outbox), env={**env, **sender})
        assert warned.exit_code == 0, warned.output
        (eml,) = [p for p in outbox.iterdir() if "59220001" in p.name]
        text = " ".join(eml.read_text(encoding="utf-8").split())
        assert f"{office} (gevonden via" in text and "vpn.noorderhaven-sleep.test" in text

        camera = tb.address("kade-office")
        assert not [f for f in _findings(env) if f["check_id"] == "exposure.camera"]
        listed = json.loads(
            run("discovery", "list", "--state", "proposed", "--format", "json", env=env).stdout
        )
        (camera_id,) = [h["id"] for h in listed if h["host"] == camera]
        assert run("discovery", "confirm", str(camera_id), env=env).exit_code == 0
        scan = await arun("scan", env=env)
        assert scan.exit_code in (0, 3), scan.output
        cams = [f for f in _findings(env) if f["check_id"] == "exposure.camera"]
        assert [f["company_id"] for f in cams] == ["59220002"], cams
        assert camera in cams[0]["target"]


def test_the_table_shows_scanned_text_as_it_is(tmp_path: Path) -> None:
    """An SPF term or a certificate name is the member's (or a stranger's) text, not markup."""
    from exposure.models import Company
    from exposure.store.db import make_engine, migrate
    from exposure.store.db import session as session_scope
    from exposure.store.discovery import Sighting, record_sightings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as db:
        db.add(Company(id="59220009", name="Markup BV"))
        db.flush()
        record_sightings(
            db, [Sighting("59220009", "ip", "192.0.2.9", "dns", {"spf": "[red]x[/red] [/oops]"})]
        )
    engine.dispose()
    listed = run("discovery", "list", env={"EXPOSURE_DATABASE": url})
    assert listed.exit_code == 0, listed.output
    assert "SPF [red]x[/red] [/oops]" in listed.output


async def test_a_spent_shodan_budget_is_one_line_and_exit_3(tmp_path: Path) -> None:
    async with Testbed(discovery_area()) as tb:
        assert tb.shodan is not None
        tb.shodan.rate_interval = 0.05
        env = {**_env(tb, tmp_path), "EXPOSURE_DISCOVERY_SHODAN_CREDITS": "2"}
        members = tb.write_members_csv(tmp_path / "members.csv")
        assert run("targets", "import", str(members), env=env).exit_code == 0

        result = await arun("discovery", "run", env=env)
        assert result.exit_code == 3, result.output
        lines = [line for line in result.output.splitlines() if "could not test" in line]
        assert len(lines) == 1, result.output
        assert lines[0].startswith("could not test: shodan for 2 domains (")
        assert "Shodan search credit budget of 2 spent" in lines[0]
        assert "shodan: 2 query credits spent (budget 2, reserve 10, 100 left before)" in (
            result.output
        )

        off = await arun("discovery", "run", env={**env, "EXPOSURE_DISCOVERY_SHODAN_CREDITS": "0"})
        assert off.exit_code == 0, off.output  # no Shodan search by choice: nothing untested
        assert "discovery_shodan_credits is 0, Shodan search skipped" in off.output
        assert tb.shodan.counters.requests["search"] == 2
