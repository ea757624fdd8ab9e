"""The command line (typer). Every setting is also a global option: `exposure --database URL scan`.

Bad input gets one clear line per problem on stderr and exit code 2; nothing half-written.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from exposure.ops_cli import register as _register_operations
from exposure.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    name="exposure",
    help="Passive external exposure scanner for a Meldpunt Cybersecurity.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
targets_app = typer.Typer(help="The member list: import and list companies and their targets.")
app.add_typer(targets_app, name="targets")
warnings_app = typer.Typer(help="The warnings sent to companies: the audit trail.")
app.add_typer(warnings_app, name="warnings")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class UsageError(Exception):
    """Input the user can fix; printed as one line, exit code 2."""


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"exposure: error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


class State:
    def __init__(self, config: Path | None, overrides: Mapping[str, object]) -> None:
        self._config = config
        self._overrides = dict(overrides)
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self._config, **self._overrides)
            except SettingsError as exc:
                fail(str(exc))
        return self._settings


def _state(ctx: typer.Context) -> State:
    state = ctx.obj
    assert isinstance(state, State)
    return state


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="settings file (default ./exposure.toml)")
    ] = None,
    database: Annotated[str | None, typer.Option(help="SQLAlchemy database URL")] = None,
    resolvers: Annotated[
        str | None, typer.Option(help="comma-separated recursive resolvers, ip or ip:port")
    ] = None,
    ca_bundle: Annotated[Path | None, typer.Option(help="PEM trust store for TLS checks")] = None,
    shodan_api_key: Annotated[str | None, typer.Option(help="Shodan API key")] = None,
    shodan_api_url: Annotated[str | None, typer.Option(help="Shodan REST API URL")] = None,
    internetdb_url: Annotated[str | None, typer.Option(help="Shodan InternetDB URL")] = None,
    allow_private: Annotated[
        bool | None,
        typer.Option(
            "--allow-private/--no-allow-private",
            help="scan targets in loopback/private/link-local space (labs, tests)",
        ),
    ] = None,
    ports: Annotated[
        str | None, typer.Option(help="lab override of service ports, e.g. http=8080,https=8443")
    ] = None,
    smtp_url: Annotated[str | None, typer.Option(help="where warnings are sent")] = None,
    language: Annotated[str | None, typer.Option(help="nl (default) or en")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            envvar="EXPOSURE_LOG_FORMAT",
            help="text (default) or json: one JSON object per line on stderr",
        ),
    ] = "text",
) -> None:
    from exposure.logs import LogFormat, configure

    if log_format not in {f.value for f in LogFormat}:
        fail(f"--log-format: {log_format!r} is not one of text, json")
    configure(log_format, verbose=verbose, stream=sys.stderr)
    overrides = {
        "database": database,
        "resolvers": resolvers,
        "ca_bundle": ca_bundle,
        "shodan_api_key": shodan_api_key,
        "shodan_api_url": shodan_api_url,
        "internetdb_url": internetdb_url,
        "allow_private": allow_private,
        "ports": ports,
        "smtp_url": smtp_url,
        "language": language,
    }
    ctx.obj = State(config, overrides)


def _engine(settings: Settings) -> Engine:
    from exposure.store.db import make_engine, migrate

    try:
        engine = make_engine(settings.database)
        migrate(engine)
    except Exception as exc:  # a database that cannot be opened is the user's to fix
        fail(
            f"database {_redact(settings.database)}: {exc.__class__.__name__}: {exc}".splitlines()[
                0
            ]
        )
    return engine


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database url>"


# --- targets ------------------------------------------------------------------------------------


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

    settings = _state(ctx).settings
    try:
        members = read_members(file, allow_large_networks=allow_large_networks)
    except MemberListError as exc:
        for issue in exc.errors:
            err.print(str(issue), markup=False, highlight=False)
        raise typer.Exit(2) from None
    from exposure.store.db import session as session_scope

    engine = _engine(settings)
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

    engine = _engine(_state(ctx).settings)
    with session_scope(engine) as session:
        rows = list_targets(session, company)
    table = Table(header_style="bold")
    for name in ("company", "name", "kind", "target", "note"):
        table.add_column(name, overflow="fold")
    for row in rows:
        note = "private: skipped unless allow_private" if row.private else ""
        shown = row.value if row.display in ("", row.value) else f"{row.display} ({row.value})"
        table.add_row(row.company_id, row.name, row.kind, shown, note)
    out.print(table)
    out.print(f"{len({r.company_id for r in rows})} companies, {len(rows)} targets")


# --- scan ---------------------------------------------------------------------------------------


@app.command()
def scan(
    ctx: typer.Context,
    company: Annotated[
        list[str] | None, typer.Option("--company", help="scan only this company (repeatable)")
    ] = None,
    check: Annotated[
        list[str] | None,
        typer.Option("--check", help="run only checks with this id prefix (repeatable)"),
    ] = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed", help="queue one job per company for `exposure worker` (PostgreSQL)"
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="wait for a scan in progress to end first; "
            "with --distributed: follow the run until it is finished",
        ),
    ] = False,
) -> None:
    """Scan the member list (or a part of it); resumes an interrupted run.

    Exit codes: 0 complete; 2 bad input, or another scan is in progress; 3 incomplete
    (deadline, companies that failed, the store ran out of room); 4 the resolver did not
    answer, nothing scanned; 130 interrupted; 143 terminated (SIGTERM).
    """
    from exposure.ops_cli import scan_distributed, scan_embedded

    settings = _state(ctx).settings
    if distributed:
        raise typer.Exit(scan_distributed(settings, company or None, check or None, wait=wait))
    code, _run_id = scan_embedded(settings, company or None, check or None, wait=wait)
    raise typer.Exit(code)


# --- findings -----------------------------------------------------------------------------------


class Status(StrEnum):
    open = "open"
    resolved = "resolved"
    accepted = "accepted"
    all = "all"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command()
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
    engine = _engine(_state(ctx).settings)
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


# --- catalogue ----------------------------------------------------------------------------------


@app.command()
def checks(ctx: typer.Context) -> None:
    """The finding catalogue: id, severity, title, and which installed check emits it."""
    from exposure.catalogue import ENTRIES
    from exposure.registry import RegistryError, load

    language = _state(ctx).settings.language
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


# --- runs ---------------------------------------------------------------------------------------


@app.command()
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

    settings = _state(ctx).settings
    engine = _engine(settings)
    with session_scope(engine) as session:
        if errors is not None:
            rows = run_errors(session, errors)
            table = Table(header_style="bold")
            for name in ("company", "target", "check", "reason", "message"):
                table.add_column(name, overflow="fold")
            for e in rows:
                table.add_row(e.company_id, e.target, e.check_id, e.reason, e.message)
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


# --- warn ---------------------------------------------------------------------------------------


@app.command()
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
    from reports.warning_output import print_warn_report
    from reports.warning_run import WarnOptions, WarnSetupError, run_warnings

    try:
        threshold = Severity.parse(min_severity)
    except ValueError as exc:
        fail(f"--min-severity: {exc}")
    settings = _state(ctx).settings
    options = WarnOptions(
        outbox=outbox,
        send=send,
        dry_run=dry_run,
        min_severity=threshold,
        company_ids=tuple(company) if company else None,
    )
    try:
        specs = load().specs()
    except RegistryError as exc:
        fail(str(exc))
    from exposure.ops_cli import take_lease
    from exposure.signals import Terminated, sigterm_raises
    from exposure.store.lease import WARN
    from reports.render import remove_stale_temps

    engine = _engine(settings)
    # A dry run writes and records nothing: it may look while another warn works.
    lease = None if dry_run else take_lease(engine, WARN, settings)
    try:
        if outbox is not None and lease is not None:
            remove_stale_temps(outbox)  # ours alone to clean: we hold the warn lease
        with sigterm_raises():
            report = run_warnings(engine, settings, specs, options)
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
    engine = _engine(_state(ctx).settings)
    with session_scope(engine) as session:
        rows = list_warnings(session, company_id=company, since=start)
    if format is TrailFormat.json:
        sys.stdout.write(warning_rows_json(rows) + "\n")
    else:
        print_warning_rows(rows, out)


# --- report -------------------------------------------------------------------------------------


class ReportFormat(StrEnum):
    html = "html"
    json = "json"
    csv = "csv"
    pdf = "pdf"


@app.command()
def report(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option(help="the company id of the report")] = None,
    overview: Annotated[
        bool, typer.Option("--overview", help="the Meldpunt's overview of the whole area")
    ] = False,
    format: Annotated[
        ReportFormat, typer.Option("--format", help="html (default), json, csv or pdf")
    ] = ReportFormat.html,
    output: Annotated[
        Path | None,
        typer.Option(
            help="file or existing folder (company; default: standard output), "
            "folder (overview: writes index.html)"
        ),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="nl or en (default: the company's, else the setting)")
    ] = None,
    named: Annotated[
        bool, typer.Option("--named", help="overview: name the companies (internal use)")
    ] = False,
) -> None:
    """A company's report (html) or export (json, csv), or the area overview."""
    from exposure.registry import RegistryError, load
    from reports.company import UnknownCompanyError
    from reports.publish import (
        PdfUnavailableError,
        company_output,
        output_path,
        write_overview,
    )
    from reports.publish import ReportFormat as Fmt
    from reports.render import write_atomic
    from reports.specs import Specs

    if (company is None) == (not overview):
        fail("give either --company ID or --overview")
    if language is not None and language.strip().lower() not in ("nl", "en"):
        fail(f"--language: {language!r} is not nl or en")
    if overview and output is None:
        fail("--overview needs --output DIR (the folder to write index.html in)")
    if overview and format is not ReportFormat.html:
        fail("--overview is written as html only")
    if named and not overview:
        fail("--named applies to --overview only")
    if format is ReportFormat.pdf and output is None:
        fail("--format pdf needs --output PATH")
    if overview and output is not None and output.exists() and not output.is_dir():
        fail(f"--output {output}: not a folder")
    settings = _state(ctx).settings
    try:
        specs = Specs.from_registry(load())
    except RegistryError as exc:
        fail(str(exc))
    engine = _engine(settings)
    if overview:
        assert output is not None
        from exposure.ops_cli import take_lease
        from exposure.store.lease import OVERVIEW
        from reports.render import remove_stale_temps

        lease = take_lease(engine, OVERVIEW, settings)
        try:
            remove_stale_temps(output)
            path = write_overview(engine, specs, settings, output, named=named, language=language)
        except OSError as exc:
            fail(f"--output {output}: {exc.strerror or exc}")
        finally:
            lease.release()
        err.print(f"overview written to {path}", markup=False, highlight=False)
        return
    assert company is not None
    try:
        data = company_output(engine, company, specs, settings, Fmt(format.value), language)
    except UnknownCompanyError:
        fail(f"unknown company {company!r} (see `exposure targets list`)")
    except PdfUnavailableError as exc:
        fail(str(exc))
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = output_path(output, company, Fmt(format.value))
    try:
        write_atomic(target, data)
    except OSError as exc:
        fail(f"--output {target}: {exc.strerror or exc}")
    err.print(f"{format.value} report of {company} written to {target}", markup=False)


# --- demo ---------------------------------------------------------------------------------------


@app.command()
def demo(
    output: Annotated[
        Path, typer.Option(help="where the demo writes its database and files")
    ] = Path("exposure-demo"),
) -> None:
    """Simulated port area on loopback: import, scan, report. Touches no real host."""
    from exposure.demo import run_demo

    try:
        code = run_demo(output, out)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    raise typer.Exit(code)


# --- operations: worker, nightly, doctor, migrate (exposure/ops_cli.py) -------------------------

_register_operations(app)

from exposure.portal.cli import register as _register_portal  # noqa: E402

_register_portal(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
