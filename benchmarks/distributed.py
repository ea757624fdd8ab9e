"""Distributed benchmark: the synthetic port area scanned by 1, 2, ... worker processes.

    python benchmarks/distributed.py [--companies 5000] [--latency 0.02] [--workers 1 2]
                                     [--concurrency 64] [--check PREFIX ...] [--json FILE]

Needs a PostgreSQL server: `--database URL` or EXPOSURE_TEST_POSTGRES_URL (`source
.ci/postgres.sh` starts one); the URL's role must be allowed to create databases. For each worker
count it creates a fresh database, imports the member list, starts the workers (`exposure worker`,
real processes), queues the run with `exposure scan --distributed`, and waits until the run is
finished. The testbed runs in a process of its own for all configurations.

It prints, per worker count: wall time from queueing to the run's end, companies per minute,
peak RSS of each worker (VmHWM), and the run's counters (checks, findings, errors).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scan import _start_testbed  # noqa: E402


def _conninfo(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    params = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": database or parsed.database or "postgres",
    }
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in params.items() if v is not None})


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (from /proc; NaN where it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _import(database: str, members_csv: str) -> None:
    from exposure.store.db import make_engine, migrate
    from exposure.store.db import session as session_scope
    from targets.csv import read_members
    from targets.sync import apply_import, plan_import

    engine = make_engine(database)
    migrate(engine)
    members = read_members(members_csv)
    with session_scope(engine) as db:
        apply_import(db, plan_import(db, members, prune=False))
    engine.dispose()


def _one(
    server: str,
    info: dict[str, Any],
    workers: int,
    args: argparse.Namespace,
    workdir: Path,
    testbed_pid: int,
) -> dict[str, Any]:
    name = f"exposure_bench_{uuid.uuid4().hex[:8]}"
    admin = _conninfo(server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database = make_url(server).set(database=name).render_as_string(hide_password=False)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        started = time.perf_counter()
        _import(database, info["members_csv"])
        import_seconds = time.perf_counter() - started
        env = {
            **os.environ,
            **info["env"],
            "EXPOSURE_DATABASE": database,
            "EXPOSURE_LOG_FORMAT": "json",
            "EXPOSURE_NIGHTLY_CRON": "",
        }
        cli = [sys.executable, "-m", "exposure.app.cli"]
        for n in range(workers):
            log = (workdir / f"w{workers}-{n}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [
                        *cli,
                        "worker",
                        "--concurrency",
                        str(args.concurrency),
                        "--name",
                        f"w{n}",
                        *(["--local-limits"] if args.local_limits else []),
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=log,
                )
            )
        target = _conninfo(server, name)
        with psycopg.connect(target, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while True:
                ready = conn.execute(
                    "SELECT to_regclass('procrastinate_workers') IS NOT NULL"
                ).fetchone()
                if ready and ready[0]:
                    row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
                    if row and row[0] == workers:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("the workers did not start within 60 s")
                time.sleep(0.2)

            scan_cmd = [*cli, "scan", "--distributed"] + [f"--check={c}" for c in args.check]
            testbed_cpu0 = _cpu_seconds(testbed_pid)
            workers_cpu0 = [_cpu_seconds(p.pid) for p in procs]
            t0 = time.perf_counter()
            subprocess.run(scan_cmd, env=env, cwd=ROOT, check=True, capture_output=True)
            queued = time.perf_counter() - t0
            while True:
                row = conn.execute(
                    "SELECT status, companies_done, companies_total FROM scanrun ORDER BY id DESC LIMIT 1"
                ).fetchone()
                assert row is not None
                if row[0] != "running":
                    break
                time.sleep(0.5)
            wall = time.perf_counter() - t0
            peaks = [_peak_rss_mb(p.pid) for p in procs]
            worker_cpu = [_cpu_seconds(p.pid) - c for p, c in zip(procs, workers_cpu0, strict=True)]
            testbed_cpu = _cpu_seconds(testbed_pid) - testbed_cpu0
            run = conn.execute(
                "SELECT status, companies_done, checks_run, findings_new, errors, summary "
                "FROM scanrun ORDER BY id DESC LIMIT 1"
            ).fetchone()
            assert run is not None
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    status, done, checks_run, findings_new, errors, summary = run
    stored = summary if isinstance(summary, dict) else json.loads(summary or "{}")
    return {
        "workers": workers,
        "status": status,
        "companies": done,
        "import_seconds": import_seconds,
        "queue_seconds": queued,
        "wall": wall,
        "companies_per_minute": done / wall * 60,
        "peak_rss_mb": peaks,
        "worker_cpu_seconds": worker_cpu,
        "testbed_cpu_seconds": testbed_cpu,
        "checks_run": checks_run,
        "findings_new": findings_new,
        "errors": errors,
        "errors_by_reason": stored.get("errors_by_reason", {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--companies", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per DNS answer")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, default=64, help="companies per worker")
    parser.add_argument("--check", action="append", default=[], help="only these check prefixes")
    parser.add_argument("--database", default=os.environ.get("EXPOSURE_TEST_POSTGRES_URL", ""))
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--logs", type=Path, help="keep the workers' logs in this folder")
    parser.add_argument(
        "--local-limits",
        action="store_true",
        help="workers keep per-IP limits in-process only (measures what sharing them costs)",
    )
    args = parser.parse_args()
    if not args.database:
        raise SystemExit("needs --database or EXPOSURE_TEST_POSTGRES_URL (source .ci/postgres.sh)")

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="exposure-dbench-") as tmp:
        workdir = Path(tmp)
        if args.logs is not None:
            args.logs.mkdir(parents=True, exist_ok=True)
            workdir = args.logs
        testbed, info_path = _start_testbed(args.companies, args.latency, workdir)
        try:
            info = json.loads(info_path.read_text())
            for workers in args.workers:
                r = _one(args.database, info, workers, args, workdir, testbed.pid)
                results.append(r)
                rss = ", ".join(f"{p:.0f}" for p in r["peak_rss_mb"])
                print(
                    f"{workers} worker(s): {r['companies']} companies in {r['wall']:.1f} s = "
                    f"{r['companies_per_minute']:,.0f}/min, peak RSS {rss} MB, status "
                    f"{r['status']}, {r['checks_run']} checks, {r['findings_new']} findings, "
                    f"errors {r['errors_by_reason']}",
                    flush=True,
                )
                cpu = ", ".join(f"{c:.0f}" for c in r["worker_cpu_seconds"])
                print(
                    f"  CPU seconds: workers {cpu}; testbed {r['testbed_cpu_seconds']:.0f} "
                    f"(wall {r['wall']:.0f} s, {os.cpu_count()} cores)",
                    flush=True,
                )
        finally:
            testbed.send_signal(signal.SIGTERM)
            testbed.wait(timeout=60)
    if len(results) > 1:
        base = results[0]["companies_per_minute"]
        for r in results[1:]:
            print(
                f"speed-up {results[0]['workers']} -> {r['workers']} workers: "
                f"{r['companies_per_minute'] / base:.2f}x"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
