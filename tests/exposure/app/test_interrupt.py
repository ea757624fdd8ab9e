"""Ctrl-C in the middle of `exposure scan` loses nothing, and the next `exposure scan` completes
the same run. A real process, a real signal, the real testbed."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3

from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec
from tests.exposure.app.scans import cli

AREA = Area(
    companies=[
        CompanySpec(
            f"{2000 + i}",
            f"Firma {i}",
            f"info@firma{i}.test",
            domains=[DomainSpec(f"firma{i}.test", site=None, nxdomain=True)],
        )
        for i in range(8)
    ]
)


def _as_in_a_terminal() -> None:
    """Ctrl-C as in a terminal: a test run started in the background by a non-interactive
    shell (a CI script with `&`) inherits SIGINT ignored, and Python then installs no
    KeyboardInterrupt handler, so the scan would never see the signal this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def _cli(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await cli(env, *args, preexec=_as_in_a_terminal)


def _count(db: str, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_sigint_then_rescan_completes_the_same_run(tmp_path):
    db = str(tmp_path / "scan.db")
    # 0.4 s per DNS answer and one company at a time: the scan takes ~3 s
    async with Testbed(AREA, latency=0.4) as tb:
        env = {
            **os.environ,
            **tb.env(),
            "EXPOSURE_DATABASE": f"sqlite:///{db}",
            "EXPOSURE_COMPANY_CONCURRENCY": "1",
        }
        members = tb.write_members_csv(tmp_path / "members.csv")
        proc = await _cli(env, "targets", "import", str(members))
        assert await proc.wait() == 0

        proc = await _cli(env, "scan")
        for _ in range(200):
            await asyncio.sleep(0.05)
            if os.path.exists(db) and _count(db, "select count(*) from finding")[0][0] >= 2:
                break
        proc.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 130, stderr.decode()
        assert b"run `exposure scan` again" in stderr

        done_before = _count(db, "select count(*) from finding")[0][0]
        assert 2 <= done_before < 8
        assert _count(db, "select id, status from scanrun") == [(1, "interrupted")]

        proc = await _cli(env, "scan")
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, stderr.decode()
        assert _count(db, "select id, status from scanrun") == [(1, "complete")]
        assert _count(db, "select count(*) from finding")[0][0] == 8
        # nothing was written twice
        assert _count(db, "select count(*) from findingevent where event = 'opened'")[0][0] == 8
        assert b"done earlier in this run" in stdout
