"""Service classes: remote access, file sharing, databases, industrial control, and the rest.

A table (`SERVICE_CLASSES`), not scattered ifs: each row names a service, the catalogue id it
belongs to, and how Shodan shows it: crawler modules (`_shodan.module`), well-known ports,
product names, CPEs, page titles, device types, tags. A banner is classified by its module
first (what Shodan's crawler actually spoke to it), then by product/CPE/title/device type, then
by tag (`ics`, `database`), and by port only when Shodan names no module. An InternetDB summary
has ports only, so there the well-known ports decide (see ports.py for what they cannot).

One finding per service: subject the address, discriminator `ip:port` (InternetDB gives no
transport, and the same finding must keep its identity whether a run had an API key or not).
The catalogue's escalations: VNC without authentication and a database without authentication
are critical; an industrial protocol always is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checks.shodan.banners import Banner, Cpe, Host
from checks.shodan.evidence import Seen, host_evidence, product_phrase, service_evidence
from exposure.contract import Effort, FindingCandidate, FindingSpec
from exposure.severity import Severity
from exposure.text import Text

JSON = Any

REMOTE_ACCESS = FindingSpec(
    id="exposure.remote_access",
    severity=Severity.HIGH,
    title=Text(
        nl="Computer op afstand over te nemen: RDP, VNC of Telnet open naar internet",
        en="Remote access (RDP, VNC or Telnet) open to the internet",
    ),
    risk=Text(
        nl="Via deze dienst kan iemand een computer of apparaat van uw bedrijf op afstand "
        "bedienen. Criminelen proberen dag en nacht wachtwoorden uit op zulke diensten; lukt "
        "het, dan stelen ze gegevens of zetten ze gijzelsoftware (ransomware) neer. Dit is een "
        "van de meest gebruikte manieren waarop kleine bedrijven worden gehackt. Zonder "
        "wachtwoord (VNC) kan iedereen direct meekijken en overnemen.",
        en="Through this service someone can operate one of your computers or devices remotely. "
        "Criminals try passwords on such services day and night; once in, they steal data or "
        "install ransomware. It is one of the most common ways small businesses get hacked. "
        "Without a password (VNC), anyone can watch and take over straight away.",
    ),
    remediation=Text(
        nl="Vraag uw IT-leverancier om deze toegang van internet af te halen en alleen via een "
        "VPN met een tweede inlogstap (bijvoorbeeld een code op de telefoon) te werken.",
        en="Ask your IT supplier to take this access off the internet and only allow it "
        "through a VPN with a second login step (for example a code on your phone).",
    ),
    technical=Text(
        nl="Shodan zag RDP (3389), VNC (5900) of Telnet (23) bereikbaar vanaf internet. Sluit "
        "de poort in de firewall/router; bied toegang alleen via VPN met MFA of een RD "
        "Gateway; schakel Telnet uit (gebruik SSH). Kritiek: VNC zonder authenticatie.",
        en="Shodan saw RDP (3389), VNC (5900) or Telnet (23) reachable from the internet. Close "
        "the port on the firewall/router; allow access only through a VPN with MFA or an RD "
        "Gateway; switch Telnet off (use SSH). Critical: VNC without authentication.",
    ),
    effort=Effort.MEDIUM,
)

FILE_SHARE = FindingSpec(
    id="exposure.file_share",
    severity=Severity.HIGH,
    title=Text(
        nl="Bestanden delen (SMB, FTP, NFS of netwerkschijf) open naar internet",
        en="File sharing (SMB, FTP, NFS or NAS) open to the internet",
    ),
    risk=Text(
        nl="Bestanden van uw bedrijf (offertes, administratie, back-ups) staan op een dienst "
        "die vanaf internet te bereiken is. Criminelen zoeken hiernaar om gegevens te stelen "
        "of te versleutelen voor losgeld; netwerkschijven (NAS) zijn een bekend doelwit. Mag "
        "iedereen anoniem inloggen, dan liggen de bestanden gewoon voor het oprapen.",
        en="Files of your business (quotes, accounts, backups) sit on a service that can be "
        "reached from the internet. Criminals look for these to steal data or encrypt it for "
        "ransom; network drives (NAS) are a well-known target. If anyone may log in "
        "anonymously, the files are there for the taking.",
    ),
    remediation=Text(
        nl="Vraag uw IT-leverancier om de bestandsdeling of netwerkschijf van internet af te "
        "halen. Deel bestanden op afstand via een VPN of een beveiligde clouddienst.",
        en="Ask your IT supplier to take the file share or network drive off the internet. "
        "Share files remotely through a VPN or a secure cloud service.",
    ),
    technical=Text(
        nl="Shodan zag SMB (445), FTP (21), NFS (2049), AFP (548) of de beheerpagina van een "
        "NAS vanaf internet. Sluit deze poorten in de firewall; zet anonieme toegang uit; "
        "gebruik geen onversleutelde FTP; houd de NAS-firmware bij en zet QuickConnect/"
        "myQNAPcloud-achtige doorgifte uit als die niet nodig is.",
        en="Shodan saw SMB (445), FTP (21), NFS (2049), AFP (548) or a NAS admin page from "
        "the internet. Close these ports on the firewall; disable anonymous access; do not "
        "use unencrypted FTP; keep NAS firmware current and switch off relay services such "
        "as QuickConnect/myQNAPcloud when not needed.",
    ),
    effort=Effort.MEDIUM,
)

DATABASE = FindingSpec(
    id="exposure.database",
    severity=Severity.HIGH,
    title=Text(
        nl="Database open naar internet",
        en="Database open to the internet",
    ),
    risk=Text(
        nl="Een database met gegevens van uw bedrijf of uw klanten is vanaf internet te "
        "bereiken. Databases zonder wachtwoord worden binnen uren gevonden, leeggehaald en "
        "gegijzeld. Ook met wachtwoord is dit een groot risico op een datalek. Zijn er "
        "waarschijnlijk persoonsgegevens ingezien of meegenomen, met een risico voor de "
        "mensen om wie het gaat? Dan moet u dat binnen 72 uur na ontdekking melden bij de "
        "Autoriteit Persoonsgegevens.",
        en="A database with data of your business or your customers can be reached from the "
        "internet. Databases without a password are found, emptied and held for ransom "
        "within hours. Even with a password this is a serious risk of a data breach. If "
        "personal data was probably accessed or taken, with a risk to the people concerned, "
        "you must report it to the Dutch Data Protection Authority within 72 hours of "
        "discovering it.",
    ),
    remediation=Text(
        nl="Vraag uw IT-leverancier of websitebouwer om de database af te schermen, zodat "
        "alleen uw eigen server of programma erbij kan.",
        en="Ask your IT supplier or web developer to shield the database so that only your "
        "own server or application can reach it.",
    ),
    technical=Text(
        nl="Shodan zag een databasedienst (bijv. MongoDB 27017, Elasticsearch 9200, Redis "
        "6379, MySQL 3306, PostgreSQL 5432, MSSQL 1433) vanaf internet. Laat de dienst "
        "alleen op localhost of een intern netwerk luisteren, sluit de poort in de firewall "
        "en zet authenticatie aan. Kritiek: de database antwoordde zonder authenticatie.",
        en="Shodan saw a database service (e.g. MongoDB 27017, Elasticsearch 9200, Redis 6379, "
        "MySQL 3306, PostgreSQL 5432, MSSQL 1433) from the internet. Bind it to localhost or "
        "an internal network, close the port on the firewall and enable authentication. "
        "Critical: the database answered without authentication.",
    ),
    effort=Effort.MEDIUM,
)

ICS = FindingSpec(
    id="exposure.ics",
    severity=Severity.CRITICAL,
    title=Text(
        nl="Besturing van machines of installaties open naar internet",
        en="Industrial control system open to the internet",
    ),
    risk=Text(
        nl="De besturing van machines, koeling, verwarming, pompen of andere installaties is "
        "rechtstreeks vanaf internet te bereiken. Zulke besturingen vragen meestal geen "
        "wachtwoord: iemand kan instellingen lezen of veranderen. Dat kan leiden tot "
        "schade aan installaties, bedorven voorraad of gevaarlijke situaties.",
        en="The control of machines, cooling, heating, pumps or other installations can be "
        "reached directly from the internet. Such controllers usually ask for no password: "
        "anyone can read or change settings. That can damage installations, spoil stock or "
        "create dangerous situations.",
    ),
    remediation=Text(
        nl="Vraag uw installateur of leverancier om de besturing vandaag nog van internet af "
        "te halen; onderhoud op afstand alleen via een beveiligde VPN.",
        en="Ask your installer or supplier to take the controller off the internet today; "
        "remote maintenance only through a secure VPN.",
    ),
    technical=Text(
        nl="Shodan zag een industrieel protocol (Modbus 502, Siemens S7 102, BACnet 47808, "
        "EtherNet/IP 44818, DNP3 20000, Niagara Fox 1911, IEC-104 2404, …) vanaf internet. "
        "Deze protocollen kennen vrijwel geen authenticatie. Haal de PLC of het "
        "gebouwbeheersysteem achter een firewall en gebruik een VPN voor onderhoud op afstand.",
        en="Shodan saw an industrial protocol (Modbus 502, Siemens S7 102, BACnet 47808, "
        "EtherNet/IP 44818, DNP3 20000, Niagara Fox 1911, IEC-104 2404, …) from the internet. "
        "These protocols have next to no authentication. Put the PLC or building management "
        "system behind a firewall and use a VPN for remote maintenance.",
    ),
    effort=Effort.MEDIUM,
)

SERVICE = FindingSpec(
    id="exposure.service",
    severity=Severity.INFO,
    title=Text(
        nl="Andere dienst zichtbaar op internet",
        en="Other service visible on the internet",
    ),
    risk=Text(
        nl="Shodan zag op dit adres een dienst die vanaf internet te bereiken is. Dat hoeft "
        "geen probleem te zijn (een website hoort bereikbaar te zijn), maar elke open dienst "
        "is een deur naar binnen: weet u welke deuren er openstaan?",
        en="Shodan saw a service on this address that can be reached from the internet. That "
        "need not be a problem (a website is meant to be reachable), but every open service "
        "is a door: do you know which doors are open?",
    ),
    remediation=Text(
        nl="Loop deze lijst na met uw IT-leverancier: is elke dienst bekend en nodig? Sluit "
        "wat niet nodig is.",
        en="Go through this list with your IT supplier: is every service known and needed? "
        "Close what is not.",
    ),
    technical=Text(
        nl="Inventaris van open poorten volgens Shodan (poort, protocol, product en versie). "
        "Sluit ongebruikte poorten en houd de software bij; 'end_of_life' betekent dat de "
        "leverancier geen updates meer uitbrengt.",
        en="Inventory of open ports according to Shodan (port, protocol, product and version). "
        "Close unused ports and keep the software current; 'end_of_life' means the vendor no "
        "longer ships updates.",
    ),
    effort=Effort.LOW,
)


@dataclass(frozen=True, slots=True)
class ServiceClass:
    """One kind of service and how Shodan shows it. Patterns are case-insensitive regexes."""

    finding: str  # the catalogue id
    name: str  # what a person reads: "RDP", "MongoDB"
    modules: frozenset[str] = frozenset()  # `_shodan.module` values
    ports: frozenset[int] = frozenset()  # well-known ports: decide InternetDB summaries
    product: str = ""
    cpe: str = ""  # on `vendor:product`
    title: str = ""  # HTML title (admin pages)
    devicetype: str = ""  # Shodan's `devicetype` (fullmatch)
    tag: str = ""  # a Shodan tag that implies the class

    @property
    def spec(self) -> FindingSpec:
        return SPECS[self.finding]


def _c(finding: str, name: str, modules: str = "", ports: str = "", **kw: str) -> ServiceClass:
    return ServiceClass(
        finding,
        name,
        frozenset(modules.split()),
        frozenset(int(p) for p in ports.split()),
        **kw,
    )


_ICS, _DB = "exposure.ics", "exposure.database"
_RA, _FS = "exposure.remote_access", "exposure.file_share"

# The table is kept one row per line, as a table; the formatter would scatter it.
# fmt: off
SERVICE_CLASSES: tuple[ServiceClass, ...] = (
    # --- industrial control (order matters only between classes: ICS first) --------------------
    _c(_ICS, "Modbus", "modbus", "502", product=r"\bmodbus\b"),
    _c(_ICS, "Siemens S7", "s7", "102", product=r"\bsiemens\b.*\b(s7|plc)\b|\bs7 ?plc\b", cpe=r"^siemens:simatic"),
    _c(_ICS, "BACnet", "bacnet", "47808", product=r"\bbacnet\b"),
    _c(_ICS, "EtherNet/IP", "ethernetip ethernet-ip enip", "44818", product=r"\bethernet/ip\b"),
    _c(_ICS, "DNP3", "dnp3", "20000", product=r"\bdnp3\b"),
    _c(_ICS, "Niagara Fox", "fox", "1911 4911", product=r"\bniagara\b"),
    _c(_ICS, "IEC 60870-5-104", "iec-104 iec104", "2404", product=r"\biec.?(60870|104)\b"),
    _c(_ICS, "Omron FINS", "omron omron-tcp fins", "9600", product=r"\bomron\b"),
    _c(_ICS, "PCWorx", "pcworx", "1962", product=r"\bpcworx\b"),
    _c(_ICS, "Red Lion Crimson", "crimson crimson-v3", "789", product=r"\b(red lion|crimson)\b"),
    _c(_ICS, "GE SRTP", "ge-srtp", "18245", product=r"\bsrtp\b"),
    _c(_ICS, "CODESYS", "codesys", "2455", product=r"\bcodesys\b"),
    _c(_ICS, "ProConOS", "proconos", "20547", product=r"\bproconos\b"),
    _c(_ICS, "industrial protocol", tag="ics"),
    # --- databases ------------------------------------------------------------------------------
    _c(_DB, "MongoDB", "mongodb", "27017 27018", product=r"\bmongodb\b", cpe=r"^mongodb:mongodb"),
    _c(_DB, "Elasticsearch", "elastic elasticsearch", "9200", product=r"\belastic(search)?\b", cpe=r"^elastic:elasticsearch"),
    _c(_DB, "Redis", "redis", "6379", product=r"\bredis\b", cpe=r"^redis(labs)?:redis"),
    _c(_DB, "MySQL", "mysql", "3306", product=r"\b(mysql|mariadb)\b", cpe=r"^(oracle:mysql|mariadb:mariadb)"),
    _c(_DB, "PostgreSQL", "postgresql postgres pgsql", "5432", product=r"\bpostgre(s|sql)\b", cpe=r"^postgresql:postgresql"),
    _c(_DB, "Microsoft SQL Server", "mssql ms-sql-s mssql-tcp", "1433", product=r"\bms-?sql\b|\bsql server\b", cpe=r"^microsoft:sql_server"),
    _c(_DB, "CouchDB", "couchdb", "5984", product=r"\bcouchdb\b", cpe=r"^apache:couchdb"),
    _c(_DB, "Memcached", "memcached memcache", "11211", product=r"\bmemcache"),
    _c(_DB, "Cassandra", "cassandra", "9042", product=r"\bcassandra\b"),
    _c(_DB, "InfluxDB", "influxdb", "8086", product=r"\binfluxdb\b"),
    _c(_DB, "database", tag="database"),
    # --- remote access --------------------------------------------------------------------------
    _c(_RA, "RDP", "rdp rdpeudp", "3389", product=r"\bremote desktop\b|\brdp\b|\bterminal services\b"),
    _c(_RA, "VNC", "vnc", "5800 5900 5901 5902 5903", product=r"\b(vnc|rfb)\b"),
    _c(_RA, "Telnet", "telnet", "23 2323", product=r"\btelnetd?\b"),
    # --- file sharing ---------------------------------------------------------------------------
    _c(_FS, "SMB", "smb", "139 445", product=r"\b(samba|smb)\b"),
    _c(_FS, "FTP", "ftp", "21", product=r"ftp"),
    _c(_FS, "NFS", "nfs", "2049", product=r"\bnfs\b"),
    _c(_FS, "AFP", "afp", "548", product=r"\bafp\b|\bapple filing\b"),
    _c(_FS, "NAS", product=r"\b(synology|diskstation|qnap|turbo ?nas|readynas|terramaster|asustor)\b|\bmy ?cloud\b",
       cpe=r"^(synology|qnap|western_digital|wdc|asustor|terra-master):|^netgear:readynas",
       title=r"\b(synology|diskstation|qnap|turbo ?nas|asustor|terramaster)\b|\bwd ?my ?cloud\b",
       devicetype=r"nas|storage"),
)
# fmt: on

SPECS: dict[str, FindingSpec] = {
    s.id: s for s in (REMOTE_ACCESS, FILE_SHARE, DATABASE, ICS, SERVICE)
}
NAS = next(c for c in SERVICE_CLASSES if c.name == "NAS")
BY_PORT: dict[int, ServiceClass] = {}
for _cls in SERVICE_CLASSES:
    for _port in _cls.ports:
        BY_PORT.setdefault(_port, _cls)
#: Ids a port of unknown service could turn out to be (InternetDB cannot tell).
CLASS_IDS = frozenset({_ICS, _DB, _RA, _FS})


@functools.cache
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _search(pattern: str, text: str) -> bool:
    return bool(pattern) and bool(text) and _rx(pattern).search(text) is not None


def _fullmatch(pattern: str, text: str) -> bool:
    return bool(pattern) and bool(text) and _rx(pattern).fullmatch(text.strip()) is not None


def classify(banner: Banner) -> tuple[ServiceClass, str] | None:
    """The class of a banner and the signal that decided it; None: an ordinary service."""
    if banner.module:
        for cls in SERVICE_CLASSES:
            if banner.module in cls.modules:
                return cls, f"module: {banner.module}"
    for cls in SERVICE_CLASSES:
        if _search(cls.product, banner.product):
            return cls, f"product: {banner.product}"
        cpe = next((c for c in banner.cpes if _search(cls.cpe, c.name)), None)
        if cpe is not None:
            return cls, f"cpe: {cpe}"
        if _search(cls.title, banner.title):
            return cls, f"title: {banner.title}"
        if _fullmatch(cls.devicetype, banner.devicetype):
            return cls, f"devicetype: {banner.devicetype}"
    for cls in SERVICE_CLASSES:
        if cls.tag and cls.tag in banner.tags:
            by_port = BY_PORT.get(banner.port)  # Modbus rather than "industrial protocol"
            same = by_port is not None and by_port.finding == cls.finding
            return (by_port if same and by_port is not None else cls), f"tag: {cls.tag}"
    if not banner.module and banner.port in BY_PORT:
        return BY_PORT[banner.port], f"port: {banner.port}"
    return None


def nas_by_cpe(cpes: tuple[Cpe, ...]) -> Cpe | None:
    """A NAS vendor's CPE in an InternetDB summary."""
    return next((c for c in cpes if _search(NAS.cpe, c.name)), None)


