"""The `dns` family: whether a domain's zone is DNSSEC-signed, and whether the signing holds.

DNSSEC protects a company's website and mail against forged DNS answers; a zone whose signing is
broken is worse than none, because validating resolvers then refuse to resolve it at all (the
website and the mail disappear for a large part of the internet). See `checks/dns/dnssec.py`
for how the verdict is reached and what it does not look at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from checks.dns.dnssec import DnssecStatus, assess
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
from exposure.severity import Severity
from exposure.text import Text

DNSSEC_MISSING = FindingSpec(
    id="dns.dnssec.missing",
    severity=Severity.LOW,
    title=Text(
        nl="Uw domeinnaam is niet beveiligd met DNSSEC",
        en="Your domain name is not protected by DNSSEC",
    ),
    risk=Text(
        nl="Zonder DNSSEC kan een aanvaller met vervalste DNS-antwoorden bezoekers en e-mail "
        "van uw domein naar een valse server sturen. DNSSEC zet een digitale handtekening op "
        "uw DNS-gegevens, zodat zo'n vervalsing opvalt.",
        en="Without DNSSEC, an attacker can use forged DNS answers to send visitors and e-mail "
        "for your domain to a fake server. DNSSEC puts a digital signature on your DNS data, so "
        "that such a forgery is noticed.",
    ),
    remediation=Text(
        nl="Vraag uw domeinregistrar of DNS-provider om DNSSEC aan te zetten. Bij de meeste "
        "Nederlandse providers is dat één instelling.",
        en="Ask your domain registrar or DNS provider to turn on DNSSEC. At most Dutch "
        "providers it is a single setting.",
    ),
    technical=Text(
        nl="Geen DS-record bij de bovenliggende zone: de zone is niet ondertekend, of wel "
        "ondertekend (DNSKEY, RRSIG) maar zonder DS, zodat geen vertrouwensketen ernaar leidt.",
        en="No DS record at the parent zone: the zone is not signed, or it is signed (DNSKEY, "
        "RRSIG) but has no DS, so no chain of trust leads to it.",
    ),
    effort=Effort.LOW,
)

DNSSEC_INVALID = FindingSpec(
    id="dns.dnssec.invalid",
    severity=Severity.CRITICAL,
    title=Text(
        nl="De DNSSEC-beveiliging van uw domein is kapot",
        en="Your domain's DNSSEC is broken",
    ),
    risk=Text(
        nl="Uw domein is ondertekend met DNSSEC, maar de handtekeningen kloppen niet. "
        "Internetproviders die DNSSEC controleren, kunnen uw website en e-mail dan helemaal "
        "niet meer vinden: voor veel klanten bent u onbereikbaar.",
        en="Your domain is signed with DNSSEC, but the signatures do not check out. Internet "
        "providers that check DNSSEC can then no longer find your website and e-mail at all: "
        "many customers cannot reach you.",
    ),
    remediation=Text(
        nl="Neem meteen contact op met uw DNS-provider of registrar: de sleutels of "
        "handtekeningen moeten worden hersteld. Dit gebeurt vaak na een verhuizing van het "
        "domein of een mislukte sleutelwissel.",
        en="Contact your DNS provider or registrar straight away: the keys or signatures must "
        "be repaired. This often happens after moving the domain or a failed key roll-over.",
    ),
    technical=Text(
        nl="Er staat een DS bij de ouderzone, maar geen DNSKEY past erbij, of de DNSKEY- of "
        "SOA-set heeft geen geldige RRSIG (ontbrekend, verlopen, nog niet geldig, of onjuist). "
        "Validerende resolvers geven SERVFAIL voor het hele domein.",
        en="The parent has a DS, but no DNSKEY matches it, or the DNSKEY or SOA set has no "
        "valid RRSIG (missing, expired, not yet valid, or wrong). Validating resolvers answer "
        "SERVFAIL for the whole domain.",
    ),
    effort=Effort.MEDIUM,
)

DNSSEC_IDS = frozenset({DNSSEC_MISSING.id, DNSSEC_INVALID.id})


class DnsCheck:
    meta: ClassVar[CheckMeta] = CheckMeta(
        id="dns",
        title=Text(nl="Beveiliging van de domeinnaam (DNSSEC)", en="Domain name security (DNSSEC)"),
        description=Text(
            nl="Kijkt of de DNS-gegevens van het domein ondertekend zijn met DNSSEC, en of die "
            "handtekeningen kloppen.",
            en="Checks whether the domain's DNS data is signed with DNSSEC, and whether the "
            "signatures check out.",
        ),
        target_kinds=frozenset({TargetKind.DOMAIN}),
        sources=frozenset({Source.DNS}),
        findings=(DNSSEC_MISSING, DNSSEC_INVALID),
    )

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        domain = target.value
        if ctx.dnssec is None:
            return [
                CheckFailure(
                    FailureReason.UNAVAILABLE,
                    "no DNSSEC-capable resolver in this run",
                    domain,
                    DNSSEC_IDS,
                )
            ]
        result = await assess(domain, ctx.dnssec, ctx.now)
        subject = result.zone or domain
        evidence = result.evidence()
        match result.status:
            case DnssecStatus.UNSIGNED | DnssecStatus.ISLAND:
                detail = result.message or f"{subject} has no DS record at its parent (unsigned)"
                return [_finding(DNSSEC_MISSING, subject, detail, evidence)]
            case DnssecStatus.BOGUS:
                return [_finding(DNSSEC_INVALID, subject, result.message, evidence)]
            case DnssecStatus.UNSUPPORTED:
                return [
                    CheckFailure(
                        FailureReason.UNAVAILABLE,
                        result.message,
                        subject,
                        frozenset({DNSSEC_INVALID.id}),
                    )
                ]
            case DnssecStatus.TEMPERROR:
                return [CheckFailure(FailureReason.DNS_ERROR, result.message, domain, DNSSEC_IDS)]
            case _:  # SECURE, or NXDOMAIN (target.unresolvable reports that)
                return []


def _finding(
    spec: FindingSpec, subject: str, detail: str, evidence: dict[str, object]
) -> FindingCandidate:
    return spec.candidate(subject, evidence, detail=detail)
