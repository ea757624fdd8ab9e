"""What the orchestrator hands the store: the outcome of scanning one company in one run.

A company's outcome is applied to the store in one transaction, which is what makes a run
resumable: a company is either wholly recorded (and marked done in the run) or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from exposure.contract import CheckFailure, FindingCandidate, Observation, ScanTarget


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """Everything one check said about one target."""

    target: ScanTarget
    family: str  # CheckMeta.id
    finding_ids: frozenset[str]  # every id the check can emit: the scope it decides
    observations: tuple[Observation, ...] = ()
    seconds: float = 0.0

    @property
    def candidates(self) -> list[FindingCandidate]:
        return [o for o in self.observations if isinstance(o, FindingCandidate)]

    @property
    def failures(self) -> list[CheckFailure]:
        return [o for o in self.observations if isinstance(o, CheckFailure)]

    def decided_ids(self) -> frozenset[str]:
        """The finding ids this outcome settles: those no failure left undecided."""
        undecided: set[str] = set()
        for failure in self.failures:
            undecided |= failure.finding_ids or self.finding_ids
        return self.finding_ids - undecided


@dataclass(frozen=True, slots=True)
class CompanyResult:
    run_id: int
    company_id: str
    outcomes: tuple[TaskOutcome, ...]
    finished_at: datetime
    titles: dict[str, str] = field(default_factory=dict)  # finding id -> English title


@dataclass(slots=True)
class ApplyStats:
    """What applying results changed; summed into the run's summary."""

    new: int = 0
    seen: int = 0
    reopened: int = 0
    resolved: int = 0
    severity_changed: int = 0
    errors: int = 0
    companies: int = 0
    new_by_severity: dict[str, int] = field(default_factory=dict)
    errors_by_reason: dict[str, int] = field(default_factory=dict)

    def add(self, other: ApplyStats) -> None:
        self.new += other.new
        self.seen += other.seen
        self.reopened += other.reopened
        self.resolved += other.resolved
        self.severity_changed += other.severity_changed
        self.errors += other.errors
        self.companies += other.companies
        for key, value in other.new_by_severity.items():
            self.new_by_severity[key] = self.new_by_severity.get(key, 0) + value
        for key, value in other.errors_by_reason.items():
            self.errors_by_reason[key] = self.errors_by_reason.get(key, 0) + value
