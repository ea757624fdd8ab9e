"""One `exposure warn` run: select, compose, deliver, record. The CLI and the demo call this.

The order per message is what makes the audit trail trustworthy:

1. the plan (reports.warning) says which findings and why;
2. a reference number is taken and the message composed with it;
3. a `pending` row is written and committed (the reference is claimed; a crash from here on
   leaves a visible row that does not count as warned, so the message goes out again);
4. the message is written to the outbox and/or handed to the SMTP server;
5. the row becomes `written`, `sent` or `failed`, with what happened in words.

A dry run does steps 1 and 2 only: it reads the store, writes nothing and connects nowhere.
A failed delivery never stops the next message; it is retried on the next run because failed
rows do not count as warned.

Exit codes (`WarnReport.exit_code`, the shared `exposure.exit_codes`): 0 when every planned
message was written or sent (or, in a dry run, could be); 3 (incomplete) when at least one
message failed or a company that should be warned has no usable address: the failed ones go out
on the next run. Bad options and settings raise `WarnSetupError` before anything happens (the
CLI turns it into exit code 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from exposure.contract import FindingSpec
from exposure.exit_codes import ExitCode
from exposure.net.smtp_url import SmtpConfig, SmtpUrlError, parse_smtp_url, smtp_ssl_context
from exposure.settings import Settings
from exposure.severity import Severity
from exposure.store.db import session as session_scope
from exposure.store.queries import list_companies, list_findings
from exposure.store.warnings import (
    FAILED,
    SENT,
    WRITTEN,
    NewWarning,
    delivered_warnings,
    expire_pending,
    finish_warning,
    format_reference,
    last_reference_number,
    reserve_warning,
    securitytxt_evidence,
)
from reports import coverage
from reports.codes import CodeBook
from reports.delivery import Delivery, SmtpTransport, write_eml
from reports.discovered import labels_by_target
from reports.recipients import AddressError, recipients_for, securitytxt_contacts, valid_address
from reports.specs import Specs
from reports.warning import History, WarningPlan, WarningPolicy, plan_warnings
from reports.warning_message import (
    Sender,
    WarningContent,
    build_message,
    compose,
    eml_name,
    message_id,
    plain,
)

DRY_RUN = "dry-run"
#: A `pending` row older than this belongs to a run that died, not to one still sending.
PENDING_GRACE = timedelta(hours=1)
_RESERVE_ATTEMPTS = 5


class WarnSetupError(ValueError):
    """Options or settings that make a run impossible; one line for a person (exit code 2)."""


class Transport(Protocol):
    """Where `--send` hands a message (SmtpTransport; tests may hand in their own)."""

    def send(self, message: EmailMessage, sender: str, recipients: Sequence[str]) -> Delivery: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class WarnOptions:
    outbox: Path | None = None
    send: bool = False
    dry_run: bool = False
    min_severity: Severity = Severity.MEDIUM
    company_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """What happened to one message (one company)."""

    reference: str
    company_id: str
    company_name: str  # a plain() line: safe to print
    kind: str
    subject: str
    recipients: tuple[str, ...]
    actions: int
    findings: int
    reasons: Mapping[str, int]
    status: str  # dry-run | written | sent | failed
    result: str
    path: Path | None = None
    text: str = ""  # the plain-text part, for `--show`

    @property
    def failed(self) -> bool:
        return self.status == FAILED


@dataclass(frozen=True, slots=True)
class Skipped:
    """A company that should have been warned but could not be addressed."""

    company_id: str
    company_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class WarnReport:
    messages: tuple[MessageOutcome, ...]
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()  # addresses left out of a message that did go out
    dry_run: bool = False
    channel: str = ""  # where messages went, for the summary line
    planned_companies: tuple[str, ...] = field(default=())

    @property
    def failed(self) -> tuple[MessageOutcome, ...]:
        return tuple(m for m in self.messages if m.failed)

    @property
    def exit_code(self) -> int:
        return ExitCode.INCOMPLETE if self.failed or self.skipped else ExitCode.OK


def policy_from(settings: Settings, min_severity: Severity) -> WarningPolicy:
    return WarningPolicy(
        min_severity=min_severity,
        reminder_after=timedelta(days=settings.warn_reminder_days),
        max_reminders=settings.warn_max_reminders,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _check_setup(settings: Settings, options: WarnOptions) -> tuple[Sender, SmtpConfig | None]:
    if not (options.outbox or options.send or options.dry_run):
        raise WarnSetupError(
            "say where the warnings go: --outbox DIR, --send (SMTP), or --dry-run to look first"
        )
    sender = Sender.from_settings(settings)
    if not options.dry_run:
        missing = sender.missing()
        if missing:
            raise WarnSetupError(
                "a warning must say who sent it and how to check it is genuine; set "
                + ", ".join(missing)
            )
        try:
            sender = replace(sender, email=valid_address(sender.email))
        except AddressError as exc:
            raise WarnSetupError(f"meldpunt_email: {exc}") from None
    config: SmtpConfig | None = None
    if options.send:
        if settings.smtp_url is None:
            raise WarnSetupError("--send needs smtp_url (e.g. smtp://user:pass@host:587)")
        try:
            config = parse_smtp_url(settings.smtp_url.get_secret_value())
        except SmtpUrlError as exc:
            raise WarnSetupError(str(exc)) from None
    return sender, config


def run_warnings(
    engine: Engine,
    settings: Settings,
    specs: Mapping[str, FindingSpec],
    options: WarnOptions,
    *,
    now: datetime | None = None,
    transport: Transport | None = None,
    codes: CodeBook | None = None,
    topics: Specs | None = None,
) -> WarnReport:
    """Select, compose, deliver and record the warnings of one run (see the module docstring).

    `codes` are the words and one-line fixes of evidence codes (`reports.codes.code_book`).
    `topics` (the installed checks' families, `Specs.from_registry`) lets a message say what
    the latest scan could not test (`reports.coverage`); without it the message is silent on
    that, never green.

    `now` is naive UTC like the store's times (default: the clock); `transport` replaces the
    SMTP connection built from `smtp_url` (tests).
    """
    sender, config = _check_setup(settings, options)
    if codes is None and topics is not None:
        codes = topics.codes
    when = now or _utcnow()
    policy = policy_from(settings, options.min_severity)
    plans, securitytxt = _load_plans(engine, settings, options, policy, when, topics)
    if options.dry_run:
        return _dry_run(engine, settings, specs, plans, securitytxt, sender, when, codes)

    channel = "smtp" if options.send else "outbox"
    with session_scope(engine) as session:
        interrupted = expire_pending(session, when - PENDING_GRACE)
    own_transport = transport is None and config is not None
    if own_transport:
        assert config is not None
        transport = SmtpTransport(
            config,
            smtp_ssl_context(settings.smtp_ca_bundle),
            timeout=settings.smtp_timeout,
        )
    where = config.describe() if config is not None else ""
    messages: list[MessageOutcome] = []
    skipped: list[Skipped] = []
    notes: list[str] = []
    if interrupted:
        notes.append(
            f"{interrupted} message(s) of an interrupted earlier run are marked failed "
            "(see `exposure warnings list`)"
        )
    try:
        for plan in plans:
            recipients = recipients_for(
                plan.company,
                securitytxt.get(plan.company.id, ()),
                settings.warn_securitytxt_contacts,
            )
            name = plain(plan.company.name, 80)
            notes.extend(f"{plan.company.id} ({name}): {p}" for p in recipients.problems)
            if not recipients.to:
                skipped.append(Skipped(plan.company.id, name, "no usable e-mail address"))
                continue
            reference, content, msgid = _reserve(
                engine, settings, specs, plan, sender, recipients.addresses, channel, when, codes
            )
            message = build_message(
                content,
                sender=sender,
                recipients=recipients.addresses,
                company_name=plan.company.name,
                reference=reference,
                language=plan.language,
                now=when,
                msgid=msgid,
            )
            status, result, path = _deliver(
                message, reference, plan, options, transport, sender, recipients.addresses, where
            )
            with session_scope(engine) as session:
                finish_warning(session, reference, status, result)
            messages.append(
                _outcome(plan, content, reference, recipients.addresses, status, result, path)
            )
    finally:
        if own_transport and transport is not None:
            transport.close()
    return WarnReport(
        messages=tuple(messages),
        skipped=tuple(skipped),
        notes=tuple(notes),
        channel=where or str(options.outbox or ""),
        planned_companies=tuple(p.company.id for p in plans),
    )


def _load_plans(
    engine: Engine,
    settings: Settings,
    options: WarnOptions,
    policy: WarningPolicy,
    now: datetime,
    topics: Specs | None = None,
) -> tuple[list[WarningPlan], dict[str, list[str]]]:
    with session_scope(engine) as session:
        companies = list_companies(session, active_only=True)
        if options.company_ids:
            wanted = set(options.company_ids)
            missing = sorted(wanted - {c.id for c in companies})
            if missing:
                raise WarnSetupError(f"unknown or inactive company: {', '.join(missing)}")
            companies = [c for c in companies if c.id in wanted]
        ids = [c.id for c in companies]
        wanted_ids = set(ids)
        findings = [
            f
            for f in list_findings(session, status="open", min_severity=policy.min_severity)
            if f.company_id in wanted_ids and f.check_id not in coverage.INVENTORY_IDS
        ]
        records = delivered_warnings(session, ids)
        evidence = securitytxt_evidence(session, ids) if settings.warn_securitytxt_contacts else {}
    histories = {cid: History.from_records(rows) for cid, rows in records.items()}
    plans = plan_warnings(companies, findings, histories, policy, now, settings.language)
    with session_scope(engine) as session:  # hosts discovery found are named as such (#22)
        plans = [
            replace(p, discovered=labels_by_target(session, p.company.id, p.language))
            for p in plans
        ]
        if topics is not None and plans:
            # What the latest scan could not test is said in the message; it never makes one:
            # only companies with a selected finding have a plan.
            covered = coverage.of_companies(session, topics, [p.company.id for p in plans])
            plans = [replace(p, untested=covered[p.company.id].could_not_test()) for p in plans]
    contacts = {cid: securitytxt_contacts(items) for cid, items in evidence.items()}
    return plans, contacts


def _dry_run(
    engine: Engine,
    settings: Settings,
    specs: Mapping[str, FindingSpec],
    plans: Iterable[WarningPlan],
    securitytxt: Mapping[str, list[str]],
    sender: Sender,
    now: datetime,
    codes: CodeBook | None = None,
) -> WarnReport:
    """What would go out: composed for real, recorded nowhere, references not claimed."""
    with session_scope(engine) as session:
        number = last_reference_number(session, settings.warn_reference_prefix, now.year)
    messages: list[MessageOutcome] = []
    skipped: list[Skipped] = []
    notes: list[str] = []
    for plan in plans:
        recipients = recipients_for(
            plan.company, securitytxt.get(plan.company.id, ()), settings.warn_securitytxt_contacts
        )
        name = plain(plan.company.name, 80)
        notes.extend(f"{plan.company.id} ({name}): {p}" for p in recipients.problems)
        if not recipients.to:
            skipped.append(Skipped(plan.company.id, name, "no usable e-mail address"))
            continue
        number += 1
        reference = format_reference(settings.warn_reference_prefix, now.year, number)
        content = compose(plan, specs, sender, reference, now, codes)
        messages.append(
            _outcome(plan, content, reference, recipients.addresses, DRY_RUN, "not sent", None)
        )
    return WarnReport(
        messages=tuple(messages),
        skipped=tuple(skipped),
        notes=tuple(notes),
        dry_run=True,
        planned_companies=tuple(p.company.id for p in plans),
    )


def _reserve(
    engine: Engine,
    settings: Settings,
    specs: Mapping[str, FindingSpec],
    plan: WarningPlan,
    sender: Sender,
    recipients: tuple[str, ...],
    channel: str,
    now: datetime,
    codes: CodeBook | None = None,
) -> tuple[str, WarningContent, str]:
    """Take the next reference, compose with it, and commit the `pending` row."""
    prefix = settings.warn_reference_prefix
    for _attempt in range(_RESERVE_ATTEMPTS):
        with session_scope(engine) as session:
            number = last_reference_number(session, prefix, now.year) + 1
        reference = format_reference(prefix, now.year, number)
        content = compose(plan, specs, sender, reference, now, codes)
        msgid = message_id(reference, sender.email)
        row = NewWarning(
            company_id=plan.company.id,
            kind=plan.kind,
            language=plan.language,
            recipients=recipients,
            fingerprints=plan.fingerprints,
            severities=plan.severities,
            episodes=plan.episodes,
            reasons=plan.reasons,
            channel=channel,
            subject=content.subject,
            message_id=msgid,
        )
        try:
            with session_scope(engine) as session:
                reserve_warning(session, row, reference, now)
        except IntegrityError:
            continue  # another run took this number: take the next one
        return reference, content, msgid
    raise RuntimeError(f"could not reserve a reference number after {_RESERVE_ATTEMPTS} tries")


def _deliver(
    message: EmailMessage,
    reference: str,
    plan: WarningPlan,
    options: WarnOptions,
    transport: Transport | None,
    sender: Sender,
    recipients: tuple[str, ...],
    where: str,
) -> tuple[str, str, Path | None]:
    """Write and/or send one message; (status, result for the audit trail, outbox path)."""
    path: Path | None = None
    notes: list[str] = []
    if options.outbox is not None:
        try:
            path = write_eml(options.outbox, eml_name(reference, plan.company.id), message)
            notes.append(f"written to {path}")
        except OSError as exc:
            if not options.send:
                return FAILED, f"cannot write to {options.outbox}: {exc.strerror or exc}", None
            notes.append(f"not written to {options.outbox}: {exc.strerror or exc}")
    if not options.send:
        return WRITTEN, "; ".join(notes), path
    assert transport is not None
    delivery = transport.send(message, sender.email, recipients)
    result = (f"via {where}: " if where else "") + delivery.describe()
    return (SENT if delivery.ok else FAILED), "; ".join([result, *notes]), path


def _outcome(
    plan: WarningPlan,
    content: WarningContent,
    reference: str,
    recipients: tuple[str, ...],
    status: str,
    result: str,
    path: Path | None,
) -> MessageOutcome:
    # Counted in the unit of the e-mail and the report: a problem (one check id), each under
    # its most pressing reason, so that the table and the message say the same number.
    reasons: dict[str, int] = {}
    for action in content.actions:
        reason = action.reasons[0].value if action.reasons else "new"
        reasons[reason] = reasons.get(reason, 0) + 1
    return MessageOutcome(
        reference=reference,
        company_id=plan.company.id,
        company_name=plain(plan.company.name, 80),
        kind=plan.kind,
        subject=content.subject,
        recipients=recipients,
        actions=len(content.actions),
        findings=len(plan.selected),
        reasons=reasons,
        status=status,
        result=result,
        path=path,
        text=content.text,
    )
