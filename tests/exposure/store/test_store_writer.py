"""The single writer: batches, back-pressure, isolation of a bad result, a free event loop."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest
from sqlalchemy import event
from sqlmodel import select

from exposure.models import RunCompany
from exposure.scan.results import CompanyResult
from exposure.store.db import session
from exposure.store.runs import pending_companies
from exposure.store.writer import STORE_ERROR, StoreWriter
from tests.conftest import T0, StoreWorld

IDS = {"mail.spf.missing"}


@pytest.fixture
def world(store_world: StoreWorld) -> StoreWorld:
    for i in range(6):
        store_world.add_company(f"c{i}", f"bedrijf{i}.nl")
    return store_world


def results(world: StoreWorld, run: int, companies: range = range(6)) -> list[CompanyResult]:
    return [
        world.result(
            run,
            f"c{i}",
            world.outcome(
                f"bedrijf{i}.nl",
                "mail",
                IDS,
                world.candidate("mail.spf.missing", f"bedrijf{i}.nl", "high"),
            ),
        )
        for i in companies
    ]


def done(world: StoreWorld, run: int) -> list[str]:
    with session(world.engine) as db:
        return sorted(
            db.exec(
                select(RunCompany.company_id)
                .where(RunCompany.run_id == run)
                .where(RunCompany.status == "done")
            )
        )


async def test_results_are_written_in_one_transaction_per_batch(world: StoreWorld) -> None:
    run = world.new_run()
    async with StoreWriter(world.engine, batch_size=50, batch_seconds=0.2) as writer:
        for result in results(world, run):
            await writer.submit(result)
    assert writer.batches == 1
    assert writer.stats.companies == 6
    assert writer.stats.new == 6
    assert writer.stats.new_by_severity == {"high": 6}
    assert writer.failures == []
    assert len(world.findings()) == 6
    assert done(world, run) == [f"c{i}" for i in range(6)]
    assert world.run(run).companies_done == 6


async def test_batches_are_bounded(world: StoreWorld) -> None:
    run = world.new_run()
    writer = StoreWriter(world.engine, batch_size=4, batch_seconds=5)
    await writer.start()
    for result in results(world, run):
        await writer.submit(result)
    await writer.close()  # does not wait for the 5 s: closing flushes the partial batch
    assert writer.batches == 2
    assert writer.stats.companies == 6


async def test_a_bad_result_does_not_take_the_others_with_it(world: StoreWorld) -> None:
    run = world.new_run()
    good = results(world, run)
    bad = world.result(
        run,
        "c3",
        world.outcome(
            "bedrijf3.nl", "mail", IDS, world.candidate("mail.spf.missing", "x", "bogus")
        ),
    )
    async with StoreWriter(world.engine, batch_seconds=0.2) as writer:
        for result in [*good[:3], bad, *good[4:]]:
            await writer.submit(result)

    assert done(world, run) == ["c0", "c1", "c2", "c4", "c5"]
    assert [(f.company_id, f.run_id) for f in writer.failures] == [("c3", run)]
    assert "bogus" in writer.failures[0].error
    assert writer.stats.companies == 5
    assert writer.stats.errors_by_reason == {STORE_ERROR: 1}
    # recorded in the run: a store error, and the company left for a resumed run
    [error] = world.errors(run)
    assert (error.company_id, error.check_id, error.reason) == ("c3", "store", STORE_ERROR)
    assert world.run(run).errors == 1
    with session(world.engine) as db:
        assert pending_companies(db, run) == ["c3"]
        progress = db.get(RunCompany, (run, "c3"))
        assert progress is not None and progress.status == "failed"


async def test_a_result_for_an_unknown_company_is_reported(world: StoreWorld) -> None:
    run = world.new_run()
    stranger = CompanyResult(run, "nobody", (), T0)
    async with StoreWriter(world.engine, batch_seconds=0.1) as writer:
        await writer.submit(results(world, run)[0])
        await writer.submit(stranger)
    assert [f.company_id for f in writer.failures] == ["nobody"]
    assert done(world, run) == ["c0"]


async def test_back_pressure_and_close_drains(world: StoreWorld) -> None:
    run = world.new_run()
    writer = StoreWriter(world.engine, batch_size=2, batch_seconds=0.05, max_queue=1)
    await writer.start()
    for result in results(world, run):
        await writer.submit(result)  # waits whenever the one queue slot is taken
    await writer.close()
    assert writer.stats.companies == 6
    assert done(world, run) == [f"c{i}" for i in range(6)]


async def test_close_writes_what_was_still_waiting_for_the_queue(world: StoreWorld) -> None:
    run = world.new_run()
    writer = StoreWriter(world.engine, batch_size=1, batch_seconds=0.01, max_queue=1)
    await writer.start()
    submits = [asyncio.create_task(writer.submit(r)) for r in results(world, run)]
    await asyncio.sleep(0)  # one result queued, five submitters waiting for room
    await writer.close()
    await asyncio.gather(*submits)
    assert writer.stats.companies == 6
    assert done(world, run) == [f"c{i}" for i in range(6)]


async def test_flush_waits_for_what_was_submitted(world: StoreWorld) -> None:
    run = world.new_run()
    async with StoreWriter(world.engine, batch_seconds=0.05) as writer:
        await writer.submit(results(world, run)[0])
        await writer.flush()
        assert done(world, run) == ["c0"]


async def test_the_event_loop_keeps_running_while_the_database_works(world: StoreWorld) -> None:
    """The writer's database work happens in a thread: a slow write does not stall the loop."""
    run = world.new_run()

    def slow_clock() -> datetime:
        time.sleep(0.1)  # blocking, like a slow disk or a busy PostgreSQL
        return T0

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    started = time.monotonic()
    async with StoreWriter(world.engine, batch_seconds=0.01, clock=slow_clock) as writer:
        for result in results(world, run, range(3)):
            await writer.submit(result)
    elapsed = time.monotonic() - started
    ticking.cancel()
    assert writer.stats.companies == 3
    assert elapsed >= 0.3
    assert ticks >= 10  # a blocked loop would have ticked about once


