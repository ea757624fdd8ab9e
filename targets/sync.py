"""Bringing the store in line with a member list: plan first, then apply.

The plan is computed without writing anything, so `--dry-run` shows exactly what an import
would do, and an import applies exactly that plan. Comparing before writing is also what makes
an import idempotent: a company whose fields and targets are as in the file is not touched (its
`updated_at` keeps telling when it last really changed).

History is never thrown away. A target that leaves the list resolves its open and accepted
findings (with a `FindingEvent` saying why) and detaches them before the row is deleted; a company
that leaves the list is only deactivated with `prune`, because its findings, warnings and runs
refer to it. A company that comes back is active again.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from exposure.contract import TargetKind
from exposure.models import Company, Finding, Target, utcnow
from exposure.store.targets import LIVE_STATUSES, delete_target
from targets.members import Member
from targets.normalise import TargetSpec, is_private_target

#: Finding statuses that a target's removal resolves.
REMOVAL_NOTE = "target removed from member list"
COMPANY_FIELDS = ("name", "email", "sector", "language", "phone")
_KIND_ORDER = {TargetKind.DOMAIN: 0, TargetKind.HOST: 1, TargetKind.IP: 2, TargetKind.NETWORK: 3}


class PruneRefusedError(ValueError):
    """`prune` with an empty member list: that would deactivate every company at once."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str  # name | email | sector | language | phone | active
    old: str | bool
    new: str | bool


