"""The `mail` family: SPF, DMARC, DKIM, MX and STARTTLS, MTA-STS, TLS-RPT and DANE of a domain.

Phishing and spoofed mail are how most small businesses are hit, so these are the heart of the
warnings, and a false "your mail can be spoofed" costs trust. Hence the rule every part follows:
a verdict only from a decisive answer. Any DNS time-out, SERVFAIL or unreachable host leaves the
ids it concerns undecided (a `CheckFailure` naming exactly those ids), so the store neither
opens nor resolves them on a guess.

What applies to which domain:
- every existing domain: SPF and DMARC (a domain that sends no mail is protected by them too);
- a domain with MX hosts (not a null MX, not none): DKIM, the MX hosts' STARTTLS (one SMTP
  session per host per run, shared by all domains that use it), DANE, MTA-STS and TLS-RPT;
- a domain that does not exist (NXDOMAIN): nothing; `target.unresolvable` reports it.

Subjects: record findings sit on the domain; STARTTLS, unreachable and DANE findings sit on the
MX host. The fingerprint holds the company and the subject, so one broken MX shared by 50 member
domains gives each company its own finding, and a company whose two domains share it gets one.
(No discriminator: the subject already is the host, and reports show the two side by side.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from checks.mail import dmarc as dmarc_mod
from checks.mail import records, spf
from checks.mail.findings import (
    DANE_MISSING,
    DKIM_MISSING,
    DMARC_INVALID,
    DMARC_MISSING,
    DMARC_NO_REPORTS,
    DMARC_POLICY_NONE,
    MAIL_FINDINGS,
    MTA_STS_INVALID,
    MTA_STS_MISSING,
    SPF_INVALID,
    SPF_MISSING,
    SPF_PERMISSIVE,
    TLSRPT_MISSING,
)
from checks.mail.mta_sts import StsResult, StsStatus, check_mta_sts
from checks.mail.mx import MxSet, MxStatus, mail_exchangers
from checks.mail.records import Presence, RecordCheck
from checks.mail.shared import organisational_domain, public_suffixes
from checks.mail.starttls import STARTTLS_IDS, UNREACHABLE, judge, smtp_session
from exposure.contract import (
    CheckContext,
    CheckFailure,
    CheckMeta,
    FailureReason,
    FindingSpec,
    Observation,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.net.dns import DnsStatus
from exposure.text import Text

SPECS: dict[str, FindingSpec] = {spec.id: spec for spec in MAIL_FINDINGS}
DMARC_IDS = frozenset(
    {DMARC_MISSING.id, DMARC_INVALID.id, DMARC_POLICY_NONE.id, DMARC_NO_REPORTS.id}
)
STS_IDS = frozenset({MTA_STS_MISSING.id, MTA_STS_INVALID.id})
#: Everything that only applies to a domain that receives mail.
MX_IDS = frozenset(
    {DKIM_MISSING.id, TLSRPT_MISSING.id, DANE_MISSING.id, UNREACHABLE, *STARTTLS_IDS, *STS_IDS}
)


class Report:
    """Collects a domain's observations: findings from decisive answers, failures otherwise."""

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.observations: list[Observation] = []

    def finding(
        self,
        spec: FindingSpec,
        detail: str,
        evidence: Mapping[str, Any],
        *,
        subject: str = "",
    ) -> None:
        self.observations.append(
            spec.candidate(subject or self.domain, dict(evidence), detail=detail)
        )

    def undecided(
        self, ids: Iterable[str], reason: FailureReason, message: str, subject: str = ""
    ) -> None:
        self.observations.append(
            CheckFailure(reason, message[:500], subject or self.domain, frozenset(ids))
        )


#: What rests on an SMTP session with the MX hosts alone (`CheckMeta.partial`).
SMTP_IDS = STARTTLS_IDS | {UNREACHABLE}


