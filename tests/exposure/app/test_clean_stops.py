"""Every way a run can end is a clean end: SIGTERM (what systemd and Docker send) and a store
that runs out of disk. Real processes, real signals, a real full file system where the machine
allows it (a tmpfs mounted by the test, as root), else a real write limit (RLIMIT_FSIZE)."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from exposure.store.db import make_engine
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec
from tests.exposure.app.scans import cli as _cli
from tests.exposure.app.scans import scan_under_way

AREA = Area(
    companies=[
        CompanySpec(
            f"{4000 + i}",
            f"Firma {i}",
            f"info@firma{i}.test",
            domains=[DomainSpec(f"firma{i}.test", site=None, nxdomain=True)],
        )
        for i in range(8)
    ]
)

# Domains that exist without mail policy: several findings each, so a scan writes a lot.
WIDE_AREA = Area(
    companies=[
        CompanySpec(
            f"{5000 + i}",
            f"Bedrijf {i}",
            f"info@bedrijf{i}.test",
            domains=[DomainSpec(f"bedrijf{i}.test", site=None)],
        )
        for i in range(40)
    ]
)


def _rows(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


FINDINGS = "SELECT fingerprint, check_id, target, severity, status FROM finding ORDER BY 1"


# --- SIGTERM ------------------------------------------------------------------------------------


async def test_sigterm_mid_scan_exits_143_and_the_next_scan_resumes(tmp_path, database_url):
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    async with Testbed(AREA, latency=0.4) as tb:
        env = {**os.environ, **tb.env(), "EXPOSURE_COMPANY_CONCURRENCY": "1"}
        members = tb.write_members_csv(tmp_path / "members.csv")
        for url in (database_url, reference):
            proc = await _cli({**env, "EXPOSURE_DATABASE": url}, "targets", "import", str(members))
            assert await proc.wait() == 0
        env["EXPOSURE_DATABASE"] = database_url

        proc = await _cli(env, "scan")
        for _ in range(300):
            await asyncio.sleep(0.05)
            if _rows(database_url, "SELECT count(*) FROM finding")[0][0] >= 2:
                break
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 143, stderr.decode()
        assert b"terminated (SIGTERM)" in stderr and b"Traceback" not in stderr
        assert _rows(database_url, "SELECT id, status FROM scanrun") == [(1, "interrupted")]
        assert _rows(database_url, "SELECT count(*) FROM runlease") == [(0,)]
        done_before = _rows(database_url, "SELECT count(*) FROM finding")[0][0]
        assert 2 <= done_before < 8

        proc = await _cli(env, "scan")
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, stderr.decode()
        assert b"done earlier in this run" in stdout
        # progress counts what the first part did: it ends at 8/8, not at (8 - done)/8
        assert b"8/8 companies scanned" in stderr, stderr.decode()
        assert _rows(database_url, "SELECT id, status FROM scanrun") == [(1, "complete")]

        proc = await _cli({**env, "EXPOSURE_DATABASE": reference}, "scan")
        assert await asyncio.wait_for(proc.wait(), timeout=60) == 0
    resumed = _rows(database_url, FINDINGS)
    assert len(resumed) == 8
    assert resumed == _rows(reference, FINDINGS)
    opened = "SELECT count(*) FROM findingevent WHERE event = 'opened'"
    assert _rows(database_url, opened) == [(8,)]  # nothing written twice


# --- a full disk --------------------------------------------------------------------------------


class TinyDisk:
    """A folder whose file system runs full `free` bytes after `seal()`."""

    def __init__(self, folder: Path, mounted: bool) -> None:
        self.folder = folder
        self.mounted = mounted
        self.limit: int | None = None

    def seal(self, free: int) -> None:
        if self.mounted:
            stat = os.statvfs(self.folder)
            filler = stat.f_bavail * stat.f_frsize - free
            with open(self.folder / "filler", "wb") as fh:
                fh.write(b"\0" * max(0, filler))
        else:  # the scan's writes go to the write-ahead log, which starts empty
            self.limit = free

    def preexec(self) -> None:
        """In the child: the write limit, and SIGXFSZ ignored so a write fails with EFBIG."""
        if self.limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.limit, self.limit))

    def free_up(self) -> None:
        (self.folder / "filler").unlink(missing_ok=True)
        self.limit = None


@pytest.fixture(params=["tmpfs", "file-size-limit"])
def tiny_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TinyDisk]:
    """A tmpfs of 4 MB where the machine allows mounting one (root), and everywhere a write
    limit (RLIMIT_FSIZE: the kernel refuses the write, as a full disk does)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = False
    if request.param == "tmpfs":
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted = True
    try:
        yield TinyDisk(folder, mounted)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


