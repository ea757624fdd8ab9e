"""The demo port area: the tls and web families raise exactly what `EXPECTED` lists for them."""

from __future__ import annotations

from pathlib import Path

from exposure.app.harness import Lab
from exposure.testbed.area_demo import EXPECTED, demo_area
from exposure.testbed.runner import Testbed

FAMILIES = ("tls.", "web.")


async def test_demo_companies_get_exactly_their_tls_and_web_findings(tmp_path: Path):
    async with Testbed(demo_area(), shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        outcome = await lab.scan(
            checks=["tls", "web"], connect_timeout=1.0, read_timeout=1.0, dns_timeout=1.0
        )
        lab.close()
    found = outcome.ids_by_company()
    for company_id, expected in EXPECTED.items():
        wanted = {i for i in expected if i.startswith(FAMILIES)}
        assert found.get(company_id, set()) == wanted, company_id
    # the demo's hanging site (Sleepdienst Kuipers) is could-not-test, not a finding or a pass
    assert {e.company_id for e in outcome.errors} == {"58120010"}
    assert {e.reason for e in outcome.errors} == {"timeout"}
