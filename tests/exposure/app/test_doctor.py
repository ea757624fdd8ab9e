"""`exposure doctor` against real things: the testbed's DNS and Shodan look-alike, a real SMTP
server with STARTTLS, a real database; and each check's failure direction (a port that refuses,
a bundle that is not PEM, a database never migrated, a key the API refuses)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from typer.testing import CliRunner

from exposure.app.cli import app
from exposure.app.doctor import Outcome, run_checks
from exposure.settings import load_settings
from exposure.store.db import make_engine, migrate
from exposure.testbed.area_demo import demo_area
from exposure.testbed.runner import Testbed


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    import os

    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path):
    """An SMTP server on 127.0.0.1 that offers STARTTLS with a certificate for its address."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    port = _free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, tls_context=context)
    controller.start()
    try:
        yield port, bundle
    finally:
        controller.stop()


def _migrated(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'doctor.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


async def test_every_check_passes_on_a_healthy_configuration(tmp_path, smtp_server):
    port, bundle = smtp_server
    async with Testbed(demo_area()) as tb:
        settings = load_settings(
            database=_migrated(tmp_path),
            smtp_url=f"smtp://127.0.0.1:{port}?starttls=1",
            smtp_ca_bundle=bundle,
            **tb.settings_overrides(shodan_key=True),
        )
        results = {r.name: r for r in await run_checks(settings)}
    assert {name: r.outcome for name, r in results.items()} == {
        "resolver": Outcome.OK,
        "ca_bundle": Outcome.OK,
        "database": Outcome.OK,
        "shodan": Outcome.OK,
        "smtp": Outcome.OK,
        "egress": Outcome.OK,  # the testbed's canary MX greets
        "kev": Outcome.OK,  # the shipped snapshot (issue 21)
        "last_run": Outcome.SKIP,  # no run yet
        "discovery": Outcome.SKIP,  # no discovery yet
    }, [r.line() for r in results.values()]
    assert "answered NS ." in results["resolver"].detail
    assert "1 CA certificates" in results["ca_bundle"].detail
    assert "schema is current" in results["database"].detail
    assert "key valid, plan" in results["shodan"].detail
    assert "EHLO, STARTTLS ok" in results["smtp"].detail
    assert "outbound port" in results["egress"].detail and "works" in results["egress"].detail


async def test_what_is_not_configured_is_skipped_not_failed(tmp_path):
    async with Testbed(demo_area()) as tb:
        settings = load_settings(database=_migrated(tmp_path), **tb.settings_overrides())
        results = {r.name: r for r in await run_checks(settings, ["shodan", "smtp"])}
    assert results["shodan"].outcome is Outcome.SKIP
    assert results["smtp"].outcome is Outcome.SKIP
    assert all(r.passed for r in results.values())


async def test_each_check_fails_for_real(tmp_path):
    garbage = tmp_path / "bundle.pem"
    garbage.write_text("this is not a certificate\n")
    refused = _free_port()  # nothing listens here
    async with Testbed(demo_area()) as tb:
        overrides = tb.settings_overrides(shodan_key=True)
        overrides.update(
            resolvers=[f"127.0.0.1:{refused}"],
            ca_bundle=garbage,
            shodan_api_key="not-the-testbed-key-00000000000",
            dns_timeout=0.3,
            dns_tries=1,
            canary_mx=["127.0.0.1"],  # nothing listens there: port 25 looks blocked
        )
        settings = load_settings(
            database=f"sqlite:///{tmp_path / 'never-migrated.db'}",
            smtp_url=f"smtp://127.0.0.1:{refused}?starttls=0",
            smtp_timeout=2,
            kev_file=str(garbage),  # not a KEV catalogue either
            **overrides,
        )
        results = {r.name: r for r in await run_checks(settings)}
    del results["last_run"]  # a database without a schema has no runs to judge
    del results["discovery"]  # ... and no discovery look
    assert {r.outcome for r in results.values()} == {Outcome.FAIL}, [
        r.line() for r in results.values()
    ]
    assert "did not answer" in results["resolver"].detail
    assert "does not load" in results["ca_bundle"].detail
    assert "no schema" in results["database"].detail
    assert "not valid" in results["shodan"].detail
    assert "refused" in results["smtp"].detail.lower()
    assert "looks blocked" in results["egress"].detail
    assert "not a KEV catalogue" in results["kev"].detail


async def test_kev_reports_which_catalogue_and_its_age(tmp_path):
    from exposure.app.doctor import check_kev

    result = await check_kev(load_settings(kev_file=str(tmp_path / "absent.json")))
    assert result.outcome is Outcome.OK
    assert "snapshot shipped with exposure: catalogue 2025.08.25" in result.detail
    assert "days old" in result.detail and "update-kev" in result.detail


def test_the_command_prints_a_line_per_check_and_exits_4_on_a_failure(tmp_path):
    refused = _free_port()
    runner = CliRunner()
    good = runner.invoke(app, ["--database", _migrated(tmp_path), "doctor", "--check", "database"])
    assert good.exit_code == 0, good.output
    assert good.output.startswith("ok    database")
    assert "all 1 checks passed" in good.output

    bad = runner.invoke(
        app,
        [
            "--database",
            _migrated(tmp_path),
            "--resolvers",
            f"127.0.0.1:{refused}",
            "doctor",
            "--check",
            "resolver",
            "--check",
            "ca_bundle",
        ],
        env={"EXPOSURE_DNS_TIMEOUT": "0.3", "EXPOSURE_DNS_TRIES": "1"},
    )
    assert bad.exit_code == 4, bad.output
    lines = bad.output.splitlines()
    assert lines[0].startswith("FAIL  resolver")
    assert lines[1].startswith("ok    ca_bundle")
    assert "1 of 2 checks failed" in bad.output

    unknown = runner.invoke(app, ["doctor", "--check", "nope"])
    assert unknown.exit_code == 2
    assert "unknown check 'nope'" in unknown.output


def test_last_run_judges_the_newest_run(tmp_path):
    from datetime import timedelta

    from exposure.app.doctor import _check_last_run
    from exposure.models import ScanRun, utcnow
    from exposure.store.db import session

    url = _migrated(tmp_path)
    settings = load_settings(database=url)
    engine = make_engine(url)

    def newest(**fields) -> None:
        with session(engine) as db:
            db.add(ScanRun(companies_total=5, companies_done=5, **fields))

    try:
        assert _check_last_run(settings).outcome is Outcome.SKIP
        now = utcnow()
        newest(status="complete", started_at=now - timedelta(hours=2), finished_at=now)
        result = _check_last_run(settings)
        assert result.outcome is Outcome.OK and "complete, finished 0.0 h ago" in result.detail
        newest(
            status="failed",
            started_at=now,
            finished_at=now,
            summary={"error": "resolver 192.0.2.53 did not answer", "exit_code": 4},
        )
        result = _check_last_run(settings)
        assert result.outcome is Outcome.FAIL and "did not answer" in result.detail
        old = now - timedelta(days=3)
        newest(status="complete", started_at=old, finished_at=old)
        result = _check_last_run(settings)
        assert result.outcome is Outcome.FAIL and "is the schedule running?" in result.detail
        newest(status="running", started_at=now - timedelta(days=1))
        result = _check_last_run(settings)
        assert result.outcome is Outcome.FAIL and "still alive" in result.detail
    finally:
        engine.dispose()