async def test_submit_needs_a_running_writer(world: StoreWorld) -> None:
    writer = StoreWriter(world.engine)
    result = results(world, world.new_run())[0]
    with pytest.raises(RuntimeError, match="start"):
        await writer.submit(result)
    await writer.start()
    await writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        await writer.submit(result)
    await writer.close()  # twice is fine


async def test_a_batch_costs_a_few_statements_whatever_its_size(world: StoreWorld) -> None:
    """One SELECT of findings and one of run rows for the whole batch, then a few writes: not
    statements per company or per finding (issue #11: the writer competes with the loop)."""
    first = world.new_run()
    async with StoreWriter(world.engine, batch_size=50, batch_seconds=0.2) as writer:
        for result in results(world, first):
            await writer.submit(result)

    statements: list[str] = []

    def record(*args: object) -> None:  # before_cursor_execute(conn, cursor, statement, ...)
        statements.append(str(args[2]))

    second = world.new_run()
    event.listen(world.engine, "before_cursor_execute", record)
    try:
        async with StoreWriter(world.engine, batch_size=50, batch_seconds=0.2) as writer:
            for result in results(world, second):  # six companies, each seen again
                await writer.submit(result)
            for result in results(world, second, range(2)):  # and two applied a second time
                await writer.submit(result)
    finally:
        event.remove(world.engine, "before_cursor_execute", record)

    assert writer.batches == 1
    assert (writer.stats.companies, writer.stats.seen, writer.stats.new) == (8, 8, 0)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # the batch's findings and run rows, then again for the two companies applied twice
    assert len([s for s in selects if "FROM finding" in s]) == 2, selects
    assert len(selects) == 4, selects
    assert len(statements) <= 20, statements
    assert world.run(second).companies_done == 6
    assert done(world, second) == [f"c{i}" for i in range(6)]
    assert all(f.last_run_id == second for f in world.findings())


async def test_the_same_company_twice_in_a_batch_sees_its_first_result(world: StoreWorld) -> None:
    """As in two transactions: the second result finds the first's findings and the company
    done (counted once), whatever the batching."""
    run = world.new_run()
    result = results(world, run, range(1))[0]
    async with StoreWriter(world.engine, batch_size=50, batch_seconds=0.2) as writer:
        await writer.submit(result)
        await writer.submit(result)
    assert writer.batches == 1
    assert (writer.stats.companies, writer.stats.new, writer.stats.seen) == (2, 1, 1)
    [finding] = world.findings()
    assert world.events(finding.id) == ["opened"]
    scan = world.run(run)
    assert (scan.companies_done, scan.findings_new, scan.checks_run) == (1, 1, 2)


async def test_results_of_two_runs_in_one_batch(world: StoreWorld) -> None:
    first, second = world.new_run(), world.new_run()
    async with StoreWriter(world.engine, batch_size=50, batch_seconds=0.2) as writer:
        for result in [*results(world, first, range(3)), *results(world, second, range(2, 6))]:
            await writer.submit(result)
    assert writer.batches == 1
    assert (writer.stats.new, writer.stats.seen) == (6, 1)  # c2 in both runs
    assert done(world, first) == ["c0", "c1", "c2"]
    assert done(world, second) == ["c2", "c3", "c4", "c5"]
    assert (world.run(first).companies_done, world.run(first).findings_new) == (3, 3)
    assert (world.run(second).companies_done, world.run(second).findings_new) == (4, 3)
