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
    format: Annotated[
        ReportFormat, typer.Option("--format", help="html (default), json, csv or pdf")
    ] = ReportFormat.HTML,
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

    if (company is None) == (not overview):
        fail("give either --company ID or --overview")
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


def register(app: typer.Typer) -> None:
    app.command()(report)
