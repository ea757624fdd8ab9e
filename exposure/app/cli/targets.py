"""`exposure targets import|list`: the member list in and out.

`list` also shows the targets discovery added (`origin` discovered, issue #22) and why: the
sources that found the host and who confirmed it, so nobody wonders why a host the member list
does not name is scanned. `import` never touches them (targets/sync.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from exposure.app.cli.common import err, fail, open_store, out, plain_row, settings_of

if TYPE_CHECKING:
    from sqlmodel import Session

    from exposure.models import DiscoveredHost

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
        found = _discovered(session, {r.company_id for r in rows if r.origin != "listed"})
    table = Table(header_style="bold")
    for name in ("company", "name", "kind", "target", "origin", "note"):
        table.add_column(name, overflow="fold")
    for row in rows:
        notes = ["private: skipped unless allow_private"] if row.private else []
        if row.origin != "listed":
            notes.append(_found_via(found.get((row.company_id, row.value))))
        shown = row.value if row.display in ("", row.value) else f"{row.display} ({row.value})"
        plain_row(table, row.company_id, row.name, row.kind, shown, row.origin, "; ".join(notes))
    out.print(table)
    discovered = sum(1 for r in rows if r.origin != "listed")
    out.print(
        f"{len({r.company_id for r in rows})} companies, {len(rows)} targets"
        + (f" ({discovered} found by discovery)" if discovered else ""),
        markup=False,
    )


def _discovered(session: Session, company_ids: set[str]) -> dict[tuple[str, str], DiscoveredHost]:
    """The confirmed discovered hosts behind the discovered targets, by (company, value)."""
    from exposure.store.discovery import discovered_targets

    return {
        (company_id, value): host
        for company_id in sorted(company_ids)
        for value, host in discovered_targets(session, company_id).items()
    }


def _found_via(host: DiscoveredHost | None) -> str:
    """`found via ct, dns; confirmed by meldpunt 2026-12-01`: why a target the member list does
    not name is scanned, and who decided it."""
    if host is None:
        return "found by discovery"
    text = f"found via {', '.join(host.sources) or 'discovery'}"
    if host.decided_by:
        text += f"; confirmed by {host.decided_by}"
        if host.decided_at is not None:
            text += f" {host.decided_at:%Y-%m-%d}"
    return text


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
