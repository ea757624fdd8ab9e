"""The last discovery look, read back from the store: what `exposure doctor` and `exposure runs`
say about discovery.

Discovery is not a scan run and leaves no `ScanRun` row; what it leaves is one `DONE_MARK` row
per company (`run.store_company`): when the company was last looked at, status 200 (every
source answered) or 206 (some source could not test), and those sources in its payload. "The
last look" is every company looked at within `RESUME_HOURS` of the newest mark: the night's
discovery, including a run that resumed it, which is what a resumed run also counts as done.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, func, select

from exposure.discovery.run import DONE_MARK, RESUME_HOURS
from exposure.models import DiscoveredHost, SourceCache
from exposure.store.db import session
from exposure.store.discovery import DiscoveryState

#: How old the newest look may be before the schedule is judged stopped: a night and a margin,
#: a week and the same margin (`service.discovery_due` runs weekly after 6.5 days, at night).
MAX_AGE = {"nightly": timedelta(hours=26), "weekly": timedelta(days=7, hours=2)}


@dataclass(slots=True)
class LastLook:
    newest: datetime  # when the newest company was looked at (the run's start, naive UTC)
    companies: int  # looked at in the last look
    incomplete: int  # of those, with a source that could not test
    failing: Counter[str] = field(default_factory=Counter)  # source -> companies it failed for
    reasons: dict[str, set[str]] = field(default_factory=dict)  # source -> failure reasons
    proposed: int = 0  # proposals waiting for the Meldpunt (from every look)

    def hours_ago(self, now: datetime) -> float:
        return (now - self.newest).total_seconds() / 3600

    def failed_everywhere(self) -> list[str]:
        """Sources that could not test for any company of the look: not a bad night of one
        member's DNS, but a source of ours that is down, refused or out of credits."""
        return sorted(s for s, n in self.failing.items() if self.companies and n == self.companies)

    def describe(self, now: datetime) -> str:
        when = f"{self.newest:%Y-%m-%d %H:%M} UTC, {self.hours_ago(now):.1f} h ago"
        text = f"last look {when}: {self.companies} companies"
        if self.incomplete:
            sources = ", ".join(f"{s} {n}" for s, n in sorted(self.failing.items()))
            text += f", {self.incomplete} with a source that could not test ({sources})"
        else:
            text += ", every source answered"
        waiting = "proposal waits" if self.proposed == 1 else "proposals wait"
        return f"{text}; {self.proposed} {waiting} for the Meldpunt"


def last_look(engine: Engine) -> LastLook | None:
    """The last look, or None when discovery never ran on this store."""
    with session(engine) as db:
        newest = db.exec(
            select(func.max(SourceCache.fetched_at)).where(SourceCache.source == DONE_MARK)
        ).one()
        if newest is None:
            return None
        rows = db.exec(
            select(SourceCache.status, SourceCache.payload).where(
                SourceCache.source == DONE_MARK,
                col(SourceCache.fetched_at) >= newest - timedelta(hours=RESUME_HOURS),
            )
        ).all()
        proposed = db.exec(
            select(func.count())
            .select_from(DiscoveredHost)
            .where(DiscoveredHost.state == DiscoveryState.PROPOSED.value)
        ).one()
    look = LastLook(newest, len(rows), 0, proposed=int(proposed))
    for status, payload in rows:
        failures = payload.get("failures", []) if isinstance(payload, dict) else []
        if status == 200 and not failures:
            continue
        look.incomplete += 1
        for source in {str(f.get("source")) for f in failures if isinstance(f, dict)}:
            look.failing[source] += 1
        for f in failures:
            if isinstance(f, dict):
                look.reasons.setdefault(str(f.get("source")), set()).add(str(f.get("reason")))
    return look
