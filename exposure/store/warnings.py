"""The store side of `exposure warn`: the warning history, reference numbers and the audit trail.

Why a row is written before the message leaves: the row reserves the reference number that is
printed in the message, and a crash between "sent" and "recorded" must never be silent. A row is
added as `pending`, the message is delivered, and the row is updated to `written`, `sent` or
`failed`. Only `written` and `sent` rows count as warned (`DELIVERED`); a `pending` row left by
a crash and a `failed` one are sent again on the next run, and stay in the audit trail.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from exposure.models import Company, Finding, WarningRecord

PENDING = "pending"
WRITTEN = "written"
SENT = "sent"
FAILED = "failed"
#: The statuses that count as "the company was told" (the dedupe of `exposure warn`).
DELIVERED: tuple[str, ...] = (WRITTEN, SENT)
STATUSES: tuple[str, ...] = (PENDING, WRITTEN, SENT, FAILED)

_SEQUENCE_DIGITS = 6


def delivered_warnings(
    session: Session, company_ids: Iterable[str] | None = None
) -> dict[str, list[WarningRecord]]:
    """Per company, its delivered warnings (written or sent), oldest first."""
    query = (
        select(WarningRecord)
        .where(col(WarningRecord.status).in_(DELIVERED))
        .order_by(col(WarningRecord.created_at), col(WarningRecord.id))
    )
    if company_ids is not None:
        query = query.where(col(WarningRecord.company_id).in_(list(company_ids)))
    history: dict[str, list[WarningRecord]] = defaultdict(list)
    for record in session.exec(query):
        history[record.company_id].append(record)
    return dict(history)


def reference_pattern(prefix: str, year: int) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(prefix)}-{year:04d}-(\d+)")


def format_reference(prefix: str, year: int, number: int) -> str:
    """`MP-2026-000123`: short enough to read out on the phone, sortable, never reused."""
    return f"{prefix}-{year:04d}-{number:0{_SEQUENCE_DIGITS}d}"


def last_reference_number(session: Session, prefix: str, year: int) -> int:
    """The highest sequence number used this year (0 when none), failed rows included:
    a reference is printed in a message and must never name two messages."""
    pattern = reference_pattern(prefix, year)
    stem = f"{prefix}-{year:04d}-"
    numbers = [
        int(match.group(1))
        for reference in session.exec(
            select(WarningRecord.reference).where(col(WarningRecord.reference).startswith(stem))
        )
        if (match := pattern.fullmatch(reference))
    ]
    return max(numbers, default=0)


@dataclass(frozen=True, slots=True)
class NewWarning:
    """What is known about a message before it is delivered."""

    company_id: str
    kind: str
    language: str
    recipients: tuple[str, ...]
    fingerprints: tuple[str, ...]
    severities: Mapping[str, str]
    episodes: Mapping[str, int]
    reasons: Mapping[str, str]
    channel: str
    subject: str
    message_id: str


def reserve_warning(
    session: Session, warning: NewWarning, reference: str, at: datetime
) -> WarningRecord:
    """Add the `pending` row of a message and flush it (the unique reference is claimed here).

    Raises `sqlalchemy.exc.IntegrityError` if another process took the reference first; the caller rolls back
    and asks for the next number.
    """
    record = WarningRecord(
        reference=reference,
        company_id=warning.company_id,
        created_at=at,
        kind=warning.kind,
        language=warning.language,
        recipients=list(warning.recipients),
        fingerprints=list(warning.fingerprints),
        severities=dict(warning.severities),
        episodes=dict(warning.episodes),
        reasons=dict(warning.reasons),
        channel=warning.channel,
        status=PENDING,
        result="",
        subject=warning.subject,
        message_id=warning.message_id,
    )
    session.add(record)
    session.flush()
    return record


def finish_warning(session: Session, reference: str, status: str, result: str) -> None:
    """Record how the delivery of a reserved message went."""
    if status not in STATUSES:
        raise ValueError(f"unknown warning status {status!r}")
    record = session.exec(select(WarningRecord).where(WarningRecord.reference == reference)).one()
    record.status = status
    record.result = result
    session.add(record)


@dataclass(frozen=True, slots=True)
class WarningRow:
    """One row of the audit trail, as `exposure warnings list` shows it."""

    reference: str
    company_id: str
    company_name: str
    created_at: datetime
    kind: str
    language: str
    recipients: tuple[str, ...]
    findings: int
    reasons: Mapping[str, int]  # reason -> number of findings
    channel: str
    status: str
    result: str
    subject: str
    fingerprints: tuple[str, ...]
    fingerprint_reasons: Mapping[str, str]  # fingerprint -> new | reopened | raised | reminder


def list_warnings(
    session: Session,
    company_id: str | None = None,
    since: datetime | None = None,
    statuses: Sequence[str] | None = None,
) -> list[WarningRow]:
    """The audit trail, newest first, optionally for one company and from a moment on."""
    query = select(WarningRecord, Company.name).join(
        Company, col(WarningRecord.company_id) == Company.id
    )
    if company_id is not None:
        query = query.where(WarningRecord.company_id == company_id)
    if since is not None:
        query = query.where(col(WarningRecord.created_at) >= since)
    if statuses:
        query = query.where(col(WarningRecord.status).in_(list(statuses)))
    query = query.order_by(col(WarningRecord.created_at).desc(), col(WarningRecord.id).desc())
    rows: list[WarningRow] = []
    for record, name in session.exec(query):
        counts: dict[str, int] = defaultdict(int)
        for reason in record.reasons.values():
            counts[reason] += 1
        rows.append(
            WarningRow(
                reference=record.reference,
                company_id=record.company_id,
                company_name=name,
                created_at=record.created_at,
                kind=record.kind,
                language=record.language,
                recipients=tuple(record.recipients),
                findings=len(record.fingerprints),
                reasons=dict(sorted(counts.items())),
                channel=record.channel,
                status=record.status,
                result=record.result,
                subject=record.subject,
                fingerprints=tuple(record.fingerprints),
                fingerprint_reasons=dict(record.reasons),
            )
        )
    return rows


def securitytxt_evidence(
    session: Session, company_ids: Iterable[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Per company, the evidence of its securitytxt findings, newest first: where the parsed
    Contact values of a company's security.txt are, when the store has them at all."""
    query = (
        select(Finding.company_id, Finding.evidence)
        .where(col(Finding.check_id).startswith("securitytxt."))
        .order_by(col(Finding.last_seen).desc(), col(Finding.id).desc())
    )
    if company_ids is not None:
        query = query.where(col(Finding.company_id).in_(list(company_ids)))
    evidence: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for company_id, item in session.exec(query):
        if isinstance(item, dict):
            evidence[company_id].append(item)
    return dict(evidence)


def expire_pending(session: Session, before: datetime) -> int:
    """Mark `pending` rows older than `before` as failed: a run that died between handing a
    message over and recording the result. Whether that message went out is unknown, so it
    counts as not warned (it is sent again) and the row says so. Returns how many."""
    count = 0
    for record in session.exec(
        select(WarningRecord).where(
            WarningRecord.status == PENDING, col(WarningRecord.created_at) < before
        )
    ):
        record.status = FAILED
        record.result = (
            "interrupted before the delivery result was recorded; it may have gone out, "
            "and is sent again"
        )
        session.add(record)
        count += 1
    return count
