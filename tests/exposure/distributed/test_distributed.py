"""The distributed mode's rules, with procrastinate's in-memory queue and the real store.

The queue is `procrastinate.testing.InMemoryConnector` (no PostgreSQL for the queue); the store
is SQLite and PostgreSQL (`database_url`). The checks are small scripted ones, so that what is
under test is the bookkeeping: one job per company, a company applied once however often its
job runs, the run finished by the job that stored its last company, failures and deadlines that
leave the run resumable, the nightly schedule and its refusal when the resolver is down.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from procrastinate.testing import InMemoryConnector
from sqlmodel import col, select

from exposure.contract import (
    CheckContext,
    CheckMeta,
    FindingCandidate,
    FindingSpec,
    Observation,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.distributed import bookkeeping, jobs
from exposure.distributed.app import (
    AFTER_RUN_TASK,
    COMPANY_TASK,
    DEADLINE_TASK,
    MAX_ATTEMPTS,
    NIGHTLY_TASK,
    QUEUE,
    ExposureApp,
    make_app,
)
from exposure.distributed.coordinator import start_run
from exposure.models import CheckError, Company, Finding, FindingEvent, RunCompany, ScanRun, Target
from exposure.net.dns import DnsAnswer, DnsStatus
from exposure.registry import Registry
from exposure.settings import load_settings
from exposure.severity import Severity
from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from exposure.text import Text


def _meta() -> CheckMeta:
    t = Text(nl="x", en="x")
    spec = FindingSpec(
        "web.https.missing", Severity.HIGH, Text(nl="geen https", en="no https"), t, t, t
    )
    return CheckMeta(
        id="web",
        title=Text(nl="web", en="web"),
        description=t,
        target_kinds=frozenset({TargetKind.DOMAIN}),
        sources=frozenset({Source.DNS}),
        findings=(spec,),
    )


class Emits:
    """Reports `web.https.missing` on every target whose company id is in `bad`."""

    meta: ClassVar[CheckMeta] = _meta()

    def __init__(self, bad: set[str]) -> None:
        self.bad = bad
        self.calls: list[str] = []

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        self.calls.append(target.company_id)
        if target.company_id in self.bad:
            return [FindingCandidate("web.https.missing", target.value, Severity.HIGH)]
        return []


class Answers:
    """A resolver that answers everything (NODATA): the preflight passes."""

    async def resolve(self, name: str, rdtype: str) -> DnsAnswer:
        return DnsAnswer(name, rdtype, DnsStatus.NODATA)


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _companies(engine, n: int) -> list[str]:
    ids = [f"c{i:03d}" for i in range(n)]
    with session_scope(engine) as db:
        for cid in ids:
            db.add(Company(id=cid, name=f"Company {cid}", email=f"{cid}@example.test"))
        db.flush()
        for cid in ids:
            db.add(Target(company_id=cid, kind="domain", value=f"{cid}.example.test"))
    return ids


def _app(database_url: str, check: Emits, **settings: Any) -> ExposureApp:
    values = {
        "database": database_url,
        "resolvers": "127.0.0.1:9",
        "dns_timeout": 0.2,
        "dns_tries": 1,
        "nightly_cron": "",
        "discovery_sources": "dns",  # nothing here may ask a real CT log or Shodan
    } | settings
    return make_app(
        load_settings(**values),
        connector=InMemoryConnector(),
        registry=Registry((check,)),
        resolver=Answers(),
    )


def _queue(exp: ExposureApp) -> InMemoryConnector:
    connector = exp.app.connector
    assert isinstance(connector, InMemoryConnector)
    return connector


async def _work(exp: ExposureApp) -> None:
    """Run one worker until the queue holds nothing it may start now."""
    try:
        await exp.app.run_worker_async(
            queues=[QUEUE],
            wait=False,
            concurrency=4,
            install_signal_handlers=False,
            listen_notify=False,
        )
    finally:
        await exp.close_state()


def _count(engine, query) -> int:
    with session_scope(engine) as db:
        return len(db.exec(query).all())


async def test_a_run_queues_one_locked_job_per_company_and_only_once(engine, database_url):
    ids = _companies(engine, 5)
    exp = _app(database_url, Emits(set()))
    started = await start_run(exp, engine, exp.registry)
    company_jobs = [j for j in _queue(exp).jobs.values() if j["task_name"] == COMPANY_TASK]
    assert sorted(j["args"]["company_id"] for j in company_jobs) == ids
    assert {j["lock"] for j in company_jobs} == {f"company:{cid}" for cid in ids}
    assert {j["queueing_lock"] for j in company_jobs} == {
        f"scan:{started.run_id}:{cid}" for cid in ids
    }
    deadline = [j for j in _queue(exp).jobs.values() if j["task_name"] == DEADLINE_TASK]
    assert len(deadline) == 1 and deadline[0]["scheduled_at"] is not None

    again = await start_run(exp, engine, exp.registry)
    assert again.run_id == started.run_id  # the same run, resumed
    assert (again.deferred, again.already_queued) == (0, 5)
    assert len(_queue(exp).jobs) == 6  # nothing queued twice, one deadline


async def test_workers_scan_every_company_once_and_the_last_job_finishes_the_run(
    engine, database_url
):
    ids = _companies(engine, 6)
    check = Emits({"c001", "c004"})
    exp = _app(database_url, check)
    started = await start_run(exp, engine, exp.registry)
    await _work(exp)

    assert sorted(check.calls) == ids  # each company scanned once
    run = bookkeeping.get_run(engine, started.run_id)
    assert run is not None and run.status == "complete"
    assert run.summary["mode"] == "distributed"
    assert run.summary["companies_scanned"] == 6
    assert run.summary["findings_new_by_severity"] == {"high": 2}
    assert _count(engine, select(RunCompany).where(RunCompany.status == "done")) == 6
    assert _count(engine, select(Finding)) == 2
    # the finished run's deadline job is gone from the queue (it would wait for hours)
    assert not [j for j in _queue(exp).jobs.values() if j["task_name"] == DEADLINE_TASK]
    # the job that finished the run queued the follow-ups, and a worker runs them
    await _work(exp)
    after = [j for j in _queue(exp).jobs.values() if j["task_name"] == AFTER_RUN_TASK]
    assert [j["status"] for j in after] == ["succeeded"]


async def test_a_job_that_runs_again_changes_nothing(engine, database_url):
    _companies(engine, 2)
    check = Emits({"c000"})
    exp = _app(database_url, check)
    started = await start_run(exp, engine, exp.registry)
    await _work(exp)
    before = _count(engine, select(FindingEvent))

    # a retried job (its worker was thought dead) finds the company done and skips it
    context = SimpleNamespace(job=SimpleNamespace(attempts=1))
    outcome = await jobs.scan_company_job(exp, context, started.run_id, "c000")  # type: ignore[arg-type]
    await exp.close_state()
    assert outcome.startswith("skipped")
    assert check.calls.count("c000") == 1

    # and a result that reaches the store twice (two jobs raced) is applied once
    from exposure.models import utcnow
    from exposure.scan.results import CompanyResult

    result = CompanyResult(started.run_id, "c000", (), utcnow())
    assert bookkeeping.apply_once(engine, result) is None
    assert _count(engine, select(FindingEvent)) == before
    run = bookkeeping.get_run(engine, started.run_id)
    assert run is not None and run.companies_done == 2


async def test_a_company_that_fails_for_good_ends_the_run_incomplete_and_resumable(
    engine, database_url, monkeypatch
):
    _companies(engine, 3)
    exp = _app(database_url, Emits(set()))
    started = await start_run(exp, engine, exp.registry)

    real_apply = bookkeeping.apply_once

    def broken(engine_, result, now=None):
        if result.company_id == "c001":
            raise RuntimeError("the store refused it")
        return real_apply(engine_, result, now)

    monkeypatch.setattr(bookkeeping, "apply_once", broken)
    last_attempt = SimpleNamespace(job=SimpleNamespace(attempts=MAX_ATTEMPTS - 1))
    for cid in ("c000", "c002"):
        await jobs.scan_company_job(exp, last_attempt, started.run_id, cid)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="the store refused it"):
        await jobs.scan_company_job(exp, last_attempt, started.run_id, "c001")  # type: ignore[arg-type]
    await exp.close_state()

    run = bookkeeping.get_run(engine, started.run_id)
    assert run is not None and run.status == "incomplete"
    assert run.summary["companies_failed"] == 1
    with session_scope(engine) as db:
        errors = db.exec(select(CheckError).where(CheckError.run_id == started.run_id)).all()
    assert [(e.company_id, e.reason) for e in errors] == [("c001", "job_failed")]
    assert "the store refused it" in errors[0].message

    # the next scan with the same scope resumes the run and queues only the failed company
    # (the jobs above were run by hand: mark them ended as a worker would have)
    for job in _queue(exp).jobs.values():
        if job["task_name"] == COMPANY_TASK:
            job["status"] = "failed" if job["args"]["company_id"] == "c001" else "succeeded"
    monkeypatch.setattr(bookkeeping, "apply_once", real_apply)
    again = await start_run(exp, engine, exp.registry)
    assert again.run_id == started.run_id
    assert (again.pending, again.deferred) == (1, 1)


async def test_an_earlier_attempt_that_fails_is_left_to_procrastinate_to_retry(
    engine, database_url, monkeypatch
):
    _companies(engine, 1)
    exp = _app(database_url, Emits(set()))
    started = await start_run(exp, engine, exp.registry)
    monkeypatch.setattr(
        bookkeeping, "apply_once", lambda *a, **k: (_ for _ in ()).throw(OSError("gone"))
    )
    first = SimpleNamespace(job=SimpleNamespace(attempts=0))
    with pytest.raises(OSError):
        await jobs.scan_company_job(exp, first, started.run_id, "c000")  # type: ignore[arg-type]
    await exp.close_state()
    assert _count(engine, select(CheckError)) == 0
    assert _count(engine, select(RunCompany).where(RunCompany.status == "pending")) == 1


async def test_the_deadline_stops_the_run_and_cancels_what_waits(engine, database_url):
    _companies(engine, 4)
    check = Emits(set())
    exp = _app(database_url, check)
    started = await start_run(exp, engine, exp.registry)
    assert await jobs.run_deadline_job(exp, started.run_id) == "stopped, 4 jobs cancelled"
    assert not [j for j in _queue(exp).jobs.values() if j["task_name"] == COMPANY_TASK]
    run = bookkeeping.get_run(engine, started.run_id)
    assert run is not None and run.status == "incomplete"
    # a job that slipped through skips: the run is not running
    context = SimpleNamespace(job=SimpleNamespace(attempts=0))
    outcome = await jobs.scan_company_job(exp, context, started.run_id, "c000")  # type: ignore[arg-type]
    await exp.close_state()
    assert outcome == "skipped: run is incomplete"
    assert check.calls == []
    # a second deadline for a finished run does nothing
    assert await jobs.run_deadline_job(exp, started.run_id) == "run already finished"
    await exp.close_state()


async def test_companies_untested_for_our_own_fault_degrade_the_run_and_stay_pending(
    engine, database_url
):
    """Issue 16 (`exposure.scan.health`): a worker whose own source failed stores nothing of a
    company; the run ends `degraded` with the cause, however it ends, and is resumed."""
    _companies(engine, 3)
    exp = _app(database_url, Emits(set()))
    started = await start_run(exp, engine, exp.registry)
    run_id = started.run_id
    cause = "the resolver 127.0.0.1:53 did not answer"
    assert bookkeeping.record_untested(engine, run_id, "c001", {"dns": cause})
    # a resume while the run still runs (every worker gone) queues the untested company again
    for job in _queue(exp).jobs.values():
        if job["task_name"] == COMPANY_TASK:
            job["status"] = "succeeded"
    again = await start_run(exp, engine, exp.registry)
    assert (again.run_id, again.deferred) == (run_id, 3)
    assert _count(engine, select(RunCompany).where(RunCompany.status == "pending")) == 3

    assert bookkeeping.record_untested(engine, run_id, "c002", {"smtp": "port 25 refused"})
    assert bookkeeping.stop_at_deadline(engine, run_id)  # the deadline with one untested
    run = bookkeeping.get_run(engine, run_id)
    assert run is not None and run.status == "degraded"
    assert run.summary["sources_failed"] == {"smtp": "port 25 refused"}
    assert run.summary["companies_untested"] == 1
    assert "outbound SMTP (port 25) failed during the run" in run.summary["error"]
    assert _count(engine, select(RunCompany).where(RunCompany.status == "pending")) == 3

    # the last job of a run finishes it degraded as well
    again = await start_run(exp, engine, exp.registry)
    assert again.run_id == run_id
    from exposure.models import utcnow
    from exposure.scan.results import CompanyResult

    for cid in ("c000", "c001"):
        assert bookkeeping.apply_once(engine, CompanyResult(run_id, cid, (), utcnow()))
    assert bookkeeping.record_untested(engine, run_id, "c002", {"dns": cause})
    assert bookkeeping.finish_if_done(engine, run_id) == "degraded"
    run = bookkeeping.get_run(engine, run_id)
    assert run is not None and run.summary["sources_failed"] == {"dns": cause}
    # what earlier attempts recorded is forgotten once a company is tested (or untested again)
    assert (run.errors, run.summary["errors_by_reason"]) == (1, {"source_unavailable": 1})
    done = select(RunCompany).where(RunCompany.status == "done")
    assert _count(engine, done) == 2
    assert not bookkeeping.record_untested(engine, run_id, "c000", {"dns": cause})  # done


async def test_only_one_of_two_finishers_finishes_the_run(engine, database_url):
    _companies(engine, 1)
    exp = _app(database_url, Emits(set()))
    started = await start_run(exp, engine, exp.registry)
    await _work(exp)
    # the run was finished by the job; finishing again reports nothing
    assert bookkeeping.finish_if_done(engine, started.run_id) is None


def test_the_nightly_run_is_a_periodic_task_on_the_configured_schedule(database_url):
    exp = _app(database_url, Emits(set()), nightly_cron="15 2 * * *")
    periodic = exp.app.periodic_registry.periodic_tasks
    assert [(p.task.name, p.cron) for p in periodic.values()] == [(NIGHTLY_TASK, "15 2 * * *")]
    assert not _app(database_url, Emits(set())).app.periodic_registry.periodic_tasks


async def test_the_nightly_job_starts_a_run_of_every_active_company(engine, database_url):
    ids = _companies(engine, 3)
    exp = _app(database_url, Emits(set()))
    outcome = await jobs.nightly_job(exp, 1_800_000_000)
    await exp.close_state()
    assert outcome.startswith("run 1: 3 companies queued")
    queued = [
        j["args"]["company_id"] for j in _queue(exp).jobs.values() if j["task_name"] == COMPANY_TASK
    ]
    assert sorted(queued) == ids


async def test_the_nightly_job_discovers_first_unless_switched_off(engine, database_url):
    """Issue #22: the nightly job asks the discoverers (here the member's DNS, through the
    worker's resolver) before it queues the run; `discovery_schedule = off` skips it."""
    from exposure.discovery.run import DONE_MARK
    from exposure.models import SourceCache

    _companies(engine, 2)
    exp = _app(database_url, Emits(set()), discovery_schedule="off")
    await jobs.nightly_job(exp, 1_800_000_000)
    await exp.close_state()
    with session_scope(engine) as db:
        assert not db.exec(select(SourceCache).where(SourceCache.source == DONE_MARK)).all()
    exp = _app(database_url, Emits(set()))
    await jobs.nightly_job(exp, 1_800_000_100)
    await exp.close_state()
    with session_scope(engine) as db:
        marks = db.exec(select(SourceCache).where(SourceCache.source == DONE_MARK)).all()
    assert sorted(m.key for m in marks) == ["c000", "c001"]


