"""The one place that turns a company's findings into a grade and a "do these first" list.

Why one place: the company report, the area overview, the warnings and (later) the portal all
show a grade or an action list. If each computed its own, a baker could read a B in the report
and a C in the e-mail. Everything here is a pure function over plain values, so any of them can
call it without a database, a registry or a template.

The input is a sequence of items `(check_id, severity, status, accepted)` -- as `Item` values or
as plain tuples -- one per finding, i.e. one problem on one host.

How the grade is computed (the same method is printed on every report, see `METHOD`):

1. Only open problems count. Resolved findings, and findings the company agreed with the
   Meldpunt to accept as a risk (status "accepted", or `accepted=True`), are left out.
2. Findings with the same catalogue id are one problem (one fix), whatever the number of hosts.
3. Each problem costs points by its severity (the highest of its hosts):
   critical 40, high 20, medium 8, low 3, info 0 (`WEIGHTS`).
   Every extra host with the same problem adds a quarter of that, up to double in total: ten
   hosts with an open remote desktop are worse than one, but not ten times the grade.
4. Low problems together cost at most 10 points plus 1 per low problem, and never more than
   24 (`BUDGET_BASE`, `BUDGET_PER_PROBLEM`, `BUDGETS`). They are good practice that few small
   firms have yet (DNSSEC, DANE, MTA-STS ...); on their own they must not drag a company below
   a B (100 - 24 = 76). Up to five low problems on one host each cost what they did under the
   old flat budget of 15; the point per problem is there so that fixing one more low problem
   always shows, also when the budget is full (the catalogue has 8 low ids, well under the 14
   where the ceiling takes over).
5. The score is 100 minus the points; below 30 (an E whatever happens) it is at least 30 minus
   the number of open problems (`FLOOR`), and never below 0. So fixing any real problem (above
   info) always raises the score by at least 1 point: a company at 0 sees its first fixes
   (up to 30 kinds of problems, and the catalogue has few more). Letters do not change by
   this: the floor stays below 30, where every score is an E.
6. The score gives the letter: A from 90, B from 75, C from 50, D from 30, E below that.
7. The worst open problem caps the letter, so that a score can never hide a serious hole:
   any critical problem gives E; a high one gives at best C; a medium one at best B.
   Low and info problems never cap.

Check: no findings -> 100, A. Four low problems -> 88, B; ten -> 100 - (10 + 10) = 80, B.
One medium -> 92 but capped to B.
One high -> 80 but capped to C. An expired certificate, DMARC on p=none and the usual
missing good practices (seven lows) -> 100 - 20 - 8 - 17 = 55, C. Three highs -> 40, D. Five
highs -> 100 - 100 = 0, but 30 - 5 = 25 (rule 5), E.
One critical -> E whatever the score. Six highs and a critical -> 100 - 120 - 40 < 0, so
30 - 7 = 23, E; fixing one high -> 24.

The ranking of actions ("do these first", `rank_actions`): findings with the same check id are
grouped into one action (one fix, possibly on several hosts), then sorted by severity (highest
first), then by harm (`exposure.catalogue.Harm`: someone getting in before customers turned
away before mail in your name before eavesdropping before good practice), then effort (lowest
first: quick wins before projects; unknown effort counts as medium), then the number of hosts
the fix repairs (most first), then the check id (a stable order). A host and its `www.` name
are one host: one certificate on both is one problem on one site, not two.
Each action says what the problem costs (`Action.points`, its deduction of rule 3): a stable
figure an owner can compare, also when the score is at 0 or low problems hit their budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from exposure.catalogue import harm_of
from exposure.contract import Effort
from exposure.severity import Severity
from exposure.text import Text

__all__ = [
    "BUDGETS",
    "BUDGET_BASE",
    "BUDGET_PER_PROBLEM",
    "EFFORT_WORDS",
    "FLOOR",
    "GRADE_THRESHOLDS",
    "METHOD",
    "METHOD_STEPS",
    "SEVERITY_CAP",
    "SEVERITY_WORDS",
    "WEIGHTS",
    "Action",
    "Deduction",
    "Grade",
    "Item",
    "ItemLike",
    "Score",
    "average_points",
    "counted",
    "grade_for",
    "method_text",
    "rank_actions",
    "score",
]

# --- the numbers of the method ----------------------------------------------------------------

WEIGHTS: Mapping[Severity, int] = {
    Severity.CRITICAL: 40,
    Severity.HIGH: 20,
    Severity.MEDIUM: 8,
    Severity.LOW: 3,
    Severity.INFO: 0,
}
# The most that all problems of one severity together can cost.
BUDGETS: Mapping[Severity, int] = {Severity.LOW: 24}
# Below that ceiling, what they cost at most is a base plus this much per problem of that
# severity, so that fixing one always shows, also when the budget is full (rule 4).
BUDGET_BASE: Mapping[Severity, int] = {Severity.LOW: 10}
BUDGET_PER_PROBLEM = 1
# Below the lowest D, the score is at least FLOOR minus the number of open problems (rule 5).
FLOOR = 30
EXTRA_HOST_SHARE = 0.25  # each extra host with the same problem adds this share of its weight
MAX_MULTIPLIER = 2.0  # ... up to this multiple of the weight
MAX_POINTS = 100


class Grade(StrEnum):
    """Five letters, A best. Letters as on the Dutch energy label, which every owner knows."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"

    @property
    def rank(self) -> int:
        """0 for A (best) to 4 for E (worst): compare grades without comparing letters."""
        return _GRADE_ORDER.index(self)

    @property
    def word(self) -> Text:
        """The grade in one word: Goed, Redelijk, Matig, Slecht, Zeer slecht."""
        return _GRADE_WORDS[self]

    @property
    def advice(self) -> Text:
        """One sentence that says what the grade means for the owner and how soon to act."""
        return _GRADE_ADVICE[self]

    def label(self, language: str) -> str:
        """`"C – Matig"`: the letter and its word, as reports show it."""
        return f"{self.value} – {self.word.get(language)}"


