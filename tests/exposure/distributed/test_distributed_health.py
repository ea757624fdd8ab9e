"""A worker's own source fails mid-run (faults put in on loopback): the distributed run notices.

As `tests/exposure/scan/test_run_health.py` for the embedded scan, with a real worker process on
a real PostgreSQL: a clean distributed run first (the baseline), then a run with the fault put in
while the worker scans, and what an operator and the store see: `scan --distributed --wait`
exits 4, the run is `degraded` with the cause in its summary, the worker logs `source_failed`,
`doctor --check last_run` fails, no finding is written or resolved because of our own fault,
and the next `scan --distributed --wait` resumes the run and tests the companies left.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from exposure.testbed.faults import SilencingProxy
from exposure.testbed.runner import Testbed
from exposure.testbed.smtp import Behaviour
from targets.csv import read_members
from targets.sync import apply_import, plan_import
from tests.conftest import _conninfo
from tests.exposure.distributed.test_distributed_workers import (
    _cli,
    _query,
    _table_exists,
    _until,
    postgres_url,  # noqa: F401 (the fixture)
)
from tests.exposure.health_areas import N, mail_area, shodan_area, when_sessions

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

AREA = mail_area(7000, "Steiger", "steiger")

Query = Callable[..., list[tuple[Any, ...]]]


class Lab:
    """One worker process on the test's PostgreSQL, and the CLI beside it."""

    def __init__(self, tmp_path: Path, url: str, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.url = url
        self.env = {
            **os.environ,
            **env,
            "EXPOSURE_DATABASE": url,
            "EXPOSURE_LOG_FORMAT": "json",
            "EXPOSURE_NIGHTLY_CRON": "",
        }
        self.conninfo = _conninfo(make_url(url).set(query={}))
        self.worker_log = tmp_path / "worker.log"
        self.worker: asyncio.subprocess.Process | None = None
        self.scans = 0

    def q(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        return _query(self.conninfo, self.url, statement, *params)

    async def start(self, tb: Testbed) -> None:
        engine = make_engine(self.url)
        migrate(engine)
        members = read_members(tb.write_members_csv(self.tmp_path / "members.csv"))
        with session_scope(engine) as db:
            apply_import(db, plan_import(db, members, prune=False))
        engine.dispose()
        self.worker = await _cli(
            self.env,
            self.worker_log,
            "worker",
            "--concurrency",
            "2",
            "--heartbeat",
            "0.5",
            "--shutdown-timeout",
            "5",
            "--keep-jobs",
        )
        await _until(
            "the worker registered",
            lambda: (
                _table_exists(self.q)
                and self.q("SELECT count(*) FROM procrastinate_workers")[0][0] == 1
            ),
            30,
        )

    async def scan(self, *checks: str) -> tuple[int, str]:
        """`scan --distributed --wait`, followed to its end: (exit code, output)."""
        self.scans += 1
        log = self.tmp_path / f"scan-{self.scans}.log"
        proc = await _cli(self.env, log, "scan", "--distributed", "--wait", *checks)
        code = await asyncio.wait_for(proc.wait(), 90)
        return code, log.read_text(errors="replace")

    async def doctor(self) -> tuple[int, str]:
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "exposure.app.cli", "doctor", "--check", "last_run"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.returncode, result.stdout + result.stderr

    def findings(self) -> list[tuple[Any, ...]]:
        return self.q("SELECT check_id, target, status FROM finding ORDER BY 1, 2")

    def events(self, action: str) -> list[dict[str, Any]]:
        found = []
        for line in self.worker_log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                event = json.loads(line)
                if event.get("action") == action:
                    found.append(event)
        return found

    async def stop(self) -> None:
        if self.worker is not None and self.worker.returncode is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.worker.wait(), 15)
            except TimeoutError:
                self.worker.kill()


async def _degraded(lab: Lab, scan: tuple[int, str], source: str, baseline: Any) -> int:
    code, output = scan
    assert code == 4, output + lab.worker_log.read_text(errors="replace")[-3000:]
    [(run_id, status, summary)] = lab.q(
        "SELECT id, status, summary FROM scanrun ORDER BY id DESC LIMIT 1"
    )
    stored = summary if isinstance(summary, dict) else json.loads(summary)
    assert status == "degraded", stored
    assert source in stored["sources_failed"], stored
    assert stored["companies_untested"] > 0
    assert "failed during the run" in stored["error"]
    assert "degraded" in output
    failed = lab.events("source_failed")
    assert failed and {e["source"] for e in failed} == {source}, failed
    assert {e.get("run_id") for e in failed} == {run_id}
    # nothing written or resolved because of our own fault
    assert lab.findings() == baseline
    left = lab.q(
        "SELECT count(*) FROM runcompany WHERE run_id = %s AND status = 'pending'", run_id
    )[0][0]
    assert left == stored["companies_untested"]
    assert (
        lab.q("SELECT count(*) FROM runcompany WHERE run_id = %s AND status = 'done'", run_id)[0][0]
        == N - left
    )
    after_run = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'exposure.after_run'"
    assert lab.q(after_run) == [(1,)]  # the baseline's; no warnings while we are blind
    doctor, said = await lab.doctor()
    assert doctor == 4, said
    assert "degraded" in said
    return int(run_id)


async def _resumed(lab: Lab, run_id: int, baseline: Any, *checks: str) -> None:
    code, output = await lab.scan(*checks)
    assert code == 0, output + lab.worker_log.read_text(errors="replace")[-3000:]
    [(last, status)] = lab.q("SELECT id, status FROM scanrun ORDER BY id DESC LIMIT 1")
    assert (last, status) == (run_id, "complete")  # the degraded run was resumed and completed
    assert lab.q(
        "SELECT count(*) FROM runcompany WHERE run_id = %s AND status != 'done'", run_id
    ) == [(0,)]
    assert lab.findings() == baseline
    await _until(
        "the resumed run's follow-ups queued",
        lambda: (
            lab.q("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'exposure.after_run'")
            == [(2,)]
        ),
        10,
    )
    doctor, said = await lab.doctor()
    assert doctor == 0, said


async def test_a_workers_resolver_going_silent_degrades_the_distributed_run(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with Testbed(AREA) as tb:
        host, port = tb.resolver.rsplit(":", 1)
        proxy = await SilencingProxy((host, int(port))).start(host)
        env = {
            **tb.env(),
            "EXPOSURE_RESOLVERS": proxy.address,
            "EXPOSURE_DNS_TIMEOUT": "0.3",
            "EXPOSURE_DNS_TRIES": "1",
        }
        lab = Lab(tmp_path, postgres_url, env)
        checks = ("--check", "target")
        try:
            await lab.start(tb)
            code, output = await lab.scan(*checks)
            assert code == 0, output
            baseline = lab.findings()
            assert ("target.unresolvable", "steiger0.test", "open") in baseline
            # the scan's preflight and about a third of the companies get answers; then silence
            proxy.answer_first = proxy.passed + 1 + 3 * (N // 3)
            scan = await lab.scan(*checks)
            assert proxy.dropped > 0
            run_id = await _degraded(lab, scan, "dns", baseline)
            reasons = lab.q("SELECT reason FROM checkerror WHERE run_id = %s", run_id)
            assert ("dns_error",) not in reasons  # no "could not test" for a fault of ours
            proxy.speak()
            await _resumed(lab, run_id, baseline, *checks)
        finally:
            await lab.stop()
            await proxy.close()


@pytest.mark.parametrize("fault", ["refuses", "drops"])
async def test_a_workers_port_25_failing_degrades_the_distributed_run(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    fault: str,
) -> None:
    async with Testbed(AREA) as tb:
        env = {
            **tb.env(),
            "EXPOSURE_CONNECT_TIMEOUT": "0.5",
            "EXPOSURE_READ_TIMEOUT": "0.5",
        }
        lab = Lab(tmp_path, postgres_url, env)
        checks = ("--check", "mail")
        try:
            await lab.start(tb)
            code, output = await lab.scan(*checks)
            assert code == 0, output
            baseline = lab.findings()
            assert not [f for f in baseline if f[0] == "mail.mx.unreachable"]
            assert ("mail.starttls.missing", "mx.steiger1.test", "open") in baseline
            tb.reset_counters()
            assert tb.canary_mx is not None
            specs = {server: server.spec for server in [tb.canary_mx, *tb.mail.values()]}

            def break_egress() -> None:
                for server in specs:
                    if fault == "refuses":
                        server.close()
                    else:  # accepted, then reset at once: no greeting
                        server.spec = replace(server.spec, behaviour=Behaviour.RESET)

            fault_in = asyncio.ensure_future(when_sessions(tb, N // 3, break_egress))
            scan = await lab.scan(*checks)
            assert fault_in.done()
            run_id = await _degraded(lab, scan, "smtp", baseline)
            reasons = lab.q("SELECT reason FROM checkerror WHERE run_id = %s", run_id)
            assert ("unreachable",) not in reasons
            for server, spec in specs.items():  # the way out works again
                if fault == "refuses":
                    await server.start(server.host, server.port)
                server.spec = spec
            await _resumed(lab, run_id, baseline, *checks)
        finally:
            await lab.stop()


SHODAN_AREA = shodan_area(8000)


async def test_internetdb_failing_for_a_worker_degrades_the_distributed_run(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with Testbed(SHODAN_AREA) as tb:
        assert tb.shodan is not None
        lab = Lab(tmp_path, postgres_url, tb.env())
        checks = ("--check", "shodan")
        try:
            await lab.start(tb)
            code, output = await lab.scan(*checks)
            assert code == 0, output
            baseline = lab.findings()
            assert [f for f in baseline if f[0] == "exposure.camera"]
            start = tb.shodan.counters.requests["internetdb"]

            async def outage() -> None:
                assert tb.shodan is not None
                while tb.shodan.counters.requests["internetdb"] < start + N // 3:  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
                tb.shodan.internetdb_outage = 503

            fault_in = asyncio.ensure_future(outage())
            scan = await lab.scan(*checks)
            assert fault_in.done()
            run_id = await _degraded(lab, scan, "shodan", baseline)
            reasons = {
                r for (r,) in lab.q("SELECT reason FROM checkerror WHERE run_id = %s", run_id)
            }
            assert reasons <= {"source_unavailable"}
            tb.shodan.internetdb_outage = None
            await _resumed(lab, run_id, baseline, *checks)
        finally:
            await lab.stop()
