"""A small port area in the store, built through the real findings lifecycle.

Reports are tested on data with a history: companies, several scan runs, findings that open,
resolve and come back, check errors. Everything goes through `apply_company_result` and
`finish_run`, as a scan would, so the events the reports replay are the real ones. The words
per finding are test specs (`SPECS`), because the report must work with whatever checks are
installed; they read like the real ones so that a rendered page can be judged by eye.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from exposure.catalogue import CATALOGUE
from exposure.contract import (
    CheckFailure,
    Effort,
    FailureReason,
    FindingCandidate,
    FindingSpec,
    ScanTarget,
    TargetKind,
)
from exposure.models import Company, Target
from exposure.scan.results import CompanyResult, TaskOutcome
from exposure.severity import Severity
from exposure.store.db import session as session_scope
from exposure.store.lifecycle import apply_company_result
from exposure.store.runs import finish_run, start_or_resume_run
from exposure.text import Text
from reports.specs import Specs

T0 = datetime(2026, 3, 2, 2, 0, 0)


def _spec(id_: str, effort: Effort, title: Text, risk: Text, fix: Text, tech: Text) -> FindingSpec:
    return FindingSpec(
        id=id_,
        severity=CATALOGUE[id_].severity,
        title=title,
        risk=risk,
        remediation=fix,
        technical=tech,
        effort=effort,
    )


_SPECS = (
    _spec(
        "tls.cert.expired",
        Effort.LOW,
        Text(
            "Het certificaat van uw website is verlopen", "Your website's certificate has expired"
        ),
        Text(
            "Bezoekers krijgen een waarschuwing dat uw website niet veilig is. Veel mensen "
            "haken dan af, en gegevens die ze invullen zijn niet goed beschermd.",
            "Visitors get a warning that your website is not safe. Many leave, and what they "
            "fill in is not well protected.",
        ),
        Text(
            "Laat uw websitebouwer of hostingpartij het certificaat vernieuwen, en vraag of dat "
            "voortaan automatisch gaat.",
            "Have your web designer or hosting provider renew the certificate, and ask them to "
            "make renewal automatic.",
        ),
        Text("The leaf certificate's notAfter is in the past.", "notAfter is in the past."),
    ),
    _spec(
        "tls.cert.untrusted",
        Effort.LOW,
        Text(
            "Het certificaat van uw website wordt niet vertrouwd",
            "Your website's certificate is not trusted",
        ),
        Text(
            "Browsers waarschuwen bezoekers dat de verbinding niet te vertrouwen is.",
            "Browsers warn visitors that the connection cannot be trusted.",
        ),
        Text(
            "Laat een certificaat van een erkende uitgever plaatsen, bijvoorbeeld het gratis "
            "Let's Encrypt.",
            "Have a certificate from a recognised issuer installed, for example the free "
            "Let's Encrypt.",
        ),
        Text(
            "The chain does not lead to a trusted root.",
            "The chain does not lead to a trusted root.",
        ),
    ),
    _spec(
        "tls.protocol.legacy",
        Effort.MEDIUM,
        Text(
            "Uw website gebruikt nog verouderde beveiliging",
            "Your website still uses outdated encryption",
        ),
        Text(
            "Oude versies van de versleuteling (TLS 1.0 en 1.1) hebben bekende zwakke plekken.",
            "Old versions of the encryption (TLS 1.0 and 1.1) have known weaknesses.",
        ),
        Text(
            "Vraag uw hostingpartij om TLS 1.0 en 1.1 uit te zetten.",
            "Ask your hosting provider to switch off TLS 1.0 and 1.1.",
        ),
        Text("The server accepts TLS 1.0/1.1.", "The server accepts TLS 1.0/1.1."),
    ),
    _spec(
        "web.https.no_redirect",
        Effort.LOW,
        Text(
            "Uw website stuurt bezoekers niet naar de veilige versie",
            "Your website does not send visitors to the secure version",
        ),
        Text(
            "Wie uw adres intypt, komt op de onbeveiligde versie van uw website terecht.",
            "Whoever types your address lands on the unprotected version of your website.",
        ),
        Text(
            "Laat uw website alle bezoekers automatisch doorsturen naar https.",
            "Have your website send all visitors to https automatically.",
        ),
        Text(
            "HTTP on port 80 does not redirect to HTTPS.",
            "HTTP on port 80 does not redirect to HTTPS.",
        ),
    ),
    _spec(
        "web.hsts.missing",
        Effort.LOW,
        Text(
            "Uw website dwingt geen veilige verbinding af",
            "Your website does not enforce a secure connection",
        ),
        Text(
            "Zonder deze instelling kan een bezoeker op een openbaar wifi-netwerk ongemerkt naar "
            "een onveilige verbinding worden geleid.",
            "Without this setting a visitor on a public wifi network can be led to an insecure "
            "connection without noticing.",
        ),
        Text(
            "Vraag uw websitebouwer om de instelling HSTS aan te zetten.",
            "Ask your web designer to switch on HSTS.",
        ),
        Text("No Strict-Transport-Security header with max-age >= 1 year.", "No HSTS header."),
    ),
    _spec(
        "securitytxt.missing",
        Effort.LOW,
        Text(
            "Er staat geen contactbestand voor beveiligingsmeldingen op uw website",
            "There is no security contact file on your website",
        ),
        Text(
            "Wie een lek bij u vindt, weet niet bij wie hij dat kan melden.",
            "Whoever finds a weakness at your company does not know whom to tell.",
        ),
        Text(
            "Zet een security.txt op uw website met een e-mailadres waarop u bereikbaar bent.",
            "Put a security.txt on your website with an e-mail address where you can be reached.",
        ),
        Text(
            "No /.well-known/security.txt over HTTPS.", "No /.well-known/security.txt over HTTPS."
        ),
    ),
    _spec(
        "mail.spf.missing",
        Effort.LOW,
        Text(
            "Iedereen kan e-mail versturen uit naam van uw bedrijf",
            "Anyone can send e-mail in your company's name",
        ),
        Text(
            "Zonder SPF-record kunnen criminelen e-mails sturen die van uw adres lijken te komen, "
            "bijvoorbeeld een valse factuur aan uw klanten.",
            "Without an SPF record criminals can send e-mails that seem to come from your "
            "address, for example a false invoice to your customers.",
        ),
        Text(
            "Laat uw e-mailleverancier een SPF-record instellen.",
            "Have your e-mail provider set up an SPF record.",
        ),
        Text("No SPF record.", "No SPF record."),
    ),
    _spec(
        "mail.spf.permissive",
        Effort.LOW,
        Text(
            "Uw e-mailinstelling laat alle afzenders toe", "Your e-mail setting allows every sender"
        ),
        Text(
            "Uw SPF-record staat toe dat elke server e-mail verstuurt namens u.",
            "Your SPF record allows any server to send e-mail on your behalf.",
        ),
        Text(
            "Laat het SPF-record eindigen op -all, met alleen uw eigen mailservers erin.",
            "Have the SPF record end in -all, listing only your own mail servers.",
        ),
        Text("The policy ends in +all or ?all.", "The policy ends in +all or ?all."),
    ),
    _spec(
        "mail.dmarc.missing",
        Effort.LOW,
        Text(
            "Nepmail uit uw naam wordt niet tegengehouden",
            "Fake e-mail in your name is not stopped",
        ),
        Text(
            "Zonder DMARC weten ontvangers niet wat ze moeten doen met nepmail uit uw naam.",
            "Without DMARC, receivers do not know what to do with fake e-mail in your name.",
        ),
        Text(
            "Laat een DMARC-record instellen, eerst met rapporten en daarna met p=reject.",
            "Have a DMARC record set up, first with reports and then with p=reject.",
        ),
        Text("No DMARC record at _dmarc.", "No DMARC record at _dmarc."),
    ),
    _spec(
        "mail.dmarc.policy_none",
        Effort.LOW,
        Text(
            "Nepmail uit uw naam wordt alleen gemeld, niet tegengehouden",
            "Fake e-mail in your name is only reported, not stopped",
        ),
        Text(
            "Uw DMARC-instelling staat op ‘niets doen’. Nepmail komt dus gewoon aan.",
            "Your DMARC setting says ‘do nothing’, so fake e-mail still arrives.",
        ),
        Text(
            "Zet de DMARC-instelling op quarantine of reject als al uw echte mail goed gaat.",
            "Set DMARC to quarantine or reject once all your real mail passes.",
        ),
        Text("The effective policy is none.", "The effective policy is none."),
    ),
    _spec(
        "mail.dmarc.no_reports",
        Effort.LOW,
        Text(
            "U krijgt geen rapporten over nepmail uit uw naam",
            "You get no reports about fake e-mail in your name",
        ),
        Text(
            "Zonder rapporten merkt u niet dat iemand e-mail uit uw naam verstuurt.",
            "Without reports you do not notice that someone sends e-mail in your name.",
        ),
        Text(
            "Voeg een rua-adres toe aan uw DMARC-record.", "Add a rua address to your DMARC record."
        ),
        Text("No rua tag.", "No rua tag."),
    ),
    _spec(
        "mail.starttls.missing",
        Effort.MEDIUM,
        Text("Uw mailserver versleutelt e-mail niet", "Your mail server does not encrypt e-mail"),
        Text(
            "E-mail naar uw bedrijf gaat onversleuteld over internet en kan worden meegelezen.",
            "E-mail to your company travels unencrypted and can be read along the way.",
        ),
        Text(
            "Laat STARTTLS aanzetten op uw mailserver.",
            "Have STARTTLS switched on on your mail server.",
        ),
        Text("The MX does not offer STARTTLS.", "The MX does not offer STARTTLS."),
    ),
    _spec(
        "exposure.camera",
        Effort.MEDIUM,
        Text(
            "Uw camerasysteem is vanaf internet te bereiken",
            "Your camera system can be reached from the internet",
        ),
        Text(
            "Iedereen kan het inlogscherm van uw camera's vinden. Criminelen gebruiken dat om "
            "mee te kijken en een inbraak voor te bereiden.",
            "Anyone can find the login page of your cameras. Criminals use that to watch and "
            "plan a burglary.",
        ),
        Text(
            "Laat de camera's alleen via een beveiligde verbinding (VPN) bereikbaar maken.",
            "Have the cameras made reachable only through a secure connection (VPN).",
        ),
        Text(
            "Shodan shows a camera/DVR/NVR interface.", "Shodan shows a camera/DVR/NVR interface."
        ),
    ),
    _spec(
        "exposure.remote_access",
        Effort.MEDIUM,
        Text(
            "Een computer is van buitenaf over te nemen",
            "A computer can be taken over from outside",
        ),
        Text(
            "Extern bureaublad staat open op internet. Dit is de meest gebruikte weg voor "
            "gijzelsoftware.",
            "Remote desktop is open to the internet. This is the most used way in for ransomware.",
        ),
        Text(
            "Sluit de poort in uw router en gebruik een VPN met tweestapsverificatie.",
            "Close the port in your router and use a VPN with two-factor authentication.",
        ),
        Text("RDP/VNC/Telnet reachable.", "RDP/VNC/Telnet reachable."),
    ),
    _spec(
        "exposure.ics",
        Effort.HIGH,
        Text(
            "Een besturing van uw installatie is vanaf internet te bedienen",
            "A controller of your installation can be operated from the internet",
        ),
        Text(
            "Iedereen op internet kan deze besturing aanspreken en uw installatie stilleggen of "
            "ontregelen, bijvoorbeeld de koeling.",
            "Anyone on the internet can talk to this controller and stop or disturb your "
            "installation, for example the cooling.",
        ),
        Text(
            "Haal de besturing vandaag nog van internet af. Bel uw installateur.",
            "Take the controller off the internet today. Call your installer.",
        ),
        Text("An ICS protocol (Modbus, S7, …) is reachable.", "An ICS protocol is reachable."),
    ),
    _spec(
        "exposure.service",
        Effort.LOW,
        Text("Een dienst is vanaf internet zichtbaar", "A service is visible from the internet"),
        Text(
            "Ter informatie: deze dienst is bereikbaar.",
            "For information: this service is reachable.",
        ),
        Text("Controleer of dit zo hoort.", "Check that this is intended."),
        Text("Open service seen by Shodan.", "Open service seen by Shodan."),
    ),
    _spec(
        "web.site.none",
        Effort.LOW,
        Text("Geen website gevonden", "No website found"),
        Text("Op deze naam staat geen website.", "There is no website on this name."),
        Text("Niets te doen.", "Nothing to do."),
        Text("Geen A- of AAAA-record.", "No A or AAAA record."),
    ),
    _spec(
        "target.unresolvable",
        Effort.LOW,
        Text("Domeinnaam werkt niet", "Domain name does not resolve"),
        Text(
            "De naam heeft geen website en geen e-mail.", "The name has no website and no e-mail."
        ),
        Text("Controleer de naam.", "Check the name."),
        Text("NXDOMAIN.", "NXDOMAIN."),
    ),
)


def family(check_id: str) -> str:
    return check_id.split(".", 1)[0]


SPECS = Specs(
    by_id={s.id: s for s in _SPECS},
    family_of={s.id: family(s.id) for s in _SPECS},
    family_titles={
        "tls": Text("Certificaten en versleuteling", "Certificates and encryption"),
        "web": Text("Website", "Website"),
        "securitytxt": Text("security.txt", "security.txt"),
        "mail": Text("E-mail", "E-mail"),
        "exposure": Text("Open diensten (Shodan)", "Open services (Shodan)"),
        "target": Text("Domeinnaam", "Domain name"),
    },
    family_kinds={
        **{f: frozenset({"domain"}) for f in ("tls", "web", "securitytxt", "mail", "target")},
        "exposure": frozenset({"domain", "ip", "network"}),
    },
)

HOSTILE_NAME = '<script>alert(1)</script> =HYPERLINK("http://x")'
HOSTILE_FORMULA = '=HYPERLINK("http://x","klik")'
HOSTILE_TEXT = '<script>alert(1)</script><img src=x onerror=alert(2)> =HYPERLINK("http://x")'


@dataclass(frozen=True)
class Seen:
    """A finding candidate as a sample scan reports it."""

    check_id: str
    subject: str
    severity: str = ""  # default: the catalogue's
    evidence: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    discriminator: str = ""


class SampleArea:
    """Companies, targets and scans in a migrated database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.targets: dict[str, ScanTarget] = {}  # first target per company
        self.runs: list[int] = []

    def company(
        self,
        company_id: str,
        name: str,
        sector: str,
        *domains: str,
        language: str = "",
        active: bool = True,
    ) -> None:
        with session_scope(self.engine) as db:
            db.add(
                Company(
                    id=company_id,
                    name=name,
                    email=f"info@{domains[0] if domains else 'example.test'}",
                    sector=sector,
                    language=language,
                    active=active,
                )
            )
            rows = [Target(company_id=company_id, kind="domain", value=d) for d in domains]
            db.add_all(rows)
            db.flush()
            if rows:
                assert rows[0].id is not None
                self.targets[company_id] = ScanTarget(
                    company_id, TargetKind.DOMAIN, rows[0].value, id=rows[0].id
                )

    def scan(
        self,
        seen: dict[str, Sequence[Seen]],
        at: datetime,
        failures: dict[str, Iterable[tuple[str, FailureReason, str]]] | None = None,
        status: str = "complete",
    ) -> int:
        """One run over the companies in `seen` (every family decides every id it has)."""
        failures = failures or {}
        with session_scope(self.engine) as db:
            run, _ = start_or_resume_run(db, list(seen), {"at": at.isoformat()}, now=at)
            assert run.id is not None
            run_id = run.id
        for company_id, candidates in seen.items():
            target = self.targets[company_id]
            by_family: dict[str, list[Any]] = defaultdict(list)
            for s in candidates:
                by_family[family(s.check_id)].append(
                    FindingCandidate(
                        check_id=s.check_id,
                        subject=s.subject,
                        severity=Severity(s.severity or CATALOGUE[s.check_id].severity),
                        evidence=s.evidence,
                        discriminator=s.discriminator,
                        detail=s.detail,
                    )
                )
            for fam, reason, message in failures.get(company_id, ()):
                by_family[fam].append(CheckFailure(reason, message, target.value))
            outcomes = tuple(
                TaskOutcome(
                    target=target,
                    family=fam,
                    finding_ids=SPECS.ids_of_family(fam),
                    observations=tuple(by_family.get(fam, ())),
                )
                for fam in sorted(set(SPECS.family_of.values()))
            )
            titles = {s.id: s.title.en for s in _SPECS}
            result = CompanyResult(run_id, company_id, outcomes, at, titles)
            with session_scope(self.engine) as db:
                apply_company_result(db, result, run_id, at)
        with session_scope(self.engine) as db:
            finish_run(db, run_id, status, {}, now=at + timedelta(minutes=5))
        self.runs.append(run_id)
        return run_id


