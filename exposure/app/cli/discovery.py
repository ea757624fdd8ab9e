"""`exposure discovery run|list|confirm|reject`: hosts of members found by discovery (#22).

Discovery proposes; the Meldpunt decides. `run` asks the passive sources and stores proposals
(with `discovery_auto_confirm`, a name that provably is the member's is confirmed at once);
`list` shows them with source and evidence; `confirm` makes a host a target (scanned from the
next run on, by every family that applies); `reject` keeps it out for good.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from exposure.app.cli.common import fail, open_store, out, plain_row, settings_of
from exposure.settings import Settings

discovery_app = typer.Typer(
    help="Hosts of members found by passive discovery: run, list, confirm, reject."
)

EXIT_INCOMPLETE = 3


class Format(StrEnum):
    table = "table"
    json = "json"


@discovery_app.command("run")
def discovery_run(
    ctx: typer.Context,
    company: Annotated[
        list[str] | None, typer.Option("--company", help="only this company id (repeatable)")
    ] = None,
    deadline: Annotated[
        float | None, typer.Option(help="seconds for the whole run (default run_deadline)")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="skip companies discovered in the last 20 hours")
    ] = False,
) -> None:
    """Ask the passive sources for every active company (or one) and store proposals.

    Exit code 3 when a source could not answer for some company or the deadline cut the run
    short: what was found is stored, and the rest is "could not test", not "nothing there".
    """
    import asyncio

    from exposure.discovery.service import UnknownCompanyError, run_discovery

    settings = settings_of(ctx)
    if deadline is not None and deadline <= 0:
        fail("--deadline: must be more than 0 seconds")
    engine = open_store(settings)
    try:
        report = asyncio.run(
            run_discovery(settings, engine, company or None, deadline=deadline, resume=resume)
        )
    except UnknownCompanyError as exc:
        fail(f"--company: {exc}")
    outcome = report.outcome
    for note in report.notes:
        out.print(note, markup=False)
    for failure, domains in outcome.failure_groups():
        where = domains[0] if len(domains) == 1 else _some(domains)
        out.print(
            f"could not test: {failure.source} {where}: {failure.reason.value}: {failure.message}",
            markup=False,
        )
    if outcome.not_reached:
        out.print(
            f"deadline: {len(outcome.not_reached)} companies not reached "
            f"({', '.join(outcome.not_reached[:5])}); `exposure discovery run --resume`",
            markup=False,
        )
    out.print(
        f"{outcome.done}/{outcome.companies} companies; {outcome.proposed} proposed, "
        f"{outcome.auto_confirmed} confirmed by rule, {outcome.dropped} shared/CDN addresses "
        f"left out, {outcome.rejected_ignored} rejected seen again, {outcome.retired} retired "
        f"({report.seconds:.1f} s)",
        markup=False,
    )
    if not outcome.complete:
        raise typer.Exit(EXIT_INCOMPLETE)


def _some(domains: list[str]) -> str:
    shown = ", ".join(domains[:3]) + (", ..." if len(domains) > 3 else "")
    return f"for {len(domains)} domains ({shown})"


@discovery_app.command("list")
def discovery_list(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option(help="only this company id")] = None,
    state: Annotated[
        list[str] | None,
        typer.Option(help="proposed, confirmed, rejected or retired (repeatable; default all)"),
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="output format")] = Format.table,
) -> None:
    """Show discovered hosts: id, company, host, state, sources and their evidence."""
    from exposure.store.db import session as session_scope
    from exposure.store.discovery import DiscoveryState, list_hosts
    from reports.discovered import proof

    known = {s.value for s in DiscoveryState}
    for value in state or ():
        if value not in known:
            fail(f"--state: {value!r} is not one of {', '.join(sorted(known))}")
    engine = open_store(settings_of(ctx))
    with session_scope(engine) as session:
        rows = list_hosts(session, company, state or None)
    if format is Format.json:
        data = [
            {
                "id": r.id,
                "company_id": r.company_id,
                "kind": r.kind,
                "host": r.value,
                "state": r.state,
                "sources": r.sources,
                "evidence": r.evidence,
                "first_seen": r.first_seen.isoformat(),
                "last_seen": r.last_seen.isoformat(),
                "decided_by": r.decided_by,
                "note": r.note,
            }
            for r in rows
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table(header_style="bold")
    for name in ("id", "company", "kind", "host", "state", "sources", "evidence"):
        table.add_column(name, overflow="fold")
    for r in rows:
        cells = (r.company_id, r.kind, r.value, r.state, ",".join(r.sources), proof(r.evidence))
        # names and SPF terms are what scanned records say: plain text, never rich markup
        plain_row(table, str(r.id), *cells)
    out.print(table)
    out.print(f"{len(rows)} discovered hosts", markup=False)


def _decide(ctx: typer.Context, host_ids: list[int], *, confirm: bool, by: str, note: str) -> None:
    from exposure.store.db import session as session_scope
    from exposure.store.discovery import DiscoveryError
    from exposure.store.discovery import confirm as do_confirm
    from exposure.store.discovery import reject as do_reject

    engine = open_store(settings_of(ctx))
    try:
        with session_scope(engine) as session:
            rows = [
                (do_confirm if confirm else do_reject)(session, host_id, by=by, note=note)
                for host_id in host_ids
            ]
    except DiscoveryError as exc:  # nothing is stored: all or none
        fail(str(exc))
    for row in rows:
        what = (
            "confirmed: scanned as a target from the next scan on"
            if confirm
            else "rejected: never proposed again"
        )
        out.print(f"#{row.id} {row.company_id} {row.value}: {what}", markup=False)


@discovery_app.command("confirm")
def discovery_confirm(
    ctx: typer.Context,
    host_id: Annotated[list[int], typer.Argument(help="ids from `exposure discovery list`")],
    by: Annotated[str, typer.Option(help="who decides (kept with the decision)")] = "meldpunt",
    note: Annotated[str, typer.Option(help="why, e.g. 'called the owner'")] = "",
) -> None:
    """Confirm hosts as the member's: they become targets (origin discovered)."""
    _decide(ctx, host_id, confirm=True, by=by, note=note)