_GRADE_ORDER: tuple[Grade, ...] = (Grade.A, Grade.B, Grade.C, Grade.D, Grade.E)

# The lowest score that still earns each letter (E is everything below D).
GRADE_THRESHOLDS: Mapping[Grade, int] = {Grade.A: 90, Grade.B: 75, Grade.C: 50, Grade.D: 30}

# The best letter a company can have while a problem of this severity is open.
SEVERITY_CAP: Mapping[Severity, Grade] = {
    Severity.CRITICAL: Grade.E,
    Severity.HIGH: Grade.C,
    Severity.MEDIUM: Grade.B,
}

_GRADE_WORDS: Mapping[Grade, Text] = {
    Grade.A: Text("Goed", "Good"),
    Grade.B: Text("Redelijk", "Fair"),
    Grade.C: Text("Matig", "Mediocre"),
    Grade.D: Text("Slecht", "Poor"),
    Grade.E: Text("Zeer slecht", "Very poor"),
}

_GRADE_ADVICE: Mapping[Grade, Text] = {
    Grade.A: Text(
        "Van buitenaf is uw bedrijf goed beveiligd. Houd het zo.",
        "Seen from the internet, your company is well protected. Keep it that way.",
    ),
    Grade.B: Text(
        "U bent goed op weg. Er zijn nog een paar kleine verbeteringen mogelijk.",
        "You are on the right track. A few small improvements are still possible.",
    ),
    Grade.C: Text(
        "Er staat minstens één belangrijk probleem open. Laat het binnen een paar weken oplossen.",
        "At least one important problem is open. Have it fixed within a few weeks.",
    ),
    Grade.D: Text(
        "Er staan meerdere belangrijke problemen open. Laat ze deze week oplossen.",
        "Several important problems are open. Have them fixed this week.",
    ),
    Grade.E: Text(
        "Er staan ernstige problemen open die criminelen kunnen misbruiken. Laat ze vandaag "
        "nog oplossen.",
        "Serious problems are open that criminals can abuse. Have them fixed today.",
    ),
}

