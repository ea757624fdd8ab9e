"""`exposure.vulnerable`: CVEs Shodan lists for the software on an address.

Shodan matches CVEs mostly on the version a banner shows; only some it verified. The wording
says which: "verified by Shodan" versus "matched on the version number only". One finding per
address (a host can carry dozens of CVEs; the list is the evidence), critical when any CVE has
CVSS 9 or more. InternetDB lists CVE ids without scores: then the severity stays at the default
and the evidence says the scores are unknown.

CVEs in CISA's Known Exploited Vulnerabilities catalogue come first (ransomware-used first), then
by CVSS; each listed CVE says whether it is in the KEV catalogue, the detail counts them, and a
KEV CVE makes the finding critical whatever its score (`exposure.exploited` names them too).
When every CVE on the address is in KEV there is no `exposure.vulnerable` at all: the owner
would otherwise read one flaw as two critical problems, and `exposure.exploited` says it all.
"""

from __future__ import annotations

from datetime import datetime

from checks.shodan.banners import Host, Vuln
from checks.shodan.evidence import host_evidence
from checks.shodan.exploited import kev_matches
from exposure.contract import Effort, FindingCandidate, FindingSpec
from exposure.severity import Severity
from exposure.sources.kev import KevCatalogue, KevEntry
from exposure.text import Text

CRITICAL_CVSS = 9.0
MAX_LISTED = 25  # the evidence keeps the worst ones; the count keeps them all

VULNERABLE = FindingSpec(
    id="exposure.vulnerable",
    severity=Severity.HIGH,
    title=Text(
        nl="Bekende beveiligingslekken in software op internet",
        en="Known vulnerabilities in internet-facing software",
    ),
    risk=Text(
        nl="De software op dit adres heeft bekende beveiligingslekken (CVE's). Voor veel van "
        "zulke lekken bestaan kant-en-klare aanvalsprogramma's, en criminelen zoeken het "
        "internet er automatisch naar af. Een lek met een CVSS-score van 9 of hoger kan vaak "
        "zonder wachtwoord worden misbruikt om het systeem over te nemen.",
        en="The software on this address has known security flaws (CVEs). Ready-made attack "
        "tools exist for many of them, and criminals scan the internet for them "
        "automatically. A flaw with a CVSS score of 9 or more can often be used without a "
        "password to take the system over.",
    ),
    remediation=Text(
        nl="Vraag uw IT-leverancier om de software op dit adres bij te werken naar een versie "
        "zonder deze lekken, of de dienst van internet af te halen als hij niet nodig is.",
        en="Ask your IT supplier to update the software on this address to a version without "
        "these flaws, or to take the service off the internet if it is not needed.",
    ),
    technical=Text(
        nl="Shodan koppelt deze CVE's aan de software en versie die het op dit adres zag. "
        "'Niet geverifieerd' betekent dat alleen het versienummer overeenkomt (een backport "
        "kan het lek al dichten); 'geverifieerd' betekent dat Shodan het lek heeft aangetoond. "
        "CVE's uit CISA's catalogus van actief misbruikte lekken (KEV) staan bovenaan, die "
        "van ransomwarecampagnes eerst, en maken deze melding kritiek. "
        "Controleer en werk bij; kritiek vanaf CVSS 9.",
        en="Shodan links these CVEs to the software and version it saw on this address. 'Not "
        "verified' means only the version number matches (a backport may already fix it); "
        "'verified' means Shodan demonstrated the flaw. CVEs in CISA's Known Exploited "
        "Vulnerabilities catalogue (KEV) are listed first, those used by ransomware campaigns "
        "first of all, and make this finding critical. Check and update; critical from "
        "CVSS 9.",
    ),
    effort=Effort.MEDIUM,
)


def find_vulnerable(
    host: Host, now: datetime, via: str = "", kev: KevCatalogue | None = None
) -> FindingCandidate | None:
    if not host.vulns:
        return None
    known = {v.cve: e for v, e in kev_matches(host, kev)}
    if known and all(v.cve in known for v in host.vulns):
        return None  # one flaw, one problem: `exposure.exploited` already names every CVE here
    ranked = sorted(
        host.vulns, key=lambda v: (_kev_rank(known.get(v.cve)), -(v.cvss or 0.0), v.cve)
    )
    scored = sorted(
        (v for v in ranked if v.cvss is not None), key=lambda v: (-(v.cvss or 0.0), v.cve)
    )
    verified = [v.cve for v in ranked if v.verified]
    top = scored[0] if scored else None
    critical = bool(known) or (
        top is not None and top.cvss is not None and top.cvss >= CRITICAL_CVSS
    )
    evidence = host_evidence(host, via, [])
    del evidence["services"], evidence["last_seen"], evidence["stale"]
    evidence.update(
        {
            "count": len(ranked),
            "cves": [_cve(v, known.get(v.cve)) for v in ranked[:MAX_LISTED]],
            "kev_count": len(known),
            "kev_ransomware": sum(1 for e in known.values() if e.ransomware),
            "max_cvss": top.cvss if top is not None else None,
            "cvss_known": bool(scored),
            "verified": verified,
            "ports": sorted({v.port for v in ranked if v.port is not None}),
        }
    )
    count = f"{len(ranked)} CVE{'s' if len(ranked) != 1 else ''}"
    if top is not None:
        worst = f"highest CVSS {top.cvss:g} ({top.cve})"
    else:
        worst = "CVSS scores unknown without a Shodan API key (InternetDB lists ids only)"
    if verified:
        proof = f"verified by Shodan: {', '.join(verified[:5])}"
    elif host.full:
        proof = "none verified: matched on the software version only"
    else:
        proof = "not verified: matched on the software version only"
    detail = f"{count} listed by Shodan for {host.ip}; {worst}; {proof}"
    if known:
        ransom = sum(1 for e in known.values() if e.ransomware)
        first = next(iter(known))
        detail = (
            f"{count} listed by Shodan for {host.ip}, {len(known)} of them exploited now "
            f"(CISA KEV: {first}"
            + (f", {ransom} used by ransomware" if ransom else "")
            + f"); {worst}; {proof}"
        )
    return VULNERABLE.candidate(
        host.ip,
        evidence,
        severity=Severity.CRITICAL if critical else VULNERABLE.severity,
        detail=detail,
    )


def _kev_rank(entry: KevEntry | None) -> int:
    if entry is None:
        return 2
    return 0 if entry.ransomware else 1


def _cve(v: Vuln, entry: KevEntry | None = None) -> dict[str, object]:
    out: dict[str, object] = {
        "cve": v.cve,
        "cvss": v.cvss,
        "verified": v.verified,
        "port": v.port,
        "summary": v.summary[:200] or None,
        "kev": entry is not None,
    }
    if entry is not None:
        out["kev_date_added"] = entry.date_added.isoformat()
        out["ransomware"] = entry.ransomware
    return out
