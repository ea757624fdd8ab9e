"""The TLS probe against real testbed servers: each certificate defect on its own axis, the
protocol versions, the forms of refusal, could-not-test, STARTTLS, the memo and politeness."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from checks._site.website import visit_https
from exposure.contract import CheckContext, ScanTarget, TargetKind
from exposure.net.certs import describe, matches_host
from exposure.net.tls import (
    Offer,
    Outcome,
    ProbeFailure,
    Rejection,
    StartTlsUnavailable,
    probe,
    tls_stats,
)
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec, SiteSpec
from exposure.testbed.smtp import MailHostSpec
from tests.support import scan_context

SHARED = "shared"
DEFECTS = [
    "valid",
    "expired",
    "not_yet_valid",
    "expiring",
    "wrong_host",
    "self_signed",
    "unknown_ca",
    "missing_intermediate",
    "weak_key",
    "sha1",
    "ec",
]
VERSIONS = {"v-modern": "1.2+", "v-legacy": "1.0-1.1", "v-mixed": "1.0-1.3", "v-13": "1.3"}


def _area() -> Area:
    domains = [DomainSpec(f"{d.replace('_', '-')}.test", site=SiteSpec(cert=d)) for d in DEFECTS]
    domains += [DomainSpec(f"{n}.test", site=SiteSpec(tls=v)) for n, v in VERSIONS.items()]
    domains += [
        DomainSpec("hang.test", site=SiteSpec(hang=True)),
        DomainSpec("reset.test", site=SiteSpec(reset=True)),
        DomainSpec("nohttps.test", site=SiteSpec(https=False)),
        DomainSpec("one.test", a=[SHARED], site=SiteSpec()),
        DomainSpec("two.test", a=[SHARED], site=SiteSpec(cert="expired")),
        DomainSpec("three.test", a=[SHARED], site=SiteSpec(tls="1.0-1.3")),
    ]
    mail = [
        MailHostSpec("mx-good.test"),
        MailHostSpec("mx-plain.test", starttls=False),
        MailHostSpec.legacy("mx-legacy.test"),
    ]
    return Area(
        companies=[CompanySpec("1", "Probe BV", "a@b.test", domains=domains)], mail_hosts=mail
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tb() -> AsyncIterator[Testbed]:
    async with Testbed(_area(), shodan=False) as bed:
        yield bed


@pytest_asyncio.fixture(loop_scope="module")
async def ctx(tb: Testbed) -> AsyncIterator[CheckContext]:
    async with scan_context(tb, connect_timeout=0.5, read_timeout=0.5) as context:
        yield context


pytestmark = pytest.mark.asyncio(loop_scope="module")


def ip_of(tb: Testbed, host: str) -> str:
    assert tb.layout is not None
    if host in tb.layout.mail_hosts:
        ip = tb.layout.mail_hosts[host].ip
        assert ip is not None
        return ip
    found = tb.layout.host_site(host)
    assert found is not None
    return found.ip


# --- certificates: one axis per defect ------------------------------------------------------

#: defect -> (trusted, expired, not yet valid, expiring, host matches, weak key, weak signature)
AXES = {
    "valid": (True, False, False, False, True, False, False),
    "expired": (True, True, False, False, True, False, False),
    "not_yet_valid": (True, False, True, False, True, False, False),
    "expiring": (True, False, False, True, True, False, False),
    "wrong_host": (True, False, False, False, False, False, False),
    "self_signed": (False, False, False, False, True, False, False),
    "unknown_ca": (False, False, False, False, True, False, False),
    "missing_intermediate": (False, False, False, False, True, False, False),
    "weak_key": (True, False, False, False, True, True, False),
    "sha1": (True, False, False, False, True, False, True),
    "ec": (True, False, False, False, True, False, False),
}


@pytest.mark.parametrize("defect", DEFECTS)
async def test_each_defect_is_judged_on_its_own_axis(tb: Testbed, ctx: CheckContext, defect):
    host = f"{defect.replace('_', '-')}.test"
    result = await probe(ctx, ip_of(tb, host), tb.ports["https"], host)
    assert result.outcome is Outcome.ACCEPTED, result
    assert result.version == "TLSv1.3" and result.cipher
    assert result.leaf is not None and result.trust is not None
    info = describe(result.leaf)
    seen = (
        result.trust.trusted,
        info.expired(ctx.now),
        info.not_yet_valid(ctx.now),
        info.expiring(ctx.now),
        matches_host(result.leaf, host),
        info.weak_key,
        info.weak_signature,
    )
    assert seen == AXES[defect], (defect, result.trust)


async def test_chain_as_sent_and_why_it_is_untrusted(tb: Testbed, ctx: CheckContext):
    port = tb.ports["https"]
    valid = await probe(ctx, ip_of(tb, "valid.test"), port, "valid.test")
    assert len(valid.chain) == 2 and len(valid.trust.path) == 3  # leaf, intermediate, root
    missing = await probe(
        ctx, ip_of(tb, "missing-intermediate.test"), port, "missing-intermediate.test"
    )
    assert len(missing.chain) == 1
    assert missing.trust.problem == "issuer_not_found"
    assert "intermediate" in missing.trust.detail
    selfsigned = await probe(ctx, ip_of(tb, "self-signed.test"), port, "self-signed.test")
    assert selfsigned.trust.problem == "self_signed"


async def test_weak_certificates_are_seen_not_refused(tb: Testbed, ctx: CheckContext):
    """OpenSSL's default security level refuses RSA-1024 and SHA-1; the probe must not."""
    for host in ("weak-key.test", "sha1.test"):
        result = await probe(ctx, ip_of(tb, host), tb.ports["https"], host)
        assert result.accepted and result.trust.trusted, result