async def test_the_nightly_job_refuses_to_run_blind(engine, database_url):
    _companies(engine, 2)
    exp = make_app(
        load_settings(
            database=database_url,
            resolvers="127.0.0.1:9",
            dns_timeout=0.2,
            dns_tries=1,
            nightly_cron="",
        ),
        connector=InMemoryConnector(),
        registry=Registry((Emits(set()),)),
    )
    with pytest.raises(RuntimeError, match="did not answer"):
        await jobs.nightly_job(exp, 1_800_000_000)
    await exp.close_state()
    with session_scope(engine) as db:
        runs = db.exec(select(ScanRun).order_by(col(ScanRun.id))).all()
    assert [(r.status, r.scope.get("refused"), r.summary["exit_code"]) for r in runs] == [
        ("failed", True, 4)
    ]
    assert not [j for j in _queue(exp).jobs.values() if j["task_name"] == COMPANY_TASK]


async def test_a_worker_keeps_one_runtime_per_run_and_closes_it_when_the_run_ends(
    engine, database_url
):
    _companies(engine, 5)
    exp = _app(database_url, Emits(set()))
    await start_run(exp, engine, exp.registry)
    opened: list[int] = []
    state = exp.state
    real_open = state._open

    async def counting(run_id, where):
        opened.append(run_id)
        return await real_open(run_id, where)

    state._open = counting  # type: ignore[method-assign]
    await exp.app.run_worker_async(
        queues=[QUEUE],
        wait=False,
        concurrency=2,
        install_signal_handlers=False,
        listen_notify=False,
    )
    assert opened == [1]  # one runtime for the run's five companies
    await asyncio.sleep(0)
    assert state._runs == {}  # closed when the run finished
    await exp.close_state()


