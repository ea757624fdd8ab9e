"""The Shodan search's credit budget over several runs, on the testbed's discovery scenario and
a real store: a budget that is not reached searches every company; one that is reached leaves
the rest "could not test" (status 206, nothing retired), and the next runs reach them while the
companies already searched are answered from the cache; a key without credits searches nothing
and retires nothing. Also the order in which a run looks at companies (`look_order`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from exposure.discovery.run import DONE_MARK, look_order
from exposure.discovery.service import run_discovery
from exposure.models import DiscoveredHost, SourceCache
from exposure.store.db import session
from exposure.testbed.runner import Testbed
from exposure.testbed.shodan import DEFAULT_KEY
from tests.exposure.discovery.scenario_lab import import_members, settings


def marks(engine: Engine) -> dict[str, int]:
    with session(engine) as db:
        rows = db.exec(select(SourceCache).where(SourceCache.source == DONE_MARK)).all()
    return {row.key: row.status for row in rows}


def shodan_failures(engine: Engine) -> set[str]:
    """Companies whose last look has a Shodan could-not-test."""
    with session(engine) as db:
        rows = db.exec(select(SourceCache).where(SourceCache.source == DONE_MARK)).all()
    return {r.key for r in rows if any(f["source"] == "shodan" for f in r.payload["failures"])}


def searches(tb: Testbed) -> int:
    assert tb.shodan is not None
    return tb.shodan.counters.requests["search"]


async def test_a_budget_not_reached_searches_every_company(
    tb: Testbed, store_engine: Engine, tmp_path: Path
) -> None:
    companies = import_members(tb, store_engine, tmp_path)
    report = await run_discovery(settings(tb, store_engine), store_engine)
    assert report.outcome.complete
    assert searches(tb) == 2 * len(companies)
    assert set(marks(store_engine).values()) == {200}
    assert any(
        n.startswith(f"shodan: {2 * len(companies)} query credits spent") for n in report.notes
    )


async def test_a_reached_budget_is_resumed_company_by_company(
    tb: Testbed, store_engine: Engine, tmp_path: Path
) -> None:
    companies = import_members(tb, store_engine, tmp_path)
    assert len(companies) == 3
    one_domain = settings(tb, store_engine, discovery_shodan_credits=2)
    searched: list[set[str]] = []
    for night in range(3):
        before = shodan_failures(store_engine) if night else set(companies)
        report = await run_discovery(one_domain, store_engine)
        assert searches(tb) == 2 * (night + 1)  # two credits a run, never more
        reached = before - shodan_failures(store_engine)
        assert len(reached) == 1  # one new company a night, and one not searched before
        searched.append(reached)
        left = len(companies) - night - 1
        assert len(report.outcome.failures) == left
        for failure in report.outcome.failures:
            assert failure.source == "shodan"
            assert "Shodan search credit budget of 2 spent" in failure.message
        assert sorted(marks(store_engine).values()) == [200] * (night + 1) + [206] * left
        assert report.outcome.retired == 0
    assert set().union(*searched) == set(companies)
    assert report.outcome.complete  # the third night: two from the cache, one searched


async def test_a_key_without_credits_searches_nothing_and_retires_nothing(
    tb: Testbed, store_engine: Engine, tmp_path: Path
) -> None:
    import_members(tb, store_engine, tmp_path)
    fresh = settings(tb, store_engine, discovery_cache_days=0)
    assert (await run_discovery(fresh, store_engine)).outcome.complete
    with session(store_engine) as db:  # a month later: whatever is not seen again is retired
        for host in db.exec(select(DiscoveredHost)).all():
            host.last_seen -= timedelta(days=31)
            db.add(host)
    found = hosts(store_engine)
    assert tb.shodan is not None
    tb.shodan.credits[DEFAULT_KEY] = 0
    asked = searches(tb)
    report = await run_discovery(fresh, store_engine)
    assert searches(tb) == asked  # not one search with no credits left
    assert report.outcome.failures and {f.source for f in report.outcome.failures} == {"shodan"}
    assert all("0 left" in f.message for f in report.outcome.failures)
    assert report.outcome.retired == 0
    assert hosts(store_engine) == found
    assert set(marks(store_engine).values()) == {206}


def hosts(engine: Engine) -> dict[str, str]:
    with session(engine) as db:
        return {h.value: h.state for h in db.exec(select(DiscoveredHost)).all()}


def test_look_order_puts_the_companies_not_reached_first(store_engine: Engine) -> None:
    now = datetime(2026, 12, 6, 2, 30)
    with session(store_engine) as db:
        for key, status, hours_ago in (
            ("a-complete-old", 200, 48),
            ("b-complete-new", 200, 1),
            ("c-incomplete-new", 206, 1),
            ("d-incomplete-old", 206, 30),
        ):
            db.add(
                SourceCache(
                    source=DONE_MARK,
                    key=key,
                    fetched_at=now - timedelta(hours=hours_ago),
                    status=status,
                    payload={},
                )
            )
    companies = [(c, ["x.test"]) for c in ("a-complete-old", "b-complete-new", "c-incomplete-new")]
    companies += [("d-incomplete-old", ["x.test"]), ("e-never", ["x.test"])]
    order = [c for c, _ in look_order(store_engine, companies)]
    assert order == [
        "e-never",
        "d-incomplete-old",
        "c-incomplete-new",
        "a-complete-old",
        "b-complete-new",
    ]
