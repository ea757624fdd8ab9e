"""The stored data model of DESIGN.md (SQLModel tables).

Times are stored as naive UTC (`utcnow()`), the lowest common denominator of SQLite and
PostgreSQL. Schema changes go through the Alembic migrations in `exposure/store/migrations`.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

# Named constraints, so that later migrations can alter them on SQLite too (Alembic's batch mode
# recreates tables and can only drop a constraint it can name). Must be set before any table.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Naive UTC timestamps (see the module docstring). Without an explicit type, SQLModel >= 0.0.45
# maps `datetime` to its UTCDateTime, which rejects naive values and returns aware ones.
NAIVE = DateTime(timezone=False)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Company(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)  # the member's own id, e.g. a KvK number
    name: str
    email: str = ""
    sector: str = ""
    language: str = Field(default="", max_length=8)  # "" = the Meldpunt's default
    phone: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=NAIVE)


class Target(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("company_id", "kind", "value", name="uq_target"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True, max_length=64)
    kind: str = Field(max_length=16)  # domain | ip | network | host (a confirmed discovered name)
    value: str  # canonical (IDNA A-label, normalised IP/CIDR)
    display: str = ""  # the U-label for IDN domains; what a person reads
    created_at: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    # listed: from the member list (`targets import`); discovered: a confirmed DiscoveredHost.
    # The member list never removes a discovered target, and discovery never touches a listed one.
    origin: str = Field(
        default="listed", max_length=16, sa_column_kwargs={"server_default": "listed"}
    )


class RunStatus(StrEnum):
    """How a run stands (`ScanRun.status`). A str enum: stored and compared as its value."""

    RUNNING = "running"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"  # stopped by a person or a signal; `scan` resumes it
    INCOMPLETE = "incomplete"  # the deadline passed, or companies could not be stored
    FAILED = "failed"  # refused before anything was scanned (e.g. no resolver)
    # a source of ours (resolver, outbound port 25, Shodan) failed during the run: what it left
    # untested stays pending and the next run resumes it (exposure.scan.health); exit code 4
    DEGRADED = "degraded"


class ScanRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    finished_at: datetime | None = Field(default=None, sa_type=NAIVE)
    status: str = Field(default=RunStatus.RUNNING.value, max_length=16, index=True)  # RunStatus
    scope: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    companies_total: int = 0
    companies_done: int = 0
    checks_run: int = 0
    findings_new: int = 0
    findings_reopened: int = 0
    findings_resolved: int = 0
    errors: int = 0
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RunCompany(SQLModel, table=True):
    """Progress of one run, company by company: what makes a run resumable."""

    run_id: int = Field(foreign_key="scanrun.id", primary_key=True)
    company_id: str = Field(foreign_key="company.id", primary_key=True, max_length=64)
    status: str = Field(default="pending", max_length=16)  # pending | done
    finished_at: datetime | None = Field(default=None, sa_type=NAIVE)


class Finding(SQLModel, table=True):
    __table_args__ = (Index("ix_finding_company_status", "company_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(unique=True, max_length=64)
    company_id: str = Field(foreign_key="company.id", max_length=64)
    target_id: int | None = Field(default=None, foreign_key="target.id", index=True)
    check_id: str = Field(index=True, max_length=64)  # the catalogue id
    family: str = Field(max_length=32)  # the check (CheckMeta.id) that emits it: resolution scope
    severity: str = Field(max_length=16)
    target: str  # the subject: host, IP, host:port, MX host
    discriminator: str = ""
    title: str = ""
    detail: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", max_length=16)  # open | resolved | accepted
    first_seen: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    resolved_at: datetime | None = Field(default=None, sa_type=NAIVE)
    first_run_id: int | None = None
    last_run_id: int | None = None
    reopened_count: int = 0
    accepted_reason: str = ""
    accepted_until: datetime | None = Field(default=None, sa_type=NAIVE)


class FindingEvent(SQLModel, table=True):
    """The history of a finding: every change of status or severity, per run."""

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="scanrun.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    # opened | resolved | reopened | severity | accepted | unaccepted (acceptance ran out)
    event: str = Field(max_length=16)
    severity: str = Field(default="", max_length=16)
    note: str = ""


class CheckError(SQLModel, table=True):
    """A check that could not decide: scan health, never a finding and never a pass."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="scanrun.id", index=True)
    company_id: str = Field(foreign_key="company.id", max_length=64, index=True)
    target_id: int | None = Field(default=None, foreign_key="target.id")
    target: str = ""
    check_id: str = Field(max_length=64)  # the check (family) id
    reason: str = Field(max_length=32)
    message: str = ""
    finding_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=NAIVE)


