"""`exposure findings`: the stored findings as a table (people), JSON or CSV (machines).

Values come from members and from scanned servers, so the CSV neutralises cells that a
spreadsheet would execute as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

FIELDS: tuple[str, ...] = (
    "company_id",
    "check_id",
    "severity",
    "target",
    "title",
    "status",
    "first_seen",
    "last_seen",
    "resolved_at",
    "detail",
    "evidence",
    "fingerprint",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _iso(value: Any) -> Any:
    return value.isoformat(timespec="seconds") + "Z" if isinstance(value, datetime) else value


def finding_dict(row: Any) -> dict[str, Any]:
    """The documented JSON object of one finding (stable field names)."""
    return {name: _iso(getattr(row, name, None)) for name in FIELDS}


def to_json(rows: Iterable[Any]) -> str:
    return json.dumps(
        [finding_dict(r) for r in rows], ensure_ascii=False, indent=2, sort_keys=False
    )


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is escaped with a quote."""
    text = (
        json.dumps(value, ensure_ascii=False, sort_keys=True)
        if isinstance(value, Mapping | list)
        else str(value if value is not None else "")
    )
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: Iterable[Any]) -> str:
    return csv_text(FIELDS, ([data[name] for name in FIELDS] for data in map(finding_dict, rows)))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV for a spreadsheet (CRLF lines): every cell through `safe_cell`, so no formula runs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


_SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def print_table(rows: Sequence[Any], console: Console) -> None:
    if not rows:
        console.print("no findings")
        return
    table = Table(show_lines=False, header_style="bold")
    table.add_column("company", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("finding", overflow="fold", ratio=3)
    table.add_column("target", overflow="fold", ratio=2)
    table.add_column("status", no_wrap=True)
    table.add_column("first seen", no_wrap=True)
    for row in rows:
        table.add_row(
            str(row.company_id),
            f"[{_SEVERITY_STYLE.get(row.severity, '')}]{row.severity}[/]",
            f"{_escape(row.title or row.check_id)}\n[dim]{row.check_id}[/]",
            _escape(str(row.target)),
            str(row.status),
            row.first_seen.strftime("%Y-%m-%d"),
        )
    console.print(table)
    console.print(f"{len(rows)} findings")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
