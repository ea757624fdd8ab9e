"""The demo port area's exposures, as `exposure demo` shows them (InternetDB only, no key) and
with a key: each company gets exactly the `exposure.*` ids the demo's EXPECTED lists."""

from __future__ import annotations

import pytest

from exposure.testbed.area_demo import EXPECTED, demo_area
from tests.checks.shodan_lab import lookalike, scan, shodan_lab


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch, tmp_path):
    import os

    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def _problems(ids: set[str]) -> set[str]:
    return {i for i in ids if i.startswith("exposure.") and i != "exposure.service"}


@pytest.mark.parametrize("key", [True, False], ids=["api-key", "internetdb-only"])
async def test_the_demo_area_exposures(tmp_path, key):
    async with shodan_lab(demo_area(), tmp_path) as lab:
        outcome = await scan(lab, key=key)
        found = outcome.ids_by_company()
        for company_id, expected in EXPECTED.items():
            assert _problems(found.get(company_id, set())) == _problems(set(expected)), company_id
        assert lookalike(lab).counters.rate_limited == 0
        # the shared hosting servers of the demo carry no device: nothing is reported there
        hosting = lab.testbed.address("haven-hosting-1")
        assert hosting not in {r.target for r in outcome.findings}