class MailCheck:
    meta: ClassVar[CheckMeta] = CheckMeta(
        id="mail",
        title=Text(nl="E-mailbeveiliging", en="E-mail security"),
        description=Text(
            nl="Kijkt of e-mail uit naam van het bedrijf te vervalsen is (SPF, DMARC, DKIM) en "
            "of e-mail aan het bedrijf versleuteld aankomt (STARTTLS, MTA-STS, TLS-RPT, DANE).",
            en="Checks whether e-mail in the company's name can be forged (SPF, DMARC, DKIM) "
            "and whether e-mail to the company arrives encrypted (STARTTLS, MTA-STS, TLS-RPT, "
            "DANE).",
        ),
        target_kinds=frozenset({TargetKind.DOMAIN}),
        sources=frozenset({Source.DNS, Source.SMTP, Source.TLS, Source.HTTP}),
        findings=MAIL_FINDINGS,
        # without outbound port 25 only the mail servers' own answers are unknown: SPF and DMARC
        # (what stops spoofed mail, the harm that hits these firms most) are still decided
        partial={Source.SMTP: SMTP_IDS},
    )

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        domain = target.value
        psl = await public_suffixes(ctx)
        org = organisational_domain(psl, domain)
        spf_result, dmarc_result, mx = await asyncio.gather(
            spf.evaluate(domain, ctx.dns),
            dmarc_mod.discover(domain, ctx.dns, org),
            mail_exchangers(domain, ctx.dns),
        )
        if mx.status is MxStatus.NXDOMAIN or await _nxdomain(ctx, domain):
            return []  # the domain does not exist: target.unresolvable says so
        report = Report(domain)
        _spf(report, spf_result)
        _dmarc(report, dmarc_result)
        if mx.status is MxStatus.TEMPERROR:
            report.undecided(MX_IDS, FailureReason.DNS_ERROR, mx.message)
        elif mx.receives_mail:
            await _mail_domain(report, ctx, mx)
        return report.observations


async def _nxdomain(ctx: CheckContext, domain: str) -> bool:
    """The apex itself is NXDOMAIN (the SPF walk asked already: a cache hit)."""
    return (await ctx.dns.resolve(domain, "TXT")).status is DnsStatus.NXDOMAIN


# --- SPF and DMARC ---------------------------------------------------------------------------------


def _spf(report: Report, result: spf.SpfResult) -> None:
    evidence = result.evidence()
    match result.status:
        case spf.SpfStatus.NONE:
            report.finding(SPF_MISSING, f"no SPF record at {result.domain}", evidence)
        case spf.SpfStatus.PERMERROR:
            report.finding(SPF_INVALID, result.message, evidence)
        case spf.SpfStatus.VALID:
            if result.permissive:
                report.finding(SPF_PERMISSIVE, result.permissive_reason, evidence)
        case spf.SpfStatus.TEMPERROR:
            undecided = {SPF_INVALID.id}
            if not result.record:
                undecided.add(SPF_MISSING.id)
            if result.permissive:
                report.finding(SPF_PERMISSIVE, result.permissive_reason, evidence)
            else:
                undecided.add(SPF_PERMISSIVE.id)
            report.undecided(undecided, FailureReason.DNS_ERROR, f"SPF: {result.message}")


def _dmarc(report: Report, result: dmarc_mod.DmarcResult) -> None:
    evidence = result.evidence()
    match result.status:
        case dmarc_mod.DmarcStatus.TEMPERROR:
            report.undecided(DMARC_IDS, FailureReason.DNS_ERROR, f"DMARC: {result.message}")
        case dmarc_mod.DmarcStatus.MISSING:
            asked = " and ".join(result.asked)
            why = "".join(f"; {reason}" for reason in result.why)
            report.finding(DMARC_MISSING, f"no DMARC record at {asked}{why}", evidence)
        case dmarc_mod.DmarcStatus.INVALID:
            report.finding(DMARC_INVALID, result.message, evidence)
        case dmarc_mod.DmarcStatus.VALID:
            if result.policy is dmarc_mod.Policy.NONE:
                report.finding(DMARC_POLICY_NONE, f"policy none ({result.policy_how})", evidence)
            if not result.has_reports:
                report.finding(DMARC_NO_REPORTS, f"no rua in {result.location}", evidence)


