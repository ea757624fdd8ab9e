"""Discovery for the companies in the store, from the settings: what `exposure discovery run`
and the nightly run call. Reads the companies' listed domains, asks the sources, stores what
they found company by company, and keeps the sources' answers in the store's cache."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, func, select

from exposure.discovery.build import build
from exposure.discovery.run import (
    DONE_MARK,
    CompanyDiscoverer,
    DiscoveryOutcome,
    discover_companies,
)
from exposure.discovery.shodan_search import ShodanSearchDiscoverer
from exposure.models import Company, SourceCache, Target, utcnow
from exposure.net.dns import AiodnsResolver, CachingResolver, Resolver
from exposure.settings import Settings
from exposure.store.db import session
from exposure.store.discovery import ORIGIN_LISTED
from exposure.store.source_cache import StoreAnswerCache
from exposure.store.source_pace import key_gate

#: The part of the run's deadline discovery may take before the nightly scan: the scan of the
#: targets already known matters more than finding new ones.
NIGHTLY_SHARE = 0.25
WEEKLY = timedelta(days=6, hours=12)


def discovery_due(engine: Engine, schedule: str, now: datetime) -> bool:
    """Whether the nightly run discovers tonight: `nightly` always, `weekly` when no company
    was discovered in the last 6.5 days, `off` never."""
    if schedule == "off":
        return False
    if schedule == "nightly":
        return True
    with session(engine) as db:
        last = db.exec(
            select(func.max(SourceCache.fetched_at)).where(SourceCache.source == DONE_MARK)
        ).one()
    return last is None or now - last >= WEEKLY


class UnknownCompanyError(ValueError):
    """A company id that is not in the store (or not active): one line for a person."""


@dataclass(slots=True)
class DiscoveryReport:
    outcome: DiscoveryOutcome
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def listed_domains(
    engine: Engine, company_ids: Sequence[str] | None
) -> list[tuple[str, list[str]]]:
    """(company id, its listed domains) of the active companies, or of `company_ids`.

    Discovery starts from what the member list names, never from what discovery found: a
    confirmed `vpn.haven.nl` does not make `*.vpn.haven.nl` the member's.
    """
    with session(engine) as db:
        query = select(Company.id).where(col(Company.active).is_(True))
        if company_ids:
            query = query.where(col(Company.id).in_(list(company_ids)))
        ids = list(db.exec(query.order_by(col(Company.id))).all())
        missing = sorted(set(company_ids or ()) - set(ids))
        if missing:
            raise UnknownCompanyError(f"no active company {', '.join(missing)}")
        domains: dict[str, list[str]] = {cid: [] for cid in ids}
        rows = db.exec(
            select(Target.company_id, Target.value)
            .where(Target.kind == "domain", Target.origin == ORIGIN_LISTED)
            .where(col(Target.company_id).in_(ids))
            .order_by(col(Target.company_id), col(Target.value))
        )
        for company_id, value in rows:
            domains[company_id].append(value)
    return [(cid, found) for cid, found in domains.items() if found]


def _credit_notes(discoverer: CompanyDiscoverer) -> list[str]:
    """What the Shodan search spent of its budget, for the person who pays for the credits."""
    notes = []
    for slot in discoverer.slots:
        source = slot.discoverer
        if isinstance(source, ShodanSearchDiscoverer) and source.budget is not None:
            left = "" if source.credits_left is None else f", {source.credits_left} left before"
            notes.append(
                f"shodan: {source.credits_used} query credits spent "
                f"(budget {source.budget.per_run}, reserve {source.budget.reserve}{left})"
            )
    return notes


async def run_discovery(
    settings: Settings,
    engine: Engine,
    company_ids: Sequence[str] | None = None,
    *,
    deadline: float | None = None,
    resume: bool = False,
    resolver: Resolver | None = None,
    now: datetime | None = None,
) -> DiscoveryReport:
    """Discover the hosts of the companies within `deadline` seconds (default: the run's)."""
    import asyncio

    started = time.monotonic()
    companies = await asyncio.to_thread(listed_domains, engine, company_ids)
    own = resolver is None
    inner = resolver or AiodnsResolver(
        settings.resolver_addresses(), timeout=settings.dns_timeout, tries=settings.dns_tries
    )
    cache = StoreAnswerCache(engine)
    gate = key_gate(settings.shodan_key, engine)
    discoverer, notes = build(settings, CachingResolver(inner), cache, gate)
    try:
        outcome = await discover_companies(
            engine,
            discoverer,
            companies,
            deadline=deadline if deadline is not None else settings.run_deadline,
            resume=resume,
            now=now or utcnow(),
        )
        notes.extend(_credit_notes(discoverer))
    finally:
        await discoverer.aclose()
        if gate is not None:
            await gate.aclose()
        if own and isinstance(inner, AiodnsResolver):
            await inner.close()
        await cache.flush()
    return DiscoveryReport(outcome, notes, time.monotonic() - started)
