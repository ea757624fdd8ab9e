"""The grading method and the ranking of actions, both directions."""

from __future__ import annotations

import random

import pytest

from exposure.catalogue import CATALOGUE
from exposure.contract import Effort
from exposure.severity import Severity
from reports.scoring import (
    BUDGET_BASE,
    BUDGETS,
    GRADE_THRESHOLDS,
    METHOD,
    METHOD_STEPS,
    WEIGHTS,
    Grade,
    Item,
    average_points,
    counted,
    grade_for,
    method_text,
    rank_actions,
    score,
)


def test_no_findings_is_the_best_grade() -> None:
    result = score([])
    assert result.points == 100
    assert result.grade is Grade.A
    assert result.worst is None
    assert result.problems == 0 and result.findings == 0
    assert not result.capped


def test_a_critical_finding_is_the_worst_grade_whatever_the_points() -> None:
    result = score([("exposure.ics", "critical", "open", False, "10.0.0.1")])
    assert result.points == 60  # only 40 lost ...
    assert result.grade is Grade.E  # ... but a critical problem caps the letter
    assert result.capped
    assert result.worst is Severity.CRITICAL


def test_accepted_and_resolved_findings_do_not_count() -> None:
    items = [
        ("exposure.ics", "critical", "accepted", True),
        ("exposure.camera", "high", "open", True),  # accepted flag on an open row
        ("mail.dmarc.missing", "high", "accepted", False),  # accepted status
        ("tls.cert.expired", "high", "resolved", False),
    ]
    result = score(items)
    assert result.grade is Grade.A and result.points == 100
    assert counted(items) == []


@pytest.mark.parametrize(
    ("items", "points", "grade"),
    [
        ([("web.hsts.missing", "low", "open", False)], 97, Grade.A),
        ([(f"low.{i}", "low", "open", False) for i in range(4)], 88, Grade.B),
        ([(f"low.{i}", "low", "open", False) for i in range(10)], 80, Grade.B),  # the budget
        ([("web.https.no_redirect", "medium", "open", False)], 92, Grade.B),  # capped
        ([("mail.dmarc.missing", "high", "open", False)], 80, Grade.C),  # capped
        (
            [
                ("tls.cert.expired", "high", "open", False),
                ("mail.dmarc.policy_none", "medium", "open", False),
                *((f"low.{i}", "low", "open", False) for i in range(7)),
            ],
            55,  # 100 - 20 - 8 - (10 + 7)
            Grade.C,
        ),
        ([(f"high.{i}", "high", "open", False) for i in range(3)], 40, Grade.D),
        ([(f"high.{i}", "high", "open", False) for i in range(5)], 25, Grade.E),  # 30 - 5
        ([("exposure.service", "info", "open", False)] * 4, 100, Grade.A),
    ],
)
def test_the_worked_examples_of_the_docstring(items: list, points: int, grade: Grade) -> None:
    result = score(items)
    assert (result.points, result.grade) == (points, grade)


def test_the_same_problem_on_more_hosts_costs_more_but_at_most_double() -> None:
    one = score([Item("exposure.remote_access", Severity.HIGH, target="a")])
    two = score([Item("exposure.remote_access", Severity.HIGH, target=t) for t in "ab"])
    many = score([Item("exposure.remote_access", Severity.HIGH, target=str(i)) for i in range(20)])
    assert one.points == 80
    assert two.points == 75  # a quarter more
    assert many.points == 60  # double at most
    assert many.problems == 1 and many.findings == 20


def test_the_same_host_twice_is_one_host() -> None:
    same = score([Item("exposure.camera", Severity.HIGH, target="h")] * 3)
    assert same.points == 80


def test_a_group_takes_the_highest_severity_of_its_hosts() -> None:
    result = score(
        [
            Item("exposure.database", Severity.HIGH, target="a"),
            Item("exposure.database", Severity.CRITICAL, target="b"),
        ]
    )
    assert result.worst is Severity.CRITICAL and result.grade is Grade.E
    assert result.deductions[0].points == 50  # 40 x 1.25


