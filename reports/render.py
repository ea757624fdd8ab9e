"""The one Jinja2 environment of every report, and safe writing of what it renders.

Why one environment: the company report, the overview, the warnings and the portal all show
values that come from members (a company name) or from scanned servers (a banner, a header,
a certificate field). Any of them can hold markup. Autoescaping is on for every template except
plain-text ones (`*.txt.j2`, `*.eml.j2`, `*.csv.j2`), and the environment is strict about
undefined names, so a typo in a template fails a test instead of printing nothing.

    env = environment()
    html = env.get_template("company.html.j2").render(report=..., lang="nl")

Templates live in `reports/templates/`; shared parts start with an underscore
(`_base.html.j2`, `_style.css.j2`). Helpers available in every template:
`t(key, **values)` (a sentence of `reports.words.UI` in the page's `lang`), `text(Text)`,
the filters `date`, `datetime`, `severity_word`, `effort_word`, `pretty_json`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import pass_context
from jinja2.runtime import Context

from exposure.contract import Effort
from exposure.severity import Severity
from exposure.text import Text
from reports import scoring, svg, words
from reports.evidence import rows as labelled_rows
from reports.hosts import display_host

TEMPLATES = Path(__file__).with_name("templates")
DEFAULT_MELDPUNT = "Meldpunt Cybersecurity"

_PLAIN_SUFFIXES = (".txt", ".txt.j2", ".eml", ".eml.j2", ".csv.j2")

_MONTHS_NL = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def autoescape_for(name: str | None) -> bool:
    """Escape everything but plain-text templates; a template from a string is escaped too."""
    if name is None:
        return True
    return not name.lower().endswith(_PLAIN_SUFFIXES)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared environment (built once; Jinja2 environments are safe to share)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=autoescape_for,  # noqa: S701 - a function: on for all but plain text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        t=_t,
        text=_text,
        severities=list(reversed(Severity)),
        grade_colors=svg.GRADE_COLORS,
        severity_colors=svg.SEVERITY_COLORS,
    )
    env.filters.update(
        date=_date_filter,
        datetime=_datetime_filter,
        severity_word=_severity_word,
        effort_word=_effort_word,
        pretty_json=pretty_json,
        evidence_rows=evidence_rows,
        display_host=_display_host,
        number=_number,
    )
    return env


def render(template: str, language: str, **values: Any) -> str:
    """Render a template with `lang` set, so that `t()` and the filters speak the language."""
    return environment().get_template(template).render(lang=language, **values)


# --- helpers for templates ---------------------------------------------------------------------


@pass_context
def _t(context: Context, key: str, **values: object) -> str:
    return words.ui(key, str(context.get("lang", "nl")), **values)


@pass_context
def _text(context: Context, value: Text) -> str:
    return value.get(str(context.get("lang", "nl")))


@pass_context
def _severity_word(context: Context, value: Severity | str) -> str:
    return scoring.SEVERITY_WORDS[Severity(value)].get(str(context.get("lang", "nl")))


@pass_context
def _effort_word(context: Context, value: Effort | str) -> str:
    return scoring.EFFORT_WORDS[Effort(value)].get(str(context.get("lang", "nl")))


@pass_context
def _date_filter(context: Context, value: datetime | None) -> str:
    return format_date(value, str(context.get("lang", "nl")))


@pass_context
def _datetime_filter(context: Context, value: datetime | None) -> str:
    if value is None:
        return ""
    return f"{format_date(value, str(context.get('lang', 'nl')))} {value:%H:%M}"


@pass_context
def _number(context: Context, value: float | int | None, digits: int = 0) -> str:
    """A number the way the page's language writes it (Dutch: decimal comma)."""
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if context.get("lang", "nl") == "nl" else text


def format_date(value: datetime | None, language: str) -> str:
    """`3 maart 2026` / `3 March 2026`: a date an owner reads without thinking (UTC)."""
    if value is None:
        return ""
    if language == "en":
        return f"{value.day} {value:%B} {value.year}"
    return f"{value.day} {_MONTHS_NL[value.month - 1]} {value.year}"


def pretty_json(value: Any) -> str:
    """Evidence as indented JSON for the technical appendix (escaped by the template)."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@pass_context
def evidence_rows(context: Context, evidence: Any) -> list[tuple[str, str]]:
    """Evidence as (label, value) rows for the appendix, in the page's language
    (`reports.evidence`): readable labels, whole values, nothing internal."""
    if not isinstance(evidence, dict):
        return [("", json.dumps(evidence, ensure_ascii=False, default=str))]
    return labelled_rows(evidence, str(context.get("lang", "nl")))


def _display_host(value: str) -> str:
    return display_host(value)


# --- writing ------------------------------------------------------------------------------------


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder and a rename.

    Either the old file or the complete new one is there, never half of it: an interrupted
    report run leaves nothing a member could receive by mistake.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_stale_temps(folder: Path) -> int:
    """Remove what an interrupted `write_atomic` left in `folder` (a crash between the write
    and the rename leaves a hidden `.NAME.XXXX.tmp` nobody else removes). Call it only while
    holding the lease of the command that writes there, so no live write is taken away."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.glob(".*.tmp"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def language_for(requested: str | None, company_language: str | None, default: str) -> str:
    """The language of a company's report: asked for > the company's own > the Meldpunt's."""
    for candidate in (requested, company_language, default):
        if candidate and candidate.strip().lower() in ("nl", "en"):
            return candidate.strip().lower()
    return "nl"


@dataclass(frozen=True, slots=True)
class Meldpunt:
    """Who sends the reports and how a member reaches them (from the settings).

    Shown as text only (no links): a report carries no reference to anything outside itself.
    """

    name: str = DEFAULT_MELDPUNT
    phone: str = ""
    email: str = ""
    url: str = ""

    @classmethod
    def from_settings(cls, settings: Any) -> Meldpunt:
        return cls(
            name=str(getattr(settings, "meldpunt_name", "") or DEFAULT_MELDPUNT),
            phone=str(getattr(settings, "meldpunt_phone", "") or ""),
            email=str(getattr(settings, "meldpunt_email", "") or ""),
            url=str(getattr(settings, "meldpunt_url", "") or ""),
        )
