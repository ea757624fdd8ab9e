"""`exposure demo`: a simulated port area on loopback, scanned end to end.

It does what the ICT partner does every night (import the member list, discover the members'
hosts the list does not name, scan, list what was found), against the testbed instead of the internet, so a new user sees the whole path in well
under a minute and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import Engine

from exposure.app.demo_discovery import discover_and_decide
from exposure.app.progress import for_terminal
from exposure.app.summary import print_summary
from exposure.contract import FindingSpec
from exposure.models import RunStatus
from exposure.registry import Registry, load
from exposure.scan.orchestrator import Orchestrator
from exposure.settings import Settings, load_settings
from exposure.severity import Severity
from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from exposure.store.queries import list_findings
from exposure.testbed.area_demo import demo_area
from exposure.testbed.runner import Testbed
from reports.codes import CodeBook
from reports.findings import print_table
from reports.publish import Written, write_all
from reports.specs import Specs
from reports.warning_output import print_warn_report
from reports.warning_run import WarnOptions, WarnReport, run_warnings
from targets.csv import read_members
from targets.sync import apply_import, plan_import, summarise

#: Who the demo's warnings are from, where `exposure.toml` does not say (all fictional).
DEMO_SENDER = {
    "meldpunt_email": "meldpunt@meldpunt-demo.test",
    "meldpunt_phone": "0255 000 000",
    "meldpunt_url": "www.meldpunt-demo.test",
}


def demo_warnings(
    engine: Engine,
    settings: Settings,
    specs: Mapping[str, FindingSpec],
    outbox: Path,
    codes: CodeBook | None = None,
    topics: Specs | None = None,
) -> WarnReport:
    """The demo's warnings in `outbox`, as `exposure warn --outbox` writes them."""
    missing = {key: value for key, value in DEMO_SENDER.items() if not getattr(settings, key)}
    return run_warnings(
        engine,
        settings.model_copy(update=missing),
        specs,
        WarnOptions(outbox=outbox),
        codes=codes,
        topics=topics,
    )


def demo_reports(
    engine: Engine, settings: Settings, registry: Registry, output: Path
) -> tuple[list[Written], Path]:
    """Every company's report in `<output>/reports/` and the overview in `<output>/overview/`."""
    for stale in (output / "reports").glob("*.html"):
        stale.unlink()
    return write_all(
        engine,
        Specs.from_registry(registry),
        settings.model_copy(update=_sender(settings)),
        output / "reports",
        output / "overview",
    )


def _sender(settings: Settings) -> dict[str, str]:
    return {key: value for key, value in DEMO_SENDER.items() if not getattr(settings, key)}


def run_demo(output: Path, console: Console) -> int:
    """Prepare a fresh output folder, then run the demo; the exit code for the CLI."""
    output.mkdir(parents=True, exist_ok=True)
    for stale in output.glob("exposure.db*"):
        stale.unlink()
    for stale in (output / "outbox").glob("*.eml"):
        stale.unlink()
    return asyncio.run(_demo(output, console))


async def _demo(output: Path, console: Console) -> int:
    started = time.perf_counter()
    database = output / "exposure.db"
    members_csv = output / "members.csv"
    outbox = output / "outbox"

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
            discovered = await discover_and_decide(settings, engine, testbed.address, console)
            registry = load()
            orchestrator = Orchestrator(settings, registry, engine, progress=for_terminal())
            summary = await orchestrator.scan()
            print_summary(summary, console)
            with session_scope(engine) as session:
                rows = list_findings(session, status="open", min_severity=Severity.HIGH)
            console.print(
                "\n[bold]the most serious open findings[/] (all of them: `exposure findings`)"
            )
            print_table(rows, console)
            topics = Specs.from_registry(registry)
            warnings = await asyncio.to_thread(
                demo_warnings, engine, settings, topics.by_id, outbox, topics.codes, topics
            )
            print_warn_report(warnings, console)
            reports, overview = await asyncio.to_thread(
                demo_reports, engine, settings, registry, output
            )
        finally:
            engine.dispose()
    console.print(f"\ndatabase: {database}")
    console.print(f"member list: {members_csv}")
    console.print(
        f"warnings: {outbox} ({len(warnings.messages)} messages, one .eml per company; "
        "open one in a mail client)"
    )
    console.print(f"reports: {output / 'reports'} (one page per company; open one in a browser)")
    for written in reports:
        console.print(f"  {written.grade or '-'}  {written.path}", markup=False, highlight=False)
    console.print(f"overview for the Meldpunt: {overview}")
    console.print(
        f"discovery: {discovered.proposed} hosts proposed, {discovered.confirmed} confirmed "
        f"and scanned, {discovered.rejected} rejected for good; the rest wait for the Meldpunt "
        f"([bold]exposure --database sqlite:///{database} discovery list[/])"
    )
    console.print(
        "look further with: "
        f"[bold]exposure --database sqlite:///{database} findings --format json[/]"
    )
    console.print(f"demo finished in {time.perf_counter() - started:.1f} s; nothing left running")
    return 0 if summary.status == RunStatus.COMPLETE and discovered.as_planted else 1
