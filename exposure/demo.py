"""`exposure demo`: a simulated port area on loopback, scanned end to end.

It does what the ICT partner does every night (import the member list, scan, list what was
found), against the testbed instead of the internet, so a new user sees the whole path in well
under a minute and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from rich.console import Console

from exposure.orchestrator import Orchestrator
from exposure.progress import for_terminal
from exposure.registry import load
from exposure.settings import load_settings
from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from exposure.store.queries import list_findings
from exposure.summary import print_summary
from exposure.testbed.area_demo import demo_area
from exposure.testbed.runner import Testbed
from reports.findings import print_table
from targets.csv import read_members
from targets.sync import apply_import, plan_import, summarise


def run_demo(output: Path, console: Console) -> int:
    """Prepare a fresh output folder, then run the demo; the exit code for the CLI."""
    output.mkdir(parents=True, exist_ok=True)
    for stale in output.glob("exposure.db*"):
        stale.unlink()
    return asyncio.run(_demo(output, console))


async def _demo(output: Path, console: Console) -> int:
    started = time.perf_counter()
    database = output / "exposure.db"
    members_csv = output / "members.csv"

    console.print(
        "[bold]exposure demo[/]: a simulated port area on loopback (no real host is contacted)"
    )
    async with Testbed(demo_area()) as testbed:
        settings = load_settings(database=f"sqlite:///{database}", **testbed.settings_overrides())
        testbed.write_members_csv(members_csv)
        members = read_members(members_csv)
        engine = make_engine(settings.database)
        try:
            migrate(engine)
            with session_scope(engine) as session:
                plan = plan_import(session, members, prune=False)
                apply_import(session, plan)
            console.print(f"imported {members_csv}: {summarise(plan)}")
            orchestrator = Orchestrator(settings, load(), engine, progress=for_terminal())
            summary = await orchestrator.scan()
            print_summary(summary, console)
            with session_scope(engine) as session:
                rows = list_findings(session, status="open")
            print_table(rows, console)
        finally:
            engine.dispose()
    console.print(f"\ndatabase: {database}")
    console.print(f"member list: {members_csv}")
    console.print(
        "look further with: "
        f"[bold]exposure --database sqlite:///{database} findings --format json[/]"
    )
    console.print(f"demo finished in {time.perf_counter() - started:.1f} s; nothing left running")
    return 0 if summary.status == "complete" else 1
