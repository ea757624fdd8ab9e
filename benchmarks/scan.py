"""Scan benchmark: N synthetic companies in the testbed, with injected latency.

    python benchmarks/scan.py [--companies 1000] [--latency 0.02] [--repeat 3] [--json FILE]

The testbed runs in its own process (its CPU is not billed to the scanner); it delays every DNS
answer by `--latency` and every accepted web or SMTP connection by `--connect-latency` (default:
the same). Each repeat scans into a fresh SQLite database in a fresh child process, so peak RSS
is that of one scan. Prints the median over the repeats of: companies per minute, wall time, peak
RSS, CPU seconds per phase (import, each check family on the event loop, the store writer, the
rest); and per company what the testbed saw (DNS queries, TLS handshakes, HTTP requests, SMTP
sessions: read from the testbed process before and after each scan, SIGUSR1). With `--peers`
the peer tools (benchmarks/peers.py: checkdmarc, sectxt, sslyze, each from a virtual environment
of its own under ~/.cache/exposure-bench/) then run on the same domains and testbed, and their
wall time, what the testbed saw of them and their verdict agreement are printed beside the
scan's.

With `--shodan-key` the scan uses the Shodan look-alike's API key (REST host look-ups for every
device host, about one company in ten; the look-alike allows 1 request/s and answers 429
otherwise); `--shodan-batch N` (repeatable), `--before-code DIR` (a checkout of older code, run
through PYTHONPATH) and `--without-shodan-too` then scan side by side in each repeat, each into a
fresh database (a first night), and print wall time, deferred devices, host requests and 429s
(issue 21; figures in benchmarks/README.md, "Shodan at scale").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _child(
    info_path: Path,
    database: Path,
    check_prefixes: list[str],
    shodan_batch: int | None = None,
    shodan_key: bool = False,
) -> dict[str, Any]:
    from exposure.registry import load
    from exposure.scan.orchestrator import Orchestrator
    from exposure.settings import load_settings
    from exposure.store.db import make_engine, migrate
    from exposure.store.db import session as session_scope
    from targets.csv import read_members
    from targets.sync import apply_import, plan_import

    info = json.loads(info_path.read_text())
    overrides = {k: v for k, v in info["settings"].items() if v is not None}
    if shodan_key:  # the REST look-alike's key: host look-ups at 1 request/s (issue 21)
        overrides["shodan_api_key"] = info["shodan_api_key"]
    if shodan_batch is not None:
        overrides["shodan_batch_size"] = shodan_batch
    settings = load_settings(database=f"sqlite:///{database}", **overrides)
    engine = make_engine(settings.database)
    migrate(engine)

    cpu0, wall0 = _cpu(), time.perf_counter()
    members = read_members(info["members_csv"])
    with session_scope(engine) as session:
        apply_import(session, plan_import(session, members, prune=False))
    import_cpu, import_wall = _cpu() - cpu0, time.perf_counter() - wall0

    orchestrator = Orchestrator(settings, load(), engine)
    cpu1, wall1 = _cpu(), time.perf_counter()
    summary = await orchestrator.scan(None, check_prefixes or None)
    scan_cpu, scan_wall = _cpu() - cpu1, time.perf_counter() - wall1
    from sqlmodel import col, func, select

    from exposure.models import Finding

    with session_scope(engine) as session:
        devices_found = session.exec(
            select(func.count(func.distinct(Finding.target))).where(
                col(Finding.check_id).startswith("exposure.")
            )
        ).one()
    engine.dispose()
    families = summary.cpu_by_family
    return {
        "companies": summary.companies_scanned,
        "status": summary.status,
        "scan_wall": scan_wall,
        "companies_per_minute": summary.companies_scanned / scan_wall * 60,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu": {
            "import": import_cpu,
            **{f"check:{k}": v for k, v in sorted(families.items())},
            "store": summary.store_cpu,
            "engine+dns+other": max(0.0, scan_cpu - sum(families.values()) - summary.store_cpu),
            "scan_total": scan_cpu,
        },
        "import_wall": import_wall,
        "checks_run": summary.checks_run,
        "dns_queries": summary.dns_queries,
        "tls": dict(summary.tls),
        "findings_new": summary.stats.new,
        "errors": dict(summary.stats.errors_by_reason),
        "shodan": dict(summary.sources.get("shodan", {})),
        "shodan_batch": shodan_batch,
        "device_hosts_found": devices_found,
    }


def testbed_counters(proc: subprocess.Popen[bytes], info: Path) -> dict[str, Any]:
    """What the testbed process has seen so far (it writes its counters on SIGUSR1)."""
    path = info.with_name(info.name + ".counters.json")
    path.unlink(missing_ok=True)
    proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit("the testbed did not write its counters within 30 s")
        time.sleep(0.02)
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def counted(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """The testbed's counts between two snapshots, as totals."""

    def total(snapshot: dict[str, Any], key: str) -> int:
        value = snapshot.get(key, 0)
        return int(sum(value.values()) if isinstance(value, dict) else value)

    keys = {
        "dns_queries": "dns_queries",
        "tls_handshakes_web": "tls_handshakes",
        "tls_handshakes_smtp": "smtp_tls_handshakes",
        "http_requests": "http_requests",
        "web_connections": "web_connections",
        "smtp_sessions": "smtp_sessions",
        "shodan_requests": "shodan_requests",
        "shodan_rate_limited": "shodan_rate_limited",
        "shodan_host_addresses": "shodan_host_addresses",
    }
    return {name: total(after, key) - total(before, key) for name, key in keys.items()}


