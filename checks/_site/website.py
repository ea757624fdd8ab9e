"""A company's web sites as the TLS and web checks see them: which hosts, and one HTTPS visit each.

Which hosts (the issue, after internet.nl): for a registered domain, the apex and `www.` when
they resolve, each over every A and AAAA address it has; the worst address counts. For a host
that discovery found (`TargetKind.HOST`), only its own name. Plain IP
targets get no web or TLS check: without a host name there is no SNI to ask for and no
certificate name to hold the server to (a PTR name is not evidence of what the company uses).

One visit per (address, host): the modern probe (TLS 1.2-1.3) with `GET /` on the same
connection, then the legacy probe (TLS 1.0-1.1, also with `GET /`, so that a server that only
speaks legacy TLS is still looked at over one handshake). Both are memoised by the TLS probe,
so the TLS check and the web check share them: a site costs one handshake, plus one refused
legacy ClientHello (two handshakes when it still accepts legacy TLS).

When a check of the run wants the file from the visit (`CheckMeta.wants` holds `SECURITY_TXT`,
gathered into `CheckContext.wants`) and another visits every site anyway (`SITE`), the modern visit first
asks for `/.well-known/security.txt` on that connection (keep-alive), then, when that is not a
plain-text 200, for the legacy `/security.txt` (the family's hint), and then for `/`: the file
costs one or two requests instead of connections and handshakes of their own. A server that closes
after the first answer gets a second connection for `/` (`purpose` "https-get"): the web check
always has its page to judge.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from exposure.contract import TargetKind
from exposure.net.certs import describe, matches_host
from exposure.net.dns import DnsStatus
from exposure.net.http import FetchResult, StreamClient, fetch_over_stream
from exposure.net.scope import in_scope
from exposure.net.tls import Offer, Outcome, ProbeFailure, Rejection, TlsResult, probe

if TYPE_CHECKING:
    from exposure.contract import CheckContext, ScanTarget

PURPOSE = "https-get"
PURPOSE_WITH_SECURITY_TXT = "https-get+security.txt"
#: What a check may want from the visit (`CheckMeta.wants`): `SITE`, it visits every site of a
#: domain anyway (the tls and web checks); `SECURITY_TXT`, it would like the file fetched on the
#: visit's connection (the security.txt check).
SITE = "site"
SECURITY_TXT = "security.txt"
SECURITY_TXT_PATH = "/.well-known/security.txt"
LEGACY_SECURITY_TXT_PATH = "/security.txt"  # RFC 9116 §2.3: not a place to publish, a hint
#: What a visit reads of a security.txt answer: the family's cap (RFC 9116 files are a few
#: hundred bytes; a 60 MB answer costs 100 KiB).
SECURITY_TXT_MAX_BYTES = 100 * 1024
#: What a visit keeps of it in the run's probe memo: a body larger than this is dropped (the
#: check then fetches the file itself), so thousands of memoised visits stay small.
SECURITY_TXT_KEEP_BYTES = 16 * 1024
#: The web checks judge the status and headers of `GET /` only. The body is not kept: the visit
#: lives in the run's probe memo, and home pages are often larger than the 64 KiB fetch cap.
VISIT_BODY_BYTES = 0


@dataclass(frozen=True, slots=True)
class SiteHost:
    """One host name of a domain and the addresses a scan may contact.

    `skipped`: addresses left out because they are private/loopback/link-local (without
    `allow_private`). `dns_error`: DNS did not answer (time-out, SERVFAIL): could not decide.
    """

    name: str
    addresses: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    dns_error: str = ""


def host_names(domain: str) -> tuple[str, ...]:
    domain = domain.strip().rstrip(".").lower()
    return (domain,) if domain.startswith("www.") else (domain, f"www.{domain}")


def names_of(target: ScanTarget) -> tuple[str, ...]:
    """The names a target's website may live on: a registered domain's apex and `www.`; a
    discovered host only its own name (`www.vpn.haven.nl` is nobody's website)."""
    if target.kind is TargetKind.HOST:
        return (target.value.strip().rstrip(".").lower(),)
    return host_names(target.value)


async def site_hosts(ctx: CheckContext, target: ScanTarget) -> tuple[SiteHost, ...]:
    """The names of `target` (`names_of`) that resolve (or whose DNS could not be decided)."""
    hosts = await asyncio.gather(*(resolve_host(ctx, name) for name in names_of(target)))
    return tuple(h for h in hosts if h.addresses or h.skipped or h.dns_error)


async def resolve_host(ctx: CheckContext, name: str) -> SiteHost:
    """One host name's A and AAAA addresses (through the run's DNS cache), in that order."""
    answers = await asyncio.gather(ctx.dns.resolve(name, "A"), ctx.dns.resolve(name, "AAAA"))
    addresses: list[str] = []
    for answer in answers:
        if answer.status is DnsStatus.OK:
            addresses.extend(str(r) for r in answer.records if str(r) not in addresses)
    undecided = [a for a in answers if not a.decisive]
    error = ", ".join(f"{a.rdtype}: {a.status}" for a in undecided) if undecided else ""
    allowed = tuple(a for a in addresses if in_scope(a, ctx.settings.allow_private))
    skipped = tuple(a for a in addresses if a not in allowed)
    return SiteHost(name, allowed, skipped, error)


def origin(scheme: str, host: str, port: int) -> str:
    default = 443 if scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}/" if port == default else f"{scheme}://{shown}:{port}/"


