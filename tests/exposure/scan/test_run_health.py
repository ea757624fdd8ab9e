"""Faults of our own side, put in on loopback mid-run: the run notices it went blind.

Each test first scans the area cleanly (the baseline), then scans it again with the fault put in
during the run, and asserts what an operator and the store see: status `degraded`, exit code 4,
`doctor --check last_run` failing, the JSON log event `source_failed`, no finding written or
resolved because of our own fault, and the next run completing what was left.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from exposure.app.cli import app
from exposure.exit_codes import ExitCode
from exposure.testbed.faults import SilencingProxy
from exposure.testbed.runner import Testbed
from exposure.testbed.smtp import Behaviour
from tests.exposure.health_areas import N, mail_area, shodan_area, when_sessions

AREA = mail_area(5000, "Kade", "kade")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def _run(*args: str, env: dict[str, str]) -> Any:
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


async def arun(*args: str, env: dict[str, str]) -> Any:
    """The command in a thread: the testbed serves from this test's event loop meanwhile."""
    return await asyncio.to_thread(_run, *args, env=env)


def _query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def _findings(db: Path) -> list[tuple[Any, ...]]:
    return _query(db, "select check_id, target, status from finding order by 1, 2")


def _events(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]


async def _baseline(tmp_path: Path, tb: Testbed, env: dict[str, str], *checks: str) -> Path:
    members = tb.write_members_csv(tmp_path / "members.csv")
    result = await arun("targets", "import", str(members), env=env)
    assert result.exit_code == 0, result.output
    result = await arun("scan", *checks, env=env)
    assert result.exit_code == 0, result.output
    return Path(env["EXPOSURE_DATABASE"].removeprefix("sqlite:///"))


def _assert_degraded(db: Path, result: Any, source: str, baseline: list[tuple[Any, ...]]) -> int:
    assert result.exit_code == ExitCode.SOURCE_DOWN == 4, result.output
    [(run_id, status, summary)] = _query(
        db, "select id, status, summary from scanrun order by id desc limit 1"
    )
    assert status == "degraded"
    assert source in json.loads(summary)["sources_failed"]
    failed = [e for e in _events(result) if e.get("action") == "source_failed"]
    assert [e["source"] for e in failed] == [source], result.stderr
    # nothing written or resolved because of our own fault
    assert _findings(db) == baseline
    pending = _query(
        db, "select count(*) from runcompany where run_id = ? and status != 'done'", run_id
    )
    assert pending[0][0] > 0
    return int(run_id)


async def _assert_resumed(db: Path, env: dict[str, str], run_id: int, *checks: str) -> None:
    doctor = await arun("doctor", "--check", "last_run", env=env)
    assert doctor.exit_code == 4, doctor.output
    assert "degraded" in doctor.output
    result = await arun("scan", *checks, env=env)
    assert result.exit_code == 0, result.output
    [(last, status)] = _query(db, "select id, status from scanrun order by id desc limit 1")
    assert (last, status) == (run_id, "complete")  # the degraded run was resumed and completed
    left = "select count(*) from runcompany where run_id = ? and status != 'done'"
    assert _query(db, left, last) == [(0,)]
    doctor = await arun("doctor", "--check", "last_run", env=env)
    assert doctor.exit_code == 0, doctor.output