def _start_testbed(
    companies: int,
    latency: float,
    workdir: Path,
    connect_latency: float | None = None,
    shodan_rate: float | None = None,
) -> tuple[subprocess.Popen[bytes], Path]:
    info = workdir / "testbed.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exposure.testbed",
            "--area",
            f"synthetic:{companies}",
            "--latency",
            str(latency),
            "--connect-latency",
            str(latency if connect_latency is None else connect_latency),
            "--info",
            str(info),
            *(["--shodan-rate", str(shodan_rate)] if shodan_rate is not None else []),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not info.exists():
        if proc.poll() is not None:
            raise SystemExit(f"the testbed exited with {proc.returncode}")
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the testbed did not start within 120 s")
        time.sleep(0.05)
    return proc, info


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per DNS answer")
    parser.add_argument(
        "--connect-latency",
        type=float,
        default=None,
        help="seconds per accepted web or SMTP connection (default: --latency)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", action="append", default=[], help="only these check prefixes")
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also run the peer tools (benchmarks/peers.py) on the same domains and testbed",
    )
    parser.add_argument(
        "--peer-threads",
        type=int,
        default=16,
        help="checkdmarc's and sectxt's thread pool (sslyze keeps its Scanner's defaults)",
    )
    parser.add_argument(
        "--peer-tool",
        action="append",
        choices=("checkdmarc", "sectxt", "sslyze"),
        help="only these peer tools (default: all three)",
    )
    parser.add_argument(
        "--loop",
        action="append",
        choices=("auto", "uvloop", "asyncio"),
        help="the event loop of the scan (repeatable: each repeat runs each loop, side by side; "
        "default: auto, what `exposure scan` uses)",
    )
    parser.add_argument(
        "--shodan-key",
        action="store_true",
        help="scan with the Shodan look-alike's API key: REST host look-ups for every device "
        "host (about one company in ten), at most 1 request/s (429 otherwise)",
    )
    parser.add_argument(
        "--shodan-batch",
        type=int,
        action="append",
        help="addresses per REST host look-up (repeatable: each repeat runs each size, side by "
        "side; 1 is address by address, as before issue 21)",
    )
    parser.add_argument(
        "--without-shodan-too",
        action="store_true",
        help="each repeat also scans with every family but shodan (the floor a key may not raise)",
    )
    parser.add_argument(
        "--before-code",
        type=Path,
        help="a checkout of the code before issue 21 (git worktree or git archive): each repeat "
        "also scans with it (PYTHONPATH), side by side with the --shodan-batch sizes",
    )
    parser.add_argument(
        "--before-batch",
        type=int,
        help="the --shodan-batch size the --before-code scans with (default: its own)",
    )
    parser.add_argument("--child", nargs=2, metavar=("INFO", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    loops: list[str] = args.loop or ["auto"]

    if args.child:
        import exposure.scan.orchestrator  # noqa: F401  (imported before the freeze, as the CLI does)
        from exposure.app.gcpolicy import scanning_gc
        from exposure.app.loop import loop_factory
        from exposure.registry import load

        load()  # the check modules too

        # as `exposure scan` runs (exposure.app.loop.run): the garbage collector tuned for scanning
        batch = args.shodan_batch[0] if args.shodan_batch else None
        with scanning_gc(), asyncio.Runner(loop_factory=loop_factory(loops[0])) as runner:
            result = runner.run(
                _child(Path(args.child[0]), Path(args.child[1]), args.check, batch, args.shodan_key)
            )
        result["loop"] = loops[0]
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="exposure-bench-") as tmp:
        workdir = Path(tmp)
        testbed, info = _start_testbed(
            args.companies,
            args.latency,
            workdir,
            args.connect_latency,
            1.0 if args.shodan_key else None,
        )
        if args.shodan_batch or args.without_shodan_too or args.before_code:
            shodan_runs = _shodan_side_by_side(args, testbed, info, workdir)
            testbed.send_signal(signal.SIGTERM)
            testbed.wait(timeout=30)
            if args.json:
                args.json.write_text(json.dumps(shodan_runs, indent=2))
            return 0
        runs: list[dict[str, Any]] = []
        other_loops: list[dict[str, Any]] = []
        peers: dict[str, Any] = {}
        try:
            for i in range(args.repeat):
                for loop in loops:
                    db = workdir / (f"run{i}.db" if loop == loops[0] else f"run{i}-{loop}.db")
                    cmd = [sys.executable, __file__, "--child", str(info), str(db)]
                    cmd += [f"--check={c}" for c in args.check] + [f"--loop={loop}"]
                    before = testbed_counters(testbed, info)
                    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                    r["testbed"] = counted(before, testbed_counters(testbed, info))
                    (runs if loop == loops[0] else other_loops).append(r)
                    print(
                        f"run {i + 1} ({loop} loop): {r['companies']} companies in "
                        f"{r['scan_wall']:.2f} s = {r['companies_per_minute']:.0f}/min, "
                        f"CPU {_cpu_per_company(r):.1f} ms/company, "
                        f"peak RSS {r['peak_rss_mb']:.0f} MB, status {r['status']}",
                        flush=True,
                    )
            if args.peers:
                peers = _peers(
                    info,
                    workdir,
                    args.peer_threads,
                    args.peer_tool,
                    lambda: testbed_counters(testbed, info),
                )
        finally:
            testbed.send_signal(signal.SIGTERM)
            testbed.wait(timeout=30)

    print(
        f"\n{args.companies} companies, {args.latency * 1000:.0f} ms per DNS answer, "
        f"median of {len(runs)} runs"
    )
    print(f"  event loop         {loops[0]}")
    print(f"  companies/minute   {_median(runs, 'companies_per_minute'):,.0f}")
    print(f"  CPU per company    {statistics.median(_cpu_per_company(r) for r in runs):.1f} ms")
    print(f"  scan wall time     {_median(runs, 'scan_wall'):.2f} s")
    print(f"  peak RSS           {_median(runs, 'peak_rss_mb'):.0f} MB")
    print(f"  checks run         {runs[0]['checks_run']}")
    print(
        f"  DNS queries        {runs[0]['dns_queries']} ({runs[0]['dns_queries'] / max(1, runs[0]['companies']):.1f} per company)"
    )
    seen = runs[0]["testbed"]
    per = max(1, runs[0]["companies"])
    print("  per company, as the testbed saw them (run 1):")
    for key, value in seen.items():
        print(f"    {key:<20} {value / per:7.2f}  ({value} in all)")
    tls = runs[0].get("tls") or {}
    if tls.get("names"):
        tls_cpu = statistics.median(r["cpu"].get("check:tls", 0.0) for r in runs)
        web_cpu = statistics.median(r["cpu"].get("check:web", 0.0) for r in runs)
        print(
            f"  TLS handshakes     {tls['handshakes']:.0f} for {tls['names']:.0f} host names "
            f"({tls['handshakes_per_name']:.2f} per host, {tls['repeated']:.0f} repeated), "
            f"{tls['seconds_per_name'] * 1000:.1f} ms wall per host"
        )
        print(
            f"  silent addresses   {tls.get('silent_addresses', 0):.0f} "
            f"({tls.get('silent_skipped', 0):.0f} connections not made)"
        )
        print(
            f"  TLS+web CPU/host   tls {tls_cpu / tls['names'] * 1000:.2f} ms, "
            f"web {web_cpu / tls['names'] * 1000:.2f} ms"
        )
    print("  CPU seconds by phase (median):")
    total = statistics.median(r["cpu"]["scan_total"] + r["cpu"]["import"] for r in runs)
    for phase in runs[0]["cpu"]:
        if phase == "scan_total":
            continue
        value = statistics.median(r["cpu"].get(phase, 0.0) for r in runs)
        print(f"    {phase:<20} {value:7.3f}  ({value / total:5.1%})")
    if other_loops:
        print("  side by side (median of the repeats, each loop once per repeat):")
        for loop in loops:
            mine = [r for r in runs + other_loops if r["loop"] == loop]
            print(
                f"    {loop:<8} {_median(mine, 'companies_per_minute'):7,.0f}/min  "
                f"CPU {statistics.median(_cpu_per_company(r) for r in mine):5.1f} ms/company  "
                f"peak RSS {_median(mine, 'peak_rss_mb'):4.0f} MB"
            )
        runs[0]["other_loops"] = other_loops
    if args.peers:
        _print_peers(peers, _median(runs, "scan_wall"))
        runs[0]["peers"] = peers
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))
    return 0


