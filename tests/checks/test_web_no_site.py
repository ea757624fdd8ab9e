"""`web.site.none`: a domain whose apex and `www.` have no address has no website. The web check
says so (inventory, severity info, never a problem), so that a report can say "geen website
gevonden" instead of passing a site nobody could visit; through the real testbed DNS, in both
directions, and resolved when a site appears."""

from __future__ import annotations

import pytest

from exposure.app.harness import Lab
from exposure.catalogue import CATALOGUE, Harm
from exposure.severity import Severity
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec

NO_SITE = "web.site.none"

AREA = Area(
    companies=[
        CompanySpec(
            "1001", "Bakkerij Haven", "info@bakkerij.test", domains=[DomainSpec("bakkerij.test")]
        ),
        CompanySpec(
            "1002",
            "Koelhuis Noord",
            "info@koelhuis.test",
            # mail, no website: no A/AAAA on the apex nor on www.
            domains=[DomainSpec("koelhuis.test", site=None, mx=["10 mx.koelhuis.test"])],
        ),
        CompanySpec(
            "1005",
            "Scheepswerf",
            "info@werf.test",
            domains=[DomainSpec("werf.test", site=None, dns="timeout")],
        ),
    ]
)


@pytest.fixture
async def lab(tmp_path):
    async with Testbed(AREA) as tb:
        lab = Lab(tb, tmp_path)
        yield lab
        lab.close()


def test_it_is_inventory_not_a_problem():
    entry = CATALOGUE[NO_SITE]
    assert entry.severity is Severity.INFO and entry.harm is Harm.NONE


async def test_reported_for_a_domain_without_any_site_only(lab):
    outcome = await lab.scan(checks=["tls", "web"], dns_timeout=0.3, dns_tries=1)
    assert outcome.subjects_with(NO_SITE) == {"koelhuis.test"}
    (row,) = [f for f in outcome.findings if f.check_id == NO_SITE]
    assert row.severity == "info" and row.family == "web"
    assert row.evidence["hosts"] == ["koelhuis.test", "www.koelhuis.test"]
    # the tls family says nothing there, and no "could not test" is invented for it
    assert not [
        f for f in outcome.findings if f.target.endswith("koelhuis.test") and f.check_id != NO_SITE
    ]
    assert not [e for e in outcome.errors if e.target.endswith("koelhuis.test")]
    # DNS that does not answer is could-not-test, never "no website"
    assert "werf.test" not in outcome.subjects_with(NO_SITE)
    assert {e.reason for e in outcome.errors if "werf.test" in e.target} == {"dns_error"}


async def test_a_domain_that_does_not_exist_is_not_a_domain_without_a_site(tmp_path):
    """A lapsed registration (NXDOMAIN) gets `target.unresolvable` only: "no website" there would
    say the same thing twice, and a second finding would count twice."""
    lapsed = Area(
        companies=[
            CompanySpec(
                "1003",
                "Havenlogistiek",
                "info@lapsed.test",
                domains=[DomainSpec("lapsed.test", nxdomain=True)],
            )
        ]
    )
    async with Testbed(lapsed) as tb:
        lab = Lab(tb, tmp_path)
        try:
            outcome = await lab.scan(checks=["target", "web"], dns_timeout=0.3, dns_tries=1)
        finally:
            lab.close()
    assert {f.check_id for f in outcome.findings} == {"target.unresolvable"}
    assert not outcome.errors


async def test_a_site_that_appears_resolves_it(lab):
    await lab.scan(checks=["web"], dns_timeout=0.3, dns_tries=1)
    lab.testbed.records.add("koelhuis.test", "A", "127.0.0.9")
    try:
        outcome = await lab.scan(checks=["web"], dns_timeout=0.3, dns_tries=1)
    finally:
        lab.testbed.records.remove("koelhuis.test", "A")
    assert NO_SITE not in {f.check_id for f in outcome.findings if f.status == "open"}
    assert outcome.summary.stats.resolved >= 1
