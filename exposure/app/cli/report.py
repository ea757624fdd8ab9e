"""`exposure report`: one company's report, or the area overview."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from exposure.app.cli.common import err, fail, open_store, settings_of
from reports.publish import ReportFormat


def report(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option(help="the company id of the report")] = None,
    overview: Annotated[
        bool, typer.Option("--overview", help="the Meldpunt's overview of the whole area")
    ] = False,
    calls: Annotated[
        bool,
        typer.Option(
            "--calls", help="the Meldpunt's call list: whom to call first (table, csv, json)"
        ),
    ] = False,
    format: Annotated[
        ReportFormat | None,
        typer.Option("--format", help="html (default), json, csv or pdf; --calls: table"),
    ] = None,
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
    from reports.render import write_atomic
    from reports.specs import Specs

    if calls:
        if company is not None or overview or named:
            fail("--calls stands alone: not with --company, --overview or --named")
        _calls(ctx, format or ReportFormat.TABLE, output, language)
        return
    format = format or ReportFormat.HTML
    if format is ReportFormat.TABLE:
        fail("--format table applies to --calls only")
    if (company is None) == (not overview):
        fail("give either --company ID or --overview (or --calls)")
    if language is not None and language.strip().lower() not in ("nl", "en"):
        fail(f"--language: {language!r} is not nl or en")
    if overview and output is None:
        fail("--overview needs --output DIR (the folder to write index.html in)")
    if overview and format is not ReportFormat.HTML:
        fail("--overview is written as html only")
    if named and not overview:
        fail("--named applies to --overview only")
    if format is ReportFormat.PDF and output is None:
        fail("--format pdf needs --output PATH")
    if overview and output is not None and output.exists() and not output.is_dir():
        fail(f"--output {output}: not a folder")
    settings = settings_of(ctx)
    try:
        specs = Specs.from_registry(load())
    except RegistryError as exc:
        fail(str(exc))
    engine = open_store(settings)
    if overview:
        assert output is not None
        from exposure.app.cli.lease import take_lease
        from exposure.store.lease import OVERVIEW
        from reports.render import remove_stale_temps

        lease = take_lease(engine, OVERVIEW, settings)
        try:
            remove_stale_temps(output)  # ours alone to clean: we hold the overview lease
            path = write_overview(engine, specs, settings, output, named=named, language=language)
        except OSError as exc:
            fail(f"--output {output}: {exc.strerror or exc}")
        finally:
            lease.release()
        err.print(f"overview written to {path}", markup=False, highlight=False)
        return
    assert company is not None
    try:
        data = company_output(engine, company, specs, settings, format, language)
    except UnknownCompanyError:
        fail(f"unknown company {company!r} (see `exposure targets list`)")
    except PdfUnavailableError as exc:
        fail(str(exc))
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = output_path(output, company, format)
    try:
        write_atomic(target, data)
    except OSError as exc:
        fail(f"--output {target}: {exc.strerror or exc}")
    err.print(f"{format.value} report of {company} written to {target}", markup=False)


def _calls(ctx: typer.Context, fmt: ReportFormat, output: Path | None, lang: str | None) -> None:
    """The call list to standard output or a file: the ICT partner's morning mail."""
    from exposure.registry import RegistryError, load
    from exposure.store.db import session as session_scope
    from reports import calls
    from reports.render import language_for, write_atomic
    from reports.specs import Specs

    if fmt not in (ReportFormat.TABLE, ReportFormat.CSV, ReportFormat.JSON):
        fail("--calls is written as table, csv or json")
    if lang is not None and lang.strip().lower() not in ("nl", "en"):
        fail(f"--language: {lang!r} is not nl or en")
    settings = settings_of(ctx)
    try:
        specs = Specs.from_registry(load())
    except RegistryError as exc:
        fail(str(exc))
    with session_scope(open_store(settings)) as session:
        view = calls.build(session, specs, language_for(lang, None, settings.language))
    writers = {ReportFormat.CSV: calls.to_csv, ReportFormat.JSON: calls.to_json}
    text = writers.get(fmt, calls.to_text)(view)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        fail(f"--output {output}: {exc.strerror or exc}")
    err.print(f"call list written to {output}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(report)
