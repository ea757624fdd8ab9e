"""A company's web sites as the TLS and web checks see them: which hosts, and one HTTPS visit each.

Which hosts (the issue, after internet.nl): for a registered domain, the apex and `www.` when
they resolve, each over every A and AAAA address it has; the worst address counts. Plain IP
targets get no web or TLS check: without a host name there is no SNI to ask for and no
certificate name to hold the server to (a PTR name is not evidence of what the company uses).

One visit per (address, host): the modern probe (TLS 1.2-1.3) with `GET /` on the same
connection, then the legacy probe (TLS 1.0-1.1, also with `GET /`, so that a server that only
speaks legacy TLS is still looked at over one handshake). Both are memoised by the TLS probe,
so the TLS check and the web check share them: a site costs one handshake, plus one refused
legacy ClientHello (two handshakes when it still accepts legacy TLS).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exposure.net.dns import DnsStatus
from exposure.net.http import FetchResult, fetch_over_stream
from exposure.net.scope import in_scope
from exposure.net.tls import Offer, Outcome, ProbeFailure, Rejection, TlsResult, probe

if TYPE_CHECKING:
    from exposure.contract import CheckContext

PURPOSE = "https-get"
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


async def site_hosts(ctx: CheckContext, domain: str) -> tuple[SiteHost, ...]:
    """The apex and www of `domain` that resolve (or whose DNS could not be decided)."""
    hosts = await asyncio.gather(*(_resolve(ctx, name) for name in host_names(domain)))
    return tuple(h for h in hosts if h.addresses or h.skipped or h.dns_error)


async def _resolve(ctx: CheckContext, name: str) -> SiteHost:
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
class HttpsVisit:
    """The modern and legacy probes of one host on one address, and what they mean together."""

    host: str
    address: str
    port: int
    url: str
    modern: TlsResult
    legacy: TlsResult | None  # None when the modern probe could not even connect

    @property
    def handshake(self) -> TlsResult | None:
        """The accepted handshake to judge the certificate on (modern first)."""
        if self.modern.accepted:
            return self.modern
        if self.legacy is not None and self.legacy.accepted:
            return self.legacy
        return None

    @property
    def page(self) -> FetchResult | None:
        """The answer to `GET /` on the accepted handshake, if any."""
        shake = self.handshake
        if shake is None or not isinstance(shake.exchange, FetchResult):
            return None
        return shake.exchange

    @property
    def page_error(self) -> str:
        shake = self.handshake
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


async def visit_https(ctx: CheckContext, address: str, host: str) -> HttpsVisit:
    """Probe `host` on `address` (memoised per run through the TLS probe)."""
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

    modern = await probe(
        ctx, address, port, host, offer=Offer.MODERN, exchange=get, purpose=PURPOSE
    )
    legacy: TlsResult | None = None
    if modern.outcome is not Outcome.FAILED:
        legacy = await probe(
            ctx, address, port, host, offer=Offer.LEGACY, exchange=get, purpose=PURPOSE
        )
    return HttpsVisit(host, address, port, url, modern, legacy)
