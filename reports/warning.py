"""Who gets a warning, about what, and why: the selection rules of `exposure warn`.

A busy baker reads a message from the Meldpunt only if it is rare and always worth reading.
So a company gets one message when something *changed* that it should act on, and otherwise
nothing. Per open finding at or above the threshold (`--min-severity`, default medium), compared
with what the company's delivered warnings (written or sent, never failed) said about it:

- never told                                        -> `new`
- told, but in an earlier episode (it was fixed and
  came back: the finding's `reopened_count` grew)   -> `reopened`
- told in this episode, at a lower severity         -> `raised`
- told in this episode, still open, high or critical,
  the last message about it at least `reminder_after`
  ago, fewer than `max_reminders` reminders so far  -> `reminder`
- anything else                                     -> not in the message

A company gets a message when at least one finding is selected; the message covers the selected
findings only and says how many other open findings it was told about before (`still_open`).
A message with at least one new, reopened or raised finding is of kind `new`; one with only
reminders is a `reminder`. Resolved and accepted findings never count: they are not open. An
acceptance that runs out makes a finding open again in the same episode: it is then recalled
like any other open finding the company was told about (a reminder when one is due).

Why episodes and not clocks: a finding that came back is recognised by its `reopened_count`,
which the store raises on every reopening, so the rule holds whatever the clocks of the machines
that scanned and warned say. Everything here is a pure function over values loaded from the
store (`FindingRow`, `CompanyRow`, delivered `WarningRecord`s) and an injected `now`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from exposure.severity import Severity
from exposure.store.queries import CompanyRow, FindingRow
from exposure.text import LANGUAGES, Language, Text
from reports.coverage import NotTested

NEW_KIND = "new"
REMINDER_KIND = "reminder"


class Reason(StrEnum):
    """Why a finding is in a message."""

    NEW = "new"
    REOPENED = "reopened"
    RAISED = "raised"
    REMINDER = "reminder"

    @property
    def word(self) -> Text:
        """The reason as a short label next to a finding in the message."""
        return _REASON_WORDS[self]


_REASON_WORDS: Mapping[Reason, Text] = {
    Reason.NEW: Text("nieuw", "new"),
    Reason.REOPENED: Text("weer terug", "back again"),
    Reason.RAISED: Text("ernstiger geworden", "more serious now"),
    Reason.REMINDER: Text("herinnering", "reminder"),
}


@dataclass(frozen=True, slots=True)
class WarningPolicy:
    """The knobs of the rules (settings `warn_reminder_days`, `warn_max_reminders`)."""

    min_severity: Severity = Severity.MEDIUM
    reminder_after: timedelta = timedelta(days=14)
    max_reminders: int = 2
    reminder_severity: Severity = Severity.HIGH  # only these (and worse) are recalled

    def __post_init__(self) -> None:
        if self.max_reminders < 0:
            raise ValueError("max_reminders must be 0 or more")
        if self.reminder_after <= timedelta(0):
            raise ValueError("reminder_after must be positive")


class DeliveredLike(Protocol):
    """A delivered warning as the rules read it (a `WarningRecord` row fits)."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def fingerprints(self) -> list[str]: ...
    @property
    def severities(self) -> dict[str, str]: ...
    @property
    def episodes(self) -> dict[str, int]: ...
    @property
    def reasons(self) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class Told:
    """What one delivered warning said about one finding."""

    at: datetime
    severity: Severity | None  # None: not readable (never written by exposure)
    episode: int
    reason: Reason | None


@dataclass(frozen=True, slots=True)
class History:
    """Everything a company was told, per fingerprint, oldest first."""

    told: Mapping[str, tuple[Told, ...]]

    @classmethod
    def from_records(cls, records: Iterable[DeliveredLike]) -> History:
        """Build from delivered warnings only (the caller leaves failed and pending ones out).

        A fingerprint without a stored episode counts as told in episode 0 (its first).
        """
        told: dict[str, list[Told]] = defaultdict(list)
        for record in sorted(records, key=lambda r: r.created_at):
            for fp in record.fingerprints:
                told[fp].append(
                    Told(
                        at=record.created_at,
                        severity=_severity(record.severities.get(fp)),
                        episode=int(record.episodes.get(fp, 0)),
                        reason=_reason(record.reasons.get(fp)),
                    )
                )
        return cls({fp: tuple(items) for fp, items in told.items()})

    def about(self, fingerprint: str) -> tuple[Told, ...]:
        return tuple(self.told.get(fingerprint, ()))


EMPTY_HISTORY = History({})


@dataclass(frozen=True, slots=True)
class Selected:
    """A finding in a message, and why."""

    finding: FindingRow
    reason: Reason
    previous_severity: Severity | None = None  # what the company was told, for `raised`
    reminder: int = 0  # 1 for the first reminder, ...

    @property
    def severity(self) -> Severity:
        return Severity.parse(self.finding.severity)


