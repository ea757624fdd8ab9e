"""`securitytxt.missing`, `securitytxt.invalid`, `securitytxt.expired`: the RFC 9116 check.

The Digital Trust Center asks every business to publish a security.txt so that it can be warned,
and the Meldpunt relies on it too. This check fetches `https://<domain>/.well-known/security.txt`
the way a careful researcher's tool does and judges it with our own strict validator
(`checks.securitytxt.validator`), whose codes are the DTC's where they overlap.

How a domain is judged (each rule is a decision; the report's words come from `messages`):

- **Which host.** The registered domain first. Only when the domain has no HTTPS site at all (no
  address, connection refused, no TLS spoken) is `www.<domain>` tried: a site that answers on the
  apex speaks for the domain, even with a 404.
- **Over the site visit when the run has one.** With the tls or web family in the run, the
  shared site visit (`checks._site.website.visit_https`) has already asked for the file (and,
  when not found, the legacy `/security.txt`) on its handshake; the check takes that answer when
  it settles the verdict (no redirect, complete, a certificate judged as a browser would) and
  fetches the file itself otherwise. Same verdicts either way
  (`tests/checks/test_securitytxt_visit.py`); one connection and handshake fewer per domain.
- **How.** `exposure.net.http.fetch`: at most 100 KiB read (a 60 MB answer costs 100 KiB), at
  most 5 redirects, HTTPS only, never into private/loopback/link-local space unless
  `allow_private`, the per-IP politeness slots held. Certificates are verified; when that fails
  the file is fetched again without verification, so that a file behind a broken certificate is
  still judged, with `invalid_cert` (as the DTC's validator does).
- **Missing** (`securitytxt.missing`, with a `reason`): 404/410 or another 4xx; a 200 that is an
  HTML page (the catch-all or "soft 404" of many site builders), empty, or text without a single
  security.txt field; no HTTPS site on the domain at all; a redirect to plain http, into private
  space, to a dead address, or more than 5 of them. Hints in the evidence say when a file does
  exist at the legacy `/security.txt` or only over plain http: neither counts (RFC 9116 §2.3).
- **Invalid** (`securitytxt.invalid`): a file that is meant as a security.txt but has errors;
  the evidence lists the codes (words for each through `CheckMeta.codes`).
- **Expired** (`securitytxt.expired`): Expires is in the past. An expired file is not also
  `invalid` for that reason; it is `invalid` as well only when it has other errors.
- **Could not test** (`CheckFailure`, never a finding and never a pass): a time-out, DNS that
  does not answer, a connection reset, a 5xx or 429 answer, a domain that resolves into private
  space. A domain without any web address is not a failure: it has no site to put a file on, so
  there is nothing to report (`target.unresolvable` covers a domain without any record).
- **Evidence.** The URL, status, Content-Type, redirects, the codes with their lines, and what
  the file says: `contacts` (the Contact URIs, in priority order) and `emails` (their mailto
  addresses), which the warnings may use as a place to send a warning. A valid file produces no
  finding, so its contacts are not stored (see `reports/recipients.py`).
- **Time.** The file itself gets the fetcher's deadline; the optional hints get one connect and
  one read time-out each and are skipped when the check's own time-out is near, so that a slow
  server costs a hint, never the verdict.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from checks._site.website import (
    SECURITY_TXT,
    HttpsVisit,
    asks_for_security_txt,
    browser_verdict,
    resolve_host,
    visit_https,
)
from checks.securitytxt.messages import MESSAGES
from checks.securitytxt.sniff import has_security_txt_fields, is_blank, looks_like_html
from checks.securitytxt.validator import (
    LEGACY_PATH,
    WELL_KNOWN_PATH,
    Validation,
    validate,
)
from exposure.catalogue import Theme
from exposure.contract import (
    CheckContext,
    CheckFailure,
    CheckMeta,
    Effort,
    FailureReason,
    FindingSpec,
    Observation,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.net.http import FetchError, FetchResult, fetch
from exposure.severity import Severity
from exposure.text import Text

FAMILY = "securitytxt"
MAX_BYTES = 100 * 1024  # the cap; a security.txt is a few hundred bytes
MAX_REDIRECTS = 5
MAX_EVIDENCE_ITEMS = 20  # per list in the evidence: a finding's evidence stays small

MISSING = FindingSpec(
    id="securitytxt.missing",
    severity=Severity.LOW,
    title=Text(nl="Geen security.txt", en="No security.txt"),
    risk=Text(
        nl="Wie een beveiligingsprobleem bij uw bedrijf ontdekt (een onderzoeker, het Digital "
        "Trust Center of het Meldpunt), weet niet hoe hij u snel kan bereiken. Een waarschuwing "
        "komt dan te laat of helemaal niet aan.",
        en="Whoever finds a security problem at your business (a researcher, the Digital Trust "
        "Center or the Meldpunt) does not know how to reach you quickly. A warning then arrives "
        "late or not at all.",
    ),
    remediation=Text(
        nl="Zet een klein tekstbestand security.txt op uw website, met uw contactadres en een "
        "vervaldatum. Het Digital Trust Center legt uit hoe; uw websitebouwer doet het in een "
        "paar minuten.",
        en="Put a small text file called security.txt on your website, with your contact "
        "address and an expiry date. The Digital Trust Center explains how; your web developer "
        "does it in a few minutes.",
    ),
    technical=Text(
        nl="Publiceer een RFC 9116-bestand op https://<domein>/.well-known/security.txt "
        "(Content-Type text/plain; charset=utf-8, geldig certificaat) met minstens Contact en "
        "Expires. Een HTML-pagina (catch-all), alleen /security.txt of alleen http telt niet; "
        "de reden staat in het bewijs.",
        en="Publish an RFC 9116 file at https://<domain>/.well-known/security.txt "
        "(Content-Type text/plain; charset=utf-8, valid certificate) with at least Contact and "
        "Expires. An HTML page (catch-all), only /security.txt or only plain http does not "
        "count; the evidence gives the reason.",
    ),
    effort=Effort.LOW,
    theme=Theme.SECURITYTXT,
)

INVALID = FindingSpec(
    id="securitytxt.invalid",
    severity=Severity.MEDIUM,
    title=Text(nl="security.txt bevat fouten", en="security.txt has errors"),
    risk=Text(
        nl="Uw security.txt voldoet niet aan de standaard. Programma's die het bestand lezen, "
        "ook die van het Digital Trust Center, slaan het dan over of lezen het verkeerd, zodat "
        "een waarschuwing u mogelijk niet bereikt.",
        en="Your security.txt does not meet the standard. Programs that read the file, the "
        "Digital Trust Center's included, then skip it or read it wrongly, so a warning may "
        "not reach you.",
    ),
    remediation=Text(
        nl="Laat de fouten herstellen die in het rapport staan; bij elke fout staat in één "
        "regel wat er moet gebeuren.",
        en="Have the errors listed in the report fixed; each error comes with one line saying "
        "what to do.",
    ),
    technical=Text(
        nl="Het bestand breekt een MUST van RFC 9116. De foutcodes in het bewijs zijn die van "
        "de DTC-validator (sectxt) waar die overlappen; regelnummers staan erbij.",
        en="The file breaks an RFC 9116 MUST. The error codes in the evidence are those of the "
        "DTC validator (sectxt) where they overlap; line numbers are included.",
    ),
    effort=Effort.LOW,
    theme=Theme.SECURITYTXT,
)

EXPIRED = FindingSpec(
    id="securitytxt.expired",
    severity=Severity.MEDIUM,
    title=Text(nl="security.txt is verlopen", en="security.txt has expired"),
    risk=Text(
        nl="De datum bij 'Expires' in uw security.txt is voorbij. Wie u wil waarschuwen, mag "
        "de gegevens dan niet meer vertrouwen en zoekt misschien niet verder.",
        en="The 'Expires' date in your security.txt has passed. Whoever wants to warn you must "
        "then no longer trust the information, and may not look further.",
    ),
    remediation=Text(
        nl="Zet een nieuwe datum bij 'Expires', binnen een jaar, en kijk meteen of het "
        "contactadres nog klopt.",
        en="Put a new date after 'Expires', within a year, and check at once that the contact "
        "address is still right.",
    ),
    technical=Text(
        nl="Het veld Expires (RFC 9116 §2.5.5) ligt in het verleden; volgens §6.3 zijn de "
        "gegevens dan verouderd. Aanbevolen: hooguit een jaar vooruit.",
        en="The Expires field (RFC 9116 §2.5.5) is in the past; per §6.3 the data is then "
        "stale. Recommended: at most a year ahead.",
    ),
    effort=Effort.LOW,
    theme=Theme.SECURITYTXT,
)

#: Fetch errors that say "this host has no HTTPS site" (decisive) when no answer came at all.
_NO_SITE = frozenset(
    {FetchError.NO_ADDRESS, FetchError.REFUSED, FetchError.TLS, FetchError.PROTOCOL}
)
#: Fetch errors after at least one answer that make the file missing (the chain is broken).
_BROKEN_CHAIN = {
    FetchError.INSECURE_REDIRECT: "redirect_to_http",
    FetchError.OUT_OF_SCOPE: "redirect_private",
    FetchError.TOO_MANY_REDIRECTS: "too_many_redirects",
    FetchError.BAD_REDIRECT: "redirect_failed",
    FetchError.NO_ADDRESS: "redirect_failed",
    FetchError.REFUSED: "redirect_failed",
    FetchError.TLS: "redirect_failed",
    FetchError.PROTOCOL: "redirect_failed",
}


@dataclass(frozen=True, slots=True)
class Retrieval:
    """One fetch of a security.txt URL. `certificate_valid=False`: verification failed (the
    `tls_problem` says why) and `result` is the unverified second attempt."""

    result: FetchResult
    certificate_valid: bool = True
    tls_problem: str = ""


class SecurityTxtCheck:
    """The security.txt family. `allowed(ip)` overrides the scope rule (tests only)."""

    meta: ClassVar[CheckMeta] = CheckMeta(
        id=FAMILY,
        title=Text(nl="security.txt", en="security.txt"),
        description=Text(
            nl="Kijkt of de website een geldige security.txt (RFC 9116) heeft, zodat wie een "
            "beveiligingsprobleem vindt het bedrijf kan waarschuwen.",
            en="Checks that the website has a valid security.txt (RFC 9116), so that whoever "
            "finds a security problem can warn the business.",
        ),
        target_kinds=frozenset({TargetKind.DOMAIN}),
        sources=frozenset({Source.DNS, Source.HTTP, Source.TLS}),
        findings=(MISSING, INVALID, EXPIRED),
        codes=tuple(m.code_text() for m in MESSAGES),
        wants=frozenset({SECURITY_TXT}),  # the file over the site visit, where a visit is made
    )

    def __init__(self, *, allowed: Callable[[str], bool] | None = None) -> None:
        self._allowed = allowed

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        budget = _Budget.start(ctx)
        domain = target.value.rstrip(".").lower()
        hosts = (domain,) if domain.startswith("www.") else (domain, f"www.{domain}")
        no_site: list[tuple[str, Retrieval]] = []
        for host in hosts:
            got = await self._retrieve(ctx, host, f"https://{host}{WELL_KNOWN_PATH}")
            result = got.result
            if result.error is None or (result.answered and result.error in _BROKEN_CHAIN):
                return await self._judge(target, ctx, host, got, budget)
            if result.answered or result.error not in _NO_SITE:
                return [self._failure(target, result)]
            no_site.append((host, got))
        if all(got.result.error is FetchError.NO_ADDRESS for _, got in no_site):
            return []  # no web address at all: nowhere to publish a file, nothing to report
        hints = await self._http_hints(ctx, [h for h, g in no_site if g.result.address], budget)
        first = no_site[0][1].result
        evidence: dict[str, Any] = {
            "reason": "no_https_site",
            "url": first.url,
            "host": no_site[0][0],
            "https": {host: f"{got.result.error}: {got.result.detail}" for host, got in no_site},
            "hints": hints,
        }
        return [self._missing(target, evidence, f"no HTTPS site on {', '.join(hosts)}")]

    # --- fetching ------------------------------------------------------------------------------

    async def _get(
        self,
        ctx: CheckContext,
        url: str,
        *,
        verify: bool = True,
        redirects: int = MAX_REDIRECTS,
        deadline: float | None = None,
    ) -> FetchResult:
        return await fetch(
            ctx,
            url,
            max_bytes=MAX_BYTES,
            max_redirects=redirects,
            https_only_redirects=url.startswith("https:"),
            verify=verify,
            allowed=self._allowed,
            family=FAMILY,
            deadline=deadline,
        )

    async def _retrieve(self, ctx: CheckContext, host: str, url: str) -> Retrieval:
        """From the site visit when it settles it; else verified first, and on a certificate or
        TLS failure once more without verification."""
        visited = await self._from_visit(ctx, host, url)
        if visited is not None:
            return visited
        first = await self._get(ctx, url)
        if first.error not in (FetchError.CERTIFICATE, FetchError.TLS):
            return Retrieval(first)
        second = await self._get(ctx, url, verify=False)
        if second.error is FetchError.TLS and not second.answered:
            return Retrieval(second)  # no TLS spoken at all: the host has no HTTPS site
        return Retrieval(second, certificate_valid=False, tls_problem=first.detail)

    async def _visit(self, ctx: CheckContext, host: str) -> HttpsVisit | None:
        """The run's visit of `host` on its first address (memoised: the tls and web checks
        share it), or None when the run has no such visit for this family to use."""
        if self._allowed is not None or not asks_for_security_txt(ctx):
            return None
        site = await resolve_host(ctx, host)
        if not site.addresses:
            return None
        return await visit_https(ctx, site.addresses[0], host)

    async def _from_visit(self, ctx: CheckContext, host: str, url: str) -> Retrieval | None:
        """The file as the run's visit of the site saw it (`checks._site.website`: asked for on
        the handshake the tls and web checks judge), or None when that does not settle it and
        the file is fetched the usual way: no visit (DNS, connection, handshake failed), a
        redirect to follow, an answer that broke off or was too large to keep, a certificate
        only a client's own policy could judge."""
        visit = await self._visit(ctx, host)
        if visit is None:
            return None
        file = visit.security_txt
        if file is None or file.error is not None or file.truncated or file.redirects:
            return None
        verdict = browser_verdict(visit.modern, host, ctx.now)
        if verdict is None:
            return None
        valid, problem = verdict
        file = dataclasses.replace(file, url=url, final_url=url)
        return Retrieval(file, certificate_valid=valid, tls_problem=problem)

    async def _http_hints(
        self, ctx: CheckContext, hosts: Sequence[str], budget: _Budget
    ) -> list[str]:
        """Does a file exist over plain http? (Only a hint: it does not count.)"""
        for host in hosts:
            deadline = budget.for_hint()
            if deadline is None:
                break
            url = f"http://{host}{WELL_KNOWN_PATH}"
            result = await self._get(ctx, url, redirects=0, deadline=deadline)
            if _is_file(result):
                return ["http_only"]
        return []

    async def _legacy_hint(
        self, ctx: CheckContext, host: str, verify: bool, budget: _Budget
    ) -> list[str]:
        """Does a file exist at the legacy /security.txt? (A hint too, RFC 9116 §2.3.)"""
        visit = await self._visit(ctx, host)
        answer = visit.legacy_security_txt if visit is not None else None
        if answer is not None and not (answer.error or answer.redirects or answer.truncated):
            return ["legacy_location"] if _is_file(answer) else []
        deadline = budget.for_hint()
        if deadline is None:
            return []
        url = f"https://{host}{LEGACY_PATH}"
        result = await self._get(ctx, url, verify=verify, deadline=deadline)
        return ["legacy_location"] if _is_file(result) else []

    # --- judging -------------------------------------------------------------------------------

    async def _judge(
        self, target: ScanTarget, ctx: CheckContext, host: str, got: Retrieval, budget: _Budget
    ) -> list[Observation]:
        result = got.result
        base = _base_evidence(host, got)
        if result.error is not None:
            reason = _BROKEN_CHAIN[result.error]
            return [self._missing(target, base | {"reason": reason}, result.detail)]
        status = result.status
        assert status is not None
        if status == 429:
            return [self._failure(target, result, FailureReason.RATE_LIMITED)]
        if status >= 500:
            return [self._failure(target, result, FailureReason.PROTOCOL)]
        reason = ""
        if status in (404, 410):
            reason = "not_found"
        elif status != 200:
            reason = "status"
        else:
            text = result.body.decode("utf-8", errors="replace")
            if is_blank(text):
                reason = "empty"
            elif looks_like_html(text):
                reason = "html_page"
            elif not has_security_txt_fields(text):
                reason = "not_security_txt"
        if reason:
            hints = await self._legacy_hint(ctx, host, got.certificate_valid, budget)
            hints += await self._http_hints(ctx, [host], budget)
            evidence = base | {"reason": reason, "hints": hints}
            return [self._missing(target, evidence, f"{result.final_url}: {reason} ({status})")]

        validation = validate(
            result.body,
            content_type=result.header("content-type"),
            url=result.url,
            final_url=result.final_url if result.final_url != result.url else None,
            now=ctx.now,
            certificate_valid=got.certificate_valid,
            truncated=result.truncated,
            default_ports=_lab_ports(ctx.settings.ports),
        )
        return self._verdicts(target, base | _validation_evidence(validation), validation)

    def _verdicts(
        self, target: ScanTarget, evidence: dict[str, Any], validation: Validation
    ) -> list[Observation]:
        """`expired` for the date, `invalid` for every other error: one cause, one finding."""
        found: list[Observation] = []
        lines = evidence.pop("error_lines")
        if validation.expired:
            expires = validation.expires.isoformat() if validation.expires else "?"
            found.append(
                EXPIRED.candidate(
                    target.value,
                    evidence
                    | {
                        "errors": ["expired"],
                        "error_lines": [e for e in lines if e["code"] == "expired"],
                    },
                    detail=f"Expires {expires} is in the past",
                )
            )
        other = [code for code in evidence["errors"] if code != "expired"]
        if other:
            found.append(
                INVALID.candidate(
                    target.value,
                    evidence
                    | {
                        "errors": other,
                        "error_lines": [e for e in lines if e["code"] != "expired"],
                    },
                    detail="RFC 9116 errors: " + ", ".join(other),
                )
            )
        return found

    def _missing(self, target: ScanTarget, evidence: dict[str, Any], detail: str) -> Observation:
        return MISSING.candidate(
            target.value,
            evidence,
            detail=detail[:200],
        )

    @staticmethod
    def _failure(
        target: ScanTarget, result: FetchResult, reason: FailureReason | None = None
    ) -> Observation:
        if reason is None:
            reason = result.failure_reason or FailureReason.PROTOCOL
        what = f"status {result.status}" if result.error is None else result.detail
        return CheckFailure(reason, f"{result.final_url}: {what}"[:500], subject=target.value)


