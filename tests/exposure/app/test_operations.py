"""Operations as cron and monitoring see them: exit codes, JSON logs, `nightly`, `migrate`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exposure.app.cli import app
from exposure.distributed.followups import settings_env
from exposure.exit_codes import ExitCode
from exposure.logs import JsonFormatter
from exposure.settings import load_settings
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec

AREA = Area(
    companies=[
        CompanySpec(
            f"{4000 + i}",
            f"Kade {i}",
            f"info@kade{i}.test",
            domains=[
                DomainSpec(
                    f"kade{i}.test", site=None, nxdomain=i == 0, a=() if i == 0 else ("hosting-1",)
                )
            ],
        )
        for i in range(3)
    ]
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def _refusing_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


async def arun(*args: str, env: dict[str, str] | None = None):
    """The command in a thread: the testbed serves from this test's event loop meanwhile."""
    return await asyncio.to_thread(run, *args, env=env)


def _import(tmp_path: Path, tb: Testbed, database: str) -> None:
    members = tb.write_members_csv(tmp_path / "members.csv")
    result = run("--database", database, "targets", "import", str(members))
    assert result.exit_code == 0, result.output


def _runs(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("select id, status, summary from scanrun order by id").fetchall()


async def test_a_scan_with_a_dead_resolver_is_refused_with_exit_4(tmp_path):
    db = tmp_path / "ops.db"
    database = f"sqlite:///{db}"
    async with Testbed(AREA) as tb:
        _import(tmp_path, tb, database)
    dead = f"127.0.0.1:{_refusing_port()}"
    env = {"EXPOSURE_DNS_TIMEOUT": "0.3", "EXPOSURE_DNS_TRIES": "1"}
    result = await arun("--database", database, "--resolvers", dead, "scan", env=env)
    assert result.exit_code == ExitCode.SOURCE_DOWN == 4, result.output
    assert "did not answer" in result.output
    assert "nothing was scanned" in result.output
    [(_run_id, status, summary)] = _runs(db)
    assert status == "failed"
    assert json.loads(summary)["exit_code"] == 4
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from finding").fetchone() == (0,)


async def test_nightly_scans_then_runs_the_follow_ups(tmp_path):
    db = tmp_path / "ops.db"
    database = f"sqlite:///{db}"
    async with Testbed(AREA) as tb:
        _import(tmp_path, tb, database)
        env = {**tb.env(), "EXPOSURE_DATABASE": database, "EXPOSURE_AFTER_SCAN": "runs"}
        result = await arun("nightly", env=env)
        assert result.exit_code == 0, result.output
        assert "`exposure runs`: ok" in result.output
        # a follow-up that fails makes the nightly job fail (exit 5), after a complete scan
        env["EXPOSURE_AFTER_SCAN"] = "runs; scan --company nope"
        result = await arun("nightly", env=env)
        assert result.exit_code == ExitCode.FOLLOWUP_FAILED == 5, result.output
        assert "`exposure scan --company nope` exited with 2" in result.output
    assert [status for _, status, _ in _runs(db)] == ["complete", "complete"]


async def test_json_logs_are_one_object_per_line(tmp_path):
    database = f"sqlite:///{tmp_path / 'ops.db'}"
    async with Testbed(AREA) as tb:
        _import(tmp_path, tb, database)
        env = {**tb.env(), "EXPOSURE_DATABASE": database}
        result = await asyncio.to_thread(
            CliRunner().invoke, app, ["--log-format", "json", "scan", "--check", "target"], env=env
        )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert records, result.stderr
    finished = [r for r in records if r.get("action") == "run_finished"]
    assert len(finished) == 1
    assert finished[0]["summary"]["status"] == "complete"
    assert finished[0]["summary"]["findings_new"] == 1
    assert {"time", "level", "logger", "message"} <= set(finished[0])
    assert any(r.get("action") == "scan_started" for r in records)


def test_the_json_formatter_keeps_extras_and_exceptions():
    record = logging.LogRecord("exposure.x", logging.ERROR, __file__, 1, "run %s", (7,), None)
    record.run_id = 7
    record.company = {"id": "c1"}
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "run 7"
    assert entry["level"] == "error"
    assert entry["run_id"] == 7 and entry["company"] == {"id": "c1"}
    assert "ValueError: boom" in entry["exception"]


def test_bad_log_format_is_a_usage_error():
    result = run("--log-format", "xml", "checks")
    assert result.exit_code == 2
    assert "--log-format" in result.output


def test_the_distributed_mode_refuses_sqlite(tmp_path):
    database = f"sqlite:///{tmp_path / 'ops.db'}"
    for args in (["scan", "--distributed"], ["worker"]):
        result = run("--database", database, *args)
        assert result.exit_code == 2, result.output
        assert "the distributed mode needs PostgreSQL" in result.output


def test_migrate_creates_the_schema(tmp_path):
    database = f"sqlite:///{tmp_path / 'ops.db'}"
    result = run("--database", database, "migrate")
    assert result.exit_code == 0, result.output
    assert "schema is current" in result.output


def test_follow_ups_get_every_setting_that_was_given(tmp_path):
    settings = load_settings(
        database="sqlite:///x.db",
        resolvers="127.0.0.1:5353",
        ports="https=8443",
        allow_private=True,
        shodan_api_key="k" * 32,
        after_scan="warn --send; runs",
    )
    env = settings_env(settings)
    assert env["EXPOSURE_DATABASE"] == "sqlite:///x.db"
    assert env["EXPOSURE_RESOLVERS"] == "127.0.0.1:5353"
    assert env["EXPOSURE_PORTS"] == "https=8443"
    assert env["EXPOSURE_ALLOW_PRIVATE"] == "true"
    assert env["EXPOSURE_SHODAN_API_KEY"] == "k" * 32
    assert env["EXPOSURE_AFTER_SCAN"] == "warn --send;runs"
    assert "EXPOSURE_CONCURRENCY" not in env  # defaults are left to the defaults
    # and they read back as the same settings
    os.environ.update(env)
    try:
        again = load_settings()
    finally:
        for key in env:
            os.environ.pop(key, None)
    assert again.model_dump() == settings.model_dump()
