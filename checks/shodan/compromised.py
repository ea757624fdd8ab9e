"""`exposure.compromised`: Shodan tags the address compromised, malware or DoublePulsar.

The most urgent finding there is: somebody is probably already in. Shodan sets these tags when
a banner shows a ransom note, a known backdoor answering, or malware's own service. A service
that carries such a tag is reported here only, not also as an open database or file share:
the break-in is the message, and the port it came through is named in this finding's evidence.
One finding per address.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from checks.shodan.banners import Banner, Host
from checks.shodan.evidence import host_evidence, latest, service_evidence
from exposure.contract import Effort, FindingCandidate, FindingSpec
from exposure.severity import Severity
from exposure.text import Text

COMPROMISE_TAGS = frozenset({"compromised", "malware", "doublepulsar", "ransomware"})

COMPROMISED = FindingSpec(
    id="exposure.compromised",
    severity=Severity.CRITICAL,
    title=Text(
        nl="Mogelijk gehackt: Shodan ziet sporen van een inbraak",
        en="Possibly hacked: Shodan sees signs of a break-in",
    ),
    risk=Text(
        nl="Shodan heeft op dit adres sporen gevonden dat een systeem al is overgenomen of "
        "besmet, bijvoorbeeld een losgeldbericht in een database of een bekende achterdeur. "
        "Aanvallers kunnen dan al bij uw gegevens en gebruiken dit systeem misschien om "
        "verder in uw netwerk te komen.",
        en="Shodan found signs on this address that a system has already been taken over or "
        "infected, for example a ransom note in a database or a known backdoor. Attackers "
        "may already have your data and may use this system to get further into your "
        "network.",
    ),
    remediation=Text(
        nl="Bel vandaag nog uw IT-leverancier: laat het systeem van internet halen, "
        "onderzoeken en schoon opnieuw inrichten. Zijn er waarschijnlijk persoonsgegevens "
        "ingezien of meegenomen, met een risico voor de mensen om wie het gaat? Meld het "
        "datalek dan binnen 72 uur na ontdekking bij de Autoriteit Persoonsgegevens.",
        en="Call your IT supplier today: have the system taken off the internet, investigated "
        "and rebuilt clean. If personal data was probably accessed or taken, with a risk to "
        "the people concerned, report the breach to the Dutch Data Protection Authority "
        "within 72 hours of discovering it.",
    ),
    technical=Text(
        nl="Shodan markeert de dienst met de tag 'compromised', 'malware' of 'doublepulsar' "
        "(zie het bewijs: poort, product en tags). Isoleer het systeem, bewaar logbestanden "
        "en sporen, installeer opnieuw vanaf een schone bron, wijzig alle wachtwoorden en "
        "sluit de poort.",
        en="Shodan tags the service 'compromised', 'malware' or 'doublepulsar' (see the "
        "evidence: port, product and tags). Isolate the system, keep logs and traces, "
        "reinstall from a clean source, change every password and close the port.",
    ),
    effort=Effort.HIGH,
)


def compromised_banners(banners: Sequence[Banner]) -> list[Banner]:
    return [b for b in banners if b.tags & COMPROMISE_TAGS]


def find_compromised(
    host: Host,
    banners: Sequence[Banner],
    now: datetime,
    via: str = "",
    ports: Sequence[int] = (),
) -> FindingCandidate | None:
    """From the host's tags (InternetDB and REST alike) and the tagged banners (REST), or the
    open ports of an InternetDB summary (which does not say which port carries the tag)."""
    tags = sorted(host.tags & COMPROMISE_TAGS)
    if not tags:
        return None
    services = []
    for banner in banners:
        service = service_evidence(host, banner, banner.port, now, [])
        service["tags"] = sorted(banner.tags)
        services.append(service)
    services.extend(service_evidence(host, None, port, now) for port in ports)
    evidence = host_evidence(host, via, services)
    evidence["tags"] = tags
    where = ", ".join(f"{b.label}{' ' + b.product if b.product else ''}" for b in banners)
    detail = f"Shodan tags {host.ip} {', '.join(repr(t) for t in tags)}"
    if banners:
        detail += f" ({where}); {latest(banners, now).phrase()}"
    elif not host.full:
        detail += f" (InternetDB host tags; open ports {', '.join(map(str, ports)) or 'none'})"
    else:
        detail += " (host tags)"
    return COMPROMISED.candidate(host.ip, evidence, detail=detail)
