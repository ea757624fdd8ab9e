"""Write reports to files: one company in any format, the overview, or every company at once.

The CLI (`exposure report`) and the demo call these; they hold the decisions that are not about
layout: which language a company reads, where a file goes, and that a file is written whole or
not at all (`render.write_atomic`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from exposure.models import Company, utcnow
from exposure.settings import Settings
from exposure.store.db import session as session_scope
from reports import company, export, overview, render
from reports.specs import Specs


class ReportFormat(StrEnum):
    HTML = "html"
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"


class PdfUnavailableError(RuntimeError):
    """PDF needs WeasyPrint (the `pdf` extra), which is not installed."""


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    company_id: str | None
    grade: str | None = None


def company_output(
    engine: Engine,
    company_id: str,
    specs: Specs,
    settings: Settings,
    fmt: ReportFormat = ReportFormat.HTML,
    language: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """One company's report or export as bytes. Raises company.UnknownCompanyError."""
    with session_scope(engine) as session:
        row = session.get(Company, company_id)
        if row is None:
            raise company.UnknownCompanyError(f"unknown company {company_id!r}")
        lang = render.language_for(language, row.language, settings.language)
        if fmt is ReportFormat.JSON:
            document = export.company_document(session, company_id, specs, lang, now)
            return export.to_json(document).encode("utf-8")
        if fmt is ReportFormat.CSV:
            return export.company_csv(session, company_id, specs, lang).encode("utf-8")
        report = company.build(
            session,
            company_id,
            specs,
            lang,
            meldpunt=render.Meldpunt.from_settings(settings),
            now=now,
        )
    html = company.render_html(report)
    if fmt is ReportFormat.PDF:
        return html_to_pdf(html)
    return html.encode("utf-8")


def html_to_pdf(html: str) -> bytes:
    """A PDF of a report page through WeasyPrint (print CSS applies). Fetches nothing: the
    page has no external resources, and no base URL is given."""
    try:
        from weasyprint import HTML  # type: ignore[import-not-found,unused-ignore]
    except (ImportError, OSError) as exc:  # OSError: installed but its system libraries are not
        raise PdfUnavailableError(
            "PDF needs WeasyPrint: pip install 'exposure[pdf]' "
            f"(and its system libraries, e.g. Pango) ({exc.__class__.__name__})"
        ) from None
    # WeasyPrint warns about every screen-only CSS rule it skips; none of that is the user's.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    pdf = HTML(string=html).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def output_path(output: Path, company_id: str, fmt: ReportFormat) -> Path:
    """`--output` may name a file or an existing folder (then `<folder>/<id>.<format>`)."""
    if output.is_dir():
        return output / f"{safe_name(company_id)}.{fmt.value}"
    return output


def safe_name(company_id: str) -> str:
    """A company id as a file name: ids come from the member list and could hold `/` or `..`."""
    cleaned = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in company_id
    )
    if cleaned == company_id and cleaned:
        return cleaned
    # Two ids that clean to the same name must not overwrite each other's report.
    digest = hashlib.sha256(company_id.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned.strip('_')[:48] or 'company'}-{digest}"


def write_overview(
    engine: Engine,
    specs: Specs,
    settings: Settings,
    folder: Path,
    *,
    named: bool = False,
    language: str | None = None,
    now: datetime | None = None,
) -> Path:
    """The area overview as `<folder>/index.html`."""
    with session_scope(engine) as session:
        view = overview.build(
            session,
            specs,
            render.language_for(language, None, settings.language),
            named=named,
            meldpunt=render.Meldpunt.from_settings(settings),
            now=now,
        )
    return render.write_atomic(folder / "index.html", overview.render_html(view))


def write_all(
    engine: Engine,
    specs: Specs,
    settings: Settings,
    reports_folder: Path,
    overview_folder: Path,
    now: datetime | None = None,
) -> tuple[list[Written], Path]:
    """Every active company's HTML report (`<reports_folder>/<id>.html`) and the overview."""
    now = now or utcnow()
    with session_scope(engine) as session:
        ids: Sequence[str] = list(
            session.exec(
                select(Company.id).where(col(Company.active).is_(True)).order_by(col(Company.id))
            )
        )
    written: list[Written] = []
    for company_id in ids:
        with session_scope(engine) as session:
            row = session.get(Company, company_id)
            assert row is not None
            report = company.build(
                session,
                company_id,
                specs,
                render.language_for(None, row.language, settings.language),
                meldpunt=render.Meldpunt.from_settings(settings),
                now=now,
            )
        path = reports_folder / f"{safe_name(company_id)}.html"
        render.write_atomic(path, company.render_html(report))
        grade = report.score.grade.value if report.graded else None
        written.append(Written(path, company_id, grade))
    index = write_overview(engine, specs, settings, overview_folder, now=now)
    return written, index
