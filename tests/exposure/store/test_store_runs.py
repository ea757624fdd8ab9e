"""Run bookkeeping: new runs, resuming an interrupted one, finishing."""

from __future__ import annotations

import pytest
from sqlmodel import select

from exposure.models import RunCompany, ScanRun
from exposure.store.db import session
from exposure.store.runs import (
    finish_run,
    mark_interrupted,
    pending_companies,
    scope_key,
    start_or_resume_run,
)
from tests.conftest import StoreWorld

SCOPE = {"companies": "all", "checks": ["mail", "tls"]}
COMPANIES = ["c1", "c2", "c3", "c4"]


@pytest.fixture
def world(store_world: StoreWorld) -> StoreWorld:
    for company in [*COMPANIES, "c5"]:
        store_world.add_company(company, f"{company}.nl")
    return store_world


def start(world: StoreWorld, companies: list[str], scope: dict = SCOPE) -> tuple[int, list[str]]:
    with session(world.engine) as db:
        run, pending = start_or_resume_run(db, companies, scope)
        assert run.id is not None
        return run.id, pending


def scan(world: StoreWorld, run: int, *companies: str) -> None:
    for company in companies:
        world.apply(world.result(run, company, world.outcome(f"{company}.nl", "mail", {"m"})))


def progress(world: StoreWorld, run: int) -> dict[str, str]:
    with session(world.engine) as db:
        rows = db.exec(select(RunCompany).where(RunCompany.run_id == run))
        return {row.company_id: row.status for row in rows}


def test_a_new_run_has_every_company_pending(world: StoreWorld) -> None:
    run, pending = start(world, [*COMPANIES, "c2"])  # a duplicate is ignored
    assert pending == COMPANIES
    assert progress(world, run) == dict.fromkeys(COMPANIES, "pending")
    scan_run = world.run(run)
    assert (scan_run.status, scan_run.companies_total, scan_run.scope) == ("running", 4, SCOPE)


def test_an_interrupted_run_resumes_with_the_companies_not_done(world: StoreWorld) -> None:
    run, _ = start(world, COMPANIES)
    scan(world, run, "c1", "c3")
    with session(world.engine) as db:
        mark_interrupted(db, run)
    assert world.run(run).status == "interrupted"

    resumed, pending = start(world, COMPANIES)
    assert resumed == run
    assert pending == ["c2", "c4"]
    scan_run = world.run(run)
    assert scan_run.status == "running"
    assert scan_run.finished_at is None
    assert scan_run.companies_done == 2


def test_a_crashed_run_still_marked_running_resumes_too(world: StoreWorld) -> None:
    run, _ = start(world, COMPANIES)
    scan(world, run, "c2")
    resumed, pending = start(world, COMPANIES)
    assert (resumed, pending) == (run, ["c1", "c3", "c4"])


def test_resuming_appends_new_companies_and_drops_removed_ones(world: StoreWorld) -> None:
    run, _ = start(world, COMPANIES)
    scan(world, run, "c1", "c4")
    resumed, pending = start(world, ["c1", "c2", "c4", "c5"])  # c3 left, c5 joined
    assert resumed == run
    assert pending == ["c2", "c5"]
    assert progress(world, run) == {"c1": "done", "c2": "pending", "c4": "done", "c5": "pending"}
    assert world.run(run).companies_total == 4


def test_a_finished_run_is_not_resumed(world: StoreWorld) -> None:
    run, _ = start(world, COMPANIES)
    scan(world, run, *COMPANIES)
    with session(world.engine) as db:
        finish_run(db, run, "complete", {"new": 0})
    second, pending = start(world, COMPANIES)
    assert second != run
    assert pending == COMPANIES


def test_another_scope_starts_another_run(world: StoreWorld) -> None:
    run, _ = start(world, COMPANIES)
    other, pending = start(world, ["c1"], {"companies": ["c1"], "checks": ["tls"]})
    assert other != run
    assert pending == ["c1"]
    # and the first one is still there to resume
    again, pending = start(world, COMPANIES, {"checks": ["mail", "tls"], "companies": "all"})
    assert (again, pending) == (run, COMPANIES)


def test_only_the_newest_run_of_a_scope_counts(world: StoreWorld) -> None:
    old, _ = start(world, COMPANIES)
    with session(world.engine) as db:
        mark_interrupted(db, old)
        # a later run of the same scope that completed (e.g. started with --no-resume)
        db.add(ScanRun(status="complete", scope=dict(SCOPE)))
    fresh, pending = start(world, COMPANIES)
    assert fresh != old
    assert pending == COMPANIES
    assert world.run(old).status == "interrupted"


def test_finish_run_keeps_the_counters(world: StoreWorld) -> None:
    run, _ = start(world, COMPANIES)
    scan(world, run, "c1", "c2")
    with session(world.engine) as db:
        finished = finish_run(db, run, "incomplete", {"deadline": True})
        assert finished.companies_done == 2
    scan_run = world.run(run)
    assert scan_run.status == "incomplete"
    assert scan_run.finished_at is not None
    assert scan_run.summary == {"deadline": True}
    assert scan_run.companies_done == 2
    with session(world.engine) as db:
        assert pending_companies(db, run) == ["c3", "c4"]


def test_finish_run_refuses_an_unknown_status(world: StoreWorld) -> None:
    run, _ = start(world, COMPANIES)
    with pytest.raises(ValueError, match="unknown final run status"), session(world.engine) as db:
        finish_run(db, run, "done", {})
    with pytest.raises(LookupError), session(world.engine) as db:
        finish_run(db, 9999, "complete", {})


def test_mark_interrupted_leaves_a_finished_run_alone(world: StoreWorld) -> None:
    run, _ = start(world, COMPANIES)
    with session(world.engine) as db:
        finish_run(db, run, "complete", {})
        mark_interrupted(db, run)
    assert world.run(run).status == "complete"


def test_scope_keys_ignore_key_order() -> None:
    assert scope_key({"a": 1, "b": [1, 2]}) == scope_key({"b": [1, 2], "a": 1})
    assert scope_key({"a": [1, 2]}) != scope_key({"a": [2, 1]})