# --- a domain that receives mail -------------------------------------------------------------------


async def _mail_domain(report: Report, ctx: CheckContext, mx: MxSet) -> None:
    domain = report.domain
    hosts = mx.hosts
    smtp_down = ctx.down.get(Source.SMTP)  # port 25 blocked or switched off: no session
    dkim, rpt, sts, sessions, tlsas = await asyncio.gather(
        records.dkim(domain, ctx.dns),
        records.tlsrpt(domain, ctx.dns),
        check_mta_sts(ctx, domain, hosts),
        asyncio.gather(*(smtp_session(ctx, host) for host in ([] if smtp_down else hosts))),
        asyncio.gather(*(records.tlsa(host, ctx.dns) for host in hosts)),
    )
    if smtp_down:
        for host in hosts:
            report.undecided(SMTP_IDS, FailureReason.UNAVAILABLE, smtp_down, host)
    mx_evidence = mx.evidence()
    _record(report, DKIM_MISSING, dkim, mx_evidence, "DKIM")
    _record(report, TLSRPT_MISSING, rpt, mx_evidence, "TLS-RPT")
    _sts(report, sts, mx_evidence)
    for session in sessions:
        verdict = judge(session, ctx.now)
        evidence = {"domain": domain, **session.evidence(ctx.now)}
        for finding_id, detail in sorted(verdict.findings.items()):
            report.finding(
                SPECS[finding_id],
                detail,
                evidence,
                subject=session.host,
            )
        if verdict.undecided:
            assert verdict.reason is not None
            report.undecided(verdict.undecided, verdict.reason, verdict.message, session.host)
    for host, tlsa in zip(hosts, tlsas, strict=True):
        if tlsa.presence is Presence.MISSING:
            report.finding(
                DANE_MISSING,
                f"no TLSA records at {tlsa.name}",
                {"domain": domain, "mx": host, **tlsa.evidence()},
                subject=host,
            )
        elif tlsa.presence is Presence.TEMPERROR:
            report.undecided({DANE_MISSING.id}, FailureReason.DNS_ERROR, tlsa.message, host)


def _record(
    report: Report, spec: FindingSpec, check: RecordCheck, mx: Mapping[str, Any], label: str
) -> None:
    evidence = {"domain": report.domain, **check.evidence(), **mx}
    if check.presence is Presence.MISSING:
        report.finding(spec, f"no {label} record at {check.name}", evidence)
    elif check.presence is Presence.INVALID:
        report.finding(
            spec, f"{label} record at {check.name} is not usable: {check.message}", evidence
        )
    elif check.presence is Presence.TEMPERROR:
        report.undecided({spec.id}, FailureReason.DNS_ERROR, f"{label}: {check.message}")


def _sts(report: Report, result: StsResult, mx: Mapping[str, Any]) -> None:
    evidence = {**result.evidence(), **mx}
    match result.status:
        case StsStatus.MISSING:
            report.finding(
                MTA_STS_MISSING, f"no MTA-STS record at _mta-sts.{result.domain}", evidence
            )
        case StsStatus.WITHDRAWN:
            report.finding(MTA_STS_MISSING, "the MTA-STS policy is in mode none", evidence)
        case StsStatus.INVALID:
            report.finding(MTA_STS_INVALID, result.message, evidence)
        case StsStatus.TEMPERROR:
            ids = {MTA_STS_INVALID.id} if result.record is not None else set(STS_IDS)
            report.undecided(
                ids, result.reason or FailureReason.DNS_ERROR, f"MTA-STS: {result.message}"
            )
