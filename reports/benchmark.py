"""Everyone's current score, for comparisons without names: sector and area averages.

Who counts: active companies that have been scanned to the end at least once. A company that
was never scanned has no findings, and counting it as 100 would flatter every average.

Anonymity: an average is only shown for a group of at least `MIN_GROUP` companies. With fewer,
a member who knows its own score could work out another member's score from the average.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from exposure.models import Company, Finding
from exposure.severity import Severity
from reports import coverage, history, scoring
from reports.scoring import Item, Score
from reports.specs import Specs

MIN_GROUP = 3
COUNTED_STATUSES = ("open", "accepted")  # what can still matter for a grade


@dataclass(frozen=True, slots=True)
class CompanyScore:
    company_id: str
    name: str
    sector: str
    score: Score


@dataclass(frozen=True, slots=True)
class Average:
    """A group's mean score, or None when the group is too small to show (see MIN_GROUP)."""

    points: float | None
    companies: int

    @property
    def shown(self) -> bool:
        return self.points is not None


def current_items(
    session: Session, company_ids: Iterable[str] | None = None
) -> dict[str, list[Item]]:
    """The scoring items of every company's open and accepted findings (one query)."""
    query = sa_select(
        col(Finding.company_id),
        col(Finding.check_id),
        col(Finding.severity),
        col(Finding.status),
        col(Finding.target),
    ).where(col(Finding.status).in_(COUNTED_STATUSES))
    if company_ids is not None:
        query = query.where(col(Finding.company_id).in_(list(company_ids)))
    items: dict[str, list[Item]] = defaultdict(list)
    for company_id, check_id, severity, status, target in session.execute(query):
        items[company_id].append(
            Item(check_id, Severity.parse(severity), status, status == "accepted", target)
        )
    return dict(items)


def scanned_scores(session: Session) -> dict[str, CompanyScore]:
    """The current score of every active company that has been scanned, by company id."""
    scanned = history.first_scanned(session)
    companies = [
        c
        for c in session.exec(select(Company).where(col(Company.active).is_(True)))
        if c.id in scanned
    ]
    items = current_items(session)
    return {
        c.id: CompanyScore(c.id, c.name, c.sector, scoring.score(items.get(c.id, [])))
        for c in sorted(companies, key=lambda c: c.id)
    }


def graded_scores(session: Session, specs: Specs) -> dict[str, CompanyScore]:
    """`scanned_scores` without the companies where no test completed: they have no grade, and
    counting them as 100 would flatter every average (DESIGN.md, "What a verdict may claim")."""
    scores = scanned_scores(session)
    covered = coverage.of_companies(session, specs, scores)
    return {cid: s for cid, s in scores.items() if not covered[cid].nothing_tested}


def average(scores: Iterable[CompanyScore], min_group: int = MIN_GROUP) -> Average:
    values = [s.score.points for s in scores]
    if len(values) < max(min_group, 1):
        return Average(None, len(values))
    return Average(scoring.average_points(values), len(values))


def sector_key(sector: str) -> str:
    """Sectors compare case- and space-insensitively: "Food " and "food" are one sector."""
    return " ".join(sector.split()).lower()


def by_sector(scores: Mapping[str, CompanyScore]) -> dict[str, list[CompanyScore]]:
    groups: dict[str, list[CompanyScore]] = defaultdict(list)
    for value in scores.values():
        groups[sector_key(value.sector)].append(value)
    return dict(groups)