@discovery_app.command("reject")
def discovery_reject(
    ctx: typer.Context,
    host_id: Annotated[list[int], typer.Argument(help="ids from `exposure discovery list`")],
    by: Annotated[str, typer.Option(help="who decides (kept with the decision)")] = "meldpunt",
    note: Annotated[str, typer.Option(help="why, e.g. 'the hoster's, not ours'")] = "",
) -> None:
    """Reject hosts for good: not the member's; a target they had is removed."""
    _decide(ctx, host_id, confirm=False, by=by, note=note)


def register(app: typer.Typer) -> None:
    app.add_typer(discovery_app, name="discovery")


def nightly_discovery(settings: Settings) -> float:
    """Discovery before the nightly scan (`discovery_schedule`), within a share of the run's
    deadline; returns the seconds it took, which the scan's deadline gives up.

    A discovery that fails or is cut short never stops the scan: its could-not-test lines go
    to the log, what it found is stored, and the next night resumes it.
    """
    import asyncio
    import logging

    from exposure.discovery.service import NIGHTLY_SHARE, discovery_due, run_discovery
    from exposure.models import utcnow

    log = logging.getLogger("exposure.discovery")
    engine = open_store(settings)
    if not discovery_due(engine, settings.discovery_schedule, utcnow()):
        return 0.0
    try:
        report = asyncio.run(
            run_discovery(
                settings, engine, deadline=settings.run_deadline * NIGHTLY_SHARE, resume=True
            )
        )
    except Exception:  # the scan of the known targets goes ahead
        log.exception("discovery failed before the nightly scan")
        return 0.0
    for failure, domains in report.outcome.failure_groups():
        log.warning(
            "discovery could not test %s for %s: %s",
            failure.source,
            domains[0] if len(domains) == 1 else _some(domains),
            failure.message,
            extra={
                "action": "discovery_could_not_test",
                "source": failure.source,
                "domains": len(domains),
            },
        )
    for note in report.notes:  # e.g. what the Shodan search spent of its credit budget
        log.info("discovery: %s", note, extra={"action": "discovery_note"})
    log.info(
        "discovery: %s",
        report.outcome.as_dict(),
        extra={"action": "discovery_finished", "summary": report.outcome.as_dict()},
    )
    return report.seconds