BAKERY = "58120001"
SHIPYARD = "58120002"
COLD_STORE = "58120003"
FISH = "58120004"
GARAGE = "58120005"
TUG = "58120006"
FORWARDER = "58120007"
SHIPOWNER = "58120008"
HOSTILE = "66600001"
NEVER_SCANNED = "58120099"


def bakery_findings(fixed: bool = False) -> list[Seen]:
    found = [
        Seen(
            "mail.dmarc.policy_none",
            "bakkerij-de-haven.test",
            evidence={"record": "v=DMARC1; p=none"},
        ),
        Seen("mail.dmarc.no_reports", "bakkerij-de-haven.test"),
        Seen("web.hsts.missing", "www.bakkerij-de-haven.test", evidence={"header": None}),
        Seen("securitytxt.missing", "www.bakkerij-de-haven.test"),
    ]
    if not fixed:
        found.append(
            Seen(
                "tls.cert.expired",
                "www.bakkerij-de-haven.test",
                evidence={"not_after": "2026-01-31T23:59:59Z", "issuer": "R3"},
                detail="certificate expired 2026-01-31",
                discriminator="443",
            )
        )
    return found


def build_area(engine: Engine, two_runs: bool = True) -> SampleArea:
    """Nine scanned companies over two runs (bakery fixes its certificate, the garage opens RDP)."""
    area = SampleArea(engine)
    area.company(BAKERY, "Bakkerij Dé Haven", "food", "bakkerij-de-haven.test")
    area.company(
        SHIPYARD, "Scheepswerf Van der Made B.V.", "maritime", "scheepswerf-vandermade.test"
    )
    area.company(COLD_STORE, "Koelhuis Maasvlakte", "logistics", "koelhuis-maasvlakte.test")
    area.company(FISH, "Visgroothandel Zeebries", "food", "visgroothandel-zeebries.test")
    area.company(GARAGE, "Autogarage Brouwer", "automotive", "garage-brouwer.test")
    area.company(TUG, "Sleepdienst Kuipers", "maritime", "sleepdienst-kuipers.test", language="en")
    area.company(FORWARDER, "Expeditie Westhaven", "logistics", "expeditie-westhaven.test")
    area.company(SHIPOWNER, "Rederij Noordster", "maritime", "rederij-noordster.test")
    area.company(HOSTILE, HOSTILE_NAME, HOSTILE_NAME, "hostile.test")
    area.company(NEVER_SCANNED, "Nieuw Lid B.V.", "food", "nieuw-lid.test")

    cold = [
        Seen(
            "exposure.ics",
            "198.51.100.7",
            evidence={"port": 502, "product": "Modbus"},
            discriminator="502",
        ),
        Seen(
            "tls.protocol.legacy",
            "koelhuis-maasvlakte.test",
            evidence={"accepted": ["TLSv1", "TLSv1.1"]},
        ),
        Seen("web.https.no_redirect", "koelhuis-maasvlakte.test"),
        Seen("mail.spf.permissive", "koelhuis-maasvlakte.test", evidence={"record": "v=spf1 ?all"}),
        Seen("web.hsts.missing", "koelhuis-maasvlakte.test"),
        Seen("securitytxt.missing", "koelhuis-maasvlakte.test"),
    ]
    fish = [
        Seen(
            "exposure.camera",
            f"203.0.113.{i}",
            evidence={"port": 8000, "product": "Hikvision"},
            discriminator="8000",
        )
        for i in range(1, 7)
    ] + [
        Seen("mail.spf.missing", "visgroothandel-zeebries.test"),
        Seen("mail.dmarc.missing", "visgroothandel-zeebries.test"),
        Seen("mail.starttls.missing", "mail.visgroothandel-zeebries.test"),
        Seen("tls.cert.untrusted", "visgroothandel-zeebries.test"),
        Seen(
            "exposure.service",
            "203.0.113.9",
            discriminator="22",
            evidence={"port": 22, "product": "OpenSSH"},
        ),
    ]
    garage_1 = [
        Seen("mail.spf.permissive", "garage-brouwer.test"),
        Seen("mail.dmarc.missing", "garage-brouwer.test"),
    ]
    garage_2 = [
        *garage_1,
        Seen("exposure.remote_access", "192.0.2.44", evidence={"port": 3389}, discriminator="3389"),
    ]
    tug = [Seen("mail.dmarc.policy_none", "sleepdienst-kuipers.test")]
    forwarder = [
        Seen("tls.cert.untrusted", "expeditie-westhaven.test"),
        Seen("web.hsts.missing", "expeditie-westhaven.test"),
    ]
    hostile = [
        Seen(
            "tls.cert.untrusted",
            "hostile.test",
            evidence={"subject": HOSTILE_TEXT, "server": '=HYPERLINK("http://x")'},
            detail=HOSTILE_TEXT,
        ),
        Seen(
            "exposure.service",
            "192.0.2.66",
            discriminator="80",
            evidence={"banner": HOSTILE_TEXT},
            detail=HOSTILE_FORMULA,
        ),
    ]
    first = {
        BAKERY: bakery_findings(),
        SHIPYARD: [],
        COLD_STORE: cold,
        FISH: fish,
        GARAGE: garage_1,
        TUG: tug,
        FORWARDER: forwarder,
        SHIPOWNER: [Seen("securitytxt.missing", "rederij-noordster.test")],
        HOSTILE: hostile,
    }
    area.scan(first, T0)
    if two_runs:
        second = dict(first)
        second[BAKERY] = bakery_findings(fixed=True)
        second[GARAGE] = garage_2
        second[FORWARDER] = forwarder[1:]
        failures = {COLD_STORE: [("mail", FailureReason.TIMEOUT, "no answer in 10 s")]}
        area.scan(second, T0 + timedelta(days=7), failures=failures)
    return area
