"""Two real worker processes on a real PostgreSQL scan the testbed; one is killed mid-run.

What a night with a crashing machine must look like the next morning: every company scanned
(and stored) exactly once, no finding duplicated or lost, the killed worker's jobs taken over by
the other, and the run finished by itself. Runs on CI (`source .ci/postgres.sh`), where a
missing PostgreSQL fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL

from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec
from targets.csv import read_members
from targets.sync import apply_import, plan_import
from tests.conftest import _conninfo

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

COMPANIES = 24
GONE = {f"{3000 + i}" for i in range(COMPANIES) if i % 3 == 0}  # domains that do not exist

AREA = Area(
    companies=[
        CompanySpec(
            f"{3000 + i}",
            f"Haven {i}",
            f"info@haven{i}.test",
            domains=[
                DomainSpec(
                    f"haven{i}.test",
                    site=None,
                    a=() if f"{3000 + i}" in GONE else (f"hosting-{i % 4}",),
                    nxdomain=f"{3000 + i}" in GONE,
                )
            ],
        )
        for i in range(COMPANIES)
    ]
)


@pytest.fixture
def postgres_url(_postgres_database: URL) -> Iterator[str]:
    """A fresh schema in the session's test database (as `database_url`'s PostgreSQL side)."""
    schema = f"w_{uuid.uuid4().hex[:16]}"
    conninfo = _conninfo(_postgres_database)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        url = _postgres_database.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _query(conninfo: str, schema_url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo, autocommit=True, options=_options(schema_url)) as conn:
        return list(conn.execute(statement, params).fetchall())  # type: ignore[arg-type]


def _options(url: str) -> str:
    from sqlalchemy.engine import make_url

    options = make_url(url).query.get("options", "")
    return options if isinstance(options, str) else options[-1]


async def _cli(env: dict[str, str], log: Path, *args: str) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "exposure.app.cli", *args, env=env, stdout=handle, stderr=handle
        )
    finally:
        handle.close()


async def _until(what: str, predicate: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for: {what}")
        await asyncio.sleep(0.1)


async def test_a_killed_worker_loses_nothing_and_duplicates_nothing(postgres_url, tmp_path):
    from sqlalchemy.engine import make_url

    conninfo = _conninfo(make_url(postgres_url).set(query={}))

    def q(statement: str, *params: Any) -> list[tuple[Any, ...]]:
        return _query(conninfo, postgres_url, statement, *params)

    # 1 s per DNS answer, two companies at a time per worker: the run takes several seconds and
    # each job about a second, so the kill lands while worker a holds one (at 0.4 s a busy CI
    # machine once let it finish between seeing the job and the kill)
    async with Testbed(AREA, latency=1.0) as tb:
        engine = make_engine(postgres_url)
        migrate(engine)
        members = read_members(tb.write_members_csv(tmp_path / "members.csv"))
        with session_scope(engine) as db:
            apply_import(db, plan_import(db, members, prune=False))
        engine.dispose()

        env = {
            **os.environ,
            **tb.env(),
            "EXPOSURE_DATABASE": postgres_url,
            "EXPOSURE_LOG_FORMAT": "json",
            "EXPOSURE_NIGHTLY_CRON": "",
        }
        worker_args = [
            "worker",
            "--concurrency",
            "2",
            "--heartbeat",
            "0.5",
            "--stalled-after",
            "3",
            "--shutdown-timeout",
            "5",
            "--keep-jobs",
        ]
        logs = {name: tmp_path / f"worker-{name}.log" for name in ("a", "b")}
        a = await _cli(env, logs["a"], *worker_args, "--name", "a")
        b: asyncio.subprocess.Process | None = None
        scan: asyncio.subprocess.Process | None = None
        try:
            await _until(
                "worker a registered",
                lambda: (
                    _table_exists(q) and q("SELECT count(*) FROM procrastinate_workers")[0][0] == 1
                ),
                30,
            )
            worker_a = q("SELECT id FROM procrastinate_workers")[0][0]
            b = await _cli(env, logs["b"], *worker_args, "--name", "b")
            await _until(
                "worker b registered",
                lambda: q("SELECT count(*) FROM procrastinate_workers")[0][0] == 2,
                30,
            )

            # queue the run, and follow it to its end (`--wait`) as an operator would
            scan_log = tmp_path / "scan.log"
            scan = await _cli(env, scan_log, "scan", "--distributed", "--wait", "--check", "target")
            await _until(
                "the run queued",
                lambda: "24 companies queued for the workers" in scan_log.read_text(),
                30,
            )

            # kill a while it holds jobs, after something was stored
            await _until(
                "worker a busy and a first company stored",
                lambda: (
                    q(
                        "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' AND worker_id = %s",
                        worker_a,
                    )[0][0]
                    > 0
                    and q("SELECT count(*) FROM runcompany WHERE status = 'done'")[0][0] > 0
                ),
                30,
            )
            a.send_signal(signal.SIGKILL)
            await a.wait()
            orphaned = [
                row[0]
                for row in q(
                    "SELECT id FROM procrastinate_jobs WHERE status = 'doing' AND worker_id = %s",
                    worker_a,
                )
            ]
            done_at_kill = q("SELECT count(*) FROM runcompany WHERE status = 'done'")[0][0]
            assert orphaned, "worker a held no job when it was killed"
            assert done_at_kill < COMPANIES, "the run was over before the kill"

            await _until(
                "the run finished",
                lambda: q("SELECT status FROM scanrun WHERE id = 1")[0][0] != "running",
                40,
            )
            # the waiting `scan --distributed --wait` saw it finish: summary, exit code 0
            assert await asyncio.wait_for(scan.wait(), 15) == 0, scan_log.read_text()
            assert "#1: complete" in scan_log.read_text()
        finally:
            for proc in (a, b, scan):
                if proc is not None and proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in (a, b, scan):
                if proc is not None:
                    try:
                        await asyncio.wait_for(proc.wait(), 15)
                    except TimeoutError:
                        proc.kill()

        worker_logs = "\n".join(p.read_text(errors="replace") for p in logs.values() if p.exists())
        assert b is not None and b.returncode == 0, worker_logs[-3000:]

    # the run finished by itself, complete, with every company stored exactly once
    [(status, total, done, checks_run, summary)] = q(
        "SELECT status, companies_total, companies_done, checks_run, summary FROM scanrun"
    )
    assert (status, total, done) == ("complete", COMPANIES, COMPANIES), worker_logs[-3000:]
    assert checks_run == COMPANIES  # one (target, check) per company: nothing applied twice
    stored = summary if isinstance(summary, dict) else json.loads(summary)
    assert stored["mode"] == "distributed" and stored["companies_scanned"] == COMPANIES
    assert q("SELECT status, count(*) FROM runcompany GROUP BY status") == [("done", COMPANIES)]
    assert q("SELECT count(*) FROM checkerror") == [(0,)]

    # no finding duplicated, none lost: exactly the gone domains, each opened once
    findings = q("SELECT company_id, check_id, fingerprint FROM finding ORDER BY company_id")
    assert {row[0] for row in findings} == GONE
    assert {row[1] for row in findings} == {"target.unresolvable"}
    assert len({row[2] for row in findings}) == len(findings) == len(GONE)
    assert q(
        "SELECT count(*), count(DISTINCT finding_id) FROM findingevent WHERE event = 'opened'"
    ) == [(len(GONE), len(GONE))]

    # the killed worker's jobs were put back and finished by the other worker, once each
    for job_id in orphaned:
        [(job_status, attempts)] = q(
            "SELECT status, attempts FROM procrastinate_jobs WHERE id = %s", job_id
        )
        assert (job_status, attempts >= 1) == ("succeeded", True)
    per_company = q(
        "SELECT args->>'company_id', status, count(*) FROM procrastinate_jobs "
        "WHERE task_name = 'exposure.scan_company' GROUP BY 1, 2"
    )
    assert sorted(per_company) == sorted((f"{3000 + i}", "succeeded", 1) for i in range(COMPANIES))
    assert "stalled worker put back in the queue" in worker_logs


def _table_exists(q: Any) -> bool:
    return q("SELECT to_regclass('procrastinate_workers') IS NOT NULL")[0][0]
