"""`tls.cert.*`: the certificate a web site presents, each defect on its own axis.

The judging itself lives in `exposure.net.certs` (the mail checks judge MX certificates with the
same rules); this module holds the catalogue texts and turns the facts of one handshake into
findings with evidence a person and the ICT partner can act on.

One axis per id, so one defect never hides or imitates another (the issue): an expired
certificate from a trusted CA is `expired` only; RSA-1024 from a trusted CA is `weak_key`, not
`untrusted`; a certificate for another name is `hostname_mismatch` only; `untrusted` is about
the chain alone and says why (self-signed, unknown root, issuer not sent: missing intermediate).
`expiring` is only reported for a certificate that has not expired yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography import x509

from checks._site.sitefold import AddressFinding
from exposure.contract import Effort, FindingSpec
from exposure.net.certs import EXPIRING_DAYS, CertInfo, describe, matches_host
from exposure.net.tls import TlsResult
from exposure.severity import Severity
from exposure.text import Text

_RENEW_NL = (
    "Vraag uw websitebouwer of hostingprovider om het certificaat te vernieuwen (vaak gratis "
    "met Let's Encrypt) en om automatisch verlengen aan te zetten."
)
_RENEW_EN = (
    "Ask your website builder or hosting provider to renew the certificate (often free with "
    "Let's Encrypt) and to turn on automatic renewal."
)

EXPIRED = FindingSpec(
    id="tls.cert.expired",
    severity=Severity.HIGH,
    title=Text(
        nl="Het certificaat van uw website is verlopen",
        en="Your website's certificate has expired",
    ),
    risk=Text(
        nl="Bezoekers krijgen een waarschuwing dat uw website niet veilig is, en de meesten "
        "haken af. Wie toch doorklikt, kan niet meer nagaan of hij echt met uw website praat: "
        "iemand die het verkeer onderschept, kan meelezen.",
        en="Visitors get a warning that your website is not safe, and most of them leave. "
        "Those who click through can no longer tell whether they really reach your site: "
        "someone intercepting the traffic can read along.",
    ),
    remediation=Text(nl=_RENEW_NL, en=_RENEW_EN),
    technical=Text(
        nl="De notAfter-datum van het servercertificaat ligt in het verleden. Vervang het "
        "certificaat, automatiseer de verlenging (ACME, bijvoorbeeld certbot) en controleer dat "
        "de webserver het nieuwe certificaat ook laadt (reload).",
        en="The server certificate's notAfter date is in the past. Replace the certificate, "
        "automate renewal (ACME, e.g. certbot) and make sure the web server actually loads the "
        "new one (reload).",
    ),
    effort=Effort.LOW,
)

EXPIRING = FindingSpec(
    id="tls.cert.expiring",
    severity=Severity.MEDIUM,
    title=Text(
        nl="Het certificaat van uw website verloopt binnenkort",
        en="Your website's certificate expires soon",
    ),
    risk=Text(
        nl=f"Het certificaat verloopt binnen {EXPIRING_DAYS} dagen. Daarna krijgen bezoekers "
        "een waarschuwing dat uw website niet veilig is en haken ze af.",
        en=f"The certificate expires within {EXPIRING_DAYS} days. After that, visitors get a "
        "warning that your website is not safe and leave.",
    ),
    remediation=Text(nl=_RENEW_NL, en=_RENEW_EN),
    technical=Text(
        nl=f"De notAfter-datum van het servercertificaat valt binnen {EXPIRING_DAYS} dagen. "
        "Verleng nu en controleer of de automatische verlenging (ACME) werkt; deze melding komt "
        "meestal doordat die is vastgelopen.",
        en=f"The server certificate's notAfter date is within {EXPIRING_DAYS} days. Renew now "
        "and check that automated renewal (ACME) works; this usually means it has stalled.",
    ),
    effort=Effort.LOW,
)

NOT_YET_VALID = FindingSpec(
    id="tls.cert.not_yet_valid",
    severity=Severity.HIGH,
    title=Text(
        nl="Het certificaat van uw website is nog niet geldig",
        en="Your website's certificate is not valid yet",
    ),
    risk=Text(
        nl="Het certificaat gaat pas later in. Tot die tijd krijgen bezoekers een waarschuwing "
        "dat uw website niet veilig is en haken ze af.",
        en="The certificate only becomes valid later. Until then visitors get a warning that "
        "your website is not safe, and leave.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om een certificaat te plaatsen dat nu al "
        "geldig is, en om de klok van de server te controleren.",
        en="Ask your website builder or hosting provider to install a certificate that is "
        "valid now, and to check the server's clock.",
    ),
    technical=Text(
        nl="De notBefore-datum van het servercertificaat ligt in de toekomst. Oorzaak is meestal "
        "een te vroeg geïnstalleerd certificaat of een verkeerde systeemklok bij de uitgifte; "
        "installeer een geldig certificaat en controleer NTP.",
        en="The server certificate's notBefore date is in the future. Usually a certificate "
        "installed too early or a wrong clock at issuance; install a currently valid "
        "certificate and check NTP.",
    ),
    effort=Effort.LOW,
)

HOSTNAME_MISMATCH = FindingSpec(
    id="tls.cert.hostname_mismatch",
    severity=Severity.HIGH,
    title=Text(
        nl="Het certificaat hoort bij een andere naam dan uw website",
        en="The certificate is for a different name than your website",
    ),
    risk=Text(
        nl="Bezoekers krijgen een waarschuwing dat de website zich niet kan identificeren, en "
        "haken af. Vaak toont de server het certificaat van het hostingbedrijf in plaats van "
        "dat van uw website.",
        en="Visitors get a warning that the site cannot prove who it is, and leave. Often the "
        "server shows the hosting company's certificate instead of one for your website.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om een certificaat dat deze websitenaam "
        "(met en zonder www) dekt, bijvoorbeeld gratis via Let's Encrypt.",
        en="Ask your website builder or hosting provider for a certificate that covers this "
        "website name (with and without www), for example free from Let's Encrypt.",
    ),
    technical=Text(
        nl="Geen subjectAltName van het servercertificaat dekt de gevraagde hostnaam (SNI). "
        "Voeg de naam toe aan het certificaat of koppel het juiste certificaat aan deze virtual "
        "host; de CN telt voor browsers niet mee.",
        en="No subjectAltName of the server certificate covers the requested host name (SNI). "
        "Add the name to the certificate or bind the right certificate to this virtual host; "
        "browsers ignore the CN.",
    ),
    effort=Effort.LOW,
)

UNTRUSTED = FindingSpec(
    id="tls.cert.untrusted",
    severity=Severity.HIGH,
    title=Text(
        nl="Het certificaat van uw website wordt niet vertrouwd",
        en="Your website's certificate is not trusted",
    ),
    risk=Text(
        nl="Browsers kunnen niet nagaan wie het certificaat heeft uitgegeven en tonen een "
        "waarschuwing; bezoekers haken af of leren waarschuwingen weg te klikken, en iemand die "
        "het verkeer onderschept, valt dan niet meer op.",
        en="Browsers cannot check who issued the certificate and show a warning; visitors "
        "leave, or learn to click warnings away, and then someone intercepting the traffic "
        "goes unnoticed.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om een certificaat van een erkende "
        "uitgever (gratis via Let's Encrypt) te plaatsen, samen met de volledige keten "
        "(tussencertificaten).",
        en="Ask your website builder or hosting provider to install a certificate from a "
        "recognised authority (free from Let's Encrypt), together with the full chain "
        "(intermediate certificates).",
    ),
    technical=Text(
        nl="De keten die de server stuurt, leidt niet naar een vertrouwde root: zelfondertekend, "
        "een onbekende CA, of een ontbrekend tussencertificaat (stuur fullchain.pem, niet alleen "
        "cert.pem). De reden staat in het bewijs.",
        en="The chain the server sends does not lead to a trusted root: self-signed, an "
        "unknown CA, or a missing intermediate (serve fullchain.pem, not just cert.pem). The "
        "reason is in the evidence.",
    ),
    effort=Effort.LOW,
)

WEAK_KEY = FindingSpec(
    id="tls.cert.weak_key",
    severity=Severity.HIGH,
    title=Text(
        nl="Het certificaat gebruikt een te zwakke sleutel",
        en="The certificate uses a key that is too weak",
    ),
    risk=Text(
        nl="De sleutel is te kort om nog veilig te zijn. Browsers weigeren zulke certificaten: "
        "bezoekers krijgen een foutmelding in plaats van uw website.",
        en="The key is too short to be safe any more. Browsers refuse such certificates: "
        "visitors get an error page instead of your website.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om een nieuw certificaat met een sterke "
        "sleutel (RSA van minstens 2048 bits of ECDSA).",
        en="Ask your website builder or hosting provider for a new certificate with a strong "
        "key (RSA of at least 2048 bits, or ECDSA).",
    ),
    technical=Text(
        nl="Een certificaat in de keten heeft een RSA/DSA-sleutel van minder dan 2048 bits of een "
        "EC-sleutel van minder dan 224 bits. Genereer een nieuwe sleutel (RSA-2048+ of P-256) en "
        "laat een nieuw certificaat uitgeven.",
        en="A certificate in the chain has an RSA/DSA key below 2048 bits or an EC key below "
        "224 bits. Generate a new key (RSA-2048+ or P-256) and have a new certificate issued.",
    ),
    effort=Effort.LOW,
)

WEAK_SIGNATURE = FindingSpec(
    id="tls.cert.weak_signature",
    severity=Severity.HIGH,
    title=Text(
        nl="Het certificaat is ondertekend met een verouderde methode",
        en="The certificate is signed with an outdated method",
    ),
    risk=Text(
        nl="De handtekening gebruikt SHA-1 of MD5. Daarmee zijn vervalste certificaten te maken, "
        "en browsers weigeren zulke certificaten, zodat bezoekers een foutmelding krijgen.",
        en="The signature uses SHA-1 or MD5. Those allow forged certificates, and browsers "
        "refuse such certificates, so visitors get an error.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om een nieuw certificaat (bijvoorbeeld "
        "gratis via Let's Encrypt); nieuwe certificaten gebruiken SHA-256.",
        en="Ask your website builder or hosting provider for a new certificate (for example "
        "free from Let's Encrypt); new certificates use SHA-256.",
    ),
    technical=Text(
        nl="Het servercertificaat of een tussencertificaat is ondertekend met SHA-1 of MD5 "
        "(signatureAlgorithm in het bewijs). Laat een nieuw certificaat met SHA-256 of beter "
        "uitgeven en vervang de tussencertificaten.",
        en="The server certificate or an intermediate is signed with SHA-1 or MD5 "
        "(signatureAlgorithm in the evidence). Have a new certificate issued with SHA-256 or "
        "better and replace the intermediates.",
    ),
    effort=Effort.LOW,
)

CERTIFICATE_SPECS = (
    EXPIRED,
    EXPIRING,
    NOT_YET_VALID,
    HOSTNAME_MISMATCH,
    UNTRUSTED,
    WEAK_KEY,
    WEAK_SIGNATURE,
)
CERTIFICATE_IDS = frozenset(spec.id for spec in CERTIFICATE_SPECS)


def _chain_role(index: int) -> str:
    return "leaf" if index == 0 else f"intermediate {index}"


def _judged_chain(shake: TlsResult) -> list[tuple[str, x509.Certificate]]:
    """The leaf and the intermediates the server sent, without roots (their self-signature
    and a trust anchor's key are not what a browser relies on)."""
    chain: list[tuple[str, x509.Certificate]] = []
    for index, cert in enumerate(shake.chain):
        if index > 0 and cert.issuer == cert.subject:
            continue
        chain.append((_chain_role(index), cert))
    return chain


def judge_certificate(shake: TlsResult, host: str, url: str, now: datetime) -> list[AddressFinding]:
    """The certificate findings of one accepted handshake of `host`."""
    leaf = shake.leaf
    if leaf is None:
        return []
    info = describe(leaf)
    base: dict[str, Any] = {
        "url": url,
        "certificate": info.evidence(now),
        "tls_version": shake.version,
        "cipher": shake.cipher,
    }
    if shake.trust is not None:
        base["verification"] = shake.trust.evidence()
    found: list[AddressFinding] = []

    def add(spec: FindingSpec, detail: str, **extra: Any) -> None:
        found.append(AddressFinding(spec, host, shake.address, {**base, **extra}, detail))

    if info.expired(now):
        add(
            EXPIRED, f"notAfter {info.evidence(now)['not_after']} ({-info.days_left(now)} days ago)"
        )
    elif info.expiring(now):
        add(
            EXPIRING,
            f"notAfter {info.evidence(now)['not_after']} ({info.days_left(now)} days left)",
        )
    if info.not_yet_valid(now):
        add(NOT_YET_VALID, f"notBefore {info.evidence(now)['not_before']}")
    if not matches_host(leaf, host):
        names = ", ".join(info.sans) or "no subjectAltName"
        add(HOSTNAME_MISMATCH, f"{host} not in SAN ({names})", server_name=host)
    if shake.trust is not None and not shake.trust.trusted:
        reason = str(shake.trust.problem) if shake.trust.problem else "untrusted"
        add(UNTRUSTED, f"{reason}: {shake.trust.detail}", reason=reason)
    weak_keys, weak_signatures = _weak_links(shake)
    if weak_keys:
        add(
            WEAK_KEY,
            "; ".join(f"{w['certificate']}: {w['key']}" for w in weak_keys),
            weak=weak_keys,
        )
    if weak_signatures:
        add(
            WEAK_SIGNATURE,
            "; ".join(f"{w['certificate']}: {w['signature_algorithm']}" for w in weak_signatures),
            weak=weak_signatures,
        )
    return found


def _weak_links(shake: TlsResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    keys: list[dict[str, Any]] = []
    signatures: list[dict[str, Any]] = []
    for role, cert in _judged_chain(shake):
        info: CertInfo = describe(cert)
        item = {"certificate": role, "subject": info.subject}
        if info.weak_key:
            keys.append({**item, "key": info.key})
        if info.weak_signature:
            signatures.append({**item, "signature_algorithm": info.signature_algorithm})
    return keys, signatures