SEVERITY_WORDS: Mapping[Severity, Text] = {
    Severity.CRITICAL: Text("kritiek", "critical"),
    Severity.HIGH: Text("hoog", "high"),
    Severity.MEDIUM: Text("middel", "medium"),
    Severity.LOW: Text("laag", "low"),
    Severity.INFO: Text("ter informatie", "for information"),
}

EFFORT_WORDS: Mapping[Effort, Text] = {
    Effort.LOW: Text("klein klusje", "quick fix"),
    Effort.MEDIUM: Text("een paar uur werk", "a few hours of work"),
    Effort.HIGH: Text("een project", "a project"),
}

_EFFORT_ORDER: Mapping[Effort, int] = {Effort.LOW: 0, Effort.MEDIUM: 1, Effort.HIGH: 2}

# --- the method in words, for the page --------------------------------------------------------

METHOD_STEPS: tuple[Text, ...] = (
    Text(
        "We beginnen bij 100 punten.",
        "We start at 100 points.",
    ),
    Text(
        "Elk open probleem kost punten, naar hoe ernstig het is: kritiek 40, hoog 20, "
        "middel 8, laag 3, ter informatie 0.",
        "Every open problem costs points by how serious it is: critical 40, high 20, "
        "medium 8, low 3, for information 0.",
    ),
    Text(
        "Hetzelfde probleem op meer adressen telt als één probleem, plus een kwart voor elk "
        "extra adres, tot hoogstens het dubbele. Uw website met en zonder www is één adres.",
        "The same problem on several addresses counts as one problem, plus a quarter for every "
        "extra address, up to double at most. Your website with and without www is one "
        "address.",
    ),
    Text(
        "Problemen met ernst laag kosten samen hoogstens 10 punten plus 1 punt per laag "
        "probleem, en nooit meer dan 24 punten; zo levert elk opgelost probleem iets op.",
        "Low problems together cost at most 10 points plus 1 point per low problem, and never "
        "more than 24 points; so every problem you fix counts.",
    ),
    Text(
        "Onder de 30 punten houdt u altijd 30 min het aantal open problemen (niet minder dan "
        "0). Zo ziet u ook met weinig punten elk opgelost probleem terug.",
        "Below 30 points you always keep 30 minus the number of open problems (no less than "
        "0). So even with a low score, every problem you fix shows in your points.",
    ),
    Text(
        "Uw punten (0 tot 100) bepalen uw cijfer: A vanaf 90, B vanaf 75, C vanaf 50, "
        "D vanaf 30, E daaronder.",
        "Your points (0 to 100) give your grade: A from 90, B from 75, C from 50, "
        "D from 30, E below that.",
    ),
    Text(
        "Het ernstigste open probleem begrenst het cijfer: met een kritiek probleem krijgt u "
        "altijd een E, met een hoog probleem hoogstens een C, met een middelzwaar probleem "
        "hoogstens een B.",
        "The most serious open problem limits the grade: with a critical problem you always "
        "get an E, with a high one at best a C, with a medium one at best a B.",
    ),
    Text(
        "Wat we niet konden testen, telt niet mee: niet als probleem en niet als in orde. "
        "Konden we niets testen, dan krijgt u geen cijfer.",
        "What we could not test does not count: not as a problem and not as fine. If we could "
        "test nothing, you get no grade.",
    ),
    Text(
        "Opgeloste problemen, en problemen die u met het Meldpunt als aanvaard risico hebt "
        "afgesproken, tellen niet mee.",
        "Solved problems, and problems you agreed with the Meldpunt to accept as a risk, "
        "do not count.",
    ),
)

METHOD: Text = Text(
    " ".join(step.nl for step in METHOD_STEPS),
    " ".join(step.en for step in METHOD_STEPS),
)


def method_text(language: str) -> list[str]:
    """The steps of the method in one language, one sentence each (a report prints a list)."""
    return [step.get(language) for step in METHOD_STEPS]


# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """One finding as scoring sees it: one problem on one host.

    `target` is optional; `rank_actions` uses it to say which hosts an action repairs.
    """

    check_id: str
    severity: Severity
    status: str = "open"
    accepted: bool = False
    target: str = ""

    @property
    def counts(self) -> bool:
        """Whether this finding lowers the grade: open and not accepted as a risk."""
        return self.status == "open" and not self.accepted


ItemLike = Item | Sequence[Any]
"""An `Item`, or a plain tuple `(check_id, severity, status, accepted[, target])`."""


@dataclass(frozen=True, slots=True)
class Deduction:
    """What one problem (one check id) cost, so that a report can show where points went."""

    check_id: str
    severity: Severity
    hosts: int
    points: float


@dataclass(frozen=True, slots=True)
class Score:
    """A company's grade with everything needed to explain it."""

    points: int  # 0..100, 100 is best
    grade: Grade
    worst: Severity | None  # the most severe counted problem; None when nothing counts
    capped: bool  # the letter is worse than the points alone would give
    problems: int  # distinct counted check ids above info (what there is to fix)
    findings: int  # counted findings above info (problem x host)
    deductions: tuple[Deduction, ...] = field(default=())
    # Points given back by BUDGETS: the deductions add up to this much more than was lost.
    budget_relief: Mapping[Severity, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the export and the portal show the same numbers as the page."""
        return {
            "points": self.points,
            "grade": self.grade.value,
            "worst_severity": self.worst.value if self.worst else None,
            "capped": self.capped,
            "problems": self.problems,
            "findings": self.findings,
        }


@dataclass(frozen=True, slots=True)
class Action:
    """One thing to do: fix `check_id` on `targets`. `rank` is 1 for the first to do."""

    rank: int
    check_id: str
    severity: Severity
    effort: Effort
    targets: tuple[str, ...]
    findings: int
    points: int  # what the problem costs (rule 3; before the budget of rule 4)


# --- the functions ------------------------------------------------------------------------------


def _item(value: ItemLike) -> Item:
    if isinstance(value, Item):
        return value
    parts = tuple(value)
    if not 2 <= len(parts) <= 5:
        raise ValueError(
            f"a scoring item is (check_id, severity, status, accepted[, target]), got {parts!r}"
        )
    check_id = str(parts[0])
    severity = Severity.parse(str(parts[1]))
    status = str(parts[2]) if len(parts) > 2 else "open"
    accepted = bool(parts[3]) if len(parts) > 3 else False
    target = str(parts[4]) if len(parts) > 4 else ""
    return Item(check_id, severity, status, accepted, target)


def counted(items: Iterable[ItemLike]) -> list[Item]:
    """The items that lower a grade: open and not accepted (rule 1)."""
    return [item for item in map(_item, items) if item.counts]


def _groups(items: Iterable[Item]) -> dict[str, list[Item]]:
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.check_id, []).append(item)
    return groups


def site_key(target: str) -> str:
    """`www.bakker.nl` and `bakker.nl` are one site to its owner: one problem, counted once."""
    lowered = target.lower()
    return lowered[4:] if lowered.startswith("www.") else lowered


def _hosts(group: Sequence[Item]) -> int:
    """Distinct hosts of a group (a name and its `www.` count once); items without a target
    count one each."""
    named = {site_key(item.target) for item in group if item.target}
    return len(named) + sum(1 for item in group if not item.target)


def _group_points(severity: Severity, hosts: int) -> float:
    weight = WEIGHTS[severity]
    multiplier = min(1.0 + EXTRA_HOST_SHARE * max(hosts - 1, 0), MAX_MULTIPLIER)
    return weight * multiplier


def grade_for(points: float, worst: Severity | None = None) -> Grade:
    """The letter for a score, capped by the worst open severity (rules 5 and 6)."""
    by_points = Grade.E
    for grade in _GRADE_ORDER:
        threshold = GRADE_THRESHOLDS.get(grade)
        if threshold is not None and points >= threshold:
            by_points = grade
            break
    cap = SEVERITY_CAP.get(worst) if worst is not None else None
    if cap is not None and cap.rank > by_points.rank:
        return cap
    return by_points


def _deductions(live: Iterable[Item]) -> list[Deduction]:
    deductions: list[Deduction] = []
    for check_id, group in sorted(_groups(live).items()):
        severity = max(item.severity for item in group)
        hosts = _hosts(group)
        deductions.append(Deduction(check_id, severity, hosts, _group_points(severity, hosts)))
    return deductions


def _points(deductions: Iterable[Deduction]) -> tuple[int, dict[Severity, float]]:
    """The score of a set of deductions, and the relief each budget gave (rules 4 and 5)."""
    per_severity: dict[Severity, float] = {}
    problems: dict[Severity, int] = {}
    for d in deductions:
        per_severity[d.severity] = per_severity.get(d.severity, 0.0) + d.points
        problems[d.severity] = problems.get(d.severity, 0) + 1
    relief: dict[Severity, float] = {}
    lost = 0.0
    for severity, total in per_severity.items():
        ceiling = BUDGETS.get(severity)
        if ceiling is not None:
            base = BUDGET_BASE.get(severity, ceiling)
            budget = min(base + BUDGET_PER_PROBLEM * problems[severity], ceiling)
            if total > budget:
                relief[severity] = total - budget
                total = float(budget)
        lost += total
    # Round half up on the lost points, so that the same findings always give the same score.
    points = MAX_POINTS - int(lost + 0.5)
    real = sum(n for severity, n in problems.items() if severity > Severity.INFO)
    floor = FLOOR - real if real else 0  # below 30 only: every letter above E stays as it was
    return max(points, floor, 0), relief


def score(items: Iterable[ItemLike]) -> Score:
    """Grade a company's findings (all of them; resolved and accepted ones are skipped)."""
    live = counted(items)
    deductions = _deductions(live)
    points, relief = _points(deductions)
    worst = max((d.severity for d in deductions), default=None)
    grade = grade_for(points, worst)
    return Score(
        points=points,
        grade=grade,
        worst=worst,
        capped=grade != grade_for(points, None),
        problems=sum(1 for d in deductions if d.severity > Severity.INFO),
        findings=sum(1 for item in live if item.severity > Severity.INFO),
        deductions=tuple(sorted(deductions, key=lambda d: (-d.points, d.check_id))),
        budget_relief=relief,
    )


def rank_actions(
    items: Iterable[ItemLike],
    effort: Mapping[str, Effort] | None = None,
    *,
    include_info: bool = False,
    limit: int | None = None,
) -> list[Action]:
    """ "Do these first": one action per check id, most urgent first.

    `effort` maps check ids to `FindingSpec.effort` (from the registry); a check id without it
    counts as medium. Info findings are no action unless `include_info`: they inform, they
    do not ask for a fix.
    """
    efforts = effort or {}
    live = [item for item in counted(items) if include_info or item.severity > Severity.INFO]
    candidates: list[tuple[tuple[int, int, int, int, str], Action]] = []
    for check_id, group in _groups(live).items():
        severity = max(item.severity for item in group)
        how_hard = Effort(efforts.get(check_id, Effort.MEDIUM))
        targets = tuple(sorted({item.target for item in group if item.target}))
        hosts = _hosts(group)
        action = Action(
            rank=0,
            check_id=check_id,
            severity=severity,
            effort=how_hard,
            targets=targets,
            findings=len(group),
            points=round(_group_points(severity, hosts)),
        )
        key = (-severity.rank, -harm_of(check_id).rank, _EFFORT_ORDER[how_hard], -hosts, check_id)
        candidates.append((key, action))
    candidates.sort(key=lambda pair: pair[0])
    ranked = [
        Action(i, a.check_id, a.severity, a.effort, a.targets, a.findings, a.points)
        for i, (_, a) in enumerate(candidates, start=1)
    ]
    return ranked[:limit] if limit is not None else ranked


def average_points(scores: Iterable[Score | int | float]) -> float | None:
    """The plain mean of several companies' points (sector and area benchmarks); None if empty.

    The mean of points, not of letters: letters are capped and do not average meaningfully.
    """
    values = [s.points if isinstance(s, Score) else float(s) for s in scores]
    if not values:
        return None
    return sum(values) / len(values)