@dataclass(frozen=True, slots=True)
class SiteAnswers:
    """What one modern visit asked on its connection: `/` and, maybe, the security.txt."""

    page: FetchResult | None  # None: the connection could not carry a second request
    security_txt: FetchResult | None = None
    legacy_security_txt: FetchResult | None = None  # asked only when the file is not found


@dataclass(frozen=True, slots=True)
class HttpsVisit:
    """The modern and legacy probes of one host on one address, and what they mean together."""

    host: str
    address: str
    port: int
    url: str
    modern: TlsResult
    legacy: TlsResult | None  # None when the modern probe could not even connect
    page_shake: TlsResult | None = None  # a second modern connection for `/` (see module doc)

    @property
    def handshake(self) -> TlsResult | None:
        """The accepted handshake to judge the certificate on (modern first)."""
        if self.modern.accepted:
            return self.modern
        if self.legacy is not None and self.legacy.accepted:
            return self.legacy
        return None

    @property
    def _page_shake(self) -> TlsResult | None:
        shake = self.handshake
        if shake is self.modern and self.page_shake is not None and self.page_shake.accepted:
            return self.page_shake
        return shake

    @property
    def page(self) -> FetchResult | None:
        """The answer to `GET /` on the accepted handshake, if any."""
        shake = self._page_shake
        if shake is None:
            return None
        answer = shake.exchange
        if isinstance(answer, SiteAnswers):
            return answer.page
        return answer if isinstance(answer, FetchResult) else None

    @property
    def security_txt(self) -> FetchResult | None:
        """The answer to `GET /.well-known/security.txt` on the modern handshake, when the
        visit asked for it and kept it (see `SECURITY_TXT_KEEP_BYTES`)."""
        if not self.modern.accepted or not isinstance(self.modern.exchange, SiteAnswers):
            return None
        return self.modern.exchange.security_txt

    @property
    def legacy_security_txt(self) -> FetchResult | None:
        """The answer to `GET /security.txt` on the modern handshake, when the visit asked."""
        if not self.modern.accepted or not isinstance(self.modern.exchange, SiteAnswers):
            return None
        return self.modern.exchange.legacy_security_txt

    @property
    def page_error(self) -> str:
        shake = self._page_shake
        if shake is None:
            return ""
        if shake.exchange_error:
            return shake.exchange_error
        page = self.page
        if page is None:
            return "no answer"
        return f"{page.error}: {page.detail}" if page.error is not None else ""

    @property
    def no_https(self) -> bool:
        """Decisively no working TLS on the HTTPS port: refused, or refused in TLS terms."""
        if self.handshake is not None:
            return False
        if self.modern.failure is ProbeFailure.REFUSED:
            return True
        rejections = [
            r.rejection
            for r in (self.modern, self.legacy)
            if r is not None and r.outcome is Outcome.REJECTED
        ]
        return any(r in (Rejection.ALERT, Rejection.NOT_TLS) for r in rejections)

    @property
    def undecided(self) -> str:
        """Why the HTTPS port could not be judged ("" when it could)."""
        if self.handshake is not None or self.no_https:
            return ""
        if self.modern.outcome is Outcome.FAILED:
            return self.modern.detail or str(self.modern.failure)
        if self.legacy is not None and self.legacy.outcome is Outcome.FAILED:
            return self.legacy.detail or str(self.legacy.failure)
        return "the server reset or closed the connection during every TLS handshake"

    @property
    def undecided_reason(self) -> ProbeFailure | None:
        if not self.undecided:
            return None
        for result in (self.modern, self.legacy):
            if result is not None and result.failure is not None:
                return result.failure
        return None

    @property
    def legacy_accepted(self) -> bool | None:
        """True/False when known; None when the legacy probe could not decide."""
        if self.legacy is None or self.legacy.outcome is Outcome.FAILED:
            return None
        return self.legacy.accepted


