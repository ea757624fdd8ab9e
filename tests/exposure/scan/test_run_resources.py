"""What the orchestrator shares with the workers: `RunResources`, the preflight hook, and a run
that cannot store a company ending incomplete rather than complete."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import ClassVar

import pytest
from sqlmodel import select

from exposure.contract import (
    CheckContext,
    CheckMeta,
    FindingSpec,
    Observation,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.models import Company, RunCompany, ScanRun, Target
from exposure.net.dns import DnsAnswer, DnsStatus
from exposure.registry import Registry
from exposure.scan.limits import Limits
from exposure.scan.orchestrator import Orchestrator, RunResources
from exposure.scan.preflight import SourceDownError
from exposure.settings import load_settings
from exposure.severity import Severity
from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from exposure.text import Text


class Quiet:
    meta: ClassVar[CheckMeta] = CheckMeta(
        id="web",
        title=Text(nl="web", en="web"),
        description=Text(nl="web", en="web"),
        target_kinds=frozenset({TargetKind.DOMAIN}),
        sources=frozenset({Source.DNS}),
        findings=(
            FindingSpec(
                "web.https.missing",
                Severity.HIGH,
                Text(nl="x", en="x"),
                Text(nl="x", en="x"),
                Text(nl="x", en="x"),
                Text(nl="x", en="x"),
            ),
        ),
    )

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        await ctx.dns.resolve(target.value, "A")
        return []


class Counting:
    def __init__(self) -> None:
        self.total = 0

    async def resolve(self, name: str, rdtype: str) -> DnsAnswer:
        self.total += 1
        return DnsAnswer(name, rdtype, DnsStatus.NODATA)


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    with session_scope(engine) as db:
        for cid in ("a", "b"):
            db.add(Company(id=cid, name=cid))
        db.flush()
        for cid in ("a", "b"):
            db.add(Target(company_id=cid, kind="domain", value=f"{cid}.example.test"))
    yield engine
    engine.dispose()


def _settings(tmp_path):
    return load_settings(database=f"sqlite:///{tmp_path / 'r.db'}", resolvers="127.0.0.1:9")


async def test_run_resources_build_the_context_and_close_what_they_opened(tmp_path):
    limits = Limits(3)
    resolver = Counting()
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with RunResources(_settings(tmp_path), resolver=resolver, limits=limits) as resources:
        ctx = resources.ctx
        assert ctx.limits is limits
        await ctx.dns.resolve("x.example.test", "A")
        await ctx.dns.resolve("x.example.test", "A")  # the run's cache answers the second
        assert resources.dns_queries == 1
        assert ctx.dnssec is not None
        waiter = asyncio.ensure_future(ctx.memo.once("test", "forever", forever))
        await started.wait()
        waiter.cancel()  # its caller gives up; the shared work goes on ...
        assert not cancelled.is_set()
    assert cancelled.is_set()  # ... until the run closes what it opened


async def test_a_failing_preflight_starts_no_run(engine, tmp_path):
    async def down() -> None:
        raise SourceDownError("resolver 127.0.0.1:9 did not answer")

    orchestrator = Orchestrator(
        _settings(tmp_path), Registry((Quiet(),)), engine, resolver=Counting(), preflight=down
    )
    with pytest.raises(SourceDownError):
        await orchestrator.scan()
    with session_scope(engine) as db:
        assert db.exec(select(ScanRun)).all() == []


async def test_a_company_the_store_refuses_leaves_the_run_incomplete(engine, tmp_path, monkeypatch):
    import exposure.store.writer as writer_module

    real = writer_module.apply_company_result

    def refuse_b(session, result, run_id, now):
        if result.company_id == "b":
            raise RuntimeError("disk full")
        return real(session, result, run_id, now)

    monkeypatch.setattr(writer_module, "apply_company_result", refuse_b)
    orchestrator = Orchestrator(
        _settings(tmp_path), Registry((Quiet(),)), engine, resolver=Counting()
    )
    summary = await orchestrator.scan()
    assert summary.status == "incomplete"
    with session_scope(engine) as db:
        statuses = {r.company_id: r.status for r in db.exec(select(RunCompany))}
    assert statuses == {"a": "done", "b": "failed"}

    monkeypatch.setattr(writer_module, "apply_company_result", real)
    again = await orchestrator.scan()
    assert (again.run_id, again.status, again.resumed_done) == (summary.run_id, "complete", 1)
