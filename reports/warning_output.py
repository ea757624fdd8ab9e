"""What `exposure warn` and `exposure warnings list` print for the Meldpunt's operator.

Company names and subjects can hold anything a member typed; they are `plain()` lines already
and are printed without Rich markup, so `[bold]` in a name stays text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exposure.store.warnings import WarningRow
from reports.warning_message import plain
from reports.warning_run import WarnReport

_STATUS_STYLE = {
    "sent": "green",
    "written": "green",
    "dry-run": "cyan",
    "failed": "bold red",
    "pending": "yellow",
}


def _reasons(reasons: Mapping[str, int]) -> str:
    """`2 new problems, 1 reminder`: counted in problems (one check id), as the e-mail does."""
    total = sum(reasons.values())
    noun = "problem" if total == 1 else "problems"
    parts = [f"{count} {reason}" for reason, count in sorted(reasons.items())]
    return f"{', '.join(parts)} ({total} {noun})" if parts else ""


def print_warn_report(report: WarnReport, console: Console, *, show_text: bool = False) -> None:
    """A table of the run's messages, what went wrong, and one summary line.

    The table stays narrow (the result of a written or sent message is in the audit trail,
    `exposure warnings list`); the result of a failed one is printed below it in full.
    """
    if report.messages:
        table = Table(header_style="bold")
        for name in ("reference", "company", "to", "why", "status"):
            table.add_column(name, overflow="fold")
        for m in report.messages:
            style = _STATUS_STYLE.get(m.status, "")
            table.add_row(
                m.reference,
                escape(f"{m.company_id} {m.company_name}"),
                escape(", ".join(m.recipients)),
                escape(_reasons(m.reasons)),
                f"[{style}]{m.status}[/]" if style else m.status,
            )
        console.print(table)
    if show_text:
        for m in report.messages:
            console.rule(escape(f"{m.reference}: {m.subject}"))
            console.print(m.text, markup=False, highlight=False)
    for m in report.failed:
        console.print(
            f"failed: {m.reference} {m.company_id} ({m.company_name}): {plain(m.result, 500)}",
            markup=False,
            highlight=False,
        )
    for note in report.notes:
        console.print(f"note: {plain(note, 300)}", markup=False, highlight=False)
    for s in report.skipped:
        console.print(
            f"not warned: {s.company_id} ({s.company_name}): {s.reason}; fix the member list",
            markup=False,
            highlight=False,
        )
    console.print(summary_line(report), markup=False, highlight=False)


def summary_line(report: WarnReport) -> str:
    if report.dry_run:
        noun = "message" if len(report.messages) == 1 else "messages"
        return (
            f"dry run: {len(report.messages)} {noun} would go out; "
            "nothing was written, sent or recorded"
        )
    if not report.messages and not report.skipped:
        return "nothing new to warn about: no message written or sent"
    counts: dict[str, int] = {}
    for m in report.messages:
        counts[m.status] = counts.get(m.status, 0) + 1
    parts = [f"{n} {status}" for status, n in sorted(counts.items())]
    if report.skipped:
        parts.append(f"{len(report.skipped)} companies without a usable address")
    where = f" ({report.channel})" if report.channel else ""
    noun = "message" if len(report.messages) == 1 else "messages"
    line = f"{len(report.messages)} {noun}{where}: " + ", ".join(parts)
    if report.failed:
        line += "; failed messages are tried again on the next run"
    return line


def print_warning_rows(rows: Sequence[WarningRow], console: Console) -> None:
    """The audit trail as a table, newest first."""
    if not rows:
        console.print("no warnings recorded")
        return
    table = Table(header_style="bold")
    for name in (
        "reference",
        "when (UTC)",
        "company",
        "to",
        "kind",
        "findings",
        "status",
        "result",
    ):
        table.add_column(name, overflow="fold")
    for r in rows:
        style = _STATUS_STYLE.get(r.status, "")
        table.add_row(
            r.reference,
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            escape(f"{r.company_id} {plain(r.company_name, 80)}"),
            escape(", ".join(r.recipients)),
            r.kind,
            escape(_reasons(r.reasons) or str(r.findings)),
            f"[{style}]{r.status}[/]" if style else r.status,
            escape(plain(r.result, 300)),
        )
    console.print(table)
    console.print(f"{len(rows)} warnings")


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds") + "Z"


def warning_rows_json(rows: Sequence[WarningRow]) -> str:
    """The audit trail as one JSON array (times ISO 8601 UTC)."""
    data: list[dict[str, Any]] = [
        {
            "reference": r.reference,
            "created_at": _iso(r.created_at),
            "company_id": r.company_id,
            "company_name": r.company_name,
            "kind": r.kind,
            "language": r.language,
            "recipients": list(r.recipients),
            "subject": r.subject,
            "fingerprints": list(r.fingerprints),
            "reasons": dict(r.fingerprint_reasons),
            "channel": r.channel,
            "status": r.status,
            "result": r.result,
        }
        for r in rows
    ]
    return json.dumps(data, ensure_ascii=False, indent=2)