@dataclass(frozen=True, slots=True)
class CompanyDiff:
    """What an import does to one company.

    `member` holds the new values for an added or updated company and is None for one that is
    not in the file. `findings_resolved` counts the open/accepted findings that the removal of
    `targets_removed` resolves.
    """

    company_id: str
    name: str
    member: Member | None = None
    changes: tuple[FieldChange, ...] = ()
    targets_added: tuple[TargetSpec, ...] = ()
    targets_removed: tuple[TargetSpec, ...] = ()
    findings_resolved: int = 0

    @property
    def changed_fields(self) -> tuple[str, ...]:
        return tuple(change.field for change in self.changes)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """Everything an import would change, company by company, in file order.

    `removed` is only filled with `prune` (the companies are deactivated and lose their
    targets); without it, active companies that are not in the file are listed in `kept` and
    left alone.
    """

    prune: bool
    added: tuple[CompanyDiff, ...] = ()
    updated: tuple[CompanyDiff, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[CompanyDiff, ...] = ()
    kept: tuple[CompanyDiff, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.updated or self.removed)

    @property
    def targets_added(self) -> int:
        return sum(len(diff.targets_added) for diff in self._changed())

    @property
    def targets_removed(self) -> int:
        return sum(len(diff.targets_removed) for diff in self._changed())

    @property
    def findings_resolved(self) -> int:
        return sum(diff.findings_resolved for diff in self._changed())

    def _changed(self) -> Iterable[CompanyDiff]:
        return (*self.added, *self.updated, *self.removed)


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One line of `exposure targets list`."""

    company_id: str
    name: str  # the company name
    kind: str
    value: str
    display: str  # what a person reads: the U-label of an IDN, else the value
    private: bool  # outside the public internet: skipped at scan time unless allow_private
    active: bool  # whether the company is active
    origin: str = "listed"  # listed (the member list) | discovered (confirmed by discovery, #22)


# --- planning --------------------------------------------------------------------------------


def plan_import(session: Session, members: Sequence[Member], *, prune: bool) -> ImportPlan:
    """Compare a validated member list with the store; reads only.

    Raises `PruneRefusedError` for `prune` with an empty list while active companies exist: an
    empty export is far likelier than an association without members.
    """
    companies = {company.id: company for company in session.exec(select(Company))}
    targets: dict[str, list[Target]] = defaultdict(list)
    for target in session.exec(select(Target)):
        targets[target.company_id].append(target)
    if prune and not members and any(c.active for c in companies.values()):
        raise PruneRefusedError("refusing to prune every company: the member list is empty")

    added: list[CompanyDiff] = []
    updated: list[CompanyDiff] = []
    unchanged: list[str] = []
    for member in members:
        company = companies.get(member.id)
        if company is None:
            added.append(CompanyDiff(member.id, member.name, member, targets_added=member.targets))
            continue
        changes = _field_changes(company, member)
        wanted = {spec.key for spec in member.targets}
        have = {(t.kind, t.value) for t in targets[member.id]}
        to_add = tuple(spec for spec in member.targets if spec.key not in have)
        # A discovered target (a confirmed DiscoveredHost) is not the member list's to remove.
        to_remove = [
            t
            for t in targets[member.id]
            if (t.kind, t.value) not in wanted and t.origin != "discovered"
        ]
        if changes or to_add or to_remove:
            updated.append(
                CompanyDiff(
                    member.id,
                    member.name,
                    member,
                    changes=changes,
                    targets_added=to_add,
                    targets_removed=_specs(to_remove),
                    findings_resolved=_live_findings(session, to_remove),
                )
            )
        else:
            unchanged.append(member.id)

    in_file = {member.id for member in members}
    removed: list[CompanyDiff] = []
    kept: list[CompanyDiff] = []
    for company_id in sorted(companies.keys() - in_file):
        company = companies[company_id]
        own = targets[company_id]
        if not company.active and not own:
            continue  # pruned before: nothing left to do or to report
        if prune:
            changes = (FieldChange("active", True, False),) if company.active else ()
            removed.append(
                CompanyDiff(
                    company_id,
                    company.name,
                    changes=changes,
                    targets_removed=_specs(own),
                    findings_resolved=_live_findings(session, own),
                )
            )
        else:
            kept.append(CompanyDiff(company_id, company.name))
    return ImportPlan(
        prune=prune,
        added=tuple(added),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        removed=tuple(removed),
        kept=tuple(kept),
    )


def _field_changes(company: Company, member: Member) -> tuple[FieldChange, ...]:
    changes = [
        FieldChange(name, getattr(company, name), getattr(member, name))
        for name in COMPANY_FIELDS
        if getattr(member, name) is not None and getattr(company, name) != getattr(member, name)
    ]
    if not company.active:
        changes.append(FieldChange("active", False, True))
    return tuple(changes)


def _specs(targets: Iterable[Target]) -> tuple[TargetSpec, ...]:
    specs = (TargetSpec(TargetKind(t.kind), t.value, t.display) for t in targets)
    return tuple(sorted(specs, key=_sort_key))


def _live_findings(session: Session, targets: Sequence[Target]) -> int:
    ids = [t.id for t in targets if t.id is not None]
    if not ids:
        return 0
    query = select(func.count(col(Finding.id))).where(
        col(Finding.target_id).in_(ids), col(Finding.status).in_(LIVE_STATUSES)
    )
    return int(session.exec(query).one())


# --- applying --------------------------------------------------------------------------------


def apply_import(session: Session, plan: ImportPlan, *, now: datetime | None = None) -> None:
    """Carry out a plan in the session's current transaction, and flush; the caller commits.

    Not committing here keeps the import one transaction with whatever the caller records
    along with it, and lets a caller that fails halfway roll everything back: a member list is
    stored completely or not at all. `now` stamps `updated_at`, `created_at`, `resolved_at`.
    """
    now = now or utcnow()
    for diff in plan.added:
        member = _member(diff)
        session.add(
            Company(
                id=member.id,
                name=member.name,
                email=member.email,
                sector=member.sector,
                language=member.language or "",
                phone=member.phone or "",
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()  # the companies exist before their targets refer to them

    for diff in plan.updated:
        member = _member(diff)
        company = _company(session, diff.company_id)
        for name in COMPANY_FIELDS:
            value = getattr(member, name)
            if value is not None:
                setattr(company, name, value)
        company.active = True
        company.updated_at = now
        session.add(company)
    for diff in plan.removed:
        company = _company(session, diff.company_id)
        company.active = False
        company.updated_at = now
        session.add(company)

    for diff in (*plan.updated, *plan.removed):
        for spec in diff.targets_removed:
            _remove_target(session, diff.company_id, spec, now)
    for diff in (*plan.added, *plan.updated):
        for spec in diff.targets_added:
            session.add(
                Target(
                    company_id=diff.company_id,
                    kind=spec.kind.value,
                    value=spec.value,
                    display=spec.display,
                    created_at=now,
                )
            )
    session.flush()


def _member(diff: CompanyDiff) -> Member:
    if diff.member is None:  # pragma: no cover - plan_import always sets it
        raise ValueError(f"company {diff.company_id!r}: the plan has no member values")
    return diff.member


def _company(session: Session, company_id: str) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise LookupError(f"company {company_id!r} is gone: the plan is stale, plan again")
    return company


def _remove_target(session: Session, company_id: str, spec: TargetSpec, now: datetime) -> None:
    """Resolve and detach the target's findings, detach its check errors, delete the row."""
    target = session.exec(
        select(Target).where(
            Target.company_id == company_id,
            Target.kind == spec.kind.value,
            Target.value == spec.value,
        )
    ).first()
    if target is None:
        return  # already gone: the outcome the plan wants
    delete_target(session, target, now, REMOVAL_NOTE)


# --- reading ---------------------------------------------------------------------------------


def list_targets(session: Session, company_id: str | None = None) -> list[TargetRow]:
    """The registered targets, by company id, then domains, addresses, networks."""
    query = select(Target, Company).join(Company, col(Target.company_id) == col(Company.id))
    if company_id is not None:
        query = query.where(Target.company_id == company_id)
    rows = [
        TargetRow(
            company_id=company.id,
            name=company.name,
            kind=target.kind,
            value=target.value,
            display=target.display or target.value,
            private=is_private_target(target.kind, target.value),
            active=company.active,
            origin=target.origin,
        )
        for target, company in session.exec(query)
    ]
    return sorted(
        rows,
        key=lambda r: (r.company_id, _sort_key(TargetSpec(TargetKind(r.kind), r.value, r.display))),
    )


def _sort_key(spec: TargetSpec) -> tuple[int, int, int, str]:
    """Domains as people read them, addresses and networks numerically (.2 before .10)."""
    if spec.kind in (TargetKind.DOMAIN, TargetKind.HOST):
        return (_KIND_ORDER[spec.kind], 0, 0, spec.label)
    try:
        network = ipaddress.ip_network(spec.value, strict=False)
    except ValueError:
        return (_KIND_ORDER[spec.kind], 0, 0, spec.value)
    return (_KIND_ORDER[spec.kind], network.version, int(network.network_address), spec.value)


# --- telling people --------------------------------------------------------------------------


def summarise(plan: ImportPlan) -> str:
    """One line, e.g. `3 companies added, 1 updated (email), 0 removed, 396 unchanged; ...`."""
    fields = _changed_fields(plan)
    updated = f"{len(plan.updated)} updated" + (f" ({', '.join(fields)})" if fields else "")
    line = (
        f"{_count(len(plan.added), 'company', 'companies')} added, {updated}, "
        f"{len(plan.removed)} removed, {len(plan.unchanged)} unchanged; "
        f"{_count(plan.targets_added, 'target', 'targets')} added, {plan.targets_removed} removed"
    )
    if plan.findings_resolved:
        line += f"; {_count(plan.findings_resolved, 'finding', 'findings')} resolved"
    if plan.kept:
        line += f"; {len(plan.kept)} not in file, kept (--prune deactivates them)"
    return line


def _changed_fields(plan: ImportPlan) -> list[str]:
    seen: set[str] = set()
    for diff in plan.updated:
        seen.update(diff.changed_fields)
        if diff.targets_added or diff.targets_removed:
            seen.add("targets")
    order = (*COMPANY_FIELDS, "active", "targets")
    return [name for name in order if name in seen]


def describe_plan(plan: ImportPlan) -> list[str]:
    """One line per company that changes (and per kept one), for `--dry-run`."""
    lines: list[str] = []
    for diff in plan.added:
        lines.append(f"+ {diff.company_id} {diff.name}: {_targets(diff)}")
    for diff in plan.updated:
        parts = [_change(change) for change in diff.changes]
        if diff.targets_added or diff.targets_removed:
            parts.append(_targets(diff))
        lines.append(f"~ {diff.company_id} {diff.name}: {'; '.join(parts)}")
    for diff in plan.removed:
        lines.append(f"- {diff.company_id} {diff.name}: deactivated; {_targets(diff)}")
    for diff in plan.kept:
        lines.append(f"= {diff.company_id} {diff.name}: not in file, kept")
    return lines


def _change(change: FieldChange) -> str:
    if change.field == "active":
        return "active again" if change.new else "deactivated"
    return f"{change.field} {change.old!r} -> {change.new!r}"


def _targets(diff: CompanyDiff) -> str:
    parts = [f"+{spec.kind.value} {spec.label}" for spec in diff.targets_added]
    parts += [f"-{spec.kind.value} {spec.label}" for spec in diff.targets_removed]
    text = ", ".join(parts) if parts else "no targets"
    if diff.findings_resolved:
        text += f" ({_count(diff.findings_resolved, 'finding', 'findings')} resolved)"
    return text


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
