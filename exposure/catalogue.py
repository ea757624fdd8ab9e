"""The public finding catalogue of DESIGN.md: the stable ids, their default severity and theme.

Ids are public names that warnings, reports, exports and history refer to; they are never reused
or renamed. The words that explain a finding live next to the check that emits it (its
`CheckMeta`); this table only pins what must not drift: which ids exist, how severe they are by
default, and what kind of harm they stand for. The contract test holds every registered check
to it.

Severity follows harm, not points (the rubric, `Harm` and `RUBRIC` below): what a visitor, a
customer or an attacker experiences if the problem stays.

- critical: someone is in, or can get in or take the business off-line today without effort
  (a host tagged compromised, a CVE attackers exploit now, an open industrial controller, a
  broken DNSSEC chain that makes the whole domain unreachable for validating resolvers).
- high: an attacker gets in or reads along with little effort, customers are turned away, or
  anyone can send mail in the company's name (open remote access, cameras, databases, file
  shares, an invalid or refused certificate, a site only old browsers could open, no SPF/DMARC).
- medium: a protection is weakened; abuse takes effort or luck (legacy TLS besides modern TLS,
  DMARC at p=none, an expiring certificate, a broken security.txt).
- low: good practice that is missing; nothing breaks today (DNSSEC, DANE, MTA-STS, HSTS).
- info: inventory, no action.

Within one severity, "do these first" orders by `Harm` (intrusion before outage before
impersonation before eavesdropping before hygiene), then by effort: a camera anyone can watch
goes before a certificate on the wrong name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from exposure.severity import Severity


class Theme(StrEnum):
    """How reports group findings for a non-expert reader."""

    WEBSITE = "website"  # website and certificates
    EMAIL = "email"
    SECURITYTXT = "securitytxt"
    DEVICES = "devices"  # cameras, devices and open services
    DOMAIN = "domain"  # DNS and registration


class Harm(StrEnum):
    """What happens to the business if the problem stays (the rubric's axis; see the module
    docstring). Ordered: `rank` is higher for worse harm."""

    INTRUSION = "intrusion"  # someone gets in, watches, takes or encrypts data
    OUTAGE = "outage"  # customers cannot reach the site or mail; browsers refuse it
    IMPERSONATION = "impersonation"  # someone sends mail or poses in the company's name
    EAVESDROP = "eavesdrop"  # traffic can be read or changed on the way
    HYGIENE = "hygiene"  # good practice missing; nothing breaks today
    NONE = "none"  # inventory

    @property
    def rank(self) -> int:
        return len(_HARM_ORDER) - _HARM_ORDER.index(self)


_HARM_ORDER: tuple[Harm, ...] = tuple(Harm)

#: The rubric in one table: the harm and the severity it earns by default. A check may raise a
#: severity where its evidence shows more harm (a live camera image, a CVE at CVSS 9+).
RUBRIC: dict[Harm, tuple[Severity, ...]] = {
    Harm.INTRUSION: (Severity.CRITICAL, Severity.HIGH),
    Harm.OUTAGE: (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM),
    Harm.IMPERSONATION: (Severity.HIGH, Severity.MEDIUM, Severity.LOW),
    Harm.EAVESDROP: (Severity.HIGH, Severity.MEDIUM, Severity.LOW),
    Harm.HYGIENE: (Severity.MEDIUM, Severity.LOW, Severity.INFO),
    Harm.NONE: (Severity.INFO,),
}


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    id: str
    severity: Severity
    theme: Theme
    harm: Harm


def _e(id_: str, severity: str, theme: Theme, harm: Harm) -> CatalogueEntry:
    return CatalogueEntry(id_, Severity(severity), theme, harm)


IN, OUT, IMP, EAV, HYG, NONE = (
    Harm.INTRUSION,
    Harm.OUTAGE,
    Harm.IMPERSONATION,
    Harm.EAVESDROP,
    Harm.HYGIENE,
    Harm.NONE,
)


W, M, S, D, N = Theme.WEBSITE, Theme.EMAIL, Theme.SECURITYTXT, Theme.DEVICES, Theme.DOMAIN

ENTRIES: tuple[CatalogueEntry, ...] = (
    _e("target.unresolvable", "info", N, NONE),
    _e("web.https.missing", "high", W, EAV),
    _e("web.https.no_redirect", "medium", W, EAV),
    _e("web.hsts.missing", "low", W, HYG),
    _e("web.site.none", "info", W, NONE),  # inventory: no website on the domain at all
    _e("tls.cert.expired", "high", W, OUT),
    _e("tls.cert.expiring", "medium", W, OUT),
    _e("tls.cert.not_yet_valid", "high", W, OUT),
    _e("tls.cert.hostname_mismatch", "high", W, OUT),
    _e("tls.cert.untrusted", "high", W, OUT),
    _e("tls.cert.weak_key", "high", W, OUT),
    _e("tls.cert.weak_signature", "high", W, OUT),
    _e("tls.protocol.legacy", "medium", W, EAV),
    _e("tls.protocol.obsolete_only", "high", W, OUT),
    _e("securitytxt.missing", "low", S, HYG),
    _e("securitytxt.invalid", "medium", S, HYG),
    _e("securitytxt.expired", "medium", S, HYG),
    _e("mail.spf.missing", "high", M, IMP),
    _e("mail.spf.invalid", "high", M, IMP),
    _e("mail.spf.permissive", "high", M, IMP),
    _e("mail.dmarc.missing", "high", M, IMP),
    _e("mail.dmarc.invalid", "high", M, IMP),
    _e("mail.dmarc.policy_none", "medium", M, IMP),
    _e("mail.dmarc.no_reports", "low", M, HYG),
    _e("mail.dkim.missing", "low", M, HYG),
    _e("mail.starttls.missing", "high", M, EAV),
    _e("mail.starttls.legacy", "medium", M, EAV),
    _e("mail.starttls.cert_invalid", "low", M, EAV),
    _e("mail.mx.unreachable", "info", M, NONE),
    _e("mail.mta_sts.missing", "low", M, HYG),
    _e("mail.mta_sts.invalid", "medium", M, HYG),
    _e("mail.tlsrpt.missing", "info", M, NONE),
    _e("mail.dane.missing", "low", M, HYG),
    _e("dns.dnssec.missing", "low", N, HYG),
    _e("dns.dnssec.invalid", "critical", N, OUT),
    _e("exposure.camera", "high", D, IN),
    _e("exposure.remote_access", "high", D, IN),
    _e("exposure.file_share", "high", D, IN),
    _e("exposure.database", "high", D, IN),
    _e("exposure.ics", "critical", D, IN),
    _e("exposure.vulnerable", "high", D, IN),
    _e("exposure.exploited", "critical", D, IN),
    _e("exposure.compromised", "critical", D, IN),
    _e("exposure.service", "info", D, NONE),
)

CATALOGUE: dict[str, CatalogueEntry] = {e.id: e for e in ENTRIES}


def harm_of(finding_id: str) -> Harm:
    """The harm of a catalogue id; an id the catalogue does not know counts as hygiene."""
    known = CATALOGUE.get(finding_id)
    return known.harm if known is not None else Harm.HYGIENE


def entry(finding_id: str) -> CatalogueEntry:
    try:
        return CATALOGUE[finding_id]
    except KeyError:
        raise KeyError(f"{finding_id!r} is not in the finding catalogue") from None