FAMILIES_BUT_SHODAN = ("target", "dns", "mail", "securitytxt", "tls", "web")


def _shodan_side_by_side(
    args: argparse.Namespace, testbed: subprocess.Popen[bytes], info: Path, workdir: Path
) -> list[dict[str, Any]]:
    """Issue 21: the first night with a key, per batch size (and without the family), side by
    side in each repeat, each into a fresh database (so every look-up is a first-night one)."""
    configs: list[tuple[str, list[str]]] = []
    if args.before_code:
        if args.before_batch is not None:  # the old code asked with this batch size
            configs.append(("before", [f"--shodan-batch={args.before_batch}"]))
        else:
            configs.append(("before", []))  # the old code: no batches, its own defaults
    for size in args.shodan_batch or []:
        configs.append((f"batch {size}", [f"--shodan-batch={size}"]))
    if args.without_shodan_too:
        configs.append(("no shodan", [f"--check={c}" for c in FAMILIES_BUT_SHODAN]))
    runs: list[dict[str, Any]] = []
    for i in range(args.repeat):
        for name, extra in configs:
            db = workdir / f"run{i}-{name.replace(' ', '-')}.db"
            cmd = [sys.executable, __file__, "--child", str(info), str(db), *extra]
            if args.shodan_key:
                cmd.append("--shodan-key")
            before = testbed_counters(testbed, info)
            env = dict(os.environ)
            if name == "before":
                env["PYTHONPATH"] = str(args.before_code.resolve())
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, env=env)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r["testbed"] = counted(before, testbed_counters(testbed, info))
            r["config"] = name
            runs.append(r)
            sh = r.get("shodan", {})
            print(
                f"run {i + 1} {name:<10}: {r['companies']} companies in {r['scan_wall']:.1f} s "
                f"= {r['companies_per_minute']:.0f}/min, status {r['status']}, "
                f"deferred {sh.get('deferred', '-')}, host requests {sh.get('host_requests', '-')} "
                f"for {r['testbed']['shodan_host_addresses']} addresses, "
                f"429s {r['testbed']['shodan_rate_limited']}, "
                f"device hosts with findings {r['device_hosts_found']}",
                flush=True,
            )
    print(f"\n{args.companies} companies, median of {args.repeat}:")
    for name, _ in configs:
        mine = [r for r in runs if r["config"] == name]
        deferred = statistics.median(r.get("shodan", {}).get("deferred", 0) for r in mine)
        print(
            f"  {name:<10} wall {_median(mine, 'scan_wall'):6.1f} s  "
            f"{_median(mine, 'companies_per_minute'):6.0f}/min  deferred {deferred:g}  "
            f"status {', '.join(sorted({r['status'] for r in mine}))}"
        )
    return runs


