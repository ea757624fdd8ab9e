"""A small DMARC check for the warning tests, run through the real testbed DNS and the real
orchestrator and store, so that `exposure warn` is tested on findings as a scan makes them.

Why not the real mail check: it is being written at the same time, and the warning rules must
not depend on its details. This one is deliberately simple and only lives in the tests; its ids
are catalogue ids, so the registry accepts it, but it is never registered as an entry point.

Rules (a test fixture, not advice):
- no `v=DMARC1` record at `_dmarc.<domain>`            -> `mail.dmarc.missing` (high)
- `p=none`                                              -> `mail.dmarc.policy_none` (medium),
  raised to high when the domain has no SPF record either (spoofing is then trivial)
- no `rua=`                                             -> `mail.dmarc.no_reports` (low)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from exposure.contract import (
    CheckContext,
    CheckFailure,
    CheckMeta,
    Effort,
    FailureReason,
    FindingCandidate,
    FindingSpec,
    Observation,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.net.dns import DnsStatus
from exposure.registry import Registry
from exposure.severity import Severity
from exposure.text import Text

MISSING = FindingSpec(
    id="mail.dmarc.missing",
    severity=Severity.HIGH,
    title=Text("Iedereen kan e-mail sturen uit uw naam", "Anyone can send e-mail in your name"),
    risk=Text(
        "Criminelen kunnen e-mails versturen die van uw bedrijf lijken te komen, bijvoorbeeld "
        "een valse factuur aan uw klanten. Ontvangers kunnen niet zien dat die nep is.",
        "Criminals can send e-mails that seem to come from your business, such as a false "
        "invoice to your customers. Recipients cannot tell that it is fake.",
    ),
    remediation=Text(
        "Laat uw IT-leverancier een DMARC-record instellen. Begin met rapportage en zet het "
        "beleid daarna op 'reject'.",
        "Have your IT supplier set up a DMARC record. Start with reporting, then set the "
        "policy to 'reject'.",
    ),
    technical=Text(
        "Er staat geen TXT-record met v=DMARC1 op _dmarc.<domein>.",
        "There is no TXT record with v=DMARC1 at _dmarc.<domain>.",
    ),
    effort=Effort.LOW,
)
POLICY_NONE = FindingSpec(
    id="mail.dmarc.policy_none",
    severity=Severity.MEDIUM,
    title=Text(
        "Nepmail uit uw naam wordt niet tegengehouden", "Fake mail in your name is not stopped"
    ),
    risk=Text(
        "U hebt DMARC, maar met beleid 'none': nepmail uit uw naam wordt gewoon afgeleverd.",
        "You have DMARC, but with policy 'none': fake mail in your name is still delivered.",
    ),
    remediation=Text(
        "Zet het DMARC-beleid op 'quarantine' of 'reject' zodra al uw echte mail goed "
        "ondertekend is.",
        "Set the DMARC policy to 'quarantine' or 'reject' once all your real mail is signed.",
    ),
    technical=Text("Het DMARC-record heeft p=none.", "The DMARC record has p=none."),
    effort=Effort.LOW,
)
NO_REPORTS = FindingSpec(
    id="mail.dmarc.no_reports",
    severity=Severity.LOW,
    title=Text("U krijgt geen DMARC-rapporten", "You get no DMARC reports"),
    risk=Text(
        "U ziet niet wie er mail uit uw naam verstuurt.",
        "You do not see who sends mail in your name.",
    ),
    remediation=Text(
        "Voeg een rua-adres toe aan uw DMARC-record.", "Add an rua address to your DMARC record."
    ),
    technical=Text("Het DMARC-record heeft geen rua=.", "The DMARC record has no rua=."),
    effort=Effort.LOW,
)


class LabDmarcCheck:
    meta: ClassVar[CheckMeta] = CheckMeta(
        id="mail",
        title=Text("DMARC (testversie)", "DMARC (test version)"),
        description=Text("Kijkt naar het DMARC-record.", "Looks at the DMARC record."),
        target_kinds=frozenset({TargetKind.DOMAIN}),
        sources=frozenset({Source.DNS}),
        findings=(MISSING, POLICY_NONE, NO_REPORTS),
    )

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        domain = target.value
        answer = await ctx.dns.resolve(f"_dmarc.{domain}", "TXT")
        if not answer.decisive:
            return [CheckFailure(FailureReason.DNS_ERROR, f"_dmarc.{domain}: {answer.status}")]
        records = [r for r in answer.records if str(r).lower().startswith("v=dmarc1")]
        if answer.status is not DnsStatus.OK or not records:
            return [
                FindingCandidate(
                    MISSING.id, domain, MISSING.severity, {"dmarc": None}, detail="no DMARC record"
                )
            ]
        record = str(records[0])
        tags = {
            k.strip().lower(): v.strip()
            for k, _, v in (part.partition("=") for part in record.split(";"))
        }
        found: list[Observation] = []
        if tags.get("p", "").lower() == "none":
            spf = await ctx.dns.resolve(domain, "TXT")
            has_spf = any(str(r).lower().startswith("v=spf1") for r in spf.records)
            severity = POLICY_NONE.severity if has_spf else Severity.HIGH
            found.append(
                FindingCandidate(
                    POLICY_NONE.id,
                    domain,
                    severity,
                    {"dmarc": record, "spf": has_spf},
                    detail=f"p=none ({'SPF present' if has_spf else 'no SPF either'})",
                )
            )
        if "rua" not in tags:
            found.append(
                FindingCandidate(NO_REPORTS.id, domain, NO_REPORTS.severity, {"dmarc": record})
            )
        return found


def lab_registry() -> Registry:
    """A registry with only the lab check (the installed checks stay out of these tests)."""
    return Registry((LabDmarcCheck(),))