@dataclass(frozen=True, slots=True)
class WarningPlan:
    """One message for one company: which findings, why, in which language."""

    company: CompanyRow
    language: Language
    selected: tuple[Selected, ...]  # most severe first
    still_open: tuple[FindingRow, ...]  # open, at/above the threshold, told before, not due
    #: target id -> how to name a host discovery found ("gevonden via ...: vpn.bedrijf.nl")
    discovered: Mapping[int, str] = field(default_factory=dict)
    #: what the latest scan could not test (reports.coverage): said in the message, never a
    #: pass, and never a reason to send one (a plan exists only for selected findings)
    untested: tuple[NotTested, ...] = ()

    @property
    def kind(self) -> str:
        """`new` when anything is new, came back or got worse; `reminder` otherwise."""
        if any(s.reason is not Reason.REMINDER for s in self.selected):
            return NEW_KIND
        return REMINDER_KIND

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(s.finding.fingerprint for s in self.selected)

    @property
    def severities(self) -> dict[str, str]:
        return {s.finding.fingerprint: s.finding.severity for s in self.selected}

    @property
    def episodes(self) -> dict[str, int]:
        return {s.finding.fingerprint: s.finding.reopened_count for s in self.selected}

    @property
    def reasons(self) -> dict[str, str]:
        return {s.finding.fingerprint: s.reason.value for s in self.selected}


def decide(
    finding: FindingRow, told: Sequence[Told], policy: WarningPolicy, now: datetime
) -> Selected | None:
    """The rule for one open finding (see the module docstring); None: not in a message."""
    if finding.status != "open":
        return None
    severity = _severity(finding.severity)
    if severity is None or severity < policy.min_severity:
        return None
    if not told:
        return Selected(finding, Reason.NEW)
    episode = finding.reopened_count
    current = [t for t in told if t.episode >= episode]
    if not current:
        return Selected(finding, Reason.REOPENED)
    known = [t.severity for t in current if t.severity is not None]
    most_told = max(known) if known else None
    if most_told is not None and severity > most_told:
        return Selected(finding, Reason.RAISED, previous_severity=most_told)
    if severity >= max(policy.reminder_severity, policy.min_severity):
        reminders = sum(1 for t in current if t.reason is Reason.REMINDER)
        last = max(t.at for t in current)
        if reminders < policy.max_reminders and now - last >= policy.reminder_after:
            return Selected(finding, Reason.REMINDER, reminder=reminders + 1)
    return None


def plan_company(
    company: CompanyRow,
    findings: Iterable[FindingRow],
    history: History,
    policy: WarningPolicy,
    now: datetime,
    default_language: Language = "nl",
) -> WarningPlan | None:
    """The message one company should get now, or None when it has nothing to act on."""
    if not company.active:
        return None
    selected: list[Selected] = []
    still_open: list[FindingRow] = []
    for finding in findings:
        if finding.company_id != company.id:
            continue
        choice = decide(finding, history.about(finding.fingerprint), policy, now)
        if choice is not None:
            selected.append(choice)
            continue
        severity = _severity(finding.severity)
        if finding.status == "open" and severity is not None and severity >= policy.min_severity:
            still_open.append(finding)
    if not selected:
        return None
    selected.sort(key=lambda s: (-s.severity.rank, s.finding.check_id, s.finding.target))
    return WarningPlan(
        company=company,
        language=language_of(company, default_language),
        selected=tuple(selected),
        still_open=tuple(still_open),
    )


def plan_warnings(
    companies: Iterable[CompanyRow],
    findings: Iterable[FindingRow],
    histories: Mapping[str, History],
    policy: WarningPolicy,
    now: datetime,
    default_language: Language = "nl",
) -> list[WarningPlan]:
    """The messages of one `exposure warn` run, one per company at most, by company id."""
    by_company: dict[str, list[FindingRow]] = defaultdict(list)
    for finding in findings:
        by_company[finding.company_id].append(finding)
    plans: list[WarningPlan] = []
    for company in sorted(companies, key=lambda c: c.id):
        plan = plan_company(
            company,
            by_company.get(company.id, ()),
            histories.get(company.id, EMPTY_HISTORY),
            policy,
            now,
            default_language,
        )
        if plan is not None:
            plans.append(plan)
    return plans


def language_of(company: CompanyRow, default: Language = "nl") -> Language:
    """The company's own language where the member list gives one, else the Meldpunt's."""
    for language in LANGUAGES:
        if company.language == language:
            return language
    return default


def _severity(value: str | None) -> Severity | None:
    if not value:
        return None
    try:
        return Severity.parse(value)
    except ValueError:
        return None


def _reason(value: str | None) -> Reason | None:
    try:
        return Reason(value) if value else None
    except ValueError:
        return None
