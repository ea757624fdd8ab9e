"""`exposure warn` and `exposure warnings list`: warnings out, and their audit trail."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from exposure.app.cli.common import err, fail, open_store, out, settings_of

warnings_app = typer.Typer(help="The warnings sent to companies: the audit trail.")


def warn(
    ctx: typer.Context,
    outbox: Annotated[
        Path | None, typer.Option("--outbox", help="write one .eml per message to this folder")
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="deliver over SMTP (smtp_url)")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show what would go out; write, send, record nothing")
    ] = False,
    min_severity: Annotated[
        str, typer.Option(help="warn about findings at or above: info, low, medium, high, critical")
    ] = "medium",
    company: Annotated[
        list[str] | None, typer.Option("--company", help="only this company (repeatable)")
    ] = None,
    show: Annotated[bool, typer.Option("--show", help="print the text of every message")] = False,
) -> None:
    """Warn each company about what is new and serious since its last message.

    Exit codes: 0 all messages written or sent (or nothing to do); 2 bad input; 3 some message
    failed (it is tried again on the next run) or a company has no usable address.
    """
    from exposure.registry import RegistryError, load
    from exposure.severity import Severity
    from reports.specs import Specs
    from reports.warning_output import print_warn_report
    from reports.warning_run import WarnOptions, WarnSetupError, run_warnings

    try:
        threshold = Severity.parse(min_severity)
    except ValueError as exc:
        fail(f"--min-severity: {exc}")
    settings = settings_of(ctx)
    options = WarnOptions(
        outbox=outbox,
        send=send,
        dry_run=dry_run,
        min_severity=threshold,
        company_ids=tuple(company) if company else None,
    )
    try:
        registry = load()
    except RegistryError as exc:
        fail(str(exc))
    from exposure.app.cli.lease import take_lease
    from exposure.signals import Terminated, sigterm_raises
    from exposure.store.lease import WARN
    from reports.render import remove_stale_temps

    engine = open_store(settings)
    # A dry run writes and records nothing: it may look while another warn works.
    lease = None if dry_run else take_lease(engine, WARN, settings)
    try:
        if outbox is not None and lease is not None:
            remove_stale_temps(outbox)  # ours alone to clean: we hold the warn lease
        with sigterm_raises():
            topics = Specs.from_registry(registry)
            report = run_warnings(engine, settings, topics.by_id, options, topics=topics)
    except WarnSetupError as exc:
        fail(str(exc))
    except Terminated:
        err.print(
            "terminated (SIGTERM): messages already recorded stay recorded; the rest go out "
            "with the next `exposure warn`",
            markup=False,
        )
        raise typer.Exit(143) from None
    finally:
        if lease is not None:
            lease.release()
    print_warn_report(report, out, show_text=show)
    raise typer.Exit(report.exit_code)


class TrailFormat(StrEnum):
    table = "table"
    json = "json"


@warnings_app.command("list")
def warnings_list(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option(help="only this company id")] = None,
    since: Annotated[
        str | None, typer.Option(help="only from this date on (YYYY-MM-DD, UTC)")
    ] = None,
    format: Annotated[
        TrailFormat, typer.Option("--format", help="output format")
    ] = TrailFormat.table,
) -> None:
    """The audit trail: every warning written or sent, to whom, why, and how it went."""
    from datetime import UTC, datetime

    from exposure.store.db import session as session_scope
    from exposure.store.warnings import list_warnings
    from reports.warning_output import print_warning_rows, warning_rows_json

    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since.strip())
        except ValueError:
            fail(f"--since: {since!r} is not a date (expected YYYY-MM-DD)")
        if start.tzinfo is not None:
            start = start.astimezone(UTC).replace(tzinfo=None)
    engine = open_store(settings_of(ctx))
    with session_scope(engine) as session:
        rows = list_warnings(session, company_id=company, since=start)
    if format is TrailFormat.json:
        sys.stdout.write(warning_rows_json(rows) + "\n")
    else:
        print_warning_rows(rows, out)


def register(app: typer.Typer) -> None:
    app.command()(warn)
    app.add_typer(warnings_app, name="warnings")
