"""Read-only queries for the CLI and the reports.

They return plain frozen values (or detached model objects) so that callers can use them after
the session is closed, and keep SQL out of the CLI. Severity order is `exposure.severity`'s,
computed in SQL so that both databases sort the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from exposure.models import (
    CheckError,
    Company,
    Finding,
    FindingEvent,
    ScanRun,
    Target,
    WarningRecord,
)
from exposure.severity import Severity

StatusFilter = Literal["open", "resolved", "accepted", "all"]
STATUSES: tuple[str, ...] = ("open", "resolved", "accepted", "all")

# Highest first; an unknown value (never written by the store) sorts last.
_SEVERITY_RANK = case({s.value: s.rank for s in Severity}, value=col(Finding.severity), else_=-1)


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One finding as the CLI and reports read it, with its company's name."""

    id: int
    fingerprint: str
    company_id: str
    company_name: str
    target_id: int | None
    check_id: str
    family: str
    severity: str
    target: str
    discriminator: str
    title: str
    detail: str
    evidence: dict[str, Any]
    status: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    first_run_id: int | None
    last_run_id: int | None
    reopened_count: int
    accepted_reason: str
    accepted_until: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (`findings --format json`): times as ISO 8601 UTC with a `Z`."""
        return {key: _jsonable(value) for key, value in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class TargetRow:
    id: int
    kind: str
    value: str
    display: str


@dataclass(frozen=True, slots=True)
class CompanyRow:
    id: str
    name: str
    email: str
    sector: str
    language: str
    active: bool
    targets: tuple[TargetRow, ...]
    open_findings: int


def list_findings(
    session: Session,
    company_id: str | None = None,
    status: StatusFilter | str = "open",
    min_severity: Severity | str | None = None,
) -> list[FindingRow]:
    """Findings by severity (highest first), then company, check id and subject.

    Raises ValueError for an unknown status or severity, with a message for a person.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r} (expected one of: {', '.join(STATUSES)})")
    query = select(Finding, Company.name).join(Company, col(Finding.company_id) == Company.id)
    if company_id is not None:
        query = query.where(Finding.company_id == company_id)
    if status != "all":
        query = query.where(Finding.status == status)
    if min_severity is not None:
        threshold = Severity.parse(str(min_severity))
        query = query.where(
            col(Finding.severity).in_([s.value for s in Severity if s >= threshold])
        )
    query = query.order_by(
        _SEVERITY_RANK.desc(),
        col(Finding.company_id),
        col(Finding.check_id),
        col(Finding.target),
        col(Finding.discriminator),
        col(Finding.id),
    )
    return [_finding_row(finding, name) for finding, name in session.exec(query)]


def _finding_row(finding: Finding, company_name: str) -> FindingRow:
    assert finding.id is not None
    return FindingRow(
        id=finding.id,
        fingerprint=finding.fingerprint,
        company_id=finding.company_id,
        company_name=company_name,
        target_id=finding.target_id,
        check_id=finding.check_id,
        family=finding.family,
        severity=finding.severity,
        target=finding.target,
        discriminator=finding.discriminator,
        title=finding.title,
        detail=finding.detail,
        evidence=dict(finding.evidence),
        status=finding.status,
        first_seen=finding.first_seen,
        last_seen=finding.last_seen,
        resolved_at=finding.resolved_at,
        first_run_id=finding.first_run_id,
        last_run_id=finding.last_run_id,
        reopened_count=finding.reopened_count,
        accepted_reason=finding.accepted_reason,
        accepted_until=finding.accepted_until,
    )


def list_companies(session: Session, active_only: bool = False) -> list[CompanyRow]:
    """Companies by id, with their targets and their number of open findings (three queries)."""
    query = select(Company).order_by(col(Company.id))
    if active_only:
        query = query.where(col(Company.active).is_(True))
    companies = list(session.exec(query))

    targets: dict[str, list[TargetRow]] = defaultdict(list)
    for target in session.exec(
        select(Target).order_by(col(Target.company_id), col(Target.kind), col(Target.value))
    ):
        assert target.id is not None
        targets[target.company_id].append(
            TargetRow(id=target.id, kind=target.kind, value=target.value, display=target.display)
        )
    open_counts = dict(
        session.exec(
            select(Finding.company_id, func.count())
            .where(Finding.status == "open")
            .group_by(col(Finding.company_id))
        ).all()
    )
    return [
        CompanyRow(
            id=c.id,
            name=c.name,
            email=c.email,
            sector=c.sector,
            language=c.language,
            active=c.active,
            targets=tuple(targets.get(c.id, ())),
            open_findings=open_counts.get(c.id, 0),
        )
        for c in companies
    ]


def latest_run(session: Session, status: str | None = None) -> ScanRun | None:
    """The newest scan run (optionally: the newest with this status)."""
    query = select(ScanRun).order_by(col(ScanRun.id).desc()).limit(1)
    if status is not None:
        query = query.where(ScanRun.status == status)
    return session.exec(query).first()


def recent_runs(session: Session, limit: int = 10) -> list[ScanRun]:
    """The newest runs first (`exposure runs`)."""
    return list(session.exec(select(ScanRun).order_by(col(ScanRun.id).desc()).limit(limit)))


def open_by_severity(session: Session, company_id: str | None = None) -> dict[str, int]:
    """Open findings counted per severity, highest first, only severities that occur
    (a run's summary, the overview)."""
    query = (
        select(Finding.severity, func.count())
        .where(Finding.status == "open")
        .group_by(col(Finding.severity))
    )
    if company_id is not None:
        query = query.where(Finding.company_id == company_id)
    counts = dict(session.exec(query).all())
    return {s.value: counts[s.value] for s in reversed(Severity) if s.value in counts}


def get_run(session: Session, run_id: int) -> ScanRun | None:
    return session.get(ScanRun, run_id)


def run_errors(session: Session, run_id: int) -> list[CheckError]:
    """The checks that could not decide in a run (scan health), by company, check, target."""
    return list(
        session.exec(
            select(CheckError)
            .where(CheckError.run_id == run_id)
            .order_by(
                col(CheckError.company_id),
                col(CheckError.check_id),
                col(CheckError.target),
                col(CheckError.id),
            )
        )
    )


def finding_history(session: Session, finding_id: int) -> list[FindingEvent]:
    """A finding's events, oldest first: when it opened, changed, resolved, came back."""
    return list(
        session.exec(
            select(FindingEvent)
            .where(FindingEvent.finding_id == finding_id)
            .order_by(col(FindingEvent.at), col(FindingEvent.id))
        )
    )


def warned_fingerprints(
    session: Session, company_ids: Iterable[str] | None = None
) -> dict[str, set[str]]:
    """Per company, the fingerprints a warning was already written or sent for (the dedupe of
    `exposure warn`). Failed sends do not count: they must be tried again."""
    query = select(WarningRecord.company_id, WarningRecord.fingerprints).where(
        col(WarningRecord.status).in_(["written", "sent"])
    )
    if company_ids is not None:
        query = query.where(col(WarningRecord.company_id).in_(list(company_ids)))
    warned: dict[str, set[str]] = defaultdict(set)
    for company_id, fingerprints in session.exec(query):
        warned[company_id].update(fingerprints)
    return dict(warned)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    return value