async def visit_https(
    ctx: CheckContext, address: str, host: str, *, handshakes_only: bool = False
) -> HttpsVisit:
    """Probe `host` on `address` (memoised per run through the TLS probe).

    `handshakes_only`: the visit's handshakes, without waiting for its HTTP answers (they
    are None): the tls family's verdict needs no more, and its time budget is not spent on a
    slow web server's answers (those count against the web and security.txt families)."""
    port = ctx.port("https")
    url = origin("https", host, port)
    read_timeout = ctx.settings.read_timeout

    async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> FetchResult:
        return await fetch_over_stream(
            reader,
            writer,
            url=url,
            address=address,
            max_bytes=VISIT_BODY_BYTES,
            read_timeout=read_timeout,
        )

    async def get_both(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> SiteAnswers:
        stream = StreamClient(reader, writer, address=address, read_timeout=read_timeout)

        async def get_file(path: str) -> FetchResult:
            answer = await stream.get(
                url.rstrip("/") + path, max_bytes=SECURITY_TXT_MAX_BYTES, keep_alive=True
            )
            if len(answer.body) > SECURITY_TXT_KEEP_BYTES:
                answer = dataclasses.replace(answer, body=b"", truncated=True)
            return answer

        file = await get_file(SECURITY_TXT_PATH)
        legacy: FetchResult | None = None
        if stream.reusable and not _plain_text_200(file):
            legacy = await get_file(LEGACY_SECURITY_TXT_PATH)
        if not stream.reusable:
            return SiteAnswers(None, file, legacy)
        return SiteAnswers(await stream.get(url, max_bytes=VISIT_BODY_BYTES), file, legacy)

    both = asks_for_security_txt(ctx)
    modern = await probe(
        ctx,
        address,
        port,
        host,
        offer=Offer.MODERN,
        exchange=get_both if both else get,
        purpose=PURPOSE_WITH_SECURITY_TXT if both else PURPOSE,
        handshake_only=handshakes_only,
    )
    page_shake: TlsResult | None = None
    answers = modern.exchange
    if isinstance(answers, SiteAnswers) and answers.page is None and not handshakes_only:
        # The server closed after the security.txt answer: `/` on a connection of its own.
        page_shake = await probe(
            ctx, address, port, host, offer=Offer.MODERN, exchange=get, purpose=PURPOSE
        )
    legacy: TlsResult | None = None
    if modern.outcome is not Outcome.FAILED:
        legacy = await probe(
            ctx,
            address,
            port,
            host,
            offer=Offer.LEGACY,
            exchange=get,
            purpose=PURPOSE,
            handshake_only=handshakes_only,
        )
    return HttpsVisit(host, address, port, url, modern, legacy, page_shake)


def asks_for_security_txt(ctx: CheckContext) -> bool:
    """Does this run's site visit ask for security.txt? When a check wants the file and another
    visits every site anyway: alone, the security.txt check fetches its file itself (a visit
    would add a legacy handshake nobody needs)."""
    return SECURITY_TXT in ctx.wants and SITE in ctx.wants


def _plain_text_200(answer: FetchResult) -> bool:
    kind = (answer.header("content-type") or "").split(";")[0].strip().lower()
    return answer.status == 200 and kind == "text/plain"


def browser_verdict(shake: TlsResult, host: str, now: datetime) -> tuple[bool, str] | None:
    """Would a browser (or httpx with verification) accept this handshake's certificate for
    `host`? (valid, why not). None when only the client's own policy could say: a weak key or
    signature, which OpenSSL's security level may or may not refuse."""
    leaf = shake.leaf
    if leaf is None or shake.trust is None:
        return None
    for cert in shake.chain:
        described = describe(cert)
        if described.weak_key or described.weak_signature:
            return None
    info = describe(leaf)
    if info.expired(now):
        return False, f"certificate has expired (notAfter {info.evidence(now)['not_after']})"
    if info.not_yet_valid(now):
        return False, f"certificate is not yet valid (notBefore {info.evidence(now)['not_before']})"
    if not matches_host(leaf, host):
        return False, f"certificate is not valid for {host}"
    if not shake.trust.trusted:
        reason = str(shake.trust.problem) if shake.trust.problem else "untrusted"
        return False, f"certificate verify failed: {reason}: {shake.trust.detail}"
    return True, ""