def test_low_problems_together_cost_at_most_their_budget() -> None:
    many_lows = [Item(f"low.{i}", Severity.LOW, target="a") for i in range(12)]
    result = score(many_lows)
    assert result.points == 100 - (BUDGET_BASE[Severity.LOW] + 12) == 78
    assert result.grade is Grade.B  # low problems alone never go below B
    assert result.budget_relief == {Severity.LOW: 12 * 3 - 22}
    # ... but they still add up with worse problems
    assert score([*many_lows, Item("high.x", Severity.HIGH)]).points == 58
    # and never cost more than the ceiling, however many there are
    lots = [Item(f"low.{i}", Severity.LOW, target="a") for i in range(40)]
    assert score(lots).points == 100 - BUDGETS[Severity.LOW] == 76


def test_an_action_says_what_the_problem_costs() -> None:
    items = [
        Item("mail.dmarc.missing", Severity.HIGH, target="a.test"),
        *(Item("exposure.camera", Severity.HIGH, target=f"10.0.0.{i}") for i in range(3)),
        *(Item(f"low.{i}", Severity.LOW, target="a.test") for i in range(7)),
    ]
    costs = {a.check_id: a.points for a in rank_actions(items)}
    assert costs["mail.dmarc.missing"] == 20
    assert costs["exposure.camera"] == 30  # three hosts: 20 x 1.5
    assert costs["low.0"] == 3  # its own cost, whatever the budget does to the total


def test_points_never_go_below_zero() -> None:
    result = score([(f"crit.{i}", "critical", "open", False) for i in range(10)])
    assert result.points == 20 and result.grade is Grade.E  # 30 - 10 (rule 5)
    result = score([(f"crit.{i}", "critical", "open", False) for i in range(40)])
    assert result.points == 0 and result.grade is Grade.E


@pytest.mark.parametrize(
    ("points", "worst", "grade"),
    [
        (100, None, Grade.A),
        (90, None, Grade.A),
        (89, None, Grade.B),
        (75, None, Grade.B),
        (74, None, Grade.C),
        (50, None, Grade.C),
        (49, None, Grade.D),
        (30, None, Grade.D),
        (29, None, Grade.E),
        (0, None, Grade.E),
        (100, Severity.LOW, Grade.A),
        (100, Severity.MEDIUM, Grade.B),
        (100, Severity.HIGH, Grade.C),
        (100, Severity.CRITICAL, Grade.E),
        (40, Severity.MEDIUM, Grade.D),  # a cap never improves a grade
    ],
)
def test_grade_for_thresholds_and_caps(points: int, worst: Severity | None, grade: Grade) -> None:
    assert grade_for(points, worst) is grade


def test_bad_items_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown severity"):
        score([("x", "urgent", "open", False)])
    with pytest.raises(ValueError, match="scoring item"):
        score([("only-an-id",)])


def test_actions_rank_by_severity_then_harm_then_effort_then_hosts() -> None:
    items = [
        Item("web.hsts.missing", Severity.LOW, target="a"),
        Item("mail.dmarc.missing", Severity.HIGH, target="a.test"),
        Item("tls.cert.expired", Severity.HIGH, target="www.a.test"),
        Item("web.https.missing", Severity.HIGH, target="b.test"),
        Item("web.https.missing", Severity.HIGH, target="c.test"),
        Item("exposure.ics", Severity.CRITICAL, target="10.0.0.1"),
        Item("exposure.service", Severity.INFO, target="10.0.0.1"),
        Item("exposure.camera", Severity.HIGH, status="accepted", target="10.0.0.2"),
    ]
    effort = {
        "mail.dmarc.missing": Effort.LOW,
        "tls.cert.expired": Effort.LOW,
        "web.https.missing": Effort.MEDIUM,
        "exposure.ics": Effort.HIGH,
    }
    actions = rank_actions(items, effort)
    assert [a.check_id for a in actions] == [
        "exposure.ics",  # critical first, however hard
        "tls.cert.expired",  # high, customers turned away (outage)
        "mail.dmarc.missing",  # high, mail in your name (impersonation), before ...
        "web.https.missing",  # high, read along the way (eavesdropping)
        "web.hsts.missing",  # low; unknown effort counts as medium
    ]
    assert [a.rank for a in actions] == [1, 2, 3, 4, 5]
    https = actions[3]
    assert https.targets == ("b.test", "c.test") and https.findings == 2
    assert actions[4].effort is Effort.MEDIUM
    assert rank_actions(items, effort, limit=2)[-1].rank == 2
    assert "exposure.service" in {a.check_id for a in rank_actions(items, include_info=True)}


