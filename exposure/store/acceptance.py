"""Comply or explain: a company (or the Meldpunt) accepts a finding as a risk, with a reason.

An accepted finding stays in the report (struck through, with its reason), is left out of the
grade and of the warnings, and comes back as open when its acceptance runs out (the lifecycle
does that at the next scan that still sees it, with an `unaccepted` event). Every acceptance is
a `FindingEvent` "accepted" whose note holds who accepted it, until when, and why: the audit
trail keeps the explanation even after the finding changes again.

`accept_finding` takes the company id as well as the fingerprint and refuses a finding of
another company exactly as an unknown one: a caller cannot learn that a fingerprint exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from exposure.models import Finding, FindingEvent, utcnow

ACCEPTED = "accepted"
DEFAULT_DAYS = 365
MAX_DAYS = 3 * 365
MAX_REASON = 1000


class AcceptError(ValueError):
    """The acceptance cannot be stored; the message is for the person who asked."""


class UnknownFindingError(LookupError):
    """No such finding for this company (whether it exists for another is not told)."""


def accept_finding(
    session: Session,
    company_id: str,
    fingerprint: str,
    reason: str,
    until: datetime | None = None,
    *,
    by: str,
    now: datetime | None = None,
) -> Finding:
    """Mark an open (or already accepted) finding of `company_id` as accepted until `until`
    (default a year from now). Runs in the caller's transaction."""
    now = now or utcnow()
    reason = " ".join(reason.split())
    if not reason:
        raise AcceptError("a reason is required")
    if len(reason) > MAX_REASON:
        raise AcceptError(f"the reason is longer than {MAX_REASON} characters")
    until = until or now + timedelta(days=DEFAULT_DAYS)
    if until <= now:
        raise AcceptError("the end date must be in the future")
    if until > now + timedelta(days=MAX_DAYS):
        raise AcceptError("an acceptance lasts at most three years")
    finding = session.exec(
        select(Finding)
        .where(Finding.fingerprint == fingerprint)
        .where(Finding.company_id == company_id)
    ).first()
    if finding is None:
        raise UnknownFindingError(fingerprint)
    if finding.status not in ("open", ACCEPTED):
        raise AcceptError("only an open finding can be accepted")
    assert finding.id is not None
    finding.status = ACCEPTED
    finding.accepted_reason = reason
    finding.accepted_until = until
    session.add(finding)
    session.add(
        FindingEvent(
            finding_id=finding.id,
            run_id=None,
            at=now,
            event=ACCEPTED,
            severity=finding.severity,
            note=f"by {by} until {until:%Y-%m-%d}: {reason}",
        )
    )
    return finding
