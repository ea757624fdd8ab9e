"""The run reads its companies a page at a time: it never holds N companies (issue #11)."""

from __future__ import annotations

import asyncio

from sqlalchemy import event

from exposure.contract import TargetKind
from exposure.models import Company, Target
from exposure.store.companies import CompanyStream, active_company_ids, load_companies
from exposure.store.db import session as session_scope


def _world(engine, n: int) -> list[str]:
    ids = [f"c{i:03d}" for i in range(n)]
    with session_scope(engine) as session:
        for cid in reversed(ids):  # stored out of order: the scan order is by id
            session.add(Company(id=cid, name=f"Company {cid}", email=f"{cid}@example.test"))
        session.flush()
        for cid in ids:
            session.add(Target(company_id=cid, kind="domain", value=f"{cid}.example.test"))
            session.add(Target(company_id=cid, kind="ip", value="192.0.2.7"))
    return ids


def _reads_of_companies(engine) -> list[int]:
    """How many SELECTs on the company table the engine has run (a list to read from later)."""
    seen = [0]

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM company" in statement:
            seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    return seen


def test_ids_are_the_active_companies_in_id_order(store_engine):
    ids = _world(store_engine, 5)
    with session_scope(store_engine) as session:
        session.get(Company, "c002").active = False
    assert active_company_ids(store_engine, None) == ["c000", "c001", "c003", "c004"]
    assert active_company_ids(store_engine, ["c004", "c002", "c001"]) == ["c001", "c004"]
    page = load_companies(store_engine, [ids[4], ids[2], ids[0]])  # the given order, c002 left out
    assert [c.id for c in page] == ["c004", "c000"]
    assert [(t.kind, t.value) for t in page[0].targets] == [
        (TargetKind.DOMAIN, "c004.example.test"),
        (TargetKind.IP, "192.0.2.7"),
    ]
    assert page[1].name == "Company c000"


async def test_the_stream_reads_one_page_ahead_not_the_whole_run(store_engine):
    ids = _world(store_engine, 10)
    reads = _reads_of_companies(store_engine)
    stream = CompanyStream(store_engine, ids, page=3)
    seen: list[str] = []
    reads_when: list[int] = []
    async for company in stream:
        await asyncio.sleep(0.01)  # let the read ahead finish, as a scan would
        seen.append(company.id)
        reads_when.append(reads[0])
    assert seen == ids
    # while the first page is scanned the second is read, never more: 4 pages, 4 reads
    assert reads_when[0] == 2 and reads_when[3] == 3 and reads_when[-1] == 4
    assert stream.missing == 0


async def test_companies_gone_during_the_run_are_left_out_and_counted(store_engine):
    ids = _world(store_engine, 6)
    stream = CompanyStream(store_engine, ids, page=2)
    seen: list[str] = []
    async for company in stream:
        seen.append(company.id)
        if company.id == "c000":  # c004 is in a page not read yet
            with session_scope(store_engine) as session:
                session.get(Company, "c004").active = False
    assert seen == ["c000", "c001", "c002", "c003", "c005"]
    assert stream.missing == 1


async def test_a_scan_that_stops_early_leaves_no_read_behind(store_engine):
    ids = _world(store_engine, 6)
    stream = CompanyStream(store_engine, ids, page=2)
    async for company in stream:
        assert company.id == "c000"
        break
    await asyncio.sleep(0.05)  # the read ahead was cancelled: no "never retrieved" warnings
    assert stream.missing == 0
