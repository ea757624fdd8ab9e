"""`exposure doctor --check discovery` on a real SQLite store: the looks written by discovery's
own `store_company`, judged both ways (a recent look with one source failing for one company
passes and says so; a look too old for the schedule, or a source failing for every company,
fails), and `exposure runs` showing the same line under the scan runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exposure.app.cli import app
from exposure.app.doctor import Outcome, _check_discovery
from exposure.contract import FailureReason
from exposure.discovery.base import DiscoveryFailure
from exposure.discovery.run import CompanyDiscovery, store_company
from exposure.models import Company, utcnow
from exposure.settings import load_settings
from exposure.store.db import make_engine, migrate, session
from exposure.store.discovery import Sighting

COMPANIES = ("59220001", "59220002", "59220003")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def url(tmp_path: Path) -> str:
    database = f"sqlite:///{tmp_path / 'doctor.db'}"
    engine = make_engine(database)
    migrate(engine)
    with session(engine) as db:
        for cid in COMPANIES:
            db.add(Company(id=cid, name=f"Company {cid}", email="it@x.test"))
    engine.dispose()
    return database


def look(url: str, when: datetime, failing: dict[str, str]) -> None:
    """One discovery look at every company, as `discover_companies` stores it: `failing` maps
    a company to the source that could not test for it; the first company finds a name."""
    engine = make_engine(url)
    try:
        for cid in COMPANIES:
            found = CompanyDiscovery(cid)
            if cid in failing:
                found.failures.append(
                    DiscoveryFailure(
                        failing[cid], f"{cid}.test", FailureReason.UNAVAILABLE, "budget spent"
                    )
                )
            if cid == COMPANIES[0]:
                found.sightings.append(Sighting(cid, "domain", f"vpn.{cid}.test", "ct"))
            store_company(engine, found, when)
    finally:
        engine.dispose()


def test_no_look_yet_is_skipped(url: str) -> None:
    result = _check_discovery(load_settings(database=url))
    assert result.outcome is Outcome.SKIP and "no discovery yet" in result.detail
    off = _check_discovery(load_settings(database=url, discovery_schedule="off"))
    assert off.outcome is Outcome.SKIP and "discovery_schedule is off" in off.detail


def test_a_recent_look_passes_and_names_what_could_not_test(url: str) -> None:
    look(url, utcnow() - timedelta(hours=3), {COMPANIES[1]: "shodan"})
    result = _check_discovery(load_settings(database=url))
    assert result.outcome is Outcome.OK, result.detail
    assert "3.0 h ago: 3 companies, 1 with a source that could not test (shodan 1)" in (
        result.detail
    )
    assert "1 proposal waits for the Meldpunt" in result.detail


def test_a_source_that_failed_for_every_company_fails(url: str) -> None:
    look(url, utcnow() - timedelta(hours=3), dict.fromkeys(COMPANIES, "shodan"))
    result = _check_discovery(load_settings(database=url))
    assert result.outcome is Outcome.FAIL
    assert "could not test for any company: shodan (source_unavailable)" in result.detail


def test_a_look_older_than_the_schedule_allows_fails(url: str) -> None:
    look(url, utcnow() - timedelta(days=2), {})
    nightly = _check_discovery(load_settings(database=url))
    assert nightly.outcome is Outcome.FAIL
    assert "every source answered" in nightly.detail
    assert "older than a nightly schedule allows" in nightly.detail
    weekly = _check_discovery(load_settings(database=url, discovery_schedule="weekly"))
    assert weekly.outcome is Outcome.OK
    by_hand = _check_discovery(load_settings(database=url, discovery_schedule="off"))
    assert by_hand.outcome is Outcome.OK


def test_the_last_look_is_the_newest_night_only(url: str) -> None:
    # two nights ago every source failed for every company; last night only one company's
    # CT search (the same company ids, newer marks): the old failures no longer count
    look(url, utcnow() - timedelta(days=2), dict.fromkeys(COMPANIES, "shodan"))
    look(url, utcnow() - timedelta(hours=1), {COMPANIES[2]: "ct"})
    result = _check_discovery(load_settings(database=url))
    assert result.outcome is Outcome.OK, result.detail
    assert "(ct 1)" in result.detail and "shodan" not in result.detail


def test_the_commands_show_the_line(url: str) -> None:
    look(url, utcnow() - timedelta(hours=3), dict.fromkeys(COMPANIES, "shodan"))
    runner = CliRunner()
    doctor = runner.invoke(app, ["--database", url, "doctor", "--check", "discovery"])
    assert doctor.exit_code == 4, doctor.output
    assert doctor.output.startswith("FAIL  discovery  last look ")
    runs = runner.invoke(app, ["--database", url, "runs"])
    assert runs.exit_code == 0, runs.output
    assert "discovery: last look " in runs.output
    assert "3 with a source that could not test (shodan 3)" in runs.output