# --- evidence ------------------------------------------------------------------------------------


def _is_file(result: FetchResult) -> bool:
    """A 200 whose body is a security.txt (for the hints: legacy location, plain http)."""
    if result.error is not None or result.status != 200:
        return False
    text = result.body.decode("utf-8", errors="replace")
    return not looks_like_html(text) and has_security_txt_fields(text)


def _base_evidence(host: str, got: Retrieval) -> dict[str, Any]:
    result = got.result
    evidence: dict[str, Any] = {
        "url": result.url,
        "final_url": result.final_url,
        "host": host,
        "status": result.status,
        "content_type": result.header("content-type"),
        "certificate_valid": got.certificate_valid,
    }
    if got.tls_problem:
        evidence["tls_problem"] = got.tls_problem[:200]
    if result.truncated:
        evidence["truncated"] = True
        evidence["bytes_read"] = len(result.body)
    if result.redirects:
        evidence["redirects"] = [h.location[:300] for h in result.redirects]
    if result.error is not None:
        evidence["error"] = f"{result.error}: {result.detail}"[:300]
    return evidence


def _validation_evidence(validation: Validation) -> dict[str, Any]:
    """The codes (and where they are), the parsed values the warnings may use."""
    return {
        "errors": list(dict.fromkeys(i.code for i in validation.errors)),
        "error_lines": [i.as_json() for i in validation.errors[:MAX_EVIDENCE_ITEMS]],
        "recommendations": list(dict.fromkeys(i.code for i in validation.recommendations)),
        "unknown_fields": list(validation.unknown_fields[:MAX_EVIDENCE_ITEMS]),
        "contacts": [c[:300] for c in validation.contacts[:MAX_EVIDENCE_ITEMS]],
        "emails": list(validation.mailto_addresses()[:MAX_EVIDENCE_ITEMS]),
        "expires": validation.expires.isoformat() if validation.expires else None,
        "canonical": [c[:300] for c in validation.canonical[:MAX_EVIDENCE_ITEMS]],
        "languages": list(validation.languages[:MAX_EVIDENCE_ITEMS]),
        "signed": validation.signed,
    }


