"""The one-screen summary at the end of a scan: what an operator reads in the morning."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from exposure.scan.orchestrator import RunSummary
from exposure.severity import Severity

_ORDER = [s.value for s in reversed(Severity)]


def _by_severity(counts: dict[str, int]) -> str:
    parts = [f"{counts[s]} {s}" for s in _ORDER if counts.get(s)]
    return ", ".join(parts) if parts else "none"


def print_summary(summary: RunSummary, console: Console) -> None:
    stats = summary.stats
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    companies = f"{summary.companies_scanned} scanned of {summary.companies_total}"
    if summary.resumed_done:
        companies += f" ({summary.resumed_done} done earlier in this run)"
    table.add_row("run", f"#{summary.run_id}: {summary.status}")
    for source, cause in summary.sources_failed.items():
        table.add_row("source failed", f"{source}: {cause}")
    if summary.untested:
        table.add_row("not tested", f"{summary.untested} companies (the next scan tests them)")
    table.add_row("companies", companies)
    table.add_row("checks run", str(summary.checks_run))
    table.add_row("new findings", _by_severity(stats.new_by_severity))
    table.add_row("reopened", str(stats.reopened))
    table.add_row("resolved", str(stats.resolved))
    table.add_row("open now", _by_severity(summary.open_by_severity))
    errors = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.errors_by_reason.items()))
    table.add_row("could not test", errors or "none")
    for name, report in summary.sources.items():
        if report.get("mode", "unused") != "unused":
            table.add_row(name, _source_line(report))
    if summary.skipped_out_of_scope:
        table.add_row("skipped", f"{summary.skipped_out_of_scope} targets in private address space")
    table.add_row("duration", f"{summary.duration:.1f} s")
    console.print(table)


def _source_line(report: dict[str, object]) -> str:
    """`full, 12 API requests (40 cached), 0 rate-limited` plus the source's notes."""
    parts = [str(report.get("mode"))]
    if "rest_requests" in report:
        parts.append(
            f"{report['rest_requests']} API requests ({report.get('cache_hits', 0)} cached), "
            f"{report.get('internetdb_requests', 0)} InternetDB"
        )
    notes = report.get("notes")
    if isinstance(notes, list):
        parts.extend(str(n) for n in notes)
    return "; ".join(parts)
