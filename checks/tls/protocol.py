"""`tls.protocol.legacy` and `tls.protocol.obsolete_only`: TLS 1.0/1.1 still accepted, or only.

A server that accepts TLS 1.0/1.1 *besides* TLS 1.2/1.3 is a weakness (medium): browsers use
the modern version. A server that speaks *only* TLS 1.1 or older is an outage (high): no current
browser opens the site at all, and the advice "switch off 1.0 and 1.1" would leave it no
protocol, so it gets its own id and its own advice (switch on TLS 1.2 first).

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


OBSOLETE_ONLY = FindingSpec(
    id="tls.protocol.obsolete_only",
    severity=Severity.HIGH,
    title=Text(
        nl="Uw website werkt alleen met verouderde versleuteling: browsers openen hem niet",
        en="Your website only speaks outdated encryption: browsers will not open it",
    ),
    risk=Text(
        nl="De server spreekt alleen TLS 1.1 of ouder. Chrome, Edge, Firefox en Safari weigeren "
        "dat al jaren: bezoekers krijgen een foutmelding in plaats van uw website, en wie "
        "doorklikt, gebruikt een verbinding met bekende zwakheden.",
        en="The server only speaks TLS 1.1 or older. Chrome, Edge, Firefox and Safari have "
        "refused that for years: visitors get an error page instead of your website, and "
        "whoever clicks through uses a connection with known weaknesses.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om TLS 1.2 en 1.3 aan te zetten. Pas als "
        "dat werkt, zet hij TLS 1.0 en 1.1 uit. Is de server te oud voor TLS 1.2, dan moet "
        "hij worden vervangen of bijgewerkt.",
        en="Ask your website builder or hosting provider to switch on TLS 1.2 and 1.3. Only "
        "once that works, switch off TLS 1.0 and 1.1. If the server is too old for TLS 1.2, "
        "it must be replaced or updated.",
    ),
    technical=Text(
        nl="Een handshake met TLS 1.2/1.3 mislukt; een handshake met TLS 1.0/1.1 slaagt (versie "
        "in het bewijs). Zet TLS 1.2 en 1.3 aan (nginx: ssl_protocols TLSv1.2 TLSv1.3; Apache: "
        "SSLProtocol -all +TLSv1.2 +TLSv1.3), controleer met een browser, en zet daarna pas "
        "de oude versies uit. Een OpenSSL ouder dan 1.0.1 kent TLS 1.2 niet.",
        en="A TLS 1.2/1.3 handshake fails; a TLS 1.0/1.1 handshake succeeds (version in the "
        "evidence). Switch on TLS 1.2 and 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3; Apache: "
        "SSLProtocol -all +TLSv1.2 +TLSv1.3), check with a browser, and only then switch off "
        "the old versions. An OpenSSL older than 1.0.1 does not know TLS 1.2.",
    ),
    effort=Effort.MEDIUM,
)

PROTOCOL_IDS = frozenset({LEGACY.id, OBSOLETE_ONLY.id})


def judge_protocol(visit: HttpsVisit) -> list[AddressFinding]:
    """The protocol finding of one visit (none when legacy TLS is refused or undecided):
    `obsolete_only` when TLS 1.2/1.3 are refused, `legacy` when they work too."""
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
    spec = LEGACY if best else OBSOLETE_ONLY
    return [AddressFinding(spec, visit.host, visit.address, evidence, detail)]
