"""security.txt over the site visit's connection, proven against the check's own fetch.

When a run has the securitytxt family, the site visit that the tls and web checks share asks
for `/.well-known/security.txt` on its handshake (`checks._site.website`), and the check takes
the file from there instead of opening a connection of its own. That must change the cost and
nothing else: every variant of the security.txt corpus gets the same verdict, reason, codes,
hints and contacts either way, the file costs no handshake of its own, and a server that closes
after the first answer still gets its home page judged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from checks.securitytxt.check import SecurityTxtCheck
from checks.tls.check import TlsCheck
from checks.web.check import WebCheck
from exposure.contract import (
    CheckFailure,
    FindingCandidate,
    Observation,
    ScanTarget,
    TargetKind,
    wants_of,
)
from exposure.net.tls import tls_stats
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec, Route, SiteSpec, security_txt
from tests.checks.test_securitytxt_check import PATIENT, VARIANTS, WK
from tests.support import scan_context

pytestmark = pytest.mark.asyncio(loop_scope="module")

ALL = wants_of([SecurityTxtCheck(), TlsCheck(), WebCheck()])
SITES = wants_of([TlsCheck(), WebCheck()])
CLOSING = DomainSpec(
    "closing.test",
    site=SiteSpec(
        routes={
            WK: Route(
                body=security_txt(),
                content_type="text/plain; charset=utf-8",
                headers=(("Connection", "close"),),
            )
        }
    ),
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tb() -> AsyncIterator[Testbed]:
    companies = [
        CompanySpec(v.company, v.company, f"info@{v.domain.name}", domains=[v.domain])
        for v in VARIANTS
    ]
    companies.append(CompanySpec("closing", "closing", "info@closing.test", domains=[CLOSING]))
    async with Testbed(Area(companies=companies), shodan=False) as bed:
        yield bed


def _verdict(observations: list[Observation]) -> list[tuple[Any, ...]]:
    """What a report or a warning can tell from the check's answer (no timings, no URLs with
    the testbed's ports, no TLS library's wording)."""
    out: list[tuple[Any, ...]] = []
    for o in observations:
        if isinstance(o, CheckFailure):
            out.append(("could not test", str(o.reason)))
            continue
        assert isinstance(o, FindingCandidate)
        e = o.evidence
        out.append(
            (
                o.check_id,
                e.get("reason"),
                tuple(e.get("errors", ())),
                tuple(e.get("hints", ())),
                e.get("certificate_valid"),
                tuple(e.get("contacts", ())),
                e.get("status"),
                e.get("truncated"),
            )
        )
    return out


async def _run(tb: Testbed, domain: str, wants: frozenset[str]) -> list[Observation]:
    async with scan_context(tb, wants=wants, **PATIENT) as ctx:
        target = ScanTarget("x", TargetKind.DOMAIN, domain)
        return list(await SecurityTxtCheck().run(target, ctx))


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.company)
async def test_the_visit_and_the_fetch_give_the_same_verdict(tb: Testbed, variant: Any):
    fetched = await _run(tb, variant.domain.ascii, frozenset())
    visited = await _run(tb, variant.domain.ascii, ALL)
    assert _verdict(visited) == _verdict(fetched)


@pytest.mark.parametrize("domain", ["valid.test", "none.test", "legacy-only.test"])
async def test_the_file_costs_no_handshake_of_its_own(tb: Testbed, domain: str):
    """Valid, missing (the legacy-location hint asked too), and only at the legacy location."""
    target = ScanTarget("x", TargetKind.DOMAIN, domain)

    async def handshakes(wants: frozenset[str], checks: tuple[Any, ...]) -> int:
        before = tb.counters().tls_handshakes
        async with scan_context(tb, wants=wants, **PATIENT) as ctx:
            for check in checks:
                await check.run(target, ctx)
        after = tb.counters().tls_handshakes
        return sum(after.get(k, 0) - before.get(k, 0) for k in after if k.endswith(domain))

    sites = await handshakes(SITES, (TlsCheck(), WebCheck()))
    alone = await handshakes(frozenset(), (SecurityTxtCheck(),))
    shared = await handshakes(ALL, (TlsCheck(), WebCheck(), SecurityTxtCheck()))
    assert alone >= 1  # fetched on its own, the file needs a handshake
    assert shared == sites  # over the visit, none beyond the sites' own


async def test_a_server_that_closes_after_the_file_still_has_its_page_judged(tb: Testbed):
    target = ScanTarget("closing", TargetKind.DOMAIN, "closing.test")
    async with scan_context(tb, wants=ALL, **PATIENT) as ctx:
        web = list(await WebCheck().run(target, ctx))
        file = list(await SecurityTxtCheck().run(target, ctx))
    assert file == []  # the valid file, read over the visit
    assert not [o for o in web if isinstance(o, CheckFailure)], web
    async with scan_context(tb, wants=wants_of([WebCheck()]), **PATIENT) as ctx:
        alone = list(await WebCheck().run(target, ctx))
    assert sorted(o.check_id for o in web if isinstance(o, FindingCandidate)) == sorted(
        o.check_id for o in alone if isinstance(o, FindingCandidate)
    )


async def test_alone_the_check_fetches_the_file_and_probes_nothing(tb: Testbed):
    """Without the tls or web family nobody visits the site: the check must not start a visit
    (a modern and a legacy handshake) only for the file."""
    target = ScanTarget("x", TargetKind.DOMAIN, "valid.test")
    async with scan_context(tb, wants=wants_of([SecurityTxtCheck()]), **PATIENT) as ctx:
        assert await SecurityTxtCheck().run(target, ctx) == []
        assert (await tls_stats(ctx)).total == 0
    async with scan_context(tb, wants=ALL, **PATIENT) as ctx:
        assert await SecurityTxtCheck().run(target, ctx) == []
        assert (await tls_stats(ctx)).total > 0  # with the visitors in the run, over the visit
