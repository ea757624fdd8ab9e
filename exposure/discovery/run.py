"""Discovery of one company, and of many within a deadline, written to the store.

For each listed domain of a company every discoverer is asked, in parallel, each within its own
time-out. What they name is sifted before anything is stored:
- an address in private space (without `allow_private`) is out of scope;
- an address of shared hosting, a CDN or a cloud front end (`hosting.SharedAddresses`) is
  dropped: it never becomes an IP target, and a name that resolves only there is never
  auto-confirmed;
- `www.<domain>` is left out: the domain target's site checks visit it already;
- the rest become `Sighting`s; the store proposes the new ones (a rejected host stays rejected).
With `auto_confirm`, a name under the member's domain whose addresses are all its own (resolved
now, none shared) is confirmed by the rule `rule:auto_confirm`; addresses never are.

A source that failed is the company's "could not test" for that source: it proposes nothing and
its failure is reported, never read as "no hosts". Each company is stored as soon as it is done,
so an interrupted or timed-out run keeps what it found (`exposure discovery run` again resumes
from the companies not done in the last `RESUME_HOURS`).

Companies are looked at in `look_order`: never looked at first, then those whose last look was
incomplete, then the rest by the age of their last look. A source with a bound of its own (the
Shodan search's credit budget) or a deadline that cuts a run short therefore reaches, next time,
the companies it did not reach this time, instead of the same first ones every night.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from exposure.contract import FailureReason
from exposure.discovery.base import Candidate, Discoverer, DiscoveryAnswer, DiscoveryFailure, under
from exposure.discovery.hosting import SharedAddresses
from exposure.models import DiscoveredHost, SourceCache, utcnow
from exposure.net.dns import Resolver
from exposure.store.db import session
from exposure.store.discovery import Sighting, confirm, record_sightings, retire_stale

log = logging.getLogger(__name__)

AUTO_CONFIRM_BY = "rule:auto_confirm"
#: A company discovered within this many hours is skipped when a run is resumed.
RESUME_HOURS = 20.0
DONE_MARK = "discovery.done"  # SourceCache rows that record when a company was last done


@dataclass(slots=True)
class CompanyDiscovery:
    company_id: str
    sightings: list[Sighting] = field(default_factory=list)
    failures: list[DiscoveryFailure] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # value -> why it is not proposed
    auto_confirmable: set[tuple[str, str]] = field(default_factory=set)


@dataclass(slots=True)
class DiscoveryOutcome:
    """What a run of discovery did, for the command line and the run summary."""

    companies: int = 0
    done: int = 0
    proposed: int = 0
    auto_confirmed: int = 0
    rejected_ignored: int = 0
    retired: int = 0
    dropped: int = 0
    failures: list[DiscoveryFailure] = field(default_factory=list)
    not_reached: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failures and not self.not_reached

    def failure_groups(self) -> list[tuple[DiscoveryFailure, list[str]]]:
        """The failures with the same source, reason and message together, each with its
        domains: a spent credit budget is one line for 388 domains, not 388 lines."""
        groups: dict[tuple[str, str, str], tuple[DiscoveryFailure, list[str]]] = {}
        for f in self.failures:
            key = (f.source, f.reason.value, f.message)
            groups.setdefault(key, (f, []))[1].append(f.domain)
        return list(groups.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "companies": self.companies,
            "done": self.done,
            "proposed": self.proposed,
            "auto_confirmed": self.auto_confirmed,
            "rejected_ignored": self.rejected_ignored,
            "retired": self.retired,
            "dropped": self.dropped,
            "could_not_test": len(self.failures),
            "not_reached": len(self.not_reached),
        }


@dataclass(frozen=True, slots=True)
class StoredCompany:
    proposed: int
    auto_confirmed: int
    rejected_ignored: int
    retired: int


@dataclass(frozen=True, slots=True)
class SourceSlot:
    """A discoverer and the time it may take for one domain."""

    discoverer: Discoverer
    timeout: float


class CompanyDiscoverer:
    def __init__(
        self,
        slots: Sequence[SourceSlot],
        shared: SharedAddresses,
        resolver: Resolver,
        *,
        allow_private: bool = False,
        auto_confirm: bool = False,
    ) -> None:
        self.slots = list(slots)
        self.shared = shared
        self.resolver = resolver
        self.allow_private = allow_private
        self.auto_confirm = auto_confirm

    async def company(self, company_id: str, domains: Sequence[str]) -> CompanyDiscovery:
        result = CompanyDiscovery(company_id)
        for domain in domains:
            answers = await asyncio.gather(*(self._ask(slot, domain) for slot in self.slots))
            for answer in answers:
                result.failures.extend(answer.failures)
                for candidate in answer.candidates:
                    await self._sift(result, domain, candidate, answer)
        return result

    async def _ask(self, slot: SourceSlot, domain: str) -> DiscoveryAnswer:
        name = slot.discoverer.name
        try:
            async with asyncio.timeout(slot.timeout):
                return await slot.discoverer.discover(domain)
        except TimeoutError:
            reason, message = FailureReason.TIMEOUT, f"no answer within {slot.timeout:g} s"
        except Exception as exc:  # one source's bug is its own "could not test"
            log.exception("discoverer %s failed for %s", name, domain)
            reason, message = FailureReason.BUG, f"{type(exc).__name__}: {exc}"[:200]
        return DiscoveryAnswer(failures=[DiscoveryFailure(name, domain, reason, message)])

    async def _sift(
        self, result: CompanyDiscovery, domain: str, candidate: Candidate, answer: DiscoveryAnswer
    ) -> None:
        key = (candidate.kind, candidate.value)
        if candidate.kind == "domain" and candidate.value == f"www.{domain}":
            return  # the domain's own site checks already visit www (checks/_site/website.py)
        if candidate.kind == "ip":
            why = await self._address_problem(candidate.value, domain, answer)
            if why is not None:
                result.dropped[candidate.value] = why
                return
        elif (
            self.auto_confirm
            and under(candidate.value, domain)
            and await self._own_name(candidate.value, domain, answer)
        ):
            result.auto_confirmable.add(key)
        result.sightings.append(
            Sighting(
                result.company_id,
                candidate.kind,
                candidate.value,
                candidate.source,
                dict(candidate.evidence),
            )
        )

    async def _address_problem(self, ip: str, domain: str, answer: DiscoveryAnswer) -> str | None:
        addr = ipaddress.ip_address(ip)
        if not addr.is_global and not self.allow_private:
            return f"{ip} is not a public address"
        return await self.shared.reason(ip, domain, answer.address_facts.get(ip))

    async def _own_name(self, name: str, domain: str, answer: DiscoveryAnswer) -> bool:
        """The name resolves, and only to addresses that are not shared (the rule's proof)."""
        addresses: list[str] = []
        for rdtype in ("A", "AAAA"):
            reply = await self.resolver.resolve(name, rdtype)
            if not reply.decisive:
                return False
            addresses.extend(str(r) for r in reply.records if isinstance(r, str))
        if not addresses:
            return False
        for ip in addresses:
            if await self._address_problem(ip, domain, answer) is not None:
                return False
        return not any(ip in self.shared.unverified for ip in addresses)

    async def aclose(self) -> None:
        for slot in self.slots:
            await slot.discoverer.aclose()


def store_company(
    engine: Engine, found: CompanyDiscovery, now: datetime | None = None
) -> StoredCompany:
    """Record a company's sightings, apply the auto-confirm rule and retire what a complete
    look no longer sees, in one transaction. Marks the company done, so a resumed run skips it.
    """
    now = now or utcnow()
    auto = 0
    with session(engine) as db:
        stats = record_sightings(db, found.sightings, now)
        if found.auto_confirmable:
            for host_id in stats.proposed:
                row = db.get(DiscoveredHost, host_id)
                if row is not None and (row.kind, row.value) in found.auto_confirmable:
                    confirm(db, host_id, by=AUTO_CONFIRM_BY, now=now)
                    auto += 1
        # Retire only what a complete look did not see: a source that failed saw nothing.
        retired = 0 if found.failures else len(retire_stale(db, now, found.company_id))
        db.merge(
            SourceCache(
                source=DONE_MARK,
                key=found.company_id,
                fetched_at=now,
                status=200 if not found.failures else 206,
                # the company's "could not test" of this look, for `doctor`-style reading later
                payload={
                    "failures": [
                        {"source": f.source, "domain": f.domain, "reason": f.reason.value}
                        for f in found.failures[:20]
                    ],
                    "sightings": len(found.sightings),
                    "dropped": dict(list(found.dropped.items())[:20]),
                },
            )
        )
    return StoredCompany(len(stats.proposed) - auto, auto, stats.rejected_ignored, retired)


def recently_done(engine: Engine, company_ids: Sequence[str], now: datetime) -> set[str]:
    """Companies discovered completely within `RESUME_HOURS` (what a resumed run skips)."""
    since = now - timedelta(hours=RESUME_HOURS)
    with session(engine) as db:
        rows = db.exec(
            select(SourceCache.key).where(
                SourceCache.source == DONE_MARK,
                col(SourceCache.fetched_at) >= since,
                SourceCache.status == 200,
                col(SourceCache.key).in_(list(company_ids)),
            )
        ).all()
    return set(rows)


def look_order(
    engine: Engine, companies: Sequence[tuple[str, Sequence[str]]]
) -> list[tuple[str, Sequence[str]]]:
    """`companies` in the order a run should look at them: never looked at, then an incomplete
    last look (status 206), then a complete one, each the oldest first (stable otherwise)."""
    ids = [company_id for company_id, _ in companies]
    with session(engine) as db:
        rows = db.exec(
            select(SourceCache.key, SourceCache.status, SourceCache.fetched_at).where(
                SourceCache.source == DONE_MARK, col(SourceCache.key).in_(ids)
            )
        ).all()
    last = {key: (status == 200, fetched_at) for key, status, fetched_at in rows}
    never = (False, datetime.min)
    return sorted(companies, key=lambda c: last.get(c[0], never))


async def discover_companies(
    engine: Engine,
    discoverer: CompanyDiscoverer,
    companies: Sequence[tuple[str, Sequence[str]]],
    *,
    deadline: float,
    resume: bool = False,
    concurrency: int = 4,
    now: datetime | None = None,
) -> DiscoveryOutcome:
    """Discover `companies` ((id, listed domains) pairs) within `deadline` seconds.

    Stores each company as it finishes (off the event loop); what the deadline cuts off is
    listed in `not_reached` and found by the next (resumed) run.
    """
    now = now or utcnow()
    outcome = DiscoveryOutcome(companies=len(companies))
    todo = await asyncio.to_thread(look_order, engine, companies)
    if resume:
        skip = await asyncio.to_thread(recently_done, engine, [c for c, _ in todo], now)
        outcome.done += len(skip)
        todo = [(c, d) for c, d in todo if c not in skip]
    pending = {company_id for company_id, _ in todo}
    gate = asyncio.Semaphore(concurrency)
    # One writer at a time: on SQLite two write transactions from two threads fail each other
    # ("database is locked" when a read transaction upgrades), whatever the busy timeout.
    writer = asyncio.Lock()

    async def one(company_id: str, domains: Sequence[str]) -> None:
        async with gate:
            found = await discoverer.company(company_id, domains)
            async with writer:
                stored = await asyncio.to_thread(store_company, engine, found, now)
        pending.discard(company_id)
        outcome.done += 1
        outcome.proposed += stored.proposed
        outcome.auto_confirmed += stored.auto_confirmed
        outcome.rejected_ignored += stored.rejected_ignored
        outcome.retired += stored.retired
        outcome.dropped += len(found.dropped)
        outcome.failures.extend(found.failures)

    try:
        async with asyncio.timeout(deadline):
            async with asyncio.TaskGroup() as group:
                for company_id, domains in todo:
                    group.create_task(one(company_id, domains))
    except TimeoutError:
        pass
    outcome.not_reached = sorted(pending)
    return outcome
