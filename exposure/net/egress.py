"""Is our own outbound port 25 open? Asked of a few large mail hosts before and during a run.

Most cloud providers block outbound port 25 on a new machine. Without this question every
member's MX host would look unreachable and each member would get `mail.mx.unreachable` on the
first night: a finding about them for a fault of ours. One of the canary hosts (`canary_mx`)
answering with an SMTP greeting proves the way out works; none answering means it does not, and
then the run says so instead of judging mail servers (`exposure.scan.health`).

Only the greeting is read, then QUIT: the same as any mail server does before sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from dataclasses import dataclass

from exposure.net.dns import AiodnsResolver, DnsStatus, Resolver
from exposure.settings import Settings


@dataclass(frozen=True, slots=True)
class EgressResult:
    ok: bool
    detail: str


async def _greeting(
    host: str, port: int, settings: Settings, resolver: Resolver
) -> tuple[bool, str]:
    """(answered, what happened) for one canary host."""
    address = host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        answer = await resolver.resolve(host, "A")
        if answer.status is not DnsStatus.OK or not answer.records:
            return False, f"{host}: no address ({answer.status})"
        address = str(answer.records[0])
    try:
        async with asyncio.timeout(settings.connect_timeout):
            reader, writer = await asyncio.open_connection(address, port)
    except TimeoutError:
        return False, f"{host}: connect timed out"
    except OSError as exc:
        return False, f"{host}: {exc.strerror or type(exc).__name__}"
    try:
        async with asyncio.timeout(settings.read_timeout):
            line = await reader.readline()
        if len(line) >= 3 and line[:3].isdigit():
            writer.write(b"QUIT\r\n")
            return True, f"{host} greeted on port {port}"
        return False, f"{host}: closed without an SMTP greeting"
    except TimeoutError:
        return False, f"{host}: no greeting within {settings.read_timeout:g} s"
    except OSError as exc:
        return False, f"{host}: {exc.strerror or type(exc).__name__}"
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def probe_smtp_egress(settings: Settings, resolver: Resolver | None = None) -> EgressResult:
    """Greet the canary mail hosts at once; one answer is enough."""
    own = resolver is None
    dns = resolver or AiodnsResolver(
        settings.resolver_addresses(), timeout=settings.dns_timeout, tries=settings.dns_tries
    )
    port = settings.port("smtp")
    started = time.perf_counter()
    try:
        results = await asyncio.gather(
            *(_greeting(host, port, settings, dns) for host in settings.canary_mx)
        )
    finally:
        if own and isinstance(dns, AiodnsResolver):
            await dns.close()
    took = f"{(time.perf_counter() - started) * 1000:.0f} ms"
    answered = [detail for ok, detail in results if ok]
    if answered:
        return EgressResult(True, f"outbound port {port} works: {answered[0]} ({took})")
    details = "; ".join(detail for _, detail in results)
    return EgressResult(
        False,
        f"outbound port {port} looks blocked: no canary mail host answered ({details}); "
        "ask the provider to open it, set `canary_mx`, or set `smtp_probes = false` to scan "
        "without the mail servers' STARTTLS",
    )
