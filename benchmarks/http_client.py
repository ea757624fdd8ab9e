"""The HTTP client of `exposure.net.http.fetch`: the own h11 client against httpx, side by side.

    python benchmarks/http_client.py [--n 1000] [--repeat 5] [--loop auto|uvloop|asyncio]

A synthetic testbed runs in its own process without injected latency (its CPU is not billed
here). This process then fetches, through the real `fetch(ctx, ...)` (scope check, per-IP slots,
silent addresses, the run's TLS contexts), `--n` times each with 64 in flight, from about 20
sites of the testbed, pinned to their address (no DNS in the figure):

- `plain`: `GET http://site/` without following the redirect: one plain HTTP exchange;
- `https`: `GET https://site/` with certificate verification: a TLS handshake and an exchange;
- `web`: `GET http://site/` following the redirect to https: the web check's own fetch, two
  connections, one handshake.

with each client in turn: `own` (`_one`: asyncio streams and h11) and `httpx` (`_one_httpx`: an
`httpx.AsyncClient` whose httpcore backend dials the pinned address,
`benchmarks/httpx_variant.py`). The
order of the two alternates from round to round, so that a drift of the machine's load hits both.
It prints this process's CPU per fetch (user + system) and the wall time per fetch at that
concurrency, per round, and the median over `--repeat` rounds of the ratio httpx / own measured
in the same round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import httpx_variant  # noqa: E402
from benchmarks.floor import _targets  # noqa: E402
from benchmarks.scan import _start_testbed  # noqa: E402

WORKLOADS = ("plain", "https", "web")
CLIENTS = ("own", "httpx")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _context(settings: Any) -> Any:
    from exposure.contract import CheckContext
    from exposure.memo import RunMemo
    from exposure.net.dns import AiodnsResolver, CachingResolver
    from exposure.scan.limits import Limits

    inner = AiodnsResolver(settings.resolver_addresses(), timeout=2.0, tries=1)
    return CheckContext(
        settings=settings,
        dns=CachingResolver(inner),
        limits=Limits(settings.per_ip_concurrency),
        memo=RunMemo(),
        now=datetime.now(UTC),
    )


async def _measure(
    n: int, concurrency: int, one: Callable[[int], Awaitable[bool]]
) -> dict[str, float]:
    slots = asyncio.Semaphore(concurrency)
    failures = 0

    async def bounded(i: int) -> None:
        nonlocal failures
        async with slots:
            if not await one(i):
                failures += 1

    cpu0, wall0 = _cpu(), time.perf_counter()
    await asyncio.gather(*(bounded(i) for i in range(n)))
    cpu, wall = _cpu() - cpu0, time.perf_counter() - wall0
    return {"cpu_ms": cpu / n * 1000, "wall_ms": wall / n * 1000, "failures": failures}


async def one_round(
    info: dict[str, Any], n: int, concurrency: int, order: tuple[str, ...]
) -> dict[str, dict[str, dict[str, float]]]:
    import exposure.net.http as http
    from exposure.settings import Settings

    _, sites = await _targets(info)
    if not sites:
        raise SystemExit("no site of the testbed answered HTTPS and HTTP")
    settings = Settings(
        **info["settings"],
        database="sqlite://",
        connect_timeout=2.0,
        read_timeout=5.0,
        per_ip_concurrency=4,
    )
    switch = {"own": httpx_variant.restore, "httpx": httpx_variant.use}
    results: dict[str, dict[str, dict[str, float]]] = {}
    for client in order:
        switch[client]()
        ctx = await _context(settings)

        def workload(kind: str, ctx: Any = ctx) -> Callable[[int], Awaitable[bool]]:
            async def one(i: int) -> bool:
                host, address = sites[i % len(sites)]
                if kind == "plain":
                    r = await http.fetch(
                        ctx, f"http://{host}/", address=address, follow_redirects=False
                    )
                    return r.ok
                if kind == "https":
                    r = await http.fetch(ctx, f"https://{host}/", address=address, verify=True)
                    return r.ok and r.status == 200
                r = await http.fetch(ctx, f"http://{host}/", address=address)
                return r.ok and r.status == 200 and len(r.hops) == 2

            return one

        results[client] = {}
        for kind in WORKLOADS:
            await _measure(min(n, 100), concurrency, workload(kind))  # warm up
            results[client][kind] = await _measure(n, concurrency, workload(kind))
    httpx_variant.restore()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="fetches of each kind per client")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write every round's figures here")
    parser.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto")
    args = parser.parse_args()
    from exposure.app.loop import loop_factory

    factory = loop_factory(args.loop)
    rounds: list[dict[str, dict[str, dict[str, float]]]] = []
    with tempfile.TemporaryDirectory(prefix="exposure-http-") as tmp:
        testbed, info_path = _start_testbed(100, 0.0, Path(tmp), 0.0)
        try:
            info = json.loads(info_path.read_text())
            for r in range(args.repeat):
                order = CLIENTS if r % 2 == 0 else tuple(reversed(CLIENTS))
                with asyncio.Runner(loop_factory=factory) as runner:
                    figures = runner.run(one_round(info, args.n, args.concurrency, order))
                rounds.append(figures)
                line = "  ".join(
                    f"{kind} {figures['own'][kind]['cpu_ms']:.3f}/"
                    f"{figures['httpx'][kind]['cpu_ms']:.3f}"
                    for kind in WORKLOADS
                )
                print(f"round {r + 1} ({' then '.join(order)}), CPU ms own/httpx: {line}")
        finally:
            testbed.terminate()
            testbed.wait(timeout=30)
    print(
        f"\n{args.loop} loop, {args.repeat} rounds x {args.n} fetches each, "
        f"concurrency {args.concurrency}; medians (range):"
    )
    print(
        f"  {'':6} {'own CPU ms':>11} {'httpx CPU ms':>13} {'httpx/own':>16} {'wall own/httpx':>16}"
    )
    for kind in WORKLOADS:
        own = [r["own"][kind]["cpu_ms"] for r in rounds]
        new = [r["httpx"][kind]["cpu_ms"] for r in rounds]
        ratios = [b / a for a, b in zip(own, new, strict=True)]
        wall_own = statistics.median(r["own"][kind]["wall_ms"] for r in rounds)
        wall_new = statistics.median(r["httpx"][kind]["wall_ms"] for r in rounds)
        failures = sum(r[c][kind]["failures"] for r in rounds for c in CLIENTS)
        print(
            f"  {kind:6} {statistics.median(own):11.3f} {statistics.median(new):13.3f} "
            f"{statistics.median(ratios):6.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) "
            f"{wall_own:7.3f}/{wall_new:.3f}   failures {failures}"
        )
    if args.json:
        args.json.write_text(json.dumps(rounds, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
