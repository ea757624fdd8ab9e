"""`exposure targets list` tells the targets discovery added from the member list's: a proposed
host is not a target and is not listed; once the Meldpunt confirms it, it is listed as
`discovered` with the sources that found it and who confirmed it; a re-import of the member
list leaves it so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exposure.app.cli import app
from exposure.store.db import make_engine, session
from exposure.store.discovery import Sighting, list_hosts, record_sightings

HEADER = "id,name,email,domains,ips,sector\n"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.setenv("COLUMNS", "220")
    monkeypatch.chdir(tmp_path)


def run(url: str, *args: str):
    return CliRunner().invoke(app, ["--database", url, *args], catch_exceptions=False)


def rows(output: str, company: str) -> list[str]:
    return [line for line in output.splitlines() if company in line]


def test_discovered_targets_are_marked_with_their_origin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'targets.db'}"
    members = tmp_path / "members.csv"
    members.write_text(HEADER + "59220001,Sleepdienst,ict@sleep.test,sleep.test,,maritime\n")
    assert run(url, "targets", "import", str(members)).exit_code == 0
    engine = make_engine(url)
    try:
        with session(engine) as db:
            seen = [
                Sighting("59220001", "domain", "vpn.sleep.test", "ct", {"cert": "x"}),
                Sighting("59220001", "domain", "vpn.sleep.test", "dns", {"name": "vpn"}),
            ]
            record_sightings(db, seen)
        with session(engine) as db:
            (host,) = list_hosts(db, "59220001")
    finally:
        engine.dispose()

    proposed = run(url, "targets", "list")
    assert proposed.exit_code == 0
    assert "vpn.sleep.test" not in proposed.output  # a proposal is not a target
    assert "1 companies, 1 targets" in proposed.output
    (listed,) = rows(proposed.output, "sleep.test")
    assert " listed " in listed and "found via" not in listed

    confirmed = run(url, "discovery", "confirm", str(host.id), "--by", "meldpunt")
    assert confirmed.exit_code == 0, confirmed.output
    for attempt in ("after the confirmation", "after a re-import"):
        listing = run(url, "targets", "list")
        assert listing.exit_code == 0, attempt
        assert "1 companies, 2 targets (1 found by discovery)" in listing.output, attempt
        (vpn,) = rows(listing.output, "vpn.sleep.test")
        assert " discovered " in vpn, attempt
        assert "found via ct, dns; confirmed by meldpunt 20" in vpn, attempt
        (own,) = [r for r in rows(listing.output, "sleep.test") if "vpn." not in r]
        assert " listed " in own, attempt
        assert run(url, "targets", "import", str(members)).exit_code == 0
