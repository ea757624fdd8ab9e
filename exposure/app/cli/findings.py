"""`exposure findings`, `checks` and `runs`: what the store and the catalogue hold."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from exposure.app.cli.common import fail, open_store, out, plain_row, settings_of

if TYPE_CHECKING:
    from sqlalchemy import Engine


class Status(StrEnum):
    open = "open"
    resolved = "resolved"
    accepted = "accepted"
    all = "all"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def findings(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option(help="only this company id")] = None,
    status: Annotated[Status, typer.Option(help="which findings")] = Status.open,
    min_severity: Annotated[
        str | None, typer.Option(help="info, low, medium, high or critical")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="output format")] = Format.table,
) -> None:
    """List stored findings."""
    from exposure.severity import Severity
    from exposure.store.db import session as session_scope
    from exposure.store.queries import list_findings
    from reports.findings import print_table, to_csv, to_json

    threshold = None
    if min_severity is not None:
        try:
            threshold = Severity.parse(min_severity)
        except ValueError as exc:
            fail(f"--min-severity: {exc}")
    engine = open_store(settings_of(ctx))
    with session_scope(engine) as session:
        rows = list_findings(
            session, company_id=company, status=status.value, min_severity=threshold
        )
    if format is Format.json:
        sys.stdout.write(to_json(rows) + "\n")
    elif format is Format.csv:
        sys.stdout.write(to_csv(rows))
    else:
        from reports.findings import print_table

        print_table(rows, out)


def checks(ctx: typer.Context) -> None:
    """The finding catalogue: id, severity, title, and which installed check emits it."""
    from exposure.catalogue import ENTRIES
    from exposure.registry import RegistryError, load

    language = settings_of(ctx).language
    try:
        registry = load()
    except RegistryError as exc:
        fail(str(exc))
    specs = registry.specs()
    family = registry.family_of()
    table = Table(header_style="bold")
    for name in ("id", "severity", "title", "check"):
        table.add_column(name, overflow="fold")
    for entry in ENTRIES:
        spec = specs.get(entry.id)
        title = spec.title.get(language) if spec else "[dim](not installed)[/]"
        table.add_row(entry.id, entry.severity.value, title, family.get(entry.id, ""))
    out.print(table)
    out.print(f"{len(specs)} of {len(ENTRIES)} catalogue ids are installed")


def runs(
    ctx: typer.Context,
    errors: Annotated[int | None, typer.Option(help="show the check errors of this run")] = None,
    limit: Annotated[int, typer.Option(help="how many runs")] = 10,
) -> None:
    """Recent scan runs and their health."""
    from exposure.distributed.bookkeeping import runs_with_queued_work
    from exposure.store.db import session as session_scope
    from exposure.store.lease import by_run, owner_cells
    from exposure.store.queries import recent_runs, run_errors

    settings = settings_of(ctx)
    engine = open_store(settings)
    with session_scope(engine) as session:
        if errors is not None:
            rows = run_errors(session, errors)
            table = Table(header_style="bold")
            for name in ("company", "target", "check", "reason", "message"):
                table.add_column(name, overflow="fold")
            for e in rows:
                plain_row(table, e.company_id, e.target, e.check_id, e.reason, e.message)
            out.print(table)
            out.print(f"{len(rows)} errors in run {errors}")
            return
        table = Table(header_style="bold")
        for name in (
            "run",
            "started",
            "finished",
            "status",
            "companies",
            "new",
            "resolved",
            "errors",
            "owner",
            "heartbeat",
        ):
            table.add_column(name)
        leases = by_run(engine)
        queued = runs_with_queued_work(engine)
        for r in recent_runs(session, limit):
            table.add_row(
                str(r.id),
                r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                r.finished_at.strftime("%H:%M:%S") if r.finished_at else "",
                r.status,
                f"{r.companies_done}/{r.companies_total}",
                str(r.findings_new),
                str(r.findings_resolved),
                str(r.errors),
                *owner_cells(
                    r.status,
                    leases.get(r.id or -1),
                    settings.lease_timeout,
                    queued=queued.get(r.id or -1, 0),
                ),
            )
        out.print(table)
    _discovery_line(engine)


def _discovery_line(engine: Engine) -> None:
    """The nightly run's discovery part (issue #22): it is no scan run, so it gets one line
    under the table, the same one `exposure doctor --check discovery` judges."""
    from exposure.discovery.status import last_look
    from exposure.models import utcnow

    look = last_look(engine)
    if look is not None:
        out.print(f"discovery: {look.describe(utcnow())}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(findings)
    app.command()(checks)
    app.command()(runs)
