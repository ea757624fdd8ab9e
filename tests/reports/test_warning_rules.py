"""The selection rules of `exposure warn`, as pure functions over values (both directions).

The end-to-end proof over real scans is in test_warning_lab.py; here every rule and its edges
are pinned down quickly: what is new, what came back, what got worse, when a reminder is due
and when it is not, and what is never in a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from exposure.severity import Severity
from exposure.store.queries import CompanyRow, FindingRow, TargetRow
from reports.warning import (
    History,
    Reason,
    WarningPolicy,
    decide,
    language_of,
    plan_company,
    plan_warnings,
)

T0 = datetime(2026, 3, 2, 6, 0)
POLICY = WarningPolicy()  # medium, 14 days, 2 reminders


def company(cid: str = "1001", language: str = "", active: bool = True) -> CompanyRow:
    return CompanyRow(
        id=cid,
        name=f"Bakkerij {cid}",
        email=f"info@{cid}.test",
        sector="food",
        language=language,
        active=active,
        targets=(TargetRow(1, "domain", f"{cid}.test", ""),),
        open_findings=0,
    )


def finding(
    fp: str = "fp1",
    severity: str = "high",
    check_id: str = "mail.dmarc.missing",
    company_id: str = "1001",
    status: str = "open",
    reopened: int = 0,
) -> FindingRow:
    return FindingRow(
        id=abs(hash(fp)) % 10_000,
        fingerprint=fp,
        company_id=company_id,
        company_name=f"Bakkerij {company_id}",
        target_id=1,
        check_id=check_id,
        family="mail",
        severity=severity,
        target=f"{company_id}.test",
        discriminator="",
        title="",
        detail="",
        evidence={},
        status=status,
        first_seen=T0,
        last_seen=T0,
        resolved_at=None,
        first_run_id=1,
        last_run_id=1,
        reopened_count=reopened,
        accepted_reason="",
        accepted_until=None,
    )


@dataclass
class Record:
    """A delivered warning as the rules read it."""

    created_at: datetime
    fingerprints: list[str]
    severities: dict[str, str]
    episodes: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


def told(at: datetime, reason: str = "new", **severity_by_fp: str) -> Record:
    return Record(
        created_at=at,
        fingerprints=list(severity_by_fp),
        severities=dict(severity_by_fp),
        episodes={fp: 0 for fp in severity_by_fp},
        reasons={fp: reason for fp in severity_by_fp},
    )


def history(*records: Record) -> History:
    return History.from_records(records)


# --- one finding --------------------------------------------------------------------------------


def test_never_told_is_new() -> None:
    chosen = decide(finding(), (), POLICY, T0)
    assert chosen is not None and chosen.reason is Reason.NEW


def test_told_and_unchanged_is_quiet() -> None:
    h = history(told(T0, fp1="high"))
    assert decide(finding(), h.about("fp1"), POLICY, T0 + timedelta(days=1)) is None


def test_below_the_threshold_is_never_in_a_message() -> None:
    assert decide(finding(severity="low"), (), POLICY, T0) is None
    assert decide(finding(severity="info"), (), POLICY, T0) is None
    lower = WarningPolicy(min_severity=Severity.LOW)
    chosen = decide(finding(severity="low"), (), lower, T0)
    assert chosen is not None and chosen.reason is Reason.NEW


def test_resolved_and_accepted_findings_are_not_in_a_message() -> None:
    assert decide(finding(status="resolved"), (), POLICY, T0) is None
    assert decide(finding(status="accepted"), (), POLICY, T0) is None


def test_a_finding_that_came_back_is_reopened() -> None:
    h = history(told(T0, fp1="high"))  # told in episode 0
    chosen = decide(finding(reopened=1), h.about("fp1"), POLICY, T0 + timedelta(days=3))
    assert chosen is not None and chosen.reason is Reason.REOPENED


def test_reopened_is_decided_by_episode_not_by_clock() -> None:
    # The warning's clock is ahead of the scan that reopened the finding (another machine):
    # still reopened, because the episode grew.
    h = history(told(T0 + timedelta(days=30), fp1="high"))
    chosen = decide(finding(reopened=1), h.about("fp1"), POLICY, T0)
    assert chosen is not None and chosen.reason is Reason.REOPENED
    # ...and once told about the new episode, quiet again.
    again = Record(
        T0 + timedelta(days=31), ["fp1"], {"fp1": "high"}, {"fp1": 1}, {"fp1": "reopened"}
    )
    h2 = history(told(T0, fp1="high"), again)
    assert decide(finding(reopened=1), h2.about("fp1"), POLICY, T0 + timedelta(days=32)) is None


def test_raised_severity_is_told_and_a_lower_one_is_not() -> None:
    h = history(told(T0, fp1="medium"))
    chosen = decide(finding(severity="high"), h.about("fp1"), POLICY, T0 + timedelta(days=1))
    assert chosen is not None and chosen.reason is Reason.RAISED
    assert chosen.previous_severity is Severity.MEDIUM
    h = history(told(T0, fp1="critical"))
    assert decide(finding(severity="high"), h.about("fp1"), POLICY, T0 + timedelta(days=1)) is None


def test_down_then_up_again_is_not_raised_above_what_was_told() -> None:
    # told high; it went down to medium (nothing sent) and back to high: nothing new to say
    h = history(told(T0, fp1="high"))
    assert decide(finding(severity="high"), h.about("fp1"), POLICY, T0 + timedelta(days=2)) is None


def test_reminder_after_the_interval_for_high_and_critical_only() -> None:
    h = history(told(T0, fp1="high"))
    early = T0 + timedelta(days=13, hours=23)
    due = T0 + timedelta(days=14)
    assert decide(finding(), h.about("fp1"), POLICY, early) is None
    chosen = decide(finding(), h.about("fp1"), POLICY, due)
    assert chosen is not None and chosen.reason is Reason.REMINDER and chosen.reminder == 1
    h = history(told(T0, fp1="medium"))
    assert (
        decide(finding(severity="medium"), h.about("fp1"), POLICY, T0 + timedelta(days=60)) is None
    )
    h = history(told(T0, fp1="critical"))
    chosen = decide(finding(severity="critical"), h.about("fp1"), POLICY, due)
    assert chosen is not None and chosen.reason is Reason.REMINDER


def test_reminders_stop_after_the_maximum() -> None:
    first = told(T0, fp1="high")
    r1 = told(T0 + timedelta(days=14), "reminder", fp1="high")
    r2 = told(T0 + timedelta(days=28), "reminder", fp1="high")
    h = history(first, r1)
    chosen = decide(finding(), h.about("fp1"), POLICY, T0 + timedelta(days=28))
    assert chosen is not None and chosen.reminder == 2
    h = history(first, r1, r2)
    assert decide(finding(), h.about("fp1"), POLICY, T0 + timedelta(days=365)) is None
    none = WarningPolicy(max_reminders=0)
    assert decide(finding(), history(first).about("fp1"), none, T0 + timedelta(days=99)) is None


def test_the_interval_counts_from_the_last_message_about_the_finding() -> None:
    h = history(told(T0, fp1="medium"), told(T0 + timedelta(days=10), "raised", fp1="high"))
    assert decide(finding(), h.about("fp1"), POLICY, T0 + timedelta(days=20)) is None
    chosen = decide(finding(), h.about("fp1"), POLICY, T0 + timedelta(days=24))
    assert chosen is not None and chosen.reason is Reason.REMINDER


def test_reminders_count_per_episode() -> None:
    old = [
        told(T0, fp1="high"),
        told(T0 + timedelta(days=14), "reminder", fp1="high"),
        told(T0 + timedelta(days=28), "reminder", fp1="high"),
    ]
    back = Record(
        T0 + timedelta(days=40), ["fp1"], {"fp1": "high"}, {"fp1": 1}, {"fp1": "reopened"}
    )
    h = history(*old, back)
    chosen = decide(finding(reopened=1), h.about("fp1"), POLICY, T0 + timedelta(days=54))
    assert chosen is not None and chosen.reason is Reason.REMINDER and chosen.reminder == 1


def test_a_record_without_episodes_counts_as_the_first_episode() -> None:
    legacy = Record(T0, ["fp1"], {"fp1": "high"})
    assert decide(finding(), history(legacy).about("fp1"), POLICY, T0 + timedelta(days=1)) is None
    chosen = decide(finding(reopened=2), history(legacy).about("fp1"), POLICY, T0)
    assert chosen is not None and chosen.reason is Reason.REOPENED


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        WarningPolicy(max_reminders=-1)
    with pytest.raises(ValueError):
        WarningPolicy(reminder_after=timedelta(0))


# --- one company --------------------------------------------------------------------------------


def test_nothing_to_act_on_means_no_message() -> None:
    assert plan_company(company(), [], history(), POLICY, T0) is None
    assert plan_company(company(), [finding(severity="low")], history(), POLICY, T0) is None


def test_one_message_with_only_what_changed_and_a_count_of_the_rest() -> None:
    findings = [
        finding("old", "critical"),
        finding("new", "medium", check_id="web.https.no_redirect"),
        finding("low", "low", check_id="web.hsts.missing"),
    ]
    h = history(told(T0, old="critical"))
    plan = plan_company(company(), findings, h, POLICY, T0 + timedelta(days=1))
    assert plan is not None
    assert [(s.finding.fingerprint, s.reason) for s in plan.selected] == [("new", Reason.NEW)]
    assert [f.fingerprint for f in plan.still_open] == ["old"]
    assert plan.kind == "new"
    assert plan.reasons == {"new": "new"}
    assert plan.severities == {"new": "medium"}
    assert plan.episodes == {"new": 0}


def test_a_due_reminder_rides_along_with_news_most_severe_first() -> None:
    findings = [finding("old", "high"), finding("new", "medium", check_id="web.https.no_redirect")]
    plan = plan_company(
        company(), findings, history(told(T0, old="high")), POLICY, T0 + timedelta(days=15)
    )
    assert plan is not None
    assert [(s.finding.fingerprint, s.reason) for s in plan.selected] == [
        ("old", Reason.REMINDER),
        ("new", Reason.NEW),
    ]
    assert plan.kind == "new"
    assert plan.still_open == ()


def test_only_reminders_make_a_reminder() -> None:
    plan = plan_company(
        company(), [finding()], history(told(T0, fp1="high")), POLICY, T0 + timedelta(days=15)
    )
    assert plan is not None and plan.kind == "reminder"


def test_inactive_companies_and_other_companies_findings_are_left_out() -> None:
    assert plan_company(company(active=False), [finding()], history(), POLICY, T0) is None
    other = finding(company_id="2002")
    assert plan_company(company(), [other], history(), POLICY, T0) is None


def test_plans_for_an_area_one_per_company() -> None:
    companies = [company("1001"), company("1002"), company("1003")]
    findings = [
        finding("a", company_id="1001"),
        finding("b", company_id="1002"),
        finding("c", company_id="1002", check_id="web.https.missing"),
        finding("d", "low", company_id="1003"),
    ]
    histories = {"1002": history(told(T0, b="high", c="high"))}
    plans = plan_warnings(companies, findings, histories, POLICY, T0 + timedelta(days=1))
    assert [p.company.id for p in plans] == ["1001"]
    later = plan_warnings(companies, findings, histories, POLICY, T0 + timedelta(days=14))
    assert [p.company.id for p in later] == ["1001", "1002"]
    assert {s.reason for s in later[1].selected} == {Reason.REMINDER}


def test_language_is_the_companys_own_or_the_default() -> None:
    assert language_of(company(language="en")) == "en"
    assert language_of(company(language="")) == "nl"
    assert language_of(company(language=""), "en") == "en"
    assert language_of(company(language="de")) == "nl"
    plan = plan_company(company(language="en"), [finding()], history(), POLICY, T0)
    assert plan is not None and plan.language == "en"


def test_unreadable_stored_values_do_not_crash_the_rules() -> None:
    odd = Record(T0, ["fp1"], {"fp1": "bogus"}, {"fp1": 0}, {"fp1": "whatever"})
    assert decide(finding(), history(odd).about("fp1"), POLICY, T0 + timedelta(days=1)) is None
    assert decide(replace(finding(), severity="bogus"), (), POLICY, T0) is None