def test_more_hosts_break_a_tie_of_severity_and_effort() -> None:
    items = [
        Item("a.one", Severity.MEDIUM, target="x"),
        Item("z.many", Severity.MEDIUM, target="x"),
        Item("z.many", Severity.MEDIUM, target="y"),
    ]
    assert [a.check_id for a in rank_actions(items)] == ["z.many", "a.one"]


def test_no_findings_no_actions() -> None:
    assert rank_actions([]) == []


def test_average_points() -> None:
    assert average_points([]) is None
    assert average_points([score([]), 50]) == 75


def test_the_method_is_written_in_both_languages_and_matches_the_numbers() -> None:
    assert all(step.complete() for step in METHOD_STEPS)
    nl = " ".join(method_text("nl"))
    en = " ".join(method_text("en"))
    assert nl == METHOD.nl and en == METHOD.en
    for severity, weight in WEIGHTS.items():
        if weight:
            assert f" {weight}" in nl and f" {weight}" in en, severity
    for grade, threshold in GRADE_THRESHOLDS.items():
        assert f"{grade.value} vanaf {threshold}" in nl
        assert f"{grade.value} from {threshold}" in en
    for grade in Grade:
        assert grade.word.complete() and grade.advice.complete()
    assert Grade.C.label("nl") == "C – Matig"
    assert Grade.C.label("en") == "C – Mediocre"


def test_score_to_dict_is_plain() -> None:
    data = score([("mail.dmarc.missing", "high", "open", False)]).to_dict()
    assert data == {
        "points": 80,
        "grade": "C",
        "worst_severity": "high",
        "capped": True,
        "problems": 1,
        "findings": 1,
    }


#: Rule 5 gives 30 - n below 30 points: a fix always shows up to this many kinds of problems at
#: once (the catalogue has 39 above info; the demo's worst company has 12).
MOST_PROBLEMS = 30


def _worst_items(hosts: int) -> list[Item]:
    """The MOST_PROBLEMS most severe problems of the catalogue at once, each on `hosts` hosts,
    with every low one among them (a full low budget)."""
    entries = sorted(
        (e for e in CATALOGUE.values() if e.severity > Severity.INFO),
        key=lambda e: (e.severity is not Severity.LOW, e.severity.rank, e.id),
        reverse=True,
    )
    lows = [e for e in entries if e.severity is Severity.LOW]
    chosen = [e for e in entries if e.severity is not Severity.LOW][: MOST_PROBLEMS - len(lows)]
    return [
        Item(e.id, e.severity, target=f"h{n}.test") for e in [*chosen, *lows] for n in range(hosts)
    ]


@pytest.mark.parametrize("hosts", [1, 2, 5])
def test_fixing_any_real_problem_moves_the_score(hosts: int) -> None:
    """Issue 19: a company at 0 saw no change after a fix. From 30 of the worst problems of the
    catalogue at once (every low one among them) down to none, removing any one problem (one
    check id, all its hosts) raises the score by at least one point: at the floor, over a full
    low budget, everywhere."""
    items = _worst_items(hosts)
    assert len({i.check_id for i in items}) == MOST_PROBLEMS
    assert score(items).points < 30  # the old rule: 0, and 0 again after each of many fixes
    rng = random.Random(19 + hosts)
    for _ in range(3):  # three orders of fixing
        left = list(items)
        while left:
            before = score(left)
            fixed = rng.choice(sorted({i.check_id for i in left}))
            left = [i for i in left if i.check_id != fixed]
            after = score(left)
            assert after.points > before.points, (fixed, before.points, after.points)
            assert after.grade.rank <= before.grade.rank


def test_the_floor_never_changes_a_letter() -> None:
    """Rule 5 lifts only scores below 30, which are an E anyway: no letter moves by it."""
    for n in range(1, 40):
        for severity in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM):
            result = score([Item(f"x.{i}", severity) for i in range(n)])
            raw = max(100 - round(sum(WEIGHTS[severity] for _ in range(n))), 0)
            if raw >= 30:
                assert result.points == raw
            else:
                assert result.points < 30 and result.grade is Grade.E


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("nl", ("30 min het aantal open problemen", "1 punt per laag probleem")),
        ("en", ("30 minus the number of open problems", "1 point per low problem")),
    ],
)
def test_the_method_on_the_report_explains_why_a_fix_always_counts(
    language: str, words: tuple[str, ...]
) -> None:
    text = " ".join(method_text(language))
    for phrase in words:
        assert phrase in text