async def test_a_full_disk_stops_the_scan_cleanly_and_the_next_scan_completes(tmp_path, tiny_disk):
    db = tiny_disk.folder / "scan.db"
    url = f"sqlite:///{db}"
    async with Testbed(WIDE_AREA, latency=0.01) as tb:
        env = {
            **os.environ,
            **tb.env(),
            "EXPOSURE_DATABASE": url,
            "EXPOSURE_COMPANY_CONCURRENCY": "1",
        }
        members = tb.write_members_csv(tmp_path / "members.csv")
        assert await (await _cli(env, "targets", "import", str(members))).wait() == 0
        tiny_disk.seal(free=96 * 1024)

        proc = await _cli(env, "scan", preexec=tiny_disk.preexec)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
        err = stderr.decode()
        assert proc.returncode == 3, err
        assert "Traceback" not in err, err
        problems = [line for line in err.splitlines() if "error" in line.lower()]
        assert len(problems) == 1, err
        assert problems[0].startswith("exposure: error: the store stopped taking results: the ")
        assert "run 1 stopped" in problems[0]

        tiny_disk.free_up()
        with sqlite3.connect(db) as conn:
            status = conn.execute("SELECT status FROM scanrun WHERE id = 1").fetchone()[0]
            done = conn.execute("SELECT count(*) FROM runcompany WHERE status = 'done'").fetchone()
        assert status == "incomplete"
        assert done[0] < len(WIDE_AREA.companies)  # the disk did stop it

        proc = await _cli(env, "scan")
        _stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
        assert proc.returncode == 0, stderr.decode()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id, status FROM scanrun").fetchall() == [(1, "complete")]
        stale = conn.execute("SELECT count(*) FROM checkerror WHERE check_id = 'store'")
        assert stale.fetchone()[0] == 0
        errors, recorded = conn.execute(
            "SELECT errors, (SELECT count(*) FROM checkerror WHERE run_id = 1) FROM scanrun"
        ).fetchone()
        assert errors == recorded  # the run's counts start clean after the resume


def test_progress_after_a_resume_counts_the_work_done_before():
    import io

    from exposure.app.progress import PlainProgress

    stream = io.StringIO()
    progress = PlainProgress(stream, every=3600)
    progress.start(8, resumed=5)
    for company in ("a", "b", "c"):
        progress.advance(company)
    assert stream.getvalue().splitlines()[-1] == "8/8 companies scanned"


# --- serve, warn and the overview ---------------------------------------------------------------


def _plain_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPOSURE_")}
    env.update(
        EXPOSURE_DATABASE=url,
        EXPOSURE_PORTAL_SECURE_COOKIES="false",
        EXPOSURE_MELDPUNT_NAME="Meldpunt Test",
        EXPOSURE_MELDPUNT_EMAIL="meldpunt@example.test",
        EXPOSURE_MELDPUNT_PHONE="010-123 45 67",
        EXPOSURE_MELDPUNT_URL="https://meldpunt.example.test",
    )
    return env


def test_sigterm_stops_serve_with_exit_143(tmp_path):
    import socket
    import time

    import httpx

    url = f"sqlite:///{tmp_path / 'portal.db'}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from exposure.app.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env=_plain_env(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 143
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_warn_cleans_what_a_crash_left_and_refuses_to_overlap_itself(tmp_path):
    from exposure.store import lease as leases

    url = f"sqlite:///{tmp_path / 'warn.db'}"
    engine = make_engine(url)
    migrate_engine = __import__("exposure.store.db", fromlist=["migrate"]).migrate
    migrate_engine(engine)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    left = outbox / ".k3j9x2.eml.tmp"  # a crash between writing and renaming a message
    left.write_text("half a message")
    kept = outbox / "58120001-MP-2026-000001.eml"
    kept.write_text("a finished message")
    env = _plain_env(url)
    cmd = [sys.executable, "-m", "exposure.app.cli", "warn", "--outbox", str(outbox)]

    done = subprocess.run(cmd, env=env, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert not left.exists() and kept.exists()

    held = leases.acquire(engine, leases.WARN, command="warn", timeout=60)
    try:
        left.write_text("half a message")
        done = subprocess.run(cmd, env=env, capture_output=True, timeout=60, check=False)
        assert done.returncode == 2
        last = done.stderr.decode().strip().splitlines()[-1]
        assert last.startswith("exposure: error: `exposure warn` is in progress on host ")
        assert left.exists()  # not touched while another warn may be writing it
        report = [sys.executable, "-m", "exposure.app.cli", "report", "--overview", "--output"]
        done = subprocess.run(
            [*report, str(tmp_path / "reports")], env=env, capture_output=True, timeout=60
        )
        assert done.returncode == 0, done.stderr.decode()  # another job, another lease
    finally:
        held.release()
        engine.dispose()


# --- the database gone mid-run ------------------------------------------------------------------


def _admin(url: str):
    """A connection to the server's maintenance database, as the test role."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return make_engine(parsed.set(database="postgres", query={}), isolation_level="AUTOCOMMIT")


@pytest.mark.postgres
async def test_the_database_gone_mid_scan_is_a_clean_stop_and_the_next_scan_resumes(
    tmp_path, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    from sqlalchemy.engine import make_url

    name = make_url(database_url).database
    admin = _admin(database_url)
    cut = False
    try:
        async with Testbed(WIDE_AREA, latency=0.05) as tb:
            done = "SELECT count(*) FROM runcompany WHERE status = 'done'"
            env, proc = await scan_under_way(
                tb,
                tmp_path / "members.csv",
                database_url,
                lambda: _rows(database_url, done)[0][0] >= 2,
                polls=400,
            )
            with admin.connect() as conn:  # the server refuses the database from now on
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                cut = True
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
            err = stderr.decode()
            assert proc.returncode == 3, err
            assert "Traceback" not in err, err
            problems = [line for line in err.splitlines() if "error" in line.lower()]
            assert len(problems) == 1, err
            assert problems[0].startswith(
                "exposure: error: the store stopped taking results: the database went away"
            )
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
                cut = False

            again = await _cli(env, "scan")
            stdout, stderr = await asyncio.wait_for(again.communicate(), timeout=120)
            assert again.returncode == 0, stderr.decode()
            assert b"done earlier in this run" in stdout
        assert _rows(database_url, "SELECT id, status FROM scanrun") == [(1, "complete")]
        assert _rows(database_url, "SELECT count(*) FROM finding WHERE status = 'open'")[0][0]
    finally:
        if cut:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
