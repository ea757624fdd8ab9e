"""`exposure targets import|list`: the member list in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from exposure.app.cli.common import err, fail, open_store, out, plain_row, settings_of

targets_app = typer.Typer(help="The member list: import and list companies and their targets.")


@targets_app.command("import")
def targets_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: id,name,email,domains,ips,sector")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="validate and show, store nothing")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="deactivate companies no longer in the file")
    ] = False,
    allow_large_networks: Annotated[
        bool, typer.Option("--allow-large-networks", help="accept networks larger than /24")
    ] = False,
) -> None:
    """Import (or update from) the member list."""
    from targets.csv import MemberListError, read_members
    from targets.sync import PruneRefusedError, apply_import, describe_plan, plan_import, summarise

    settings = settings_of(ctx)
    try:
        members = read_members(file, allow_large_networks=allow_large_networks)
    except MemberListError as exc:
        for issue in exc.errors:
            err.print(str(issue), markup=False, highlight=False)
        raise typer.Exit(2) from None
    from exposure.store.db import session as session_scope

    engine = open_store(settings)
    with session_scope(engine) as session:
        try:
            plan = plan_import(session, members, prune=prune)
        except PruneRefusedError as exc:
            fail(f"{file}: {exc}")
        if dry_run:
            for line in describe_plan(plan):
                out.print(line, markup=False)
            out.print(f"dry run, nothing stored: {summarise(plan)}", markup=False)
            session.rollback()
            return
        apply_import(session, plan)
        session.commit()
    out.print(f"{file}: {summarise(plan)}", markup=False)


@targets_app.command("list")
def targets_list(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option(help="only this company id")] = None,
) -> None:
    """Show the stored companies and targets."""
    from exposure.store.db import session as session_scope
    from targets.sync import list_targets

    engine = open_store(settings_of(ctx))
    with session_scope(engine) as session:
        rows = list_targets(session, company)
    table = Table(header_style="bold")
    for name in ("company", "name", "kind", "target", "note"):
        table.add_column(name, overflow="fold")
    for row in rows:
        note = "private: skipped unless allow_private" if row.private else ""
        shown = row.value if row.display in ("", row.value) else f"{row.display} ({row.value})"
        plain_row(table, row.company_id, row.name, row.kind, shown, note)
    out.print(table)
    out.print(f"{len({r.company_id for r in rows})} companies, {len(rows)} targets")


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
