"""Proof that warnings work: per run, serious problems open, new, fixed, and fixed after a warning.

A Meldpunt that tells its board "we warned 40 companies" has said what it did, not what it
achieved. What the board and the funders want to see is whether serious problems go away after
a warning, and how fast. So per run (one point per run, with its date and time, so two runs on
one day stay two points) this module counts, for critical and high problems:

- open after the run; new in the run (opened or come back);
- fixed in the run, and of those: fixed after a warning that named them, within 14 and within
  30 days of that warning, and the median number of days from the warning to the fix;
- companies that accepted a risk (they decided, with a reason; not a fix, not a failure).

"After a warning" means a delivered (written or sent) warning named the finding's fingerprint
after it was last opened and before it was fixed: a warning about an earlier episode does not
count for a problem that came back. A finding resolved because its target left the member list
(an event without a run) is not a fix and is not counted.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from exposure.models import Finding, FindingEvent
from exposure.severity import Severity
from exposure.store.warnings import delivered_warnings
from exposure.text import Text
from reports import history, render

SERIOUS = frozenset({Severity.CRITICAL.value, Severity.HIGH.value})
WITHIN: tuple[int, int] = (14, 30)
OPENING = ("opened", "reopened", "unaccepted")

T = Text

WORDS: Mapping[str, Text] = {
    "heading": T("Werken de waarschuwingen?", "Do the warnings work?"),
    "intro": T(
        "Ernstige en zeer ernstige problemen per scan: hoeveel er open staan, hoeveel nieuw "
        "zijn, hoeveel er zijn opgelost, en hoeveel daarvan na een waarschuwing van het Meldpunt.",
        "High and critical problems per scan: how many are open, how many are new, how many "
        "were fixed, and how many of those after a warning from the Meldpunt.",
    ),
    "open": T("Ernstig open", "Serious open"),
    "new": T("Nieuw", "New"),
    "fixed": T("Opgelost", "Fixed"),
    "fixed_after_warning": T("Opgelost na waarschuwing", "Fixed after a warning"),
    "within_14": T("Binnen 14 dagen", "Within 14 days"),
    "within_30": T("Binnen 30 dagen", "Within 30 days"),
    "median_days": T("Mediaan dagen tot oplossing", "Median days to fix"),
    "accepted": T("Bedrijven met geaccepteerd risico", "Companies that accepted a risk"),
    "scan": T("Scan", "Scan"),
    "chart_open": T("Ernstige problemen open, per scan", "Serious problems open, per scan"),
    "chart_fixed": T("Opgelost na een waarschuwing, per scan", "Fixed after a warning, per scan"),
    "summary": T(
        "Sinds de eerste scan: {fixed} ernstige problemen opgelost na een waarschuwing, "
        "{w14} binnen 14 dagen en {w30} binnen 30 dagen; de helft binnen {median} dagen.",
        "Since the first scan: {fixed} serious problems fixed after a warning, {w14} within "
        "14 days and {w30} within 30 days; half of them within {median} days.",
    ),
    "summary_none": T(
        "Nog geen ernstig probleem opgelost na een waarschuwing.",
        "No serious problem fixed after a warning yet.",
    ),
    "no_runs": T("Nog geen scans.", "No scans yet."),
}


def w(key: str, language: str, **values: object) -> str:
    text = WORDS[key].get(language)
    return text.format(**values) if values else text


@dataclass(frozen=True, slots=True)
class EffectPoint:
    """One run (or, when the runs are sampled, the runs since the previous point)."""

    run_id: int
    at: datetime
    open_serious: int
    new: int
    fixed: int
    fixed_after_warning: int
    within_14: int
    within_30: int
    median_days: float | None  # from warning to fix, of the fixes counted in this point
    accepted_companies: int


@dataclass(frozen=True, slots=True)
class Effect:
    points: tuple[EffectPoint, ...]
    fixed_after_warning: int
    within_14: int
    within_30: int
    median_days: float | None

    @property
    def latest(self) -> EffectPoint | None:
        return self.points[-1] if self.points else None


@dataclass(frozen=True, slots=True)
class _Fix:
    run_id: int
    days: float | None  # from the warning to the fix; None when no warning named it


def build(session: Session, *, most: int = 24, active: set[str] | None = None) -> Effect:
    """The effect of warnings over the stored runs, at most `most` points."""
    runs = history.runs_with_results(session)
    if not runs:
        return Effect((), 0, 0, 0, None)
    new_by_run, fixes = _changes(session, active)
    sampled = history.sample(runs, most)
    points = []
    previous = 0
    for snap in history.snapshots(session, sampled):
        companies = snap.companies if active is None else snap.companies & active
        run_id = snap.run.id
        span = range(previous + 1, run_id + 1)
        in_span = [f for f in fixes if previous < f.run_id <= run_id]
        warned = [f.days for f in in_span if f.days is not None]
        points.append(
            EffectPoint(
                run_id=run_id,
                at=snap.run.at,
                open_serious=sum(
                    1
                    for s in snap.findings
                    if s.status == "open"
                    and s.severity in SERIOUS
                    and s.key.company_id in companies
                ),
                new=sum(new_by_run.get(r, 0) for r in span),
                fixed=len(in_span),
                fixed_after_warning=len(warned),
                within_14=sum(1 for d in warned if d <= WITHIN[0]),
                within_30=sum(1 for d in warned if d <= WITHIN[1]),
                median_days=statistics.median(warned) if warned else None,
                accepted_companies=len(
                    {
                        s.key.company_id
                        for s in snap.findings
                        if s.status == "accepted" and s.key.company_id in companies
                    }
                ),
            )
        )
        previous = run_id
    every = [f.days for f in fixes if f.days is not None]
    return Effect(
        points=tuple(points),
        fixed_after_warning=len(every),
        within_14=sum(1 for d in every if d <= WITHIN[0]),
        within_30=sum(1 for d in every if d <= WITHIN[1]),
        median_days=statistics.median(every) if every else None,
    )


def point_label(at: datetime, language: str) -> str:
    """Date and time: two runs on one day are two points a reader can tell apart."""
    return f"{render.format_date(at, language)} {at:%H:%M}"


def summary(effect: Effect, language: str) -> str:
    if not effect.fixed_after_warning:
        return w("summary_none", language)
    median = effect.median_days if effect.median_days is not None else 0
    return w(
        "summary",
        language,
        fixed=effect.fixed_after_warning,
        w14=effect.within_14,
        w30=effect.within_30,
        median=_days(median, language),
    )


def _days(value: float, language: str) -> str:
    text = f"{value:.1f}".removesuffix(".0")
    return text.replace(".", ",") if language == "nl" else text


# --- internals -----------------------------------------------------------------------------------


def _changes(session: Session, active: set[str] | None) -> tuple[dict[int, int], list[_Fix]]:
    """Per run the serious problems that opened, and every serious fix with its warning."""
    rows = session.execute(
        sa_select(
            col(FindingEvent.finding_id),
            col(FindingEvent.run_id),
            col(FindingEvent.at),
            col(FindingEvent.id),
            col(FindingEvent.event),
            col(FindingEvent.severity),
            col(Finding.fingerprint),
            col(Finding.company_id),
            col(Finding.severity),
        )
        .join(Finding, col(Finding.id) == col(FindingEvent.finding_id))
        .where(col(FindingEvent.event).in_((*OPENING, "resolved")))
    )
    events = sorted(
        (r for r in rows if active is None or r[7] in active), key=lambda r: (r[2], r[3] or 0)
    )
    warned = _warning_times(session, {r[7] for r in events})
    opened_at: dict[int, datetime] = {}
    new_by_run: dict[int, int] = defaultdict(int)
    fixes: list[_Fix] = []
    for finding_id, run_id, at, _id, event, ev_severity, fingerprint, _company, severity in events:
        serious = (ev_severity or severity) in SERIOUS
        if event in OPENING:
            opened_at[finding_id] = at
            if serious and run_id is not None and event != "unaccepted":
                new_by_run[run_id] += 1
            continue
        if not serious or run_id is None:
            continue  # not serious, or resolved by leaving the member list: not a fix
        since = opened_at.get(finding_id, datetime.min)
        told = _first_between(warned.get(fingerprint, []), since, at)
        fixes.append(_Fix(run_id, (at - told) / timedelta(days=1) if told is not None else None))
    return dict(new_by_run), fixes


def _warning_times(session: Session, company_ids: set[str]) -> dict[str, list[datetime]]:
    """Per fingerprint, when delivered warnings named it, oldest first."""
    times: dict[str, list[datetime]] = defaultdict(list)
    for records in delivered_warnings(session, sorted(company_ids)).values():
        for record in records:
            for fingerprint in record.fingerprints:
                times[fingerprint].append(record.created_at)
    return {k: sorted(v) for k, v in times.items()}


def _first_between(times: Sequence[datetime], low: datetime, high: datetime) -> datetime | None:
    """The first warning of this episode: at or after the opening, at or before the fix."""
    start = bisect_left(times, low)
    end = bisect_right(times, high)
    return times[start] if start < end else None


__all__ = ["WORDS", "Effect", "EffectPoint", "build", "point_label", "summary", "w"]
