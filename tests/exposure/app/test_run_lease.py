"""One run at a time: the lease in the store (SQLite and PostgreSQL), and the second scan that
refuses before it sends a single packet. Real processes, the real testbed."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text

from exposure.models import utcnow
from exposure.store import lease as leases
from exposure.store.db import make_engine, migrate
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec
from tests.exposure.app.scans import cli as _cli
from tests.exposure.app.scans import scan_under_way

AREA = Area(
    companies=[
        CompanySpec(
            f"{3000 + i}",
            f"Firma {i}",
            f"info@firma{i}.test",
            domains=[DomainSpec(f"firma{i}.test", site=None, nxdomain=True)],
        )
        for i in range(8)
    ]
)


# --- the lease itself ---------------------------------------------------------------------------


def test_a_held_lease_refuses_a_second_holder_and_names_the_first(store_engine):
    first = leases.acquire(store_engine, leases.SCAN, command="scan", timeout=60)
    try:
        first.attach_run(41)
        with pytest.raises(leases.LeaseHeldError) as refused:
            leases.acquire(store_engine, leases.SCAN, command="scan", timeout=60)
        line = str(refused.value)
        assert line.startswith(f"run 41 is in progress on host {socket.gethostname()}, ")
        assert f"pid {os.getpid()}" in line and "last heartbeat 0 s ago" in line
        # another job's lease is another lease
        leases.acquire(store_engine, leases.WARN, command="warn", timeout=60).release()
    finally:
        first.release()
    assert leases.read(store_engine, leases.SCAN) is None
    leases.acquire(store_engine, leases.SCAN, timeout=60).release()


def test_the_heartbeat_keeps_a_lease_alive_and_its_absence_frees_it(store_engine):
    lease = leases.acquire(store_engine, leases.SCAN, timeout=0.6)
    try:
        before = leases.read(store_engine, leases.SCAN)
        assert before is not None
        # three timeouts later a live holder still holds it: its thread beat
        import time

        time.sleep(1.8)
        after = leases.read(store_engine, leases.SCAN)
        assert after is not None and after.heartbeat_at > before.heartbeat_at
        with pytest.raises(leases.LeaseHeldError):
            leases.acquire(store_engine, leases.SCAN, timeout=0.6)
    finally:
        lease.release()


def _foreign_lease(engine, age: float, host: str = "other-host", pid: int = 4242) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO runlease (name, owner, host, pid, command, run_id, acquired_at, "
                "heartbeat_at) VALUES ('scan', 'crashed', :host, :pid, 'scan', 7, :t0, :beat)"
            ),
            {"host": host, "pid": pid, "t0": now, "beat": now - timedelta(seconds=age)},
        )


def test_a_lease_whose_heartbeat_stopped_is_taken_over(store_engine, caplog):
    _foreign_lease(store_engine, age=5)
    if store_engine.dialect.name != "postgresql":  # there the lock proves the holder is gone
        with pytest.raises(leases.LeaseHeldError, match="run 7 is in progress on host other-host"):
            leases.acquire(store_engine, leases.SCAN, timeout=60)
    lease = leases.acquire(store_engine, leases.SCAN, timeout=3)
    try:
        holder = leases.read(store_engine, leases.SCAN)
        assert holder is not None and holder.owner == lease.owner and holder.run_id is None
    finally:
        lease.release()
    assert "taken over" in caplog.text


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(store_engine):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _foreign_lease(store_engine, age=0, host=socket.gethostname(), pid=dead.pid)
    leases.acquire(store_engine, leases.SCAN, timeout=60).release()


@pytest.mark.postgres
def test_on_postgresql_the_advisory_lock_refuses_even_without_a_row(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = make_engine(database_url)
    migrate(engine)
    try:
        lease = leases.acquire(engine, leases.SCAN, timeout=60)
        with engine.begin() as conn:  # the row alone would say "free"
            conn.execute(text("DELETE FROM runlease"))
        with pytest.raises(leases.LeaseHeldError, match="another `exposure scan` is starting"):
            leases.acquire(engine, leases.SCAN, timeout=60)
        lease.release()
        leases.acquire(engine, leases.SCAN, timeout=60).release()
    finally:
        engine.dispose()


def test_runs_shows_owner_and_heartbeat():
    now = utcnow()
    holder = leases.LeaseHolder("scan", "o", "scanner-1", 123, "scan", 5, now, now)
    assert leases.owner_cells("running", holder, 60, now + timedelta(seconds=5)) == (
        "scanner-1 pid 123",
        "5 s ago",
    )
    stale = leases.owner_cells("running", holder, 60, now + timedelta(seconds=90))
    assert stale[1].startswith("90 s ago (stale")
    assert leases.owner_cells("running", None, 60)[1] == "none: resumed by the next scan"
    assert leases.owner_cells("complete", None, 60) == ("", "")
    assert leases.owner_cells("running", None, 60, queued=12) == (
        "workers",
        "12 companies queued or in progress",
    )


# --- two scans at once --------------------------------------------------------------------------


class _CountingResolver(asyncio.DatagramProtocol):
    """A 'resolver' that only counts what reaches it: the refused scan must send nothing."""

    def __init__(self) -> None:
        self.datagrams = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.datagrams += 1


def _scalar(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _hold(tb: Testbed, seconds: float) -> None:
    """Every DNS answer of the testbed takes this long: a running scan is held in flight while
    the test looks at it, whatever the load of the machine (0: let it finish)."""
    assert tb.dns is not None
    tb.dns.latency = seconds


async def _wait_running(engine) -> None:
    for _ in range(600):
        await asyncio.sleep(0.05)
        if _scalar(engine, "SELECT count(*) FROM scanrun WHERE status = 'running'"):
            return
    raise AssertionError("the scan did not start")


async def test_a_second_scan_refuses_while_the_first_runs(tmp_path, database_url):
    engine = make_engine(database_url)
    loop = asyncio.get_running_loop()
    transport, counter = await loop.create_datagram_endpoint(
        _CountingResolver, local_addr=("127.0.0.1", 0)
    )
    counter_port = transport.get_extra_info("sockname")[1]
    try:
        async with Testbed(AREA) as tb:
            env = {
                **os.environ,
                **tb.env(),
                "EXPOSURE_DATABASE": database_url,
                "EXPOSURE_COMPANY_CONCURRENCY": "1",
                "EXPOSURE_DNS_TIMEOUT": "15",  # a held answer is slow, not lost
            }
            members = tb.write_members_csv(tmp_path / "members.csv")
            proc = await _cli(env, "targets", "import", str(members))
            assert await proc.wait() == 0

            first = await _cli(env, "scan")
            await _wait_running(engine)  # past its resolver check: now hold it
            _hold(tb, 4.0)
            await asyncio.sleep(1.0)  # "a second apart"

            second_env = {**env, "EXPOSURE_RESOLVERS": f"127.0.0.1:{counter_port}"}
            second = await _cli(second_env, "scan")
            runs = await _cli({**env, "COLUMNS": "200"}, "runs")  # at the same time
            _, err = await asyncio.wait_for(second.communicate(), timeout=60)
            assert second.returncode == 2, err.decode()
            lines = err.decode().strip().splitlines()
            assert len(lines) == 1, lines
            assert lines[0].startswith("exposure: error: run 1 is in progress on host ")
            assert f"pid {first.pid}, since " in lines[0] and "last heartbeat" in lines[0]
            assert counter.datagrams == 0  # not one query from the refused scan

            runs_out, _ = await asyncio.wait_for(runs.communicate(), timeout=60)
            assert first.returncode is None, "the first scan ended too soon for this test"
            assert f"pid {first.pid}" in runs_out.decode(), runs_out.decode()
            assert "s ago" in runs_out.decode()

            _hold(tb, 0)
            _out, err = await asyncio.wait_for(first.communicate(), timeout=120)
            assert first.returncode == 0, err.decode()
            assert _scalar(engine, "SELECT count(*) FROM scanrun") == 1
            assert _scalar(engine, "SELECT status FROM scanrun") == "complete"
            assert _scalar(engine, "SELECT count(*) FROM runlease") == 0  # released

            # --wait: a second scan waits for the first instead of refusing
            first = await _cli(env, "scan")
            await _wait_running(engine)
            _hold(tb, 4.0)
            waiting = await _cli(env, "scan", "--company", "3002", "--wait")
            assert waiting.stderr is not None
            told = b""
            while not told.startswith(b"waiting: run "):
                told = await asyncio.wait_for(waiting.stderr.readline(), timeout=60)
                assert told, "the waiting scan ended without waiting"
            assert first.returncode is None
            _hold(tb, 0)
            _, err = await asyncio.wait_for(waiting.communicate(), timeout=120)
            assert waiting.returncode == 0, err.decode()
            assert await first.wait() == 0
    finally:
        transport.close()
        engine.dispose()


async def test_a_killed_scan_is_resumed_by_the_next(tmp_path, database_url):
    """kill -9 leaves a lease row behind; the next scan takes it over and completes the run."""
    engine = make_engine(database_url)
    try:
        async with Testbed(AREA, latency=0.3) as tb:
            env, proc = await scan_under_way(
                tb,
                tmp_path / "members.csv",
                database_url,
                lambda: bool(
                    _scalar(engine, "SELECT count(*) FROM runcompany WHERE status = 'done'")
                ),
                polls=300,
            )
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            assert _scalar(engine, "SELECT count(*) FROM runlease") == 1
            again = await _cli(env, "scan")
            _, err = await asyncio.wait_for(again.communicate(), timeout=60)
            assert again.returncode == 0, err.decode()
            assert _scalar(engine, "SELECT status FROM scanrun") == "complete"
    finally:
        engine.dispose()


@pytest.mark.postgres
async def test_an_embedded_scan_refuses_beside_a_distributed_run(tmp_path, database_url):
    """The workers own a distributed run through its queued jobs; an embedded scan next to it
    would scan every member host twice."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the distributed mode needs PostgreSQL")
    async with Testbed(AREA) as tb:
        env = {**os.environ, **tb.env(), "EXPOSURE_DATABASE": database_url}
        assert await (await _cli(env, "migrate")).wait() == 0
        members = tb.write_members_csv(tmp_path / "members.csv")
        assert await (await _cli(env, "targets", "import", str(members))).wait() == 0
        queued = await _cli(env, "scan", "--distributed")  # no worker runs: the jobs wait
        _, err = await asyncio.wait_for(queued.communicate(), timeout=60)
        assert queued.returncode == 0, err.decode()

        embedded = await _cli(env, "scan")
        _, err = await asyncio.wait_for(embedded.communicate(), timeout=60)
        assert embedded.returncode == 2, err.decode()
        assert err.decode().strip().splitlines()[-1] == (
            "exposure: error: run 1 is being scanned by the workers (8 companies queued or in "
            "progress); not started (`exposure runs` shows how it stands)"
        )
        runs = await _cli({**env, "COLUMNS": "200"}, "runs")
        out, _ = await asyncio.wait_for(runs.communicate(), timeout=60)
        assert "workers" in out.decode() and "8 companies queued" in out.decode()


