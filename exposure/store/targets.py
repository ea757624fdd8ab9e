"""Deleting a target row: what the member-list sync and discovery (retire, reject) share."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select, update

from exposure.models import CheckError, Finding, FindingEvent, Target

LIVE_STATUSES = ("open", "accepted")


def delete_target(session: Session, target: Target, now: datetime, note: str) -> None:
    """Resolve and detach the target's findings (history stays), detach its check errors,
    delete the row."""
    for finding in session.exec(select(Finding).where(Finding.target_id == target.id)):
        if finding.status in LIVE_STATUSES:
            finding.status = "resolved"
            finding.resolved_at = now
            assert finding.id is not None
            session.add(
                FindingEvent(
                    finding_id=finding.id,
                    at=now,
                    event="resolved",
                    severity=finding.severity,
                    note=note,
                )
            )
        finding.target_id = None
        session.add(finding)
    session.exec(
        update(CheckError).where(col(CheckError.target_id) == target.id).values(target_id=None)
    )
    session.flush()  # the references are gone before the row is (PostgreSQL checks at once)
    session.delete(target)