# --- protocol versions and refusals ---------------------------------------------------------


async def test_protocol_versions(tb: Testbed, ctx: CheckContext):
    port = tb.ports["https"]
    got = {}
    for name in VERSIONS:
        host = f"{name}.test"
        modern = await probe(ctx, ip_of(tb, host), port, host, offer=Offer.MODERN)
        legacy = await probe(ctx, ip_of(tb, host), port, host, offer=Offer.LEGACY)
        got[name] = (modern.version, legacy.version)
        for refused in (r for r in (modern, legacy) if not r.accepted):
            assert refused.outcome is Outcome.REJECTED and refused.rejection is not None
            assert refused.failure is None  # "not accepted", not an error
    assert got == {
        "v-modern": ("TLSv1.3", None),
        "v-legacy": (None, "TLSv1.1"),
        "v-mixed": ("TLSv1.3", "TLSv1.1"),
        "v-13": ("TLSv1.3", None),
    }


async def test_hang_reset_refused_and_out_of_scope(tb: Testbed, ctx: CheckContext):
    port = tb.ports["https"]
    started = time.perf_counter()
    hang = await probe(ctx, ip_of(tb, "hang.test"), port, "hang.test")
    assert time.perf_counter() - started < 2.5  # connect_timeout 0.5 s for the handshake
    assert (hang.outcome, hang.failure) == (Outcome.FAILED, ProbeFailure.TIMEOUT)
    reset = await probe(ctx, ip_of(tb, "reset.test"), port, "reset.test")
    assert (reset.outcome, reset.rejection) == (Outcome.REJECTED, Rejection.RESET)
    refused = await probe(ctx, ip_of(tb, "nohttps.test"), port, "nohttps.test")
    assert (refused.outcome, refused.failure) == (Outcome.FAILED, ProbeFailure.REFUSED)
    async with scan_context(tb, allow_private=False) as strict:
        before = tb.counters().tls_total
        scoped = await probe(strict, ip_of(tb, "valid.test"), port, "valid.test")
        assert (scoped.outcome, scoped.failure) == (Outcome.FAILED, ProbeFailure.OUT_OF_SCOPE)
        assert (await tls_stats(strict)).total == 0
        assert tb.counters().tls_total == before


async def test_visit_verdicts_for_dead_hosts(tb: Testbed, ctx: CheckContext):
    hang = await visit_https(ctx, ip_of(tb, "hang.test"), "hang.test")
    assert hang.undecided and hang.legacy is None and not hang.no_https
    reset = await visit_https(ctx, ip_of(tb, "reset.test"), "reset.test")
    assert reset.undecided and not reset.no_https
    nohttps = await visit_https(ctx, ip_of(tb, "nohttps.test"), "nohttps.test")
    assert nohttps.no_https and not nohttps.undecided
    legacy = await visit_https(ctx, ip_of(tb, "v-legacy.test"), "v-legacy.test")
    assert legacy.handshake is legacy.legacy and legacy.page is not None
    assert legacy.page.status == 200 and legacy.page.tls_version == "TLSv1.1"


# --- SNI on a shared address ----------------------------------------------------------------


async def test_sni_selects_each_hosts_certificate_on_a_shared_ip(tb: Testbed, ctx: CheckContext):
    shared = ip_of(tb, "one.test")
    assert shared == ip_of(tb, "two.test") == ip_of(tb, "three.test")
    port = tb.ports["https"]
    one, two = await asyncio.gather(
        probe(ctx, shared, port, "one.test"), probe(ctx, shared, port, "two.test")
    )
    assert matches_host(one.leaf, "one.test") and not describe(one.leaf).expired(ctx.now)
    assert matches_host(two.leaf, "two.test") and describe(two.leaf).expired(ctx.now)
    three = await probe(ctx, shared, port, "three.test", offer=Offer.LEGACY)
    assert three.accepted  # per-host versions on one IP


