"""A company's findings for the ICT partner: JSON (with a JSON Schema) and CSV.

Field names are a public interface: the partner's tooling reads them, so they are listed here
once (`FINDING_FIELDS`), described in `reports/schema/findings.schema.json`, and held to that
schema by a test. New fields may be added (with a schema change); existing ones are never
renamed or removed. `schema_version` changes only when that promise has to be broken.

The CSV has the same fields as the JSON's findings, one finding a row, the evidence as a JSON
string. Values come from members and scanned servers, so every cell goes through
`reports.findings.safe_cell`: a cell that starts like a formula (`=`, `+`, `-`, `@`, tab, CR)
is shown as text by the spreadsheet.

Which findings: all of the company's findings, with their status, open first (by severity),
then accepted, then resolved: the partner sees what was fixed too.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from exposure.models import Company, utcnow
from exposure.severity import Severity
from exposure.store.queries import FindingRow, list_findings
from reports import coverage, history, scoring, words
from reports.company import UnknownCompanyError
from reports.findings import csv_text
from reports.scoring import Item
from reports.specs import Specs

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("schema") / "findings.schema.json"
SCHEMA_ID = "https://exposure.invalid/schema/findings.schema.json"

FINDING_FIELDS: tuple[str, ...] = (
    "company_id",
    "check_id",
    "severity",
    "status",
    "target",
    "discriminator",
    "theme",
    "effort",
    "title",
    "risk",
    "remediation",
    "technical",
    "detail",
    "evidence",
    "first_seen",
    "last_seen",
    "resolved_at",
    "accepted_reason",
    "accepted_until",
    "reopened_count",
    "fingerprint",
)

_STATUS_ORDER = {"open": 0, "accepted": 1, "resolved": 2}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def finding_record(row: FindingRow, specs: Specs, language: str) -> dict[str, Any]:
    """One finding with the words of its check, in `FINDING_FIELDS` order."""
    theme = specs.theme(row.check_id)
    record: dict[str, Any] = {
        "company_id": row.company_id,
        "check_id": row.check_id,
        "severity": row.severity,
        "status": row.status,
        "target": row.target,
        "discriminator": row.discriminator,
        "theme": theme.value if theme is not None else None,
        "effort": specs.effort(row.check_id).value,
        "title": specs.title(row.check_id, language, row.title),
        "risk": specs.risk(row.check_id, language),
        "remediation": specs.remediation(row.check_id, language),
        "technical": specs.technical(row.check_id, language),
        "detail": row.detail,
        "evidence": dict(row.evidence),
        "first_seen": _iso(row.first_seen),
        "last_seen": _iso(row.last_seen),
        "resolved_at": _iso(row.resolved_at),
        "accepted_reason": row.accepted_reason,
        "accepted_until": _iso(row.accepted_until),
        "reopened_count": row.reopened_count,
        "fingerprint": row.fingerprint,
    }
    return {name: record[name] for name in FINDING_FIELDS}


def _rows(session: Session, company_id: str) -> tuple[Company, list[FindingRow]]:
    company = session.get(Company, company_id)
    if company is None:
        raise UnknownCompanyError(f"unknown company {company_id!r}")
    rows = list_findings(session, company_id=company_id, status="all")
    rows.sort(
        key=lambda r: (
            _STATUS_ORDER.get(r.status, 3),
            -Severity.parse(r.severity).rank,
            r.check_id,
            r.target,
            r.discriminator,
        )
    )
    return company, rows


def company_document(
    session: Session,
    company_id: str,
    specs: Specs,
    language: str = "nl",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The JSON document of one company (see the schema): the company, its grade, its
    ranked actions and its findings."""
    company, rows = _rows(session, company_id)
    runs = history.company_runs(session, company_id)
    current = [
        Item(r.check_id, Severity.parse(r.severity), r.status, r.status == "accepted", r.target)
        for r in rows
        if r.status in ("open", "accepted")
    ]
    score = scoring.score(current)
    actions = scoring.rank_actions(current, specs.efforts())
    covered = coverage.of_company(session, specs, company_id)
    graded = bool(runs) and not covered.nothing_tested
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _iso(now or utcnow()),
        "language": language,
        "company": {"id": company.id, "name": company.name, "sector": company.sector},
        "scanned_at": _iso(runs[-1].at) if runs else None,
        "coverage": coverage_records(covered, language),
        "score": score.to_dict() if graded else None,
        "actions": [
            {
                "rank": a.rank,
                "check_id": a.check_id,
                "severity": a.severity.value,
                "effort": a.effort.value,
                "title": specs.title(a.check_id, language),
                "targets": list(a.targets),
            }
            for a in actions
        ],
        "findings": [finding_record(r, specs, language) for r in rows],
    }


def coverage_records(covered: coverage.Coverage, language: str) -> list[dict[str, Any]]:
    """The three states per topic and target, for tooling that must not read silence as fine."""

    def reason_text(code: str) -> str:
        return words.coverage_reason(code, language) if code else ""

    return [
        {
            "theme": theme.theme.value,
            "state": theme.state.value,
            "reason": theme.reason,
            "reason_text": reason_text(theme.reason),
            "targets": [
                {
                    "target": t.target,
                    "state": t.state.value,
                    "reason": t.reason,
                    "reason_text": reason_text(t.reason),
                }
                for t in theme.targets
            ],
        }
        for theme in covered.themes
    ]


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def company_csv(session: Session, company_id: str, specs: Specs, language: str = "nl") -> str:
    """The company's findings as CSV (header `FINDING_FIELDS`), safe to open in a spreadsheet."""
    _company, rows = _rows(session, company_id)
    records = (finding_record(row, specs, language) for row in rows)
    return csv_text(FINDING_FIELDS, ([r[name] for name in FINDING_FIELDS] for r in records))


def schema() -> dict[str, Any]:
    """The JSON Schema of `company_document` (kept in the repository, shipped in the package)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded
