"""Benchmark of the mail and dns families: DNS queries and time per domain.

    python benchmarks/mail.py [--companies 400] [--latency 0.02] [--json FILE]

The testbed (`synthetic:N`: shared mail providers with SPF include chains, 5% NXDOMAIN domains)
runs in its own process, so its CPU is not billed to the scanner. The scan runs here through the
orchestrator into a fresh SQLite store, once with `--check mail` and once with `--check dns`,
and prints per family:

- DNS queries per domain (by type, counted by the scanner's resolver, cache hits excluded);
- wall time per domain (the run's wall time over its domains: throughput) and the latency of one
  domain's check (median and 95th percentile: what a single domain waits, mostly DNS round
  trips at the given latency);
- CPU per domain spent by the family on the event loop;
- the STARTTLS handshakes of the run (one SMTP session per MX host, however many domains use
  it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exposure.contract import Check, CheckContext, CheckMeta, Observation, ScanTarget  # noqa: E402


class Timed:
    """A check that records how long each of its runs took (the benchmark's view of latency)."""

    meta: ClassVar[CheckMeta]

    def __init__(self, inner: Check, seconds: list[float]) -> None:
        self.inner = inner
        self.meta = inner.meta  # type: ignore[misc]
        self.seconds = seconds

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        started = time.perf_counter()
        try:
            return await self.inner.run(target, ctx)
        finally:
            self.seconds.append(time.perf_counter() - started)


def _start_testbed(
    companies: int, latency: float, workdir: Path
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
            "--info",
            str(info),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not info.exists() or not info.read_text().strip():
        if proc.poll() is not None:
            raise SystemExit(f"the testbed exited with {proc.returncode}")
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the testbed did not start within 120 s")
        time.sleep(0.05)
    time.sleep(0.1)
    return proc, info


async def _scan(info_path: Path, workdir: Path, family: str) -> dict[str, Any]:
    from exposure.net.dns import AiodnsResolver
    from exposure.registry import Registry, load
    from exposure.scan.orchestrator import Orchestrator
    from exposure.settings import load_settings
    from exposure.store.db import make_engine, migrate
    from exposure.store.db import session as session_scope
    from targets.csv import read_members
    from targets.sync import apply_import, plan_import

    info = json.loads(info_path.read_text())
    overrides = {k: v for k, v in info["settings"].items() if v is not None}
    database = workdir / f"{family}.db"
    settings = load_settings(database=f"sqlite:///{database}", **overrides)
    engine = make_engine(settings.database)
    migrate(engine)
    with session_scope(engine) as session:
        apply_import(session, plan_import(session, read_members(info["members_csv"]), prune=False))
    seconds: list[float] = []
    checks = tuple(Timed(c, seconds) for c in load().checks if c.meta.id == family)
    resolver = AiodnsResolver(
        settings.resolver_addresses(), timeout=settings.dns_timeout, tries=settings.dns_tries
    )
    orchestrator = Orchestrator(settings, Registry(checks), engine, resolver=resolver)  # type: ignore[arg-type]
    started = time.perf_counter()
    summary = await orchestrator.scan()
    wall = time.perf_counter() - started
    await resolver.close()
    engine.dispose()
    domains = len(seconds)
    ordered = sorted(seconds)
    return {
        "family": family,
        "domains": domains,
        "wall_seconds": wall,
        "wall_ms_per_domain": wall / domains * 1000,
        "check_ms_median": statistics.median(ordered) * 1000,
        "check_ms_p95": ordered[int(0.95 * (domains - 1))] * 1000,
        "cpu_ms_per_domain": summary.cpu_by_family.get(family, 0.0) / domains * 1000,
        "dns_queries": summary.dns_queries,
        "dns_per_domain": summary.dns_queries / domains,
        "dns_by_type_per_domain": {
            t: round(n / domains, 2) for t, n in sorted(resolver.queries.items())
        },
        "errors": dict(summary.stats.errors_by_reason),
        "findings_new": summary.stats.new,
        # the mail family's only TLS handshakes are its SMTP sessions' STARTTLS upgrades
        "tls_handshakes": (summary.as_dict().get("tls") or {}).get("handshakes", 0),
    }


def _print(result: dict[str, Any]) -> None:
    print(f"\n{result['family']} family, {result['domains']} domains")
    print(
        f"  wall time          {result['wall_seconds']:.2f} s "
        f"({result['wall_ms_per_domain']:.1f} ms per domain)"
    )
    print(
        f"  one domain's check median {result['check_ms_median']:.0f} ms, "
        f"p95 {result['check_ms_p95']:.0f} ms"
    )
    print(f"  CPU                {result['cpu_ms_per_domain']:.2f} ms per domain")
    by_type = ", ".join(f"{t} {n}" for t, n in result["dns_by_type_per_domain"].items())
    by_type = f" ({by_type})" if by_type else " (SOA, DS, DNSKEY with DO+CD)"
    print(f"  DNS queries        {result['dns_per_domain']:.1f} per domain{by_type}")
    if result["family"] == "mail":
        print(f"  SMTP sessions      {result['tls_handshakes']} with STARTTLS for the whole run")
    print(f"  errors             {result['errors'] or 'none'}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--companies", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per DNS answer")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exposure-bench-mail-") as tmp:
        workdir = Path(tmp)
        testbed, info = _start_testbed(args.companies, args.latency, workdir)
        try:
            results = [asyncio.run(_scan(info, workdir, family)) for family in ("mail", "dns")]
        finally:
            testbed.send_signal(signal.SIGTERM)
            testbed.wait(timeout=30)
    print(f"{args.companies} companies, {args.latency * 1000:.0f} ms per DNS answer")
    for result in results:
        _print(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
