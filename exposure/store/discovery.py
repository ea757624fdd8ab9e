"""Discovered hosts in the store: proposals, the Meldpunt's decisions, retirement (issue #22).

DESIGN.md: "Only a confirmed host (by the Meldpunt, or by a rule that proves ownership) becomes
a Target, and only targets are scanned and warned about." So discovery writes `proposed` rows,
and the only ways a row becomes a target are `confirm` (a person, or the auto-confirm rule that
passes `by="rule:auto_confirm"`). A rejection is final: `record_sightings` never turns a
rejected host back into a proposal, whichever source names it again. A host that no source has
named for `RETIRE_AFTER` is retired, and a retired confirmed host gives its target up, so a
name that moved to someone else stops being scanned as the member's.

Every function works in the caller's session and transaction and flushes; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from exposure.contract import TargetKind
from exposure.models import DiscoveredHost, Target, utcnow
from exposure.store.targets import delete_target

#: A host no source named for this long is retired (the issue's "not seen for 30 days").
RETIRE_AFTER = timedelta(days=30)
ORIGIN_DISCOVERED = "discovered"
ORIGIN_LISTED = "listed"
_KINDS = ("domain", "ip")


class DiscoveryState(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    RETIRED = "retired"


class DiscoveryError(ValueError):
    """A decision that cannot be made (unknown host, wrong company): one line for a person."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """One source naming one host for one company, with the proof it gave."""

    company_id: str
    kind: str  # domain | ip
    value: str  # canonical
    source: str  # dns | ct | shodan
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RecordStats:
    proposed: list[int] = field(default_factory=list)  # ids of new (or returning) proposals
    seen_again: int = 0
    rejected_ignored: int = 0


def record_sightings(
    session: Session, sightings: Iterable[Sighting], now: datetime | None = None
) -> RecordStats:
    """Store what the sources named: new hosts as `proposed`, known ones seen again.

    A rejected host stays rejected (only `last_seen` moves, so it is never retired and never
    re-proposed); a retired one becomes a proposal again; a host that is already a listed target
    of the company is not proposed at all (it is scanned anyway).
    """
    now = now or utcnow()
    stats = RecordStats()
    merged: dict[tuple[str, str, str], list[Sighting]] = {}
    for s in sightings:
        if s.kind not in _KINDS:
            raise ValueError(f"unknown kind {s.kind!r} for {s.value!r}")
        merged.setdefault((s.company_id, s.kind, s.value), []).append(s)
    for (company_id, kind, value), seen in merged.items():
        if _is_listed_target(session, company_id, kind, value):
            continue
        row = session.exec(
            select(DiscoveredHost).where(
                DiscoveredHost.company_id == company_id,
                DiscoveredHost.kind == kind,
                DiscoveredHost.value == value,
            )
        ).first()
        if row is None:
            row = DiscoveredHost(
                company_id=company_id, kind=kind, value=value, first_seen=now, last_seen=now
            )
            _merge(row, seen)
            session.add(row)
            session.flush()
            assert row.id is not None
            stats.proposed.append(row.id)
            continue
        row.last_seen = now
        _merge(row, seen)
        if row.state == DiscoveryState.REJECTED:
            stats.rejected_ignored += 1
        elif row.state == DiscoveryState.RETIRED:
            row.state = DiscoveryState.PROPOSED.value
            row.decided_at, row.decided_by = None, ""
            assert row.id is not None
            stats.proposed.append(row.id)
        else:
            stats.seen_again += 1
        session.add(row)
    session.flush()
    return stats


def _merge(row: DiscoveredHost, seen: Sequence[Sighting]) -> None:
    sources = list(row.sources)
    evidence = dict(row.evidence)
    for s in seen:
        if s.source not in sources:
            sources.append(s.source)
        evidence[s.source] = dict(s.evidence)
    row.sources = sorted(sources)  # a new list: SQLAlchemy sees JSON changes by identity
    row.evidence = evidence


def target_kind(host_kind: str) -> str:
    """The kind of target a confirmed host becomes: a name is a `host` (a machine, scanned by
    the checks that look at the host itself, not the mail and DNS checks of a registered
    domain); an address stays an `ip`."""
    return TargetKind.HOST.value if host_kind == "domain" else host_kind


def _is_listed_target(session: Session, company_id: str, kind: str, value: str) -> bool:
    target = _target(session, company_id, kind, value)
    return target is not None and target.origin != ORIGIN_DISCOVERED


def _target(session: Session, company_id: str, kind: str, value: str) -> Target | None:
    return session.exec(
        select(Target).where(
            Target.company_id == company_id, Target.kind == kind, Target.value == value
        )
    ).first()


def _discovered_target(session: Session, row: DiscoveredHost) -> Target | None:
    return _target(session, row.company_id, target_kind(row.kind), row.value)


def get_host(session: Session, host_id: int, company_id: str | None = None) -> DiscoveredHost:
    row = session.get(DiscoveredHost, host_id)
    if row is None or (company_id is not None and row.company_id != company_id):
        raise DiscoveryError(
            f"no discovered host #{host_id}" + (f" of {company_id}" if company_id else "")
        )
    return row


def confirm(
    session: Session, host_id: int, *, by: str, now: datetime | None = None, note: str = ""
) -> DiscoveredHost:
    """Confirm a host as the company's: it becomes a target (origin `discovered`)."""
    now = now or utcnow()
    row = get_host(session, host_id)
    row.state = DiscoveryState.CONFIRMED.value
    row.decided_at, row.decided_by = now, by
    row.disputed_at = None  # confirmed (again) by the Meldpunt: the dispute is answered
    if note:
        row.note = note
    session.add(row)
    if _discovered_target(session, row) is None:
        session.add(
            Target(
                company_id=row.company_id,
                kind=target_kind(row.kind),
                value=row.value,
                display=row.value,
                created_at=now,
                origin=ORIGIN_DISCOVERED,
            )
        )
    session.flush()
    return row


