"""The public finding catalogue of DESIGN.md: the stable ids, their default severity and theme.

Ids are public names that warnings, reports, exports and history refer to; they are never reused
or renamed. The words that explain a finding live next to the check that emits it (its
`CheckMeta`); this table only pins what must not drift: which ids exist and how severe they are
by default. The contract test holds every registered check to it.
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


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    id: str
    severity: Severity
    theme: Theme


def _e(id_: str, severity: str, theme: Theme) -> CatalogueEntry:
    return CatalogueEntry(id_, Severity(severity), theme)


W, M, S, D, N = Theme.WEBSITE, Theme.EMAIL, Theme.SECURITYTXT, Theme.DEVICES, Theme.DOMAIN

ENTRIES: tuple[CatalogueEntry, ...] = (
    _e("target.unresolvable", "info", N),
    _e("web.https.missing", "high", W),
    _e("web.https.no_redirect", "medium", W),
    _e("web.hsts.missing", "low", W),
    _e("tls.cert.expired", "high", W),
    _e("tls.cert.expiring", "medium", W),
    _e("tls.cert.not_yet_valid", "high", W),
    _e("tls.cert.hostname_mismatch", "high", W),
    _e("tls.cert.untrusted", "high", W),
    _e("tls.cert.weak_key", "medium", W),
    _e("tls.cert.weak_signature", "medium", W),
    _e("tls.protocol.legacy", "medium", W),
    _e("securitytxt.missing", "low", S),
    _e("securitytxt.invalid", "medium", S),
    _e("securitytxt.expired", "medium", S),
    _e("mail.spf.missing", "high", M),
    _e("mail.spf.invalid", "high", M),
    _e("mail.spf.permissive", "high", M),
    _e("mail.dmarc.missing", "high", M),
    _e("mail.dmarc.invalid", "high", M),
    _e("mail.dmarc.policy_none", "medium", M),
    _e("mail.dmarc.no_reports", "low", M),
    _e("mail.dkim.missing", "low", M),
    _e("mail.starttls.missing", "high", M),
    _e("mail.starttls.legacy", "medium", M),
    _e("mail.starttls.cert_invalid", "low", M),
    _e("mail.mx.unreachable", "info", M),
    _e("mail.mta_sts.missing", "low", M),
    _e("mail.mta_sts.invalid", "medium", M),
    _e("mail.tlsrpt.missing", "info", M),
    _e("mail.dane.missing", "low", M),
    _e("dns.dnssec.missing", "low", N),
    _e("dns.dnssec.invalid", "high", N),
    _e("exposure.camera", "high", D),
    _e("exposure.remote_access", "high", D),
    _e("exposure.file_share", "high", D),
    _e("exposure.database", "high", D),
    _e("exposure.ics", "critical", D),
    _e("exposure.vulnerable", "high", D),
    _e("exposure.exploited", "critical", D),
    _e("exposure.compromised", "critical", D),
    _e("exposure.service", "info", D),
)

CATALOGUE: dict[str, CatalogueEntry] = {e.id: e for e in ENTRIES}


def entry(finding_id: str) -> CatalogueEntry:
    try:
        return CATALOGUE[finding_id]
    except KeyError:
        raise KeyError(f"{finding_id!r} is not in the finding catalogue") from None