class WarningRecord(SQLModel, table=True):
    """What was sent to whom, when, for which fingerprints: the audit trail and the dedupe.

    Per fingerprint it keeps the severity, the finding's `reopened_count` (`episodes`) and why it
    was in the message (`reasons`: new | reopened | raised | reminder) at the time of the
    warning: what `exposure warn` compares with to decide what is new since the last message.
    A row is written as `pending` before delivery and updated after it, so a crash in between
    leaves a visible row that does not count as warned (it is sent again on the next run).
    """

    __tablename__ = "warning"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=64)
    company_id: str = Field(foreign_key="company.id", max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    kind: str = Field(default="new", max_length=16)  # new | reminder
    language: str = Field(default="nl", max_length=8)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fingerprints: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    severities: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    channel: str = Field(default="outbox", max_length=16)  # outbox | smtp
    status: str = Field(default="written", max_length=16)  # pending | written | sent | failed
    result: str = ""
    episodes: dict[str, int] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    reasons: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    subject: str = Field(default="", sa_column_kwargs={"server_default": ""})
    message_id: str = Field(default="", max_length=255, sa_column_kwargs={"server_default": ""})


class SourceCache(SQLModel, table=True):
    """Answers of slow or rationed sources (Shodan) kept across runs."""

    source: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=255)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=NAIVE, index=True)
    status: int = 200
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AccessToken(SQLModel, table=True):
    """A company's personal portal link (`exposure portal link`): only the token's hash is kept.

    The token itself (32 random bytes, URL-safe) is shown once, when the link is made; the
    store holds its SHA-256, so a copy of the database opens no portal.
    """

    __tablename__ = "access_token"

    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id", max_length=64, index=True)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    expires_at: datetime = Field(sa_type=NAIVE)
    revoked_at: datetime | None = Field(default=None, sa_type=NAIVE)
    last_used_at: datetime | None = Field(default=None, sa_type=NAIVE)
    created_by: str = ""


class PortalSession(SQLModel, table=True):
    """A logged-in browser: the cookie holds a random id, the store its SHA-256.

    `kind` is `company` (opened with an access token, bound to that token and its company) or
    `meldpunt` (the Meldpunt's log-in). `csrf` is the synchronizer token of its forms.
    """

    __tablename__ = "portal_session"

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(unique=True, max_length=64)
    kind: str = Field(max_length=16)  # company | meldpunt
    company_id: str | None = Field(
        default=None, foreign_key="company.id", max_length=64, index=True
    )
    token_id: int | None = Field(default=None, foreign_key="access_token.id", index=True)
    user: str = ""
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    expires_at: datetime = Field(sa_type=NAIVE)
    ended_at: datetime | None = Field(default=None, sa_type=NAIVE)


class RunLease(SQLModel, table=True):
    """Who does a job right now (`scan`, `nightly`, `warn`, `overview`): one row per job while a
    process holds it, refreshed by its heartbeat (`exposure.store.lease`). A live process and a
    crashed one look alike in `ScanRun`; here they do not."""

    name: str = Field(primary_key=True, max_length=32)
    owner: str = Field(max_length=64)  # random per acquisition: only its holder may beat or free
    host: str = Field(max_length=255)
    pid: int
    command: str = Field(default="", max_length=255)
    run_id: int | None = None
    acquired_at: datetime = Field(sa_type=NAIVE)
    heartbeat_at: datetime = Field(sa_type=NAIVE)


class DiscoveredHost(SQLModel, table=True):
    """A host name or address that discovery found for a company (DESIGN.md, issue #22).

    Only a `confirmed` host becomes a `Target` (origin `discovered`); a `rejected` one is never
    proposed again, however often a source names it; one no source named for 30 days is
    `retired` (its discovered target goes with it) and comes back as `proposed` when seen again.
    `sources` lists who named it (`dns`, `ct`, `shodan`); `evidence` keeps, per source, the small
    proof a person checks before confirming (the SPF term, the certificate, the Shodan banner).
    """

    __tablename__ = "discovered_host"
    __table_args__ = (UniqueConstraint("company_id", "kind", "value", name="uq_discovered_host"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(foreign_key="company.id", index=True, max_length=64)
    kind: str = Field(max_length=16)  # domain | ip
    value: str  # canonical, as a Target's value
    state: str = Field(default="proposed", max_length=16, index=True)  # DiscoveryState
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    first_seen: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=NAIVE)
    decided_at: datetime | None = Field(default=None, sa_type=NAIVE)
    decided_by: str = ""  # who confirmed or rejected: a person, or `rule:auto_confirm`
    note: str = ""
    # The company said "not ours" in the portal: a request to the Meldpunt, who rejects the
    # host or confirms it again; until then it stays a target (the Meldpunt decides scope).
    disputed_at: datetime | None = Field(default=None, sa_type=NAIVE)
    dispute_note: str = ""