def _cpu_per_company(run: dict[str, Any]) -> float:
    """The scan's process CPU (loop, threads, store) per company, in ms."""
    return 1000 * run["cpu"]["scan_total"] / max(1, run["companies"])


def _peers(
    info: Path,
    workdir: Path,
    threads: int,
    tools: list[str] | None = None,
    snapshot: Any = None,
) -> dict[str, Any]:
    """The peer tools on the member list's domains; their verdicts beside the first run's."""
    import csv

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import peers

    members = json.loads(info.read_text())["members_csv"]
    with open(members, newline="", encoding="utf-8") as handle:
        domains = [
            d.strip()
            for row in csv.DictReader(handle)
            for d in (row.get("domains") or "").split(";")
            if d.strip()
        ]
    chosen = tuple(t for t in peers.TOOLS if not tools or t in tools)
    results = peers.run_peers(info, domains, threads, workdir, chosen, snapshot)
    ours = peers.scan_verdicts(workdir / "run0.db", domains)
    agreement = peers.compare(results, ours)
    examples = {
        name.removeprefix("www.")
        for row in agreement.values()
        for names in row["examples"].values()
        for name in names
    }
    return {
        "domains": len(domains),
        "threads": threads,
        "wall": {tool: r["wall"] for tool, r in results.items()},
        "process_wall": {tool: r["process_wall"] for tool, r in results.items()},
        "testbed": {
            tool: counted(r["testbed_before"], r["testbed_after"])
            for tool, r in results.items()
            if r.get("testbed_before") is not None
        },
        "sslyze": {
            k: v
            for k, v in results.get("sslyze", {}).items()
            if k in ("resolve_wall", "hosts", "gave_up")
        },
        "states": {tool: _states(r["verdicts"]) for tool, r in results.items() if r.get("keys")},
        "agreement": agreement,
        "ours_on_examples": peers.ours_about(ours, sorted(examples)),
        "verdicts": {tool: r["verdicts"] for tool, r in results.items()},
    }