# --- politeness across workers (PostgreSQL advisory locks) ---------------------------------------


@pytest.mark.postgres
async def test_per_ip_slots_hold_across_workers(_postgres_database):
    from exposure.distributed.limits import AdvisoryLimits
    from tests.conftest import _conninfo

    info = _conninfo(_postgres_database)
    ip = f"192.0.2.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"  # no other test's key
    workers = [AdvisoryLimits(2, info, poll=0.005, max_poll=0.02) for _ in range(3)]
    for limits in workers:
        await limits.open()
    active = {"ip": 0, "family": 0}
    peak = {"ip": 0, "family": 0}
    by_worker: dict[int, int] = {}

    async def connect(n: int, limits: AdvisoryLimits, family: str | None) -> None:
        kind = "family" if family else "ip"
        slot = limits.family_ip(family, ip) if family else limits.ip(ip)
        async with slot:  # type: ignore[attr-defined]
            active[kind] += 1
            peak[kind] = max(peak[kind], active[kind])
            by_worker[n] = by_worker.get(n, 0) + 1
            await asyncio.sleep(0.01)
            active[kind] -= 1

    try:
        # three workers, each with 8 connections to one address: at most 2 at once in total
        await asyncio.gather(
            *(connect(n, w, None) for n, w in enumerate(workers) for _ in range(8))
        )
        assert peak["ip"] == 2
        assert set(by_worker) == {0, 1, 2}  # every worker got its turn
        # a family's one-connection-per-address rule holds across workers too
        await asyncio.gather(
            *(connect(n, w, "tls") for n, w in enumerate(workers) for _ in range(4))
        )
        assert peak["family"] == 1

        # a worker that dies gives its slots back with its connection
        dying, survivor = workers[0], workers[1]
        held = [dying.ip(ip), dying.ip(ip)]
        for slot in held:
            await slot.__aenter__()  # type: ignore[attr-defined]
        waiting = asyncio.ensure_future(connect(1, survivor, None))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # both slots are taken by the other worker
        assert dying._conn is not None
        await dying._conn.close()  # as when its process is killed
        await asyncio.wait_for(waiting, 2)
        for slot in held:
            await slot.__aexit__(None, None, None)  # type: ignore[attr-defined]

        # a worker with several connections waiting for one address hands the slot from one to
        # the next without asking the database each time
        busy = workers[2]
        before = busy.round_trips
        peak["ip"] = 0
        await asyncio.gather(*(connect(2, busy, None) for _ in range(12)))
        assert peak["ip"] == 2
        assert busy.handovers >= 8
        assert busy.round_trips - before <= 8  # 12 connections, far fewer statements
    finally:
        for limits in workers:
            await limits.close()