# --- the memo and the counters --------------------------------------------------------------


async def test_same_probe_twice_is_one_handshake(tb: Testbed, ctx: CheckContext):
    tb.reset_counters()
    ip, port = ip_of(tb, "valid.test"), tb.ports["https"]
    first, second = await asyncio.gather(
        probe(ctx, ip, port, "valid.test"), probe(ctx, ip, port, "valid.test")
    )
    third = await probe(ctx, ip, port, "VALID.test")
    assert first is second is third
    stats = await tls_stats(ctx)
    assert stats.for_name("valid.test") == 1 and stats.repeated == {}
    assert tb.counters().tls_handshakes == {"valid.test": 1}


async def test_tls_and_web_checks_share_their_handshakes(tb: Testbed, ctx: CheckContext):
    from checks.tls.check import TlsCheck
    from checks.web.check import WebCheck

    tb.reset_counters()
    target = ScanTarget("1", TargetKind.DOMAIN, "v-mixed.test")
    await asyncio.gather(TlsCheck().run(target, ctx), WebCheck().run(target, ctx))
    stats = await tls_stats(ctx)
    assert stats.repeated == {}
    for host in ("v-mixed.test", "www.v-mixed.test"):
        assert stats.for_name(host) == 2  # modern + legacy, each once for both checks
    assert tb.counters().tls_handshakes == {"v-mixed.test": 2, "www.v-mixed.test": 2}


async def test_hooks_need_a_purpose(tb: Testbed, ctx: CheckContext):
    async def noop(reader, writer):
        return None

    with pytest.raises(ValueError, match="purpose"):
        await probe(ctx, "127.0.0.1", 1, None, exchange=noop)


# --- politeness -----------------------------------------------------------------------------


async def test_one_connection_at_a_time_per_ip_for_the_family(
    tb: Testbed, ctx: CheckContext, monkeypatch: pytest.MonkeyPatch
):
    """The family's slot is held for the handshake (the whole connection when there is no
    exchange): never two at once on one address."""
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    real = ctx.limits.family_ip

    @contextlib.asynccontextmanager
    async def watched(family, address):
        async with real(family, address):
            active[address] = active.get(address, 0) + 1
            peak[address] = max(peak.get(address, 0), active[address])
            try:
                yield
            finally:
                active[address] -= 1

    monkeypatch.setattr(ctx.limits, "family_ip", watched)
    shared, port = ip_of(tb, "one.test"), tb.ports["https"]
    await asyncio.gather(
        *(
            probe(ctx, shared, port, host, offer=offer)
            for host in ("one.test", "two.test", "three.test")
            for offer in (Offer.MODERN, Offer.LEGACY)
        )
    )
    assert peak == {shared: 1}


# --- STARTTLS (the hook the mail checks use) ------------------------------------------------


async def _reply(reader: asyncio.StreamReader) -> list[str]:
    lines = []
    while True:
        line = (await reader.readline()).decode("ascii", "replace").rstrip("\r\n")
        if not line:
            raise ConnectionError("connection closed")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return lines


async def smtp_starttls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _reply(reader)
    writer.write(b"EHLO scanner.test\r\n")
    await writer.drain()
    if not any(line[4:].upper().startswith("STARTTLS") for line in await _reply(reader)):
        raise StartTlsUnavailable("STARTTLS not in the EHLO answer")
    writer.write(b"STARTTLS\r\n")
    await writer.drain()
    answer = await _reply(reader)
    if not answer[-1].startswith("220"):
        raise StartTlsUnavailable(answer[-1])


async def test_starttls_hook(tb: Testbed, ctx: CheckContext):
    port = tb.ports["smtp"]
    good = await probe(
        ctx, ip_of(tb, "mx-good.test"), port, "mx-good.test", starttls=smtp_starttls, purpose="smtp"
    )
    assert good.accepted and good.trust.trusted and matches_host(good.leaf, "mx-good.test")
    plain = await probe(
        ctx,
        ip_of(tb, "mx-plain.test"),
        port,
        "mx-plain.test",
        starttls=smtp_starttls,
        purpose="smtp",
    )
    assert plain.outcome is Outcome.NO_TLS and "STARTTLS" in plain.detail
    legacy = await probe(
        ctx,
        ip_of(tb, "mx-legacy.test"),
        port,
        "mx-legacy.test",
        offer=Offer.LEGACY,
        starttls=smtp_starttls,
        purpose="smtp",
    )
    assert legacy.accepted and legacy.version in ("TLSv1", "TLSv1.1")
    assert tb.mail["mx-good.test"].counters.tls_handshakes == 1