@dataclass(frozen=True, slots=True)
class _Budget:
    """The time the check has left of its own time-out (`check_timeout`).

    The hints (legacy location, plain http) are extras: each gets at most one connect and one
    read time-out, and none is started when that would not leave a margin before the check's
    time-out. A slow server must not make the check lose the verdict it already has.
    """

    ends: float  # time.monotonic() when the orchestrator will give up on this check
    per_hint: float

    MARGIN: ClassVar[float] = 1.0

    @classmethod
    def start(cls, ctx: CheckContext) -> _Budget:
        settings = ctx.settings
        return cls(
            ends=time.monotonic() + settings.check_timeout,
            per_hint=settings.connect_timeout + settings.read_timeout,
        )

    def for_hint(self) -> float | None:
        """The deadline for one more hint fetch, or None when there is no time for it."""
        left = self.ends - time.monotonic() - self.MARGIN
        return min(self.per_hint, left) if left > 0 else None


def _lab_ports(ports: Mapping[str, int]) -> dict[str, int]:
    """The configured ports of http/https, which count as the schemes' default ports: in a lab
    the file's Canonical names `https://host:43031/...` for what is `https://host/...` here."""
    return {scheme: port for scheme, port in ports.items() if scheme in ("http", "https")}


def emails_from_evidence(evidence: Mapping[str, Any]) -> tuple[str, ...]:
    """The e-mail addresses a security.txt finding's evidence names as security contacts,
    in the file's priority order (for the warnings: where to send a warning)."""
    emails = evidence.get("emails") or ()
    return tuple(e for e in emails if isinstance(e, str) and "@" in e)