# --- authentication: what the banner says about logging in ---------------------------------------


def authentication(banner: Banner, cls: ServiceClass) -> str | None:
    """`none` (answered without credentials), `required`, or None when the banner cannot tell."""
    data = banner.data[:4096]
    lowered = data.lower()
    match cls.name:
        case "VNC":
            types = banner.section("vnc").get("security_types")
            if isinstance(types, Mapping) and types:
                names = {str(v).strip().lower() for v in types.values()}
                return "none" if "none" in names or "1" in {str(k) for k in types} else "required"
            if "authentication disabled" in lowered or banner.screenshot:
                return "none"
        case "MongoDB":
            auth = banner.section("mongodb").get("authentication")
            if isinstance(auth, bool):
                return "required" if auth else "none"
            if "requires authentication" in lowered or "unauthorized" in lowered:
                return "required"
            if '"databases"' in lowered or "listdatabases" in lowered:
                return "none"
        case "Elasticsearch":
            if re.match(r"HTTP/1\.[01] 401", data) or "security_exception" in lowered:
                return "required"
            elastic = banner.section("elastic")
            if "cluster" in elastic or "indices" in elastic or "you know, for search" in lowered:
                return "none"
        case "Redis":
            if "noauth" in lowered or "-err operation not permitted" in lowered:
                return "required"
            if "redis_version" in lowered or banner.section("redis"):
                return "none"
        case "PostgreSQL":
            if re.search(r"authentication disabled|\btrust\b", lowered):
                return "none"
            if re.search(r"authentication: ?(password|md5|scram)", lowered):
                return "required"
        case "Memcached":
            if "stat pid" in lowered or "stat version" in lowered:
                return "none"
        case "CouchDB":
            if '"error":"unauthorized"' in lowered.replace(" ", ""):
                return "required"
    return None