async def test_the_resolver_going_silent_mid_run_degrades_the_run(tmp_path):
    async with Testbed(AREA) as tb:
        host, port = tb.resolver.rsplit(":", 1)
        proxy = await SilencingProxy((host, int(port))).start(host)
        try:
            env = {
                **tb.env(),
                "EXPOSURE_RESOLVERS": proxy.address,
                "EXPOSURE_DATABASE": f"sqlite:///{tmp_path / 'health.db'}",
                "EXPOSURE_DNS_TIMEOUT": "0.3",
                "EXPOSURE_DNS_TRIES": "1",
                "EXPOSURE_COMPANY_CONCURRENCY": "2",
            }
            checks = ("--check", "target")
            db = await _baseline(tmp_path, tb, env, *checks)
            baseline = _findings(db)
            assert ("target.unresolvable", "kade0.test", "open") in baseline
            # the preflight and about a third of the companies get answers; then silence
            proxy.answer_first = proxy.passed + 1 + 3 * (N // 3)
            result = await arun("--log-format", "json", "scan", *checks, env=env)
            assert proxy.dropped > 0
            run_id = _assert_degraded(db, result, "dns", baseline)
            errors = _query(db, "select reason from checkerror where run_id = ?", run_id)
            assert ("dns_error",) not in errors  # no "could not test" for a fault of ours
            proxy.speak()
            await _assert_resumed(db, env, run_id, *checks)
            assert _findings(db) == baseline
        finally:
            await proxy.close()


def _smtp_env(tb: Testbed, tmp_path: Path) -> dict[str, str]:
    return {
        **tb.env(),
        "EXPOSURE_DATABASE": f"sqlite:///{tmp_path / 'health.db'}",
        "EXPOSURE_CONNECT_TIMEOUT": "0.5",
        "EXPOSURE_READ_TIMEOUT": "0.5",
        "EXPOSURE_COMPANY_CONCURRENCY": "2",
    }


def _all_smtp(tb: Testbed) -> list[Any]:
    assert tb.canary_mx is not None
    return [tb.canary_mx, *tb.mail.values()]


@pytest.mark.parametrize("fault", ["refuses", "drops"])
async def test_outbound_port_25_failing_mid_run_degrades_the_run(tmp_path, fault):
    async with Testbed(AREA) as tb:
        env = _smtp_env(tb, tmp_path)
        checks = ("--check", "mail")
        db = await _baseline(tmp_path, tb, env, *checks)
        baseline = _findings(db)
        assert not [f for f in baseline if f[0] == "mail.mx.unreachable"]
        assert ("mail.starttls.missing", "mx.kade1.test", "open") in baseline
        tb.reset_counters()

        specs = {server: server.spec for server in _all_smtp(tb)}

        def break_egress() -> None:
            for server in specs:
                if fault == "refuses":
                    server.close()
                else:  # accepted, then reset at once: no greeting
                    server.spec = replace(server.spec, behaviour=Behaviour.RESET)

        fault_in = asyncio.ensure_future(when_sessions(tb, N // 3, break_egress))
        result = await arun("--log-format", "json", "scan", *checks, env=env)
        assert fault_in.done()
        run_id = _assert_degraded(db, result, "smtp", baseline)
        errors = _query(db, "select reason from checkerror where run_id = ?", run_id)
        assert ("unreachable",) not in errors
        for server, spec in specs.items():  # the way out works again
            if fault == "refuses":
                await server.start(server.host, server.port)
            server.spec = spec
        await _assert_resumed(db, env, run_id, *checks)
        assert _findings(db) == baseline


async def test_port_25_blocked_from_the_start_writes_no_mail_finding(tmp_path):
    """A fresh cloud machine: the preflight finds port 25 blocked; the other families run."""
    async with Testbed(AREA) as tb:
        env = _smtp_env(tb, tmp_path)
        checks = ("--check", "mail", "--check", "target")
        db = await _baseline(tmp_path, tb, env, *checks)
        baseline = _findings(db)
        for server in _all_smtp(tb):
            server.close()
        result = await arun("--log-format", "json", "scan", *checks, env=env)
        run_id = _assert_degraded(db, result, "smtp", baseline)
        assert "outbound port" in result.output
        reasons = {
            r for (r,) in _query(db, "select reason from checkerror where run_id = ?", run_id)
        }
        assert reasons <= {"source_unavailable"}


async def test_port_25_blocked_still_decides_what_needs_no_mail_server(tmp_path):
    """A fresh cloud machine with port 25 blocked: the mail servers' STARTTLS is "could not
    test", but DKIM, MTA-STS, TLS-RPT and DANE (DNS and HTTPS only) are decided and stored. The
    run is still degraded and the companies stay pending for the next run."""
    async with Testbed(AREA) as tb:
        env = _smtp_env(tb, tmp_path)
        members = tb.write_members_csv(tmp_path / "members.csv")
        assert (await arun("targets", "import", str(members), env=env)).exit_code == 0
        for server in _all_smtp(tb):
            server.close()
        result = await arun("--log-format", "json", "scan", "--check", "mail", env=env)
    db = tmp_path / "health.db"
    assert result.exit_code == 4, result.output
    found = {check_id for check_id, _target, _status in _findings(db)}
    assert {"mail.dkim.missing", "mail.mta_sts.missing", "mail.dane.missing"} <= found
    assert not {i for i in found if i.startswith("mail.starttls") or i == "mail.mx.unreachable"}
    rows = _query(db, "select reason, finding_ids, message from checkerror")
    assert rows and {r for r, _ids, _m in rows} == {"source_unavailable"}
    assert all("mail.starttls.missing" in ids for _r, ids, _m in rows)
    [(status,)] = _query(db, "select status from scanrun")
    assert status == "degraded"


async def test_smtp_probes_off_scans_without_port_25_and_says_so(tmp_path):
    """`smtp_probes = false` (a provider that blocks port 25 for good): no connection to any
    port 25 at all, not even the canary; the STARTTLS ids are could-not-test with the reason,
    the rest of the mail family is decided, and the run is complete, not degraded."""
    async with Testbed(AREA) as tb:
        env = {**_smtp_env(tb, tmp_path), "EXPOSURE_SMTP_PROBES": "false"}
        members = tb.write_members_csv(tmp_path / "members.csv")
        assert (await arun("targets", "import", str(members), env=env)).exit_code == 0
        tb.reset_counters()
        result = await arun("scan", "--check", "mail", env=env)
        sessions = sum(server.counters.sessions for server in _all_smtp(tb))
        doctor = await arun("doctor", "--check", "egress", env=env)
    db = tmp_path / "health.db"
    assert result.exit_code == 0, result.output
    assert sessions == 0
    [(status,)] = _query(db, "select status from scanrun")
    assert status == "complete"
    found = {check_id for check_id, _target, _status in _findings(db)}
    assert "mail.dkim.missing" in found and "mail.starttls.missing" not in found
    rows = _query(db, "select reason, message from checkerror")
    assert rows and all(r == "source_unavailable" and "smtp_probes = false" in m for r, m in rows)
    assert doctor.exit_code == 0 and "skip" in doctor.output and "smtp_probes" in doctor.output


SHODAN_AREA = shodan_area(6000)


async def _when_lookups(tb: Testbed, count: int, then: Any) -> None:
    """Put the fault in once InternetDB has answered `count` requests (mid-run)."""
    assert tb.shodan is not None
    while tb.shodan.counters.requests["internetdb"] < count:  # noqa: ASYNC110 (a counter)
        await asyncio.sleep(0.005)
    then()


async def test_internetdb_failing_mid_run_degrades_the_run(tmp_path):
    async with Testbed(SHODAN_AREA) as tb:
        assert tb.shodan is not None
        env = {
            **tb.env(),
            "EXPOSURE_DATABASE": f"sqlite:///{tmp_path / 'health.db'}",
            "EXPOSURE_COMPANY_CONCURRENCY": "2",
        }
        checks = ("--check", "shodan")
        db = await _baseline(tmp_path, tb, env, *checks)
        baseline = _findings(db)
        assert [f for f in baseline if f[0] == "exposure.camera"]
        start = tb.shodan.counters.requests["internetdb"]

        def outage() -> None:
            assert tb.shodan is not None
            tb.shodan.internetdb_outage = 503

        fault_in = asyncio.ensure_future(_when_lookups(tb, start + N // 3, outage))
        result = await arun("--log-format", "json", "scan", *checks, env=env)
        assert fault_in.done()
        run_id = _assert_degraded(db, result, "shodan", baseline)
        reasons = {
            r for (r,) in _query(db, "select reason from checkerror where run_id = ?", run_id)
        }
        assert reasons <= {"source_unavailable"}
        tb.shodan.internetdb_outage = None
        await _assert_resumed(db, env, run_id, *checks)
        assert _findings(db) == baseline
