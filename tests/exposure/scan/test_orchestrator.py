"""The orchestrator's guarantees, end to end through the real store (SQLite and PostgreSQL).

The checks here are small test checks with known behaviour (raise, hang, emit what a test says),
so that the engine's rules are what is under test: siblings survive, failures are recorded as
"could not test", the lifecycle moves as DESIGN.md says, a run resumes after an interruption.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import ClassVar

import pytest
from sqlmodel import select

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
from exposure.models import CheckError, Company, Finding, FindingEvent, ScanRun, Target
from exposure.registry import Registry
from exposure.scan.orchestrator import Orchestrator
from exposure.settings import load_settings
from exposure.severity import Severity
from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from exposure.text import Text


def _spec(finding_id: str, severity: Severity) -> FindingSpec:
    t = Text(nl="x", en="x")
    return FindingSpec(finding_id, severity, Text(nl=finding_id, en=finding_id), t, t, t)


def _meta(family: str, *ids: tuple[str, Severity]) -> CheckMeta:
    return CheckMeta(
        id=family,
        title=Text(nl=family, en=family),
        description=Text(nl=family, en=family),
        target_kinds=frozenset({TargetKind.DOMAIN, TargetKind.IP}),
        sources=frozenset({Source.DNS}),
        findings=tuple(_spec(i, s) for i, s in ids),
    )


class Scripted:
    """Emits exactly what the test puts in `emit[target value]`; `gate` can hold it back."""

    meta: ClassVar[CheckMeta] = _meta(
        "web", ("web.https.missing", Severity.HIGH), ("web.hsts.missing", Severity.LOW)
    )

    def __init__(self) -> None:
        self.emit: dict[str, list[str]] = {}
        self.calls: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        self.calls.append(target.value)
        gate = self.gates.get(target.value)
        if gate is not None:
            await gate.wait()
        return [
            FindingCandidate(check_id=i, subject=target.value, severity=Severity.HIGH)
            for i in self.emit.get(target.value, [])
        ]


class Raises:
    meta: ClassVar[CheckMeta] = _meta("mail", ("mail.spf.missing", Severity.HIGH))

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        raise RuntimeError("the check has a bug")


class Hangs:
    meta: ClassVar[CheckMeta] = _meta("tls", ("tls.cert.expired", Severity.HIGH))

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        await asyncio.sleep(3600)
        return []


class PerIpProbe:
    meta: ClassVar[CheckMeta] = _meta("shodan", ("exposure.service", Severity.INFO))

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        async with ctx.limits.ip("192.0.2.10"):
            self.active += 1
            self.peak = max(self.peak, self.active)
            await asyncio.sleep(0.01)
            self.active -= 1
        return []


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _companies(engine, n: int, *, ip: str | None = None) -> list[str]:
    ids = [f"c{i:03d}" for i in range(n)]
    with session_scope(engine) as session:
        for cid in ids:
            session.add(Company(id=cid, name=f"Company {cid}", email=f"{cid}@example.test"))
        session.flush()
        for cid in ids:
            session.add(Target(company_id=cid, kind="domain", value=f"{cid}.example.test"))
            if ip:
                session.add(Target(company_id=cid, kind="ip", value=ip))
    return ids


def _orchestrator(engine, database_url: str, *checks, **settings) -> Orchestrator:
    values = {"database": database_url, "check_timeout": 0.5, "resolvers": "127.0.0.1:9"} | settings
    return Orchestrator(load_settings(**values), Registry(tuple(checks)), engine)


def _findings(engine) -> dict[tuple[str, str], str]:
    with session_scope(engine) as session:
        return {(f.target, f.check_id): f.status for f in session.exec(select(Finding)).all()}


async def test_a_raising_and_a_hanging_check_do_not_stop_their_siblings(engine, database_url):
    _companies(engine, 3)
    scripted = Scripted()
    scripted.emit = {f"c{i:03d}.example.test": ["web.https.missing"] for i in range(3)}
    orch = _orchestrator(engine, database_url, scripted, Raises(), Hangs())
    summary = await asyncio.wait_for(orch.scan(), timeout=10)
    assert summary.status == "complete"
    assert summary.stats.new == 3
    assert summary.stats.errors_by_reason == {"bug": 3, "timeout": 3}
    with session_scope(engine) as session:
        errors = session.exec(select(CheckError)).all()
        assert sorted({(e.check_id, e.reason) for e in errors}) == [
            ("mail", "bug"),
            ("tls", "timeout"),
        ]
        assert all("the check has a bug" in e.message for e in errors if e.reason == "bug")
        # failures are not findings
        assert {f.check_id for f in session.exec(select(Finding)).all()} == {"web.https.missing"}


async def test_the_hang_costs_only_its_timeout(engine, database_url):
    _companies(engine, 20)
    orch = _orchestrator(engine, database_url, Scripted(), Hangs(), check_timeout=0.3)
    loop = asyncio.get_running_loop()
    start = loop.time()
    summary = await orch.scan()
    # 20 companies hanging concurrently: bounded by the timeout, not 20 x the timeout
    assert loop.time() - start < 3.0
    assert summary.stats.errors_by_reason == {"timeout": 20}


async def test_lifecycle_new_seen_resolved_reopened(engine, database_url):
    _companies(engine, 1)
    host = "c000.example.test"
    check = Scripted()
    orch = _orchestrator(engine, database_url, check)

    check.emit = {host: ["web.https.missing", "web.hsts.missing"]}
    s1 = await orch.scan()
    assert (s1.stats.new, s1.stats.resolved) == (2, 0)
    with session_scope(engine) as session:
        first = {f.check_id: (f.first_seen, f.last_seen) for f in session.exec(select(Finding))}

    s2 = await orch.scan()
    assert (s2.stats.new, s2.stats.resolved, s2.stats.reopened) == (0, 0, 0)
    with session_scope(engine) as session:
        for f in session.exec(select(Finding)):
            assert f.first_seen == first[f.check_id][0]
            assert f.last_seen >= first[f.check_id][1]
            assert f.last_run_id == s2.run_id

    check.emit = {host: ["web.hsts.missing"]}
    s3 = await orch.scan()
    assert (s3.stats.new, s3.stats.resolved) == (0, 1)
    assert _findings(engine) == {
        (host, "web.https.missing"): "resolved",
        (host, "web.hsts.missing"): "open",
    }

    check.emit = {host: ["web.https.missing", "web.hsts.missing"]}
    s4 = await orch.scan()
    assert (s4.stats.new, s4.stats.reopened, s4.stats.resolved) == (0, 1, 0)
    assert set(_findings(engine).values()) == {"open"}
    with session_scope(engine) as session:
        events = [e.event for e in session.exec(select(FindingEvent).order_by(FindingEvent.id))]
    assert events.count("opened") == 2
    assert events.count("resolved") == 1
    assert events.count("reopened") == 1


async def test_a_check_that_could_not_decide_resolves_nothing(engine, database_url):
    _companies(engine, 1)
    host = "c000.example.test"
    check = Scripted()
    orch = _orchestrator(engine, database_url, check, check_timeout=0.2)
    check.emit = {host: ["web.https.missing"]}
    await orch.scan()
    # the same check now hangs for this host: "could not test" is not "fixed"
    check.emit = {}
    check.gates[host] = asyncio.Event()
    summary = await orch.scan()
    assert summary.stats.resolved == 0
    assert summary.stats.errors_by_reason == {"timeout": 1}
    assert _findings(engine) == {(host, "web.https.missing"): "open"}


async def test_interrupted_run_resumes_and_loses_nothing(engine, database_url):
    ids = _companies(engine, 6)
    check = Scripted()
    check.emit = {f"{cid}.example.test": ["web.https.missing"] for cid in ids}
    # the last two companies block until the run is interrupted
    for cid in ids[4:]:
        check.gates[f"{cid}.example.test"] = asyncio.Event()
    orch = _orchestrator(engine, database_url, check, company_concurrency=2, check_timeout=30)
    task = asyncio.create_task(orch.scan())
    for _ in range(400):
        await asyncio.sleep(0.01)
        if len(_findings(engine)) == 4:
            break
    assert len(_findings(engine)) == 4
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with session_scope(engine) as session:
        run = session.exec(select(ScanRun)).one()
        assert run.status == "interrupted"
        interrupted_id = run.id

    check.gates.clear()
    check.calls.clear()
    summary = await orch.scan()
    assert summary.run_id == interrupted_id
    assert summary.status == "complete"
    assert summary.resumed_done == 4
    assert sorted(check.calls) == [f"{cid}.example.test" for cid in ids[4:]]
    assert len(_findings(engine)) == 6
    with session_scope(engine) as session:
        assert session.exec(select(ScanRun)).one().status == "complete"


async def test_per_ip_limit_holds_across_companies(engine, database_url):
    _companies(engine, 12)
    probe = PerIpProbe()
    orch = _orchestrator(engine, database_url, probe, per_ip_concurrency=2)
    await orch.scan()
    assert probe.peak == 2


async def test_private_ip_targets_are_skipped_unless_allowed(engine, database_url):
    _companies(engine, 1, ip="10.1.2.3")
    check = Scripted()
    check.emit = {"10.1.2.3": ["web.https.missing"]}
    summary = await _orchestrator(engine, database_url, check).scan()
    assert "10.1.2.3" not in check.calls
    assert summary.skipped_out_of_scope == 1
    assert summary.stats.new == 0
    summary = await _orchestrator(engine, database_url, check, allow_private=True).scan()
    assert "10.1.2.3" in check.calls
    assert summary.stats.new == 1


async def test_run_deadline_stops_the_run_and_leaves_it_resumable(engine, database_url):
    ids = _companies(engine, 4)
    check = Scripted()
    check.gates = {f"{cid}.example.test": asyncio.Event() for cid in ids}
    orch = _orchestrator(engine, database_url, check, check_timeout=30, run_deadline=0.3)
    summary = await asyncio.wait_for(orch.scan(), timeout=10)
    assert summary.status == "incomplete"
    # the next scan completes the run the deadline stopped
    check.gates.clear()
    again = await _orchestrator(engine, database_url, check).scan()
    assert again.run_id == summary.run_id
    assert again.status == "complete"
    assert again.companies_scanned == 4
