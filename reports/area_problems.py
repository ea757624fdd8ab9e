"""Every open problem in the area, the most serious first, and per sector who has the serious ones.

A "top ten by count" opens with what every small firm lacks (DNSSEC, DANE, MTA-STS) and drops
the three open cameras the Meldpunt was founded for. So the overview counts every problem type
that is open anywhere, grouped by severity (critical first, then by how many companies have
it), and never cuts the list. Per sector it gives the share of companies with each critical or
high problem, the sentence a Meldpunt puts in a newsletter ("3 of the 11 companies in logistics:
a camera anyone can watch"). The privacy rule of the overview holds: unless the page is named,
sectors with fewer than `min_group` scanned companies are only counted together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from exposure.severity import Severity
from exposure.text import Text
from reports import benchmark, words
from reports.specs import Specs

#: The problems a sector's share is given for: the ones worth a newsletter sentence.
SERIOUS: tuple[Severity, ...] = (Severity.CRITICAL, Severity.HIGH)

T = Text

WORDS: Mapping[str, Text] = {
    "heading": T(
        "Alle problemen in het gebied, het ernstigste eerst",
        "Every problem in the area, the most serious first",
    ),
    "intro": T(
        "Elk soort probleem dat nu ergens open staat, per ernst; het getal is het aantal "
        "bedrijven dat het heeft. Niets is weggelaten.",
        "Every kind of problem that is open anywhere now, by severity; the number is how many "
        "companies have it. Nothing is left out.",
    ),
    "group": T("{severity}: {n} soort(en) probleem", "{severity}: {n} kind(s) of problem"),
    "shares_heading": T("Ernstige problemen per sector", "Serious problems by sector"),
    "shares_intro": T(
        "Hoeveel bedrijven per sector een ernstig of zeer ernstig probleem hebben. Sectoren met "
        "minder dan {n} bedrijven tellen samen, zodat niemand herkenbaar is.",
        "How many companies per sector have a high or critical problem. Sectors with fewer "
        "than {n} companies are counted together, so that no one can be recognised.",
    ),
    "share": T(
        "{n} van de {total} bedrijven in {sector}: {title}",
        "{n} of the {total} companies in {sector}: {title}",
    ),
    "no_serious": T(
        "{sector}: geen ernstige problemen open ({total} bedrijven)",
        "{sector}: no serious problems open ({total} companies)",
    ),
}


def w(key: str, language: str, **values: object) -> str:
    text = WORDS[key].get(language)
    return text.format(**values) if values else text


@dataclass(frozen=True, slots=True)
class Count:
    check_id: str
    title: str
    severity: Severity
    companies: int
    findings: int


@dataclass(frozen=True, slots=True)
class SeverityGroup:
    severity: Severity
    problems: tuple[Count, ...]  # most companies first


@dataclass(frozen=True, slots=True)
class SectorShare:
    label: str
    companies: int
    shares: tuple[Count, ...]  # serious problems, worst and most common first
    other: bool = False  # the small sectors together

    def sentences(self, language: str) -> list[str]:
        if not self.shares:
            return [w("no_serious", language, sector=self.label, total=self.companies)]
        return [
            w(
                "share",
                language,
                n=c.companies,
                total=self.companies,
                sector=self.label,
                title=c.title,
            )
            for c in self.shares
        ]


Row = tuple[str, str, str, str]  # company id, check id, severity, stored title


def counts(rows: Sequence[Row], specs: Specs, language: str) -> list[Count]:
    """Every problem type above information, worst first, then by companies, then by id."""
    companies: dict[str, set[str]] = defaultdict(set)
    findings: dict[str, int] = defaultdict(int)
    severity: dict[str, Severity] = {}
    stored: dict[str, str] = {}
    for company_id, check_id, sev, title in rows:
        companies[check_id].add(company_id)
        findings[check_id] += 1
        s = Severity.parse(sev)
        severity[check_id] = max(severity.get(check_id, s), s)
        stored.setdefault(check_id, title)
    result = [
        Count(
            check_id,
            specs.title(check_id, language, stored[check_id]),
            severity[check_id],
            len(members),
            findings[check_id],
        )
        for check_id, members in companies.items()
        if severity[check_id] > Severity.INFO
    ]
    result.sort(key=lambda c: (-c.severity.rank, -c.companies, c.check_id))
    return result


def grouped(rows: Sequence[Row], specs: Specs, language: str) -> tuple[SeverityGroup, ...]:
    """`counts` in one group per severity, critical first; empty severities are left out."""
    by_severity: dict[Severity, list[Count]] = defaultdict(list)
    for count in counts(rows, specs, language):
        by_severity[count.severity].append(count)
    return tuple(
        SeverityGroup(sev, tuple(by_severity[sev]))
        for sev in sorted(by_severity, key=lambda s: -s.rank)
    )


def sector_shares(
    scores: Mapping[str, benchmark.CompanyScore],
    rows: Sequence[Row],
    specs: Specs,
    language: str,
    *,
    named: bool,
    min_group: int = benchmark.MIN_GROUP,
) -> tuple[SectorShare, ...]:
    """Per sector the companies with each serious problem; small sectors merged unless named."""
    groups = benchmark.by_sector(scores)
    serious = [r for r in rows if Severity.parse(r[2]) in SERIOUS]
    small = [] if named else [k for k, members in groups.items() if len(members) < min_group]
    result = []
    for key, members in sorted(groups.items()):
        if key in small:
            continue
        label = (
            words.sector_label(members[0].sector, language)
            if key
            else words.ui("unknown_sector", language)
        )
        result.append(_share(label, members, serious, specs, language))
    if small:
        members = [m for key in small for m in groups[key]]
        merged = _share(words.ui("other_sectors", language), members, serious, specs, language)
        result.append(SectorShare(merged.label, merged.companies, merged.shares, other=True))
    return tuple(result)


def _share(
    label: str,
    members: Sequence[benchmark.CompanyScore],
    serious: Sequence[Row],
    specs: Specs,
    language: str,
) -> SectorShare:
    ids = {m.company_id for m in members}
    return SectorShare(
        label, len(members), tuple(counts([r for r in serious if r[0] in ids], specs, language))
    )


__all__ = [
    "WORDS",
    "Count",
    "SectorShare",
    "SeverityGroup",
    "counts",
    "grouped",
    "sector_shares",
    "w",
]