def reject(
    session: Session, host_id: int, *, by: str, now: datetime | None = None, note: str = ""
) -> DiscoveredHost:
    """Reject a host for good: not the company's. A discovered target it had is removed."""
    now = now or utcnow()
    row = get_host(session, host_id)
    row.state = DiscoveryState.REJECTED.value
    row.decided_at, row.decided_by = now, by
    if note:
        row.note = note
    session.add(row)
    _drop_discovered_target(session, row, now, "discovered host rejected")
    session.flush()
    return row


def dispute(
    session: Session, company_id: str, host_id: int, *, note: str = "", now: datetime | None = None
) -> DiscoveredHost:
    """The company says a confirmed host of its own is not its: a request to the Meldpunt.

    Only the company's own confirmed hosts can be disputed; the scope changes only when the
    Meldpunt rejects (a member must not be able to switch its own scanning off unseen).
    """
    row = get_host(session, host_id, company_id)
    if row.state != DiscoveryState.CONFIRMED:
        raise DiscoveryError(f"discovered host #{host_id} is not a confirmed host")
    row.disputed_at = now or utcnow()
    row.dispute_note = note[:1000]
    session.add(row)
    session.flush()
    return row


def retire_stale(
    session: Session, now: datetime | None = None, company_id: str | None = None
) -> list[DiscoveredHost]:
    """Retire proposed and confirmed hosts no source named within `RETIRE_AFTER` (of one
    company, or of all)."""
    now = now or utcnow()
    query = select(DiscoveredHost).where(
        col(DiscoveredHost.state).in_(
            [DiscoveryState.PROPOSED.value, DiscoveryState.CONFIRMED.value]
        ),
        col(DiscoveredHost.last_seen) < now - RETIRE_AFTER,
    )
    if company_id is not None:
        query = query.where(DiscoveredHost.company_id == company_id)
    stale = session.exec(query).all()
    for row in stale:
        row.state = DiscoveryState.RETIRED.value
        row.decided_at, row.decided_by = now, "rule:retired"
        session.add(row)
        _drop_discovered_target(session, row, now, "discovered host not seen for 30 days")
    session.flush()
    return list(stale)


def _drop_discovered_target(
    session: Session, row: DiscoveredHost, now: datetime, note: str
) -> None:
    """Resolve and detach the findings of the host's discovered target and delete it.

    A listed target of the same value is the member list's business and stays.
    """
    target = _discovered_target(session, row)
    if target is None or target.origin != ORIGIN_DISCOVERED:
        return
    delete_target(session, target, now, note)


def list_hosts(
    session: Session, company_id: str | None = None, states: Sequence[str] | None = None
) -> list[DiscoveredHost]:
    """Discovered hosts by company, kind, value; optionally of one company or some states."""
    query = select(DiscoveredHost)
    if company_id is not None:
        query = query.where(DiscoveredHost.company_id == company_id)
    if states:
        query = query.where(col(DiscoveredHost.state).in_(list(states)))
    query = query.order_by(
        col(DiscoveredHost.company_id), col(DiscoveredHost.kind), col(DiscoveredHost.value)
    )
    return list(session.exec(query).all())


def discovered_targets(session: Session, company_id: str) -> dict[str, DiscoveredHost]:
    """The company's confirmed hosts by value: what reports use to say "found via ..."."""
    rows = list_hosts(session, company_id, [DiscoveryState.CONFIRMED.value])
    return {row.value: row for row in rows}