def _states(verdicts: dict[str, dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for verdict in verdicts.values():
        state = verdict.get("state", "?")
        counts[state] = counts.get(state, 0) + 1
    return counts


def _print_peers(peers: dict[str, Any], scan_wall: float) -> None:
    walls = peers["wall"]
    total = sum(walls.values())
    print(
        f"\n  peers on the same {peers['domains']} domains (checkdmarc, sectxt: "
        f"{peers['threads']} threads each; sslyze: its Scanner's defaults, 5 connections per "
        f"server, 10 servers at once):"
    )
    for tool, wall in walls.items():
        note = ""
        if tool == "sslyze" and peers.get("sslyze"):
            extra = peers["sslyze"]
            states = ", ".join(f"{k} {v}" for k, v in sorted(peers["states"]["sslyze"].items()))
            gave_up = extra.get("gave_up") or [0.0]
            note = (
                f"  ({extra['hosts']} host names; resolving them one by one "
                f"{extra['resolve_wall']:.1f} s; {states}; the names it could not connect to "
                f"given up {min(gave_up):.0f}-{max(gave_up):.0f} s into its scan)"
            )
        print(f"    {tool:<12} {wall:7.1f} s{note}")
        seen = peers.get("testbed", {}).get(tool)
        if seen:
            per = max(1, peers["domains"])
            print(
                "                 per domain, as the testbed saw them: "
                + ", ".join(f"{k} {v / per:.2f}" for k, v in seen.items() if v)
            )
    print(
        f"    toolchain    {total:7.1f} s  = {total / scan_wall:.1f}x the scan's wall time "
        f"(the scan runs every family; the peers cover mail, security.txt and TLS)"
    )
    print("  verdict agreement where both decided (run 1):")
    for key, row in peers["agreement"].items():
        both = row["both_decided"]
        share = row["agree"] / both if both else 0.0
        they = row.get("they_undecided", 0)
        print(
            f"    {key:<15} {row['agree']}/{both} ({share:.1%}, both flag "
            f"{row.get('both_flag', 0)}); only we flag "
            f"{row['only_we_flag']}, only they flag {row['only_they_flag']}, "
            f"we could not test {row['we_undecided']}, "
            + (f"they could not test {they}, " if they else "")
            + f"no such domain {row['no_such_domain']}"
        )
        for side, domains in row["examples"].items():
            if domains:
                print(f"      {side}: {', '.join(domains)}")


if __name__ == "__main__":
    raise SystemExit(main())