@pytest.mark.parametrize(
    ("name", "command"),
    [
        (leases.NIGHTLY, ["nightly"]),
        (leases.WARN, ["warn", "--outbox", "outbox"]),
        (leases.OVERVIEW, ["report", "--overview", "--output", "reports"]),
    ],
)
def test_nightly_warn_and_the_overview_do_not_overlap_themselves(tmp_path, name, command):
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    engine = make_engine(url)
    migrate(engine)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPOSURE_")}
    env.update(
        EXPOSURE_DATABASE=url,
        EXPOSURE_RESOLVERS="127.0.0.1:9",  # never reached: the lease refuses first
        EXPOSURE_MELDPUNT_NAME="Meldpunt Test",
        EXPOSURE_MELDPUNT_EMAIL="meldpunt@example.test",
        EXPOSURE_MELDPUNT_PHONE="010-123 45 67",
        EXPOSURE_MELDPUNT_URL="https://meldpunt.example.test",
    )
    held = leases.acquire(engine, name, command=name, timeout=60)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "exposure.app.cli", *command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
            check=False,
        )
    finally:
        held.release()
        engine.dispose()
    assert done.returncode == 2, done.stderr.decode()
    last = done.stderr.decode().strip().splitlines()[-1]
    assert last.startswith(f"exposure: error: `exposure {name}` is in progress on host ")
