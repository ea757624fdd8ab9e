"""`tls.protocol.legacy`: the server still accepts TLS 1.0 or TLS 1.1.

One legacy handshake offering TLS 1.0-1.1 at OpenSSL security level 0 answers the question (the
version the server picks says which one it takes, and a server that picks 1.1 is not asked about
1.0 again: the fix is the same). A refusal in any form, an alert, a reset or the connection
closed, means "not accepted", not an error. SSLv3 cannot be offered by a current OpenSSL, so it
is not tested; a server that only speaks SSLv3 shows up as having no working HTTPS.
"""

from __future__ import annotations

from checks._site.sitefold import AddressFinding
from checks._site.website import HttpsVisit
from exposure.contract import Effort, FindingSpec
from exposure.severity import Severity
from exposure.text import Text

LEGACY = FindingSpec(
    id="tls.protocol.legacy",
    severity=Severity.MEDIUM,
    title=Text(
        nl="Uw website accepteert nog verouderde versleuteling (TLS 1.0/1.1)",
        en="Your website still accepts outdated encryption (TLS 1.0/1.1)",
    ),
    risk=Text(
        nl="TLS 1.0 en 1.1 hebben bekende zwakheden en worden door browsers niet meer gebruikt. "
        "Een aanvaller kan een verbinding soms naar zo'n oude versie dwingen, en de server "
        "voldoet niet aan de eisen van bijvoorbeeld banken en verzekeraars.",
        en="TLS 1.0 and 1.1 have known weaknesses and browsers no longer use them. An attacker "
        "can sometimes force a connection down to such an old version, and the server fails "
        "the requirements of, for example, banks and insurers.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om TLS 1.0 en 1.1 uit te zetten en alleen "
        "TLS 1.2 en 1.3 toe te staan.",
        en="Ask your website builder or hosting provider to switch off TLS 1.0 and 1.1 and "
        "allow only TLS 1.2 and 1.3.",
    ),
    technical=Text(
        nl="De server rondt een handshake af met TLS 1.0 of 1.1 (versie in het bewijs). Zet in "
        "de webserver of load balancer het minimum op TLS 1.2 (nginx: ssl_protocols TLSv1.2 "
        "TLSv1.3; Apache: SSLProtocol -all +TLSv1.2 +TLSv1.3) en zorg dat TLS 1.2 werkt.",
        en="The server completes a handshake at TLS 1.0 or 1.1 (version in the evidence). Set "
        "the minimum to TLS 1.2 in the web server or load balancer (nginx: ssl_protocols "
        "TLSv1.2 TLSv1.3; Apache: SSLProtocol -all +TLSv1.2 +TLSv1.3) and make sure TLS 1.2 "
        "works.",
    ),
    effort=Effort.MEDIUM,
)


def judge_protocol(visit: HttpsVisit) -> list[AddressFinding]:
    """The protocol finding of one visit (none when legacy TLS is refused or undecided)."""
    legacy = visit.legacy
    if legacy is None or not legacy.accepted:
        return []
    best = visit.modern.version if visit.modern.accepted else None
    evidence = {
        "url": visit.url,
        "legacy_version": legacy.version,
        "legacy_cipher": legacy.cipher,
        "best_version": best or "none: TLS 1.2 and 1.3 are refused",
    }
    detail = f"accepts {legacy.version}" + (f"; best {best}" if best else "; no TLS 1.2/1.3")
    return [AddressFinding(LEGACY, visit.host, visit.address, evidence, detail)]
