"""The floor: what one DNS answer, one TLS handshake and one HTTP exchange cost on this machine.

    python benchmarks/floor.py [--n 2000] [--concurrency 64] [--scan FILE.json]

A small synthetic testbed runs in its own process without injected latency (its CPU is not
billed here). This process then does, `--n` times each with `--concurrency` in flight, the bare
minimum of each operation with nothing of the scanner around it:

- one DNS answer: an A query through aiodns (c-ares, the scanner's resolver library);
- one TLS handshake: TCP connect, TLS 1.2-1.3 handshake with SNI and chain verification against
  the testbed CA, close;
- one HTTP exchange: TCP connect, `GET /` over plain HTTP, read the answer to the end, close.

It prints the CPU seconds of each (this process's user + system time over the operations) and
their wall time at that concurrency. With `--scan FILE` (the `--json` of `benchmarks/scan.py`)
it multiplies the unit costs by the counts per company that the testbed saw in that scan, and
compares the result with the scan's CPU per company and its throughput: the floor is the CPU a
company costs if the scanner did nothing but those operations, and the companies per minute one
core could then do (the scanner's event loop is one thread).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiodns

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scan import _start_testbed  # noqa: E402


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _measure(
    n: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> dict[str, float]:
    slots = asyncio.Semaphore(concurrency)
    failures = 0

    async def bounded(i: int) -> None:
        nonlocal failures
        async with slots:
            try:
                await one(i)
            except Exception:
                failures += 1

    cpu0, wall0 = _cpu(), time.perf_counter()
    await asyncio.gather(*(bounded(i) for i in range(n)))
    cpu, wall = _cpu() - cpu0, time.perf_counter() - wall0
    return {"cpu_ms": cpu / n * 1000, "wall_ms": wall / n * 1000, "failures": failures}


async def _targets(info: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """The resolver, and (host, address) pairs whose HTTPS and HTTP both answer."""
    settings = info["settings"]
    resolver = aiodns.DNSResolver(nameservers=settings["resolvers"], timeout=2.0, tries=1)
    context = ssl.create_default_context(cafile=settings["ca_bundle"])
    found: list[tuple[str, str]] = []
    domains = [
        line.split(",")[3]
        for line in Path(info["members_csv"]).read_text().splitlines()[1:]
        if line.split(",")[3]
    ]
    for domain in domains:
        host = f"www.{domain}"
        try:
            answer = await resolver.query_dns(host, "A")
        except aiodns.error.DNSError:
            continue
        record: Any = answer.answer[0].data  # an A record's data
        address = str(record.addr)
        try:
            async with asyncio.timeout(1.0):
                _, writer = await asyncio.open_connection(
                    address, settings["ports"]["https"], ssl=context, server_hostname=host
                )
            writer.close()
            async with asyncio.timeout(1.0):
                await _http(address, settings["ports"]["http"], host)
        except (OSError, TimeoutError, ssl.SSLError, ValueError):
            continue
        found.append((host, address))
        if len(found) >= 20:
            break
    await resolver.close()
    return settings["resolvers"][0], found


async def _http(address: str, port: int, host: str) -> None:
    reader, writer = await asyncio.open_connection(address, port)
    writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    head = await reader.readline()
    if not head.startswith(b"HTTP/1."):
        raise ValueError(f"not HTTP: {head!r}")
    await reader.read()
    writer.close()


async def measure(info: dict[str, Any], n: int, concurrency: int) -> dict[str, dict[str, float]]:
    nameserver, sites = await _targets(info)
    if not sites:
        raise SystemExit("no site of the testbed answered HTTPS and HTTP")
    settings = info["settings"]
    names = [h for h, _ in sites]
    resolver = aiodns.DNSResolver(nameservers=[nameserver], timeout=2.0, tries=1)
    context = ssl.create_default_context(cafile=settings["ca_bundle"])
    https, http = settings["ports"]["https"], settings["ports"]["http"]

    async def dns(i: int) -> None:  # c-ares keeps no cache: every call is a query
        await resolver.query_dns(names[i % len(names)], "A")

    async def tls(i: int) -> None:
        host, address = sites[i % len(sites)]
        _, writer = await asyncio.open_connection(address, https, ssl=context, server_hostname=host)
        writer.close()
        await writer.wait_closed()

    async def plain(i: int) -> None:
        host, address = sites[i % len(sites)]
        await _http(address, http, host)

    results: dict[str, dict[str, float]] = {}
    for name, one in (("dns", dns), ("tls", tls), ("http", plain)):
        await _measure(min(n, 100), concurrency, one)  # warm up
        results[name] = await _measure(n, concurrency, one)
    await resolver.close()
    return results


def floor_of(units: dict[str, dict[str, float]], run: dict[str, Any]) -> dict[str, float]:
    """The CPU floor per company for the counts the testbed saw in one scan run."""
    seen = run["testbed"]
    per = max(1, run["companies"])
    handshakes = seen["tls_handshakes_web"] + seen["tls_handshakes_smtp"]
    cpu_ms = (
        seen["dns_queries"] * units["dns"]["cpu_ms"]
        + handshakes * units["tls"]["cpu_ms"]
        + seen["http_requests"] * units["http"]["cpu_ms"]
        + seen["smtp_sessions"] * units["http"]["cpu_ms"]  # a plain-text dialogue, roughly
    ) / per
    scan_cpu_ms = run["cpu"]["scan_total"] / per * 1000
    return {
        "floor_cpu_ms_per_company": cpu_ms,
        "floor_companies_per_minute_one_core": 60_000 / cpu_ms if cpu_ms else 0.0,
        "scan_cpu_ms_per_company": scan_cpu_ms,
        "scan_over_floor_cpu": scan_cpu_ms / cpu_ms if cpu_ms else 0.0,
        "scan_companies_per_minute": run["companies_per_minute"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="operations of each kind")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scan", type=Path, help="runs of benchmarks/scan.py --json")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="the event loop (default auto: the one `exposure scan` uses)",
    )
    args = parser.parse_args()
    from exposure.app.loop import loop_factory

    factory = loop_factory(args.loop)

    def on_loop(main: Awaitable[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(main)  # type: ignore[arg-type]

    with tempfile.TemporaryDirectory(prefix="exposure-floor-") as tmp:
        testbed, info_path = _start_testbed(100, 0.0, Path(tmp), 0.0)
        try:
            info = json.loads(info_path.read_text())
            repeats = [on_loop(measure(info, args.n, args.concurrency)) for _ in range(args.repeat)]
        finally:
            testbed.terminate()
            testbed.wait(timeout=30)
    units = {
        kind: {key: statistics.median(r[kind][key] for r in repeats) for key in repeats[0][kind]}
        for kind in repeats[0]
    }
    print(
        f"unit costs ({args.loop} loop), median of {args.repeat} x {args.n} "
        f"at concurrency {args.concurrency}:"
    )
    for kind, figures in units.items():
        print(
            f"  {kind:<5} CPU {figures['cpu_ms']:6.3f} ms   wall {figures['wall_ms']:6.3f} ms"
            f"   failures {figures['failures']:.0f}"
        )
    report: dict[str, Any] = {"units": units}
    if args.scan:
        runs = json.loads(args.scan.read_text())
        floors = [floor_of(units, run) for run in runs if "testbed" in run]
        if floors:
            summary = {k: statistics.median(f[k] for f in floors) for k in floors[0]}
            report["floor"] = summary
            print(f"against {args.scan} ({len(floors)} runs, medians):")
            print(f"  floor CPU per company      {summary['floor_cpu_ms_per_company']:7.2f} ms")
            print(f"  scan CPU per company       {summary['scan_cpu_ms_per_company']:7.2f} ms")
            print(f"  scan / floor (CPU)         {summary['scan_over_floor_cpu']:7.2f} x")
            print(
                f"  floor companies/min, 1 core {summary['floor_companies_per_minute_one_core']:,.0f}"
                f"   scan {summary['scan_companies_per_minute']:,.0f}"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
