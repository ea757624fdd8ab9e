"""The `web` family check: is there HTTPS, does HTTP lead to it, and does the site ask for HSTS?

Per domain target, the apex and `www.` over every address (as the TLS check; findings per host,
the worst address counting). Per address:

- **port 80**: one `GET /` through the safe fetch helper, redirects *not* followed: the first
  answer is what is judged (internet.nl: the first hop must go to HTTPS on the same host), and
  following it to the HTTPS site would repeat the handshake the TLS probe already did;
- **port 443**: the shared HTTPS visit (`checks._site.website.visit_https`): its handshake and the
  `GET /` answered over it, whatever the certificate (its defects are the TLS family's).

Verdicts:
- `web.https.missing`: HTTP answers but nothing usable answers on the HTTPS port (refused, or
  TLS refused with an alert in every version we offer);
- `web.https.no_redirect`: HTTP answers without redirecting, or its first redirect goes to plain
  HTTP or to another host (with its reason in the evidence). Not raised while HTTPS is missing:
  there is nothing to redirect to yet, and the first fix is HTTPS itself. Ports are not part of
  "same host" (a lab's HTTPS runs on another port);
- `web.hsts.missing`: the HTTPS answer has no usable Strict-Transport-Security header, or its
  max-age is under a year (`checks.web.hsts`).
A host with nothing on either port is not a web site: no verdict. A discovered host
(`TargetKind.HOST`) where nothing answers on either port, or whose name has no address, gets
`web.site.none`: a VPN gateway without a web page must not read "website: fine". A domain where neither the
apex nor `www.` has an address gets `web.site.none` (info: inventory, never a problem), so that
reports say "geen website gevonden" instead of passing a site nobody could visit. A port that hangs or resets
is "could not test" for the ids that depend on it, never a finding and never a pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

import httpx

from checks._site.sitefold import AddressFailure, AddressFinding, fold, host_failures
from checks._site.website import (
    SITE,
    HttpsVisit,
    names_of,
    origin,
    site_hosts,
    visit_https,
)
from checks.web.codes import WEB_CODES
from checks.web.hsts import MIN_MAX_AGE, parse_hsts
from exposure.contract import (
    CheckContext,
    CheckMeta,
    Effort,
    FailureReason,
    FindingSpec,
    Observation,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.net.dns import DnsStatus
from exposure.net.failures import could_not_test
from exposure.net.http import REDIRECT_STATUSES, FetchError, FetchResult, fetch
from exposure.net.tls import ProbeFailure
from exposure.severity import Severity
from exposure.text import Text

HTTPS_MISSING = FindingSpec(
    id="web.https.missing",
    severity=Severity.HIGH,
    title=Text(
        nl="Uw website is niet via een beveiligde verbinding (HTTPS) bereikbaar",
        en="Your website is not available over a secure connection (HTTPS)",
    ),
    risk=Text(
        nl="Alles wat bezoekers invullen, zoals contactformulieren, bestellingen en "
        "wachtwoorden, gaat onversleuteld over het internet en kan worden meegelezen of "
        "veranderd. Browsers zetten 'Niet veilig' bij uw website.",
        en="Everything visitors enter, such as contact forms, orders and passwords, crosses "
        "the internet unencrypted and can be read or altered. Browsers mark your website "
        "'Not secure'.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om HTTPS aan te zetten met een gratis "
        "certificaat (Let's Encrypt); bij de meeste hostingpakketten is dat één vinkje.",
        en="Ask your website builder or hosting provider to turn on HTTPS with a free "
        "certificate (Let's Encrypt); with most hosting plans it is a single setting.",
    ),
    technical=Text(
        nl="De site antwoordt op HTTP (poort 80), maar op poort 443 wordt de verbinding "
        "geweigerd of lukt geen TLS-handshake (TLS 1.0-1.3 aangeboden). Richt een HTTPS-"
        "virtual host in met een geldig certificaat (ACME) voor de naam met en zonder www.",
        en="The site answers HTTP (port 80), but port 443 refuses the connection or no TLS "
        "handshake succeeds (TLS 1.0-1.3 offered). Set up an HTTPS virtual host with a valid "
        "certificate (ACME) for the name with and without www.",
    ),
    effort=Effort.MEDIUM,
)

NO_REDIRECT = FindingSpec(
    id="web.https.no_redirect",
    severity=Severity.MEDIUM,
    title=Text(
        nl="Bezoekers worden niet automatisch naar de beveiligde website gestuurd",
        en="Visitors are not sent to the secure website automatically",
    ),
    risk=Text(
        nl="Wie uw adres intypt of een oude link volgt, komt op de onbeveiligde versie van uw "
        "website terecht. Wat daar wordt ingevuld, kan worden meegelezen, en een aanvaller kan "
        "bezoekers ongemerkt naar een valse pagina leiden.",
        en="People who type your address or follow an old link land on the unprotected version "
        "of your website. What they enter there can be read, and an attacker can quietly lead "
        "them to a fake page.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om alle bezoekers van http:// direct door "
        "te sturen naar https:// op dezelfde naam.",
        en="Ask your website builder or hosting provider to send every visitor from http:// "
        "straight to https:// on the same name.",
    ),
    technical=Text(
        nl="GET http://<host>/ geeft geen redirect (301, 302, 303, 307 of 308) naar "
        "https://<dezelfde host>/ als eerste stap: geen redirect, een redirect naar http, of "
        "eerst naar een andere host (reden in het bewijs). Elk van die codes telt; een "
        "permanente (301 of 308) is het best. Stel op poort 80 een redirect in naar https op "
        "dezelfde host; een eventuele www-redirect hoort daarna, binnen HTTPS.",
        en="GET http://<host>/ does not answer with a redirect (301, 302, 303, 307 or 308) "
        "to https://<the same host>/ as its first hop: no redirect, a redirect to http, or "
        "first to another host (reason in the evidence). Any of those codes counts; a "
        "permanent one (301 or 308) is best. Configure a redirect on port 80 to https on the "
        "same host; any www redirect belongs after it, within HTTPS.",
    ),
    effort=Effort.LOW,
)

HSTS_MISSING = FindingSpec(
    id="web.hsts.missing",
    severity=Severity.LOW,
    title=Text(
        nl="Uw website vraagt browsers niet om altijd HTTPS te gebruiken (HSTS)",
        en="Your website does not ask browsers to always use HTTPS (HSTS)",
    ),
    risk=Text(
        nl="Zonder HSTS kan een aanvaller op bijvoorbeeld openbare wifi een bezoeker toch naar "
        "de onbeveiligde versie van uw website leiden, ook als u HTTPS heeft.",
        en="Without HSTS an attacker on, for example, public wifi can still steer a visitor to "
        "the unprotected version of your website, even though you have HTTPS.",
    ),
    remediation=Text(
        nl="Vraag uw websitebouwer of hostingprovider om de HSTS-instelling aan te zetten met "
        "een geldigheid van minstens een jaar.",
        en="Ask your website builder or hosting provider to switch on HSTS with a lifetime of "
        "at least one year.",
    ),
    technical=Text(
        nl=f"Het HTTPS-antwoord heeft geen bruikbare Strict-Transport-Security-header of een "
        f"max-age onder {MIN_MAX_AGE} seconden. Voeg toe: Strict-Transport-Security: "
        f"max-age={MIN_MAX_AGE}; includeSubDomains (eerst testen met een korte max-age).",
        en=f"The HTTPS response has no usable Strict-Transport-Security header, or a max-age "
        f"below {MIN_MAX_AGE} seconds. Add: Strict-Transport-Security: max-age={MIN_MAX_AGE}; "
        "includeSubDomains (test with a short max-age first).",
    ),
    effort=Effort.LOW,
)

#: Inventory, not a problem: neither the domain nor `www.` has an A or AAAA record. Without it a
#: mail-only domain would read "website: tested, fine" in a report, because nothing here answers
#: on it; with it the report says "geen website gevonden" (neither green nor a problem).
NO_SITE = FindingSpec(
    id="web.site.none",
    severity=Severity.INFO,
    title=Text(nl="Geen website gevonden", en="No website found"),
    risk=Text(
        nl="Op deze domeinnaam staat geen website, met en zonder www. Er is dus niets om te "
        "testen; dat is geen probleem.",
        en="There is no website on this domain name, with or without www. So there is nothing "
        "to test; that is not a problem.",
    ),
    remediation=Text(
        nl="Niets te doen. Hebt u wel een website op deze naam, laat het het Meldpunt weten.",
        en="Nothing to do. If you do have a website on this name, let the Meldpunt know.",
    ),
    technical=Text(
        nl="Noch de domeinnaam noch www. heeft een A- of AAAA-record (bij een gevonden host: "
        "de naam heeft geen adres, of op de HTTP- en HTTPS-poort luistert niets).",
        en="Neither the domain name nor www. has an A or AAAA record (for a discovered host: "
        "the name has no address, or nothing listens on the HTTP and HTTPS ports).",
    ),
    effort=Effort.LOW,
)

SPECS = (HTTPS_MISSING, NO_REDIRECT, HSTS_MISSING, NO_SITE)
#: The discriminator of `web.site.none` on a discovered host whose name has no address at all.
NO_ADDRESS = "no-address"
ALL_IDS = frozenset(spec.id for spec in SPECS)
HTTP_IDS = frozenset({HTTPS_MISSING.id, NO_REDIRECT.id})
FAMILY = "web"


def judge_redirect(http: FetchResult, host: str) -> tuple[str, str] | None:
    """(reason code, words) when the first answer on port 80 is not a redirect to HTTPS on the
    same host; None when it is."""
    first = http.hops[0] if http.hops else None
    if first is None or not first.location or first.status not in REDIRECT_STATUSES:
        status = first.status if first is not None else http.status
        return "no_redirect", f"HTTP answers {status} without redirecting to HTTPS"
    try:
        target = httpx.URL(first.url).join(first.location)
    except httpx.InvalidURL:
        return "bad_location", f"the redirect's Location {first.location!r} is not a valid URL"
    target_host = target.raw_host.decode("ascii", errors="replace").lower()
    if target.scheme != "https":
        where = "the same host" if target_host == host else f"another host ({target_host})"
        return "redirect_to_http", f"the first redirect goes to plain HTTP on {where}: {target}"
    if target_host != host:
        return (
            "redirect_to_other_host",
            f"the first redirect goes to another host ({target}), not to https://{host}/",
        )
    return None


class WebCheck:
    meta: ClassVar[CheckMeta] = CheckMeta(
        id="web",
        title=Text(nl="Beveiligde website (HTTPS)", en="Secure website (HTTPS)"),
        description=Text(
            nl="Bezoekt per websitenaam (met en zonder www) en per adres de voorpagina via HTTP "
            "en HTTPS, zoals een browser: is er HTTPS, stuurt HTTP door naar HTTPS op dezelfde "
            "naam, en vraagt de site om HSTS?",
            en="Visits the home page of each website name (with and without www) on each "
            "address over HTTP and HTTPS, as a browser does: is there HTTPS, does HTTP redirect "
            "to HTTPS on the same name, and does the site ask for HSTS?",
        ),
        target_kinds=frozenset({TargetKind.DOMAIN, TargetKind.HOST}),
        sources=frozenset({Source.DNS, Source.HTTP, Source.TLS}),
        findings=SPECS,
        wants=frozenset({SITE}),
        codes=WEB_CODES,
    )

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        names = list(names_of(target))
        hosts = await site_hosts(ctx, target)
        if not hosts:  # both names answered, with no address: no site (inventory, not a problem)
            if target.kind is TargetKind.HOST:
                # a discovered name that has gone: nothing at all to test there, not only no
                # website (reports.coverage reads the discriminator: every topic is "absent")
                return [
                    NO_SITE.candidate(
                        names[0],
                        {"hosts": names},
                        detail="the name has no A or AAAA record",
                        discriminator=NO_ADDRESS,
                    )
                ]
            apex = await ctx.dns.resolve(target.value, "A")  # answered from the run's cache
            if apex.status is DnsStatus.NXDOMAIN:
                return []  # the domain does not exist: `target.unresolvable` says so, once
            return [NO_SITE.candidate(names[0], {"hosts": names}, detail="no A or AAAA record")]
        failures = host_failures(hosts, ALL_IDS)
        findings: list[AddressFinding] = []
        pairs = [(h.name, a) for h in hosts for a in h.addresses]
        results = await asyncio.gather(*(self._address(ctx, host, a) for host, a in pairs))
        silent = 0
        for found, failed, nothing in results:
            findings.extend(found)
            failures.extend(failed)
            silent += nothing
        if target.kind is TargetKind.HOST and pairs and silent == len(pairs) and not failures:
            # A discovered host (a VPN gateway, a mail server) often has no website at all:
            # nothing listening on either port is "no website", not a website that passed.
            return [
                NO_SITE.candidate(
                    names[0],
                    {"hosts": names, "addresses": sorted({a for _, a in pairs})},
                    detail="nothing answers on the HTTP and HTTPS ports",
                )
            ]
        return fold(findings, failures, {h.name: h.addresses for h in hosts})

    async def _address(
        self, ctx: CheckContext, host: str, address: str
    ) -> tuple[list[AddressFinding], list[AddressFailure], bool]:
        """The verdicts for one address, and whether nothing at all listens there (both ports
        refused)."""
        http_url = origin("http", host, ctx.port("http"))
        http, visit = await asyncio.gather(
            fetch(
                ctx,
                http_url,
                address=address,
                follow_redirects=False,
                verify=False,
                family=FAMILY,
            ),
            visit_https(ctx, address, host),
        )
        found, failed = judge_address(http, visit, host, address)
        nothing = http.error is FetchError.REFUSED and visit.modern.failure is ProbeFailure.REFUSED
        return found, failed, nothing


def judge_address(
    http: FetchResult, visit: HttpsVisit, host: str, address: str
) -> tuple[list[AddressFinding], list[AddressFailure]]:
    """The web verdicts for one address of one host, from its HTTP answer and HTTPS visit."""
    findings: list[AddressFinding] = []
    failures: list[AddressFailure] = []
    http_answered = http.status is not None
    http_absent = not http_answered and http.error is FetchError.REFUSED
    page = visit.page
    https_works = page is not None and page.status is not None

    if not http_answered and not http_absent:
        failures.append(
            AddressFailure(
                host,
                address,
                http.failure_reason or FailureReason.PROTOCOL,
                f"HTTP on port 80: {http.error}: {http.detail}",
                HTTP_IDS,
            )
        )
    elif http_answered and visit.no_https:
        evidence: dict[str, Any] = {
            "http_url": http.url,
            "http_status": http.status,
            "https_url": visit.url,
            "https": visit.modern.evidence(),
        }
        if visit.legacy is not None:
            evidence["https_legacy"] = visit.legacy.evidence()
        detail = f"HTTP answers {http.status}; HTTPS: {visit.modern.detail}"
        findings.append(AddressFinding(HTTPS_MISSING, host, address, evidence, detail))

    if http_answered and not visit.no_https:
        problem = judge_redirect(http, host)
        if problem is not None:
            code, words = problem
            first = http.hops[0] if http.hops else None
            evidence = {
                "url": http.url,
                "status": http.status,
                "location": first.location if first is not None else "",
                "reason": code,
                "explanation": words,
            }
            findings.append(AddressFinding(NO_REDIRECT, host, address, evidence, words))

    if https_works:
        assert page is not None
        policy = parse_hsts(page.header_all("strict-transport-security"))
        if not policy.sufficient:
            evidence = {
                "url": visit.url,
                "status": page.status,
                "header": policy.raw,
                "max_age": policy.max_age,
                "required_max_age": MIN_MAX_AGE,
                "reason": policy.code,
                "explanation": policy.reason,
            }
            findings.append(AddressFinding(HSTS_MISSING, host, address, evidence, policy.reason))
    elif not visit.no_https:
        reason = (
            could_not_test(visit.undecided_reason)
            if visit.undecided
            else (page.failure_reason if page is not None else None) or FailureReason.PROTOCOL
        )
        message = visit.undecided or f"HTTPS answer: {visit.page_error}"
        ids = frozenset({HSTS_MISSING.id})
        if http_answered or http_absent:
            ids = frozenset({HSTS_MISSING.id, HTTPS_MISSING.id})
        failures.append(AddressFailure(host, address, reason, f"HTTPS: {message}", ids))
    return findings, failures
