"""`target.unresolvable`, through the real testbed DNS, in both directions."""

from __future__ import annotations

import pytest

from exposure.app.harness import Lab
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec

AREA = Area(
    companies=[
        CompanySpec(
            "1001",
            "Bakkerij Haven",
            "info@bakkerij.test",
            domains=[DomainSpec("bakkerij.test")],  # a site: A record
        ),
        CompanySpec(
            "1002",
            "Koelhuis Noord",
            "info@koelhuis.test",
            domains=[DomainSpec("koelhuis.test", site=None, mx=["10 mx.koelhuis.test"])],
        ),
        CompanySpec(
            "1003",
            "Garage Oost",
            "info@garage.test",
            domains=[DomainSpec("garage-oost.test", nxdomain=True)],
        ),
        CompanySpec(
            "1004",
            "Visgroothandel",
            "info@vis.test",
            # exists (a TXT record) but has no address and no mail server: NODATA
            domains=[DomainSpec("vis.test", site=None, txt=["v=spf1 -all"])],
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


async def test_reported_for_nxdomain_and_nodata_only(lab):
    outcome = await lab.scan(checks=["target"], dns_timeout=0.3, dns_tries=1)
    assert outcome.subjects_with("target.unresolvable") == {"garage-oost.test", "vis.test"}
    by_subject = {r.target: r for r in outcome.findings}
    assert by_subject["garage-oost.test"].detail == "NXDOMAIN"
    assert by_subject["vis.test"].evidence["answers"] == {
        "A": "nodata",
        "AAAA": "nodata",
        "MX": "nodata",
    }


async def test_a_dns_timeout_is_could_not_test_not_a_finding(lab):
    outcome = await lab.scan(checks=["target"], dns_timeout=0.3, dns_tries=1)
    assert "werf.test" not in outcome.subjects_with("target.unresolvable")
    assert [(e.target, e.reason) for e in outcome.errors] == [("werf.test", "dns_error")]


async def test_a_fixed_domain_is_resolved_and_a_lapsed_one_reopens(lab):
    await lab.scan(checks=["target"], dns_timeout=0.3, dns_tries=1)
    lab.testbed.records.add("vis.test", "A", "127.0.0.9")
    outcome = await lab.scan(checks=["target"], dns_timeout=0.3, dns_tries=1)
    assert outcome.summary.stats.resolved == 1
    assert outcome.subjects_with("target.unresolvable") == {"garage-oost.test"}
    lab.testbed.records.remove("vis.test", "A")
    outcome = await lab.scan(checks=["target"], dns_timeout=0.3, dns_tries=1)
    assert outcome.summary.stats.reopened == 1
