"""The client TLS contexts of a scan, one per purpose.

Why several: the scanner must see a server as it is, so the probes that judge certificates and
protocol versions must not refuse what they are meant to report on. OpenSSL's default security
level refuses an RSA-1024 or SHA-1 certificate ("EE certificate key too weak"), and a modern
client offers no TLS 1.0; with such a client a weak key would look like "untrusted" and a legacy
server like "no HTTPS". So:

- `verified_context(settings)`: ordinary strict verification against `ca_bundle` (or the system
  store), for fetches whose content only counts when the server is genuine (security.txt);
- `lax_context()`: no verification and security level 0, TLS 1.2 and 1.3: the "modern" probe
  and fetches that look at HTTP behaviour only (HSTS header, redirects); certificates are judged
  separately, by our own logic (`exposure.net.certs`);
- `legacy_context()`: security level 0, TLS 1.0 and 1.1 only: "does the server still accept
  legacy TLS?" (SSLv3 is compiled out of modern OpenSSL and cannot be offered).

No ALPN is set: the probe contexts also serve STARTTLS (SMTP), where an HTTP ALPN has no place,
and a server that is offered no ALPN speaks HTTP/1.1, which is what `exposure.net.http` speaks.

Making a context costs a little (the verified one parses the whole trust store), so contexts are
made once per run (`contexts(ctx)`) and shared; an `SSLContext` is safe to share between
connections.
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exposure.net.certlimit import allow_certificates

if TYPE_CHECKING:
    from exposure.contract import CheckContext
    from exposure.settings import Settings

#: Everything OpenSSL can still do, including SHA-1 signatures and small keys.
PERMISSIVE_CIPHERS = "ALL:@SECLEVEL=0"


def verified_context(settings: Settings) -> ssl.SSLContext:
    """Strict verification (host name included) against the configured trust store."""
    if settings.ca_bundle is not None:
        ctx = ssl.create_default_context(cafile=str(settings.ca_bundle))
    else:
        ctx = ssl.create_default_context()
    allow_certificates(ctx)
    return ctx


def _unverified(minimum: ssl.TLSVersion, maximum: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(PERMISSIVE_CIPHERS)
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated: that is why we look for them
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
    allow_certificates(ctx)
    return ctx


def lax_context() -> ssl.SSLContext:
    """TLS 1.2-1.3, no verification, security level 0 (see the module docstring)."""
    return _unverified(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)


def legacy_context() -> ssl.SSLContext:
    """TLS 1.0-1.1 only, no verification, security level 0: the legacy-protocol probe."""
    return _unverified(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)


def wide_context() -> ssl.SSLContext:
    """TLS 1.0-1.3, no verification, security level 0: a fetch that must work on any server."""
    return _unverified(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_3)


@dataclass(frozen=True, slots=True)
class ClientContexts:
    """The run's client contexts (see the module docstring for which is for what)."""

    verified: ssl.SSLContext
    lax: ssl.SSLContext
    legacy: ssl.SSLContext
    wide: ssl.SSLContext


def build_contexts(settings: Settings) -> ClientContexts:
    return ClientContexts(
        verified=verified_context(settings),
        lax=lax_context(),
        legacy=legacy_context(),
        wide=wide_context(),
    )


async def contexts(ctx: CheckContext) -> ClientContexts:
    """The run's contexts, made on first use and shared through the run memo."""

    async def make() -> ClientContexts:
        return await asyncio.to_thread(build_contexts, ctx.settings)

    return await ctx.memo.once("net.sslcontexts", "all", make)
