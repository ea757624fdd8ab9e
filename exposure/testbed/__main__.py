"""Run a testbed in its own process (for benchmarks and manual exploration).

    python -m exposure.testbed --area demo|synthetic:N[:SEED] --latency 0.02 --info FILE

Writes FILE (JSON: block, settings, env, shodan_api_key, members_csv) once everything listens,
then runs until SIGTERM or SIGINT and stops cleanly. On SIGUSR1 it writes what it has seen so
far (`Testbed.counters()` as JSON, plus accepted web connections) to `<FILE>.counters.json`. The member list is written next to FILE
(`<FILE>.members.csv`) unless `--members` says where.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import shlex
import signal
import sys
from pathlib import Path

from exposure.testbed.area_demo import area_by_name
from exposure.testbed.runner import Testbed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m exposure.testbed", description=__doc__)
    parser.add_argument("--area", default="demo", help="demo or synthetic:N[:SEED]")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per DNS answer")
    parser.add_argument(
        "--connect-latency",
        type=float,
        default=0.0,
        help="seconds added before each accepted web or SMTP connection is served",
    )
    parser.add_argument("--info", type=Path, required=True, help="where to write the JSON info")
    parser.add_argument("--members", type=Path, default=None, help="member-list CSV to write")
    parser.add_argument("--block", type=int, default=None, help="N of 127.N.0.0/16")
    parser.add_argument(
        "--env-file",
        type=Path,
        default=None,
        help="also write the EXPOSURE_* settings as KEY='value' lines (for `set -a; . FILE`)",
    )
    parser.add_argument(
        "--shodan-rate", type=float, default=None, help="seconds between REST requests per key"
    )
    return parser


async def _run(args: argparse.Namespace) -> None:
    area = area_by_name(args.area)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with Testbed(
        area, latency=args.latency, connect_latency=args.connect_latency, block=args.block
    ) as tb:
        counters_path = args.info.with_name(args.info.name + ".counters.json")
        loop.add_signal_handler(signal.SIGUSR1, _write_counters, tb, counters_path)
        if args.shodan_rate is not None and tb.shodan is not None:
            tb.shodan.rate_interval = args.shodan_rate
        members = args.members or args.info.with_name(args.info.name + ".members.csv")
        tb.write_members_csv(members)
        info = tb.info()
        info["members_csv"] = str(members)
        if args.env_file is not None:
            lines = [f"{key}={shlex.quote(value)}" for key, value in sorted(tb.env().items())]
            args.env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp = args.info.with_name(args.info.name + ".tmp")
        tmp.write_text(json.dumps(info, indent=2), encoding="utf-8")
        tmp.replace(args.info)  # appears complete or not at all: a waiting parent polls for it
        print(f"testbed {area.name!r} on 127.{tb.block}.0.0/16; info in {args.info}", flush=True)
        await stop.wait()


def _write_counters(tb: Testbed, path: Path) -> None:
    counters = tb.counters()
    data = dataclasses.asdict(counters)
    data["web_connections"] = sum(
        server.connections
        for site_ip in (tb.web.ips.values() if tb.web is not None else ())
        for server in (site_ip.http, site_ip.https)
        if server is not None
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        area_by_name(args.area)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
