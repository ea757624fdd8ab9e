"""Issue #22's "done when", on the testbed's discovery scenario and a real store (SQLite and
PostgreSQL): discovery proposes exactly the planted hosts (the VPN gateway's name and address,
the camera found only through SPF) and none of the decoys (shared hosting, CDN edge, wildcard
names); a rejection keeps a host out for good; a confirmation makes a discovered target; the
auto-confirm rule confirms only a name that is provably the member's."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from exposure.discovery.run import DONE_MARK
from exposure.discovery.service import run_discovery
from exposure.models import SourceCache, Target
from exposure.store.db import session
from exposure.store.discovery import confirm, list_hosts, reject
from exposure.testbed.area_discovery import KADE, decoys, expected
from exposure.testbed.runner import Testbed
from tests.exposure.discovery.scenario_lab import import_members, settings


def proposals(engine: Engine, state: str = "proposed") -> set[tuple[str, str, str]]:
    with session(engine) as db:
        return {(h.company_id, h.kind, h.value) for h in list_hosts(db, states=[state])}


async def test_discovery_proposes_exactly_the_planted_hosts(
    tb: Testbed, store_engine: Engine, tmp_path: Path
) -> None:
    import_members(tb, store_engine, tmp_path)
    report = await run_discovery(settings(tb, store_engine), store_engine)
    outcome = report.outcome
    assert outcome.failures == [] and outcome.not_reached == []
    assert proposals(store_engine) == expected(tb)
    found = {value for _, _, value in proposals(store_engine)}
    assert not found & decoys(tb)
    assert outcome.dropped >= 2  # the shared server and the CDN edge were seen and left out
    assert tb.shodan is not None and tb.shodan.counters.rate_limited == 0

    with session(store_engine) as db:
        hosts = {h.value: h for h in list_hosts(db)}
    vpn = hosts["vpn.noorderhaven-sleep.test"]
    assert vpn.sources == ["ct", "dns", "shodan"]
    camera = hosts[tb.address("kade-office")]
    assert camera.sources == ["dns"] and "ip4:" in camera.evidence["dns"]["spf"]

    # the Meldpunt rejects the camera (say the owner said "not ours") and confirms the VPN
    with session(store_engine) as db:
        assert camera.id is not None and vpn.id is not None
        reject(db, camera.id, by="meldpunt", note="not ours")
        confirm(db, vpn.id, by="meldpunt")
    again = await run_discovery(settings(tb, store_engine), store_engine)
    assert again.outcome.rejected_ignored == 1 and again.outcome.proposed == 0
    assert (KADE, "ip", tb.address("kade-office")) in proposals(store_engine, "rejected")
    with session(store_engine) as db:
        origins = {t.value: t.origin for t in db.exec(select(Target))}
    assert origins["vpn.noorderhaven-sleep.test"] == "discovered"
    assert tb.address("kade-office") not in origins
    # the second run asked CT and Shodan nothing: their answers came from the store's cache
    assert tb.ct is not None and tb.ct.counters.requests == 3


async def test_auto_confirm_takes_only_names_that_are_provably_the_members(
    tb: Testbed, store_engine: Engine, tmp_path: Path
) -> None:
    import_members(tb, store_engine, tmp_path)
    report = await run_discovery(
        settings(tb, store_engine, discovery_auto_confirm=True), store_engine
    )
    assert report.outcome.auto_confirmed == 1
    confirmed = proposals(store_engine, "confirmed")
    assert {v for _, _, v in confirmed} == {"vpn.noorderhaven-sleep.test"}
    # addresses are never confirmed by the rule
    assert {v for _, k, v in proposals(store_engine)} == {
        tb.address("noorderhaven-office"),
        tb.address("kade-office"),
    }


async def test_a_source_down_is_could_not_test_and_proposes_nothing_from_it(
    tb: Testbed, store_engine: Engine, tmp_path: Path
) -> None:
    import_members(tb, store_engine, tmp_path)
    assert tb.ct is not None and tb.shodan is not None
    tb.ct.outage = 503
    tb.shodan.outage = 502
    report = await run_discovery(settings(tb, store_engine), store_engine)
    assert {f.source for f in report.outcome.failures} == {"ct", "shodan"}
    assert not report.outcome.complete
    # each company's could-not-test is kept with its look (and it is not "done" for a resume)
    with session(store_engine) as db:
        marks = {
            m.key: m for m in db.exec(select(SourceCache).where(SourceCache.source == DONE_MARK))
        }
    assert {m.status for m in marks.values()} == {206}
    assert {f["source"] for f in marks[KADE].payload["failures"]} == {"ct", "shodan"}
    # what the member's DNS shows is still proposed; nothing more
    assert proposals(store_engine) == {
        t for t in expected(tb) if t[2] != tb.address("noorderhaven-office")
    }
