"""Scan a testbed area end to end, as a user would: member list in, scan, findings out.

Tests of every check family and the demo go through the same path (CSV import, orchestrator,
store), so that a check is proven in the product, not in isolation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from exposure.registry import Registry, load
from exposure.scan.orchestrator import Orchestrator, RunSummary
from exposure.settings import Settings, load_settings
from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from exposure.store.queries import FindingRow, list_findings, run_errors
from exposure.testbed.runner import Testbed
from targets.csv import read_members
from targets.sync import apply_import, plan_import


@dataclass(frozen=True)
class ScanOutcome:
    summary: RunSummary
    findings: tuple[FindingRow, ...]  # open findings after the run
    errors: tuple[Any, ...]  # CheckError rows of the run

    def ids_by_subject(self) -> dict[str, set[str]]:
        result: dict[str, set[str]] = {}
        for row in self.findings:
            result.setdefault(row.target, set()).add(row.check_id)
        return result

    def ids_by_company(self) -> dict[str, set[str]]:
        result: dict[str, set[str]] = {}
        for row in self.findings:
            result.setdefault(row.company_id, set()).add(row.check_id)
        return result

    def subjects_with(self, check_id: str) -> set[str]:
        return {row.target for row in self.findings if row.check_id == check_id}


class Lab:
    """A testbed plus a store: import once, scan as often as a test likes."""

    def __init__(self, testbed: Testbed, workdir: Path, database_url: str | None = None) -> None:
        self.testbed = testbed
        self.workdir = workdir
        self.database_url = database_url or f"sqlite:///{workdir / 'lab.db'}"
        self.engine: Engine = make_engine(self.database_url)
        migrate(self.engine)
        self.import_members()

    def settings(self, **overrides: Any) -> Settings:
        values = {"database": self.database_url, **self.testbed.settings_overrides(), **overrides}
        return load_settings(**values)

    def import_members(self) -> None:
        path = self.testbed.write_members_csv(self.workdir / "members.csv")
        members = read_members(path)
        with session_scope(self.engine) as session:
            apply_import(session, plan_import(session, members, prune=True))

    async def scan(
        self,
        checks: Sequence[str] | None = None,
        companies: Sequence[str] | None = None,
        registry: Registry | None = None,
        **overrides: Any,
    ) -> ScanOutcome:
        orchestrator = Orchestrator(self.settings(**overrides), registry or load(), self.engine)
        summary = await orchestrator.scan(companies, checks)
        with session_scope(self.engine) as session:
            rows = list_findings(session, status="open")
            errors = run_errors(session, summary.run_id)
        return ScanOutcome(summary, tuple(rows), tuple(errors))

    def close(self) -> None:
        self.engine.dispose()
