"""The companies a run scans, read from the store a page at a time.

A run over N companies must not hold N companies in memory (issue #11: peak RSS flat in N; the
Netherlands has 1.3 million small businesses). The run starts from the ids alone; the companies
and their targets are read in pages of `PAGE` as the scan reaches them, the next page while the
current one is scanned, so the scan never waits for the store and holds at most two pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from exposure.contract import ScanTarget, TargetKind
from exposure.models import Company, Target
from exposure.store.db import session as session_scope

#: Companies read from the store at a time. Small enough that two pages are nothing next to the
#: scan's caches, large enough that a run of 10,000 companies takes 20 reads.
PAGE = 500


@dataclass(frozen=True, slots=True)
class CompanySnapshot:
    """A company and its targets as read when the scan reaches it (values, no rows)."""

    id: str
    name: str
    targets: tuple[ScanTarget, ...]


def active_company_ids(engine: Engine, company_ids: Sequence[str] | None) -> list[str]:
    """The active companies' ids in scan order (by id): all of them, or those of `company_ids`."""
    with session_scope(engine) as session:
        query = select(Company.id).where(col(Company.active).is_(True))
        if company_ids:
            query = query.where(col(Company.id).in_(list(company_ids)))
        return list(session.exec(query.order_by(col(Company.id))).all())


def load_companies(engine: Engine, company_ids: Sequence[str]) -> list[CompanySnapshot]:
    """These companies and their targets, in the order given. A company removed or made inactive
    since its id was read is left out."""
    ids = list(company_ids)
    if not ids:
        return []
    with session_scope(engine) as session:
        companies = {
            c.id: c
            for c in session.exec(
                select(Company).where(col(Company.active).is_(True)).where(col(Company.id).in_(ids))
            )
        }
        targets: dict[str, list[ScanTarget]] = {cid: [] for cid in companies}
        rows = session.exec(
            select(Target).where(col(Target.company_id).in_(ids)).order_by(col(Target.id))
        )
        for t in rows:
            if t.company_id in targets:
                targets[t.company_id].append(
                    ScanTarget(t.company_id, TargetKind(t.kind), t.value, t.display, t.id)
                )
        return [
            CompanySnapshot(cid, companies[cid].name, tuple(targets[cid]))
            for cid in ids
            if cid in companies
        ]


class CompanyStream:
    """The companies of `ids`, read a page at a time off the event loop, the next page while
    the current one is handed out. `missing` counts those gone from the store meanwhile."""

    def __init__(self, engine: Engine, ids: Sequence[str], page: int = PAGE) -> None:
        if page < 1:
            raise ValueError("page must be at least 1")
        self._engine = engine
        self._pages = [list(ids[i : i + page]) for i in range(0, len(ids), page)]
        self.missing = 0

    async def __aiter__(self) -> AsyncIterator[CompanySnapshot]:
        pages = iter(self._pages)
        ahead = self._read(next(pages, None))
        try:
            while ahead is not None:
                wanted, reading = ahead
                batch = await reading
                ahead = self._read(next(pages, None))
                self.missing += len(wanted) - len(batch)
                for company in batch:
                    yield company
        finally:
            if ahead is not None:  # the scan stopped early: nobody wants the next page
                ahead[1].cancel()

    def _read(
        self, wanted: list[str] | None
    ) -> tuple[list[str], asyncio.Future[list[CompanySnapshot]]] | None:
        if wanted is None:
            return None
        reading = asyncio.ensure_future(asyncio.to_thread(load_companies, self._engine, wanted))
        return wanted, reading
