"""Words for the evidence codes of `tls.cert.untrusted` (`reason`: why the chain is not trusted).

Reports explain a finding's finer code through `CheckMeta.codes` without importing the check.
The codes are `exposure.net.certs.TrustProblem` values.
"""

from __future__ import annotations

from exposure.contract import CodeText
from exposure.net.certs import TrustProblem
from exposure.text import Text

_NEW_CERT = Text(
    nl="Vraag uw websitebouwer of hostingprovider om een certificaat van een erkende uitgever, "
    "bijvoorbeeld gratis via Let's Encrypt.",
    en="Ask your website builder or hosting provider for a certificate from a recognised "
    "authority, for example free from Let's Encrypt.",
)

TRUST_CODES: tuple[CodeText, ...] = (
    CodeText(
        TrustProblem.SELF_SIGNED.value,
        Text(
            nl="Het certificaat is door de server zelf gemaakt (zelfondertekend); geen erkende "
            "uitgever staat ervoor in.",
            en="The certificate was made by the server itself (self-signed); no recognised "
            "authority vouches for it.",
        ),
        _NEW_CERT,
    ),
    CodeText(
        TrustProblem.UNKNOWN_ROOT.value,
        Text(
            nl="Het certificaat komt van een uitgever die browsers niet kennen.",
            en="The certificate comes from an authority that browsers do not know.",
        ),
        _NEW_CERT,
    ),
    CodeText(
        TrustProblem.ISSUER_NOT_FOUND.value,
        Text(
            nl="De server stuurt een tussencertificaat niet mee (of het certificaat komt van een "
            "onbekende uitgever), zodat browsers de uitgever niet kunnen controleren.",
            en="The server does not send an intermediate certificate along (or the certificate "
            "comes from an unknown authority), so browsers cannot check the issuer.",
        ),
        Text(
            nl="Vraag uw websitebouwer of hostingprovider om de volledige certificaatketen te "
            "installeren (het bestand 'fullchain', niet alleen het certificaat).",
            en="Ask your website builder or hosting provider to install the full certificate "
            "chain (the 'fullchain' file, not just the certificate).",
        ),
        "RFC 8446 section 4.4.2",
    ),
    CodeText(
        TrustProblem.BAD_SIGNATURE.value,
        Text(
            nl="Een handtekening in de certificaatketen klopt niet.",
            en="A signature in the certificate chain does not verify.",
        ),
        _NEW_CERT,
    ),
    CodeText(
        TrustProblem.NOT_A_CA.value,
        Text(
            nl="Een certificaat in de keten is ondertekend door een certificaat dat dat niet mag.",
            en="A certificate in the chain was signed by a certificate that may not do so.",
        ),
        _NEW_CERT,
        "RFC 5280 section 4.2.1.9",
    ),
    CodeText(
        TrustProblem.NO_CERTIFICATE.value,
        Text(
            nl="De server stuurde geen certificaat.",
            en="The server sent no certificate.",
        ),
        _NEW_CERT,
    ),
)