def anonymous(banner: Banner, cls: ServiceClass) -> bool | None:
    """Anonymous access to a file share (FTP `230` for anonymous, SMB guest shares)."""
    if cls.name == "FTP":
        value = banner.section("ftp").get("anonymous")
        if isinstance(value, bool):
            return value
        if re.search(r"(?im)^230[ -].*anonymous", banner.data[:4096]):
            return True
    if cls.name == "SMB":
        value = banner.section("smb").get("anonymous")
        if isinstance(value, bool):
            return value
    return None


def escalated(cls: ServiceClass, auth: str | None) -> Severity:
    """The catalogue's escalations: VNC or a database without authentication is critical."""
    if auth == "none" and (cls.name == "VNC" or cls.finding == DATABASE.id):
        return Severity.CRITICAL
    return cls.spec.severity


# --- candidates ----------------------------------------------------------------------------------


def endpoint(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def class_candidate(
    host: Host, banner: Banner, cls: ServiceClass, signal: str, now: datetime, via: str = ""
) -> FindingCandidate:
    """A classified service seen in a banner."""
    auth = authentication(banner, cls)
    anon = anonymous(banner, cls)
    service = service_evidence(host, banner, banner.port, now, [signal])
    service["service"] = cls.name
    service["authentication"] = auth
    if anon is not None:
        service["anonymous"] = anon
    evidence = host_evidence(host, via, [service])
    evidence.update(service)  # one service: its facts at the top, as for every per-port id
    notes = []
    if auth == "none":
        notes.append("answers without authentication")
    elif auth == "required":
        notes.append("asks for credentials")
    if anon:
        notes.append("anonymous access allowed")
    if service.get("end_of_life"):
        notes.append("end-of-life product")
    detail = (
        f"{cls.name} on {endpoint(host.ip, banner.port)}/{banner.transport}{product_phrase(banner)}"
    )
    detail += "".join(f"; {n}" for n in notes) + f"; {Seen(banner.timestamp, now).phrase()}"
    return cls.spec.candidate(
        host.ip,
        evidence,
        severity=escalated(cls, auth),
        discriminator=endpoint(host.ip, banner.port),
        detail=detail,
    )


def summary_candidate(
    host: Host,
    port: int,
    cls: ServiceClass | None,
    signal: str,
    now: datetime,
    via: str = "",
    name: str = "",
) -> FindingCandidate:
    """A service known from an InternetDB summary only: the port, and what it implies."""
    spec = cls.spec if cls is not None else SERVICE
    name = name or (cls.name if cls is not None else "unknown service")
    service = service_evidence(host, None, port, now, [signal])
    service["service"] = name
    evidence = host_evidence(host, via, [service])
    evidence.update(service)
    evidence["authentication"] = None
    # Certainty follows evidence (DESIGN.md): a port number alone is what the service usually
    # is, not what it is; a CPE or a tag is Shodan's own identification.
    evidence["certainty"] = "probable" if signal.startswith("port ") else "certain"
    detail = (
        f"{name} on {endpoint(host.ip, port)} ({signal}); InternetDB gives no banner, product, "
        "authentication or date"
    )
    return spec.candidate(host.ip, evidence, discriminator=endpoint(host.ip, port), detail=detail)


def service_candidate(host: Host, banner: Banner, now: datetime, via: str = "") -> FindingCandidate:
    """An ordinary service for the inventory (`exposure.service`, info)."""
    name = banner.module or "unknown"
    service = service_evidence(host, banner, banner.port, now, [f"module: {name}"])
    service["service"] = name
    evidence = host_evidence(host, via, [service])
    evidence.update(service)
    detail = (
        f"{name} on {endpoint(host.ip, banner.port)}/{banner.transport}{product_phrase(banner)}"
    )
    edge = service.get("edge")
    if isinstance(edge, dict):
        detail = f"{edge['label']['en']} on {endpoint(host.ip, banner.port)}/{banner.transport}"
    if service.get("end_of_life"):
        detail += "; end-of-life product"
    detail += f"; {Seen(banner.timestamp, now).phrase()}"
    return SERVICE.candidate(
        host.ip, evidence, discriminator=endpoint(host.ip, banner.port), detail=detail
    )
