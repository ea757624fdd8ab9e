"""The orchestrator: company by company, every applicable (target, check) pair as a task.

Bounded everywhere, so that a slow or hostile host costs its own time-out and nothing else: a
global limit on checks in flight, a limit on companies in flight (which also keeps memory flat:
companies stream through, a run's observations are never all in memory), a per-IP limit that
checks take when they connect, a per-check time-out and a deadline for the whole run. A check's
exception or time-out becomes a `CheckFailure` with a reason, never a finding and never a pass.

`scan_company` is the unit of work. The embedded mode drives it here; the distributed mode
(procrastinate workers) calls the same coroutine as its job body.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from exposure.contract import (
    Check,
    CheckContext,
    CheckFailure,
    FailureReason,
    FindingCandidate,
    Observation,
    ScanTarget,
    Source,
    wants_of,
)
from exposure.memo import RunMemo
from exposure.models import RunStatus
from exposure.net.dns import AiodnsResolver, CachingResolver, DnspythonResolver, Resolver
from exposure.net.scope import target_in_scope
from exposure.net.tls import tls_summary
from exposure.registry import Registry
from exposure.scan.canaries import preflight_sources, watch_sources
from exposure.scan.health import RunHealth, unavailable_outcome
from exposure.scan.limits import Limits
from exposure.scan.metering import CpuMeter, metered
from exposure.scan.progress import NullProgress, ProgressSink
from exposure.scan.results import ApplyStats, CompanyResult, TaskOutcome
from exposure.settings import Settings
from exposure.sources.shodan import ShodanSource
from exposure.store import runs as store_runs
from exposure.store.companies import CompanySnapshot, CompanyStream, active_company_ids
from exposure.store.db import session as session_scope
from exposure.store.exhaustion import StoreExhaustedError, cause_of, detail_of
from exposure.store.source_cache import StoreAnswerCache
from exposure.store.source_pace import key_gate
from exposure.store.writer import StoreWriter

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(slots=True)
class RunSummary:
    run_id: int
    status: str
    companies_total: int
    companies_scanned: int
    resumed_done: int
    checks_run: int
    duration: float
    stats: ApplyStats
    open_by_severity: dict[str, int] = field(default_factory=dict)
    skipped_out_of_scope: int = 0
    cpu_by_family: dict[str, float] = field(default_factory=dict)
    store_cpu: float = 0.0
    dns_queries: int = 0
    sources: dict[str, Any] = field(default_factory=dict)  # e.g. shodan: mode, requests
    tls: dict[str, float] = field(default_factory=dict)  # handshakes (exposure.net.tls)
    # our own sources that failed (exposure.scan.health): source -> cause; the run is then degraded
    sources_failed: dict[str, str] = field(default_factory=dict)
    untested: int = 0  # companies left pending because a source of ours failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "companies_total": self.companies_total,
            "companies_scanned": self.companies_scanned,
            "resumed_done": self.resumed_done,
            "checks_run": self.checks_run,
            "duration_seconds": round(self.duration, 3),
            "findings_new": self.stats.new,
            "findings_new_by_severity": dict(self.stats.new_by_severity),
            "findings_resolved": self.stats.resolved,
            "findings_reopened": self.stats.reopened,
            "open_by_severity": dict(self.open_by_severity),
            "errors": self.stats.errors,
            "errors_by_reason": dict(self.stats.errors_by_reason),
            "skipped_out_of_scope": self.skipped_out_of_scope,
            "cpu_seconds_by_family": {k: round(v, 4) for k, v in self.cpu_by_family.items()},
            "cpu_seconds_store": round(self.store_cpu, 4),
            "dns_queries": self.dns_queries,
            "sources": self.sources,
            "tls": dict(self.tls),
            **(
                {
                    "sources_failed": dict(self.sources_failed),
                    "companies_untested": self.untested,
                    "error": "; ".join(self.sources_failed.values()),
                }
                if self.sources_failed
                else {}
            ),
        }


class Runtime:
    """What one run shares between its companies: the context, the slots, the meters."""

    def __init__(
        self,
        ctx: CheckContext,
        checks: Sequence[Check],
        settings: Settings,
        health: RunHealth | None = None,
    ) -> None:
        self.ctx = ctx
        self.checks = tuple(checks)
        self.health = health or RunHealth()
        self.needs = {c.meta.id: c.meta.sources for c in self.checks}
        # what each family cannot start without, and what it can do without (CheckMeta.partial)
        self.hard = {c.meta.id: c.meta.hard_sources for c in self.checks}
        self.partial = {c.meta.id: c.meta.partial for c in self.checks}
        self.settings = settings
        self.slots = asyncio.Semaphore(settings.concurrency)
        self.cpu = CpuMeter()
        self.checks_run = 0
        self.skipped: Counter[str] = Counter()
        self.titles = {spec.id: spec.title.en for c in self.checks for spec in c.meta.findings}


_Runtime = Runtime  # the name it had before the distributed workers shared it


def _answer_cache(engine: Engine | None) -> StoreAnswerCache | None:
    """Where sources keep answers across runs: the store, when the run has one."""
    return StoreAnswerCache(engine) if engine is not None else None


#: Why the mail servers' STARTTLS was not tested when the operator switched port 25 off.
SMTP_OFF = (
    "not tested: this scanner does not connect to port 25 (smtp_probes = false; "
    "the mail server checks need outbound port 25)"
)


class RunResources:
    """The clients a run's checks share (`ctx`), built from the settings and closed together.

    The embedded orchestrator opens one per run. A distributed worker opens one per run it works
    on and keeps it across that run's company jobs, so that the DNS cache and the memo (an MX
    host probed once) serve every company of the run this worker scans. Both build the context
    here, so a field added to `CheckContext` reaches both modes.

    `resolver` replaces the resolver (tests hand in fakes; it is then not closed here), `limits`
    the in-process limits (workers hand in limits shared with the other workers), `engine` is
    the store, for sources that keep answers across runs, `wants` what the run's checks want from shared work.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver | None = None,
        limits: Limits | None = None,
        now: datetime | None = None,
        engine: Engine | None = None,
        wants: frozenset[str] = frozenset(),
    ) -> None:
        self.settings = settings
        self.engine = engine
        self._own_resolver = resolver is None
        self._inner: Resolver = resolver or AiodnsResolver(
            settings.resolver_addresses(),
            timeout=settings.dns_timeout,
            tries=settings.dns_tries,
        )
        self._dnssec_inner = DnspythonResolver(
            settings.resolver_addresses(),
            timeout=settings.dns_timeout,
            tries=settings.dns_tries,
            dnssec=True,
        )
        run_now = now or datetime.now(UTC)
        self.shodan = ShodanSource.from_settings(
            settings,
            cache=_answer_cache(engine),
            clock=lambda: run_now,
            gate=key_gate(settings.shodan_key, engine),
        )
        self.health = RunHealth()
        if not settings.smtp_probes:
            self.health.switch_off(Source.SMTP, SMTP_OFF)
        self.ctx = CheckContext(
            settings=settings,
            dns=CachingResolver(self._inner),
            limits=limits if limits is not None else Limits(settings.per_ip_concurrency),
            memo=RunMemo(),
            now=run_now,
            dnssec=CachingResolver(self._dnssec_inner),
            shodan=self.shodan,
            wants=wants,
            down=self.health.down,
        )
        watch_sources(self.health, settings, self._inner, self.ctx.dns)

    @property
    def dns_queries(self) -> int:
        """DNS queries sent so far (cache misses), for the run summary and benchmarks."""
        return int(getattr(self._inner, "total", 0)) + self._dnssec_inner.total

    def sources(self) -> dict[str, Any]:
        """What the run's sources did (mode, requests, notes), for the run summary."""
        return {"shodan": self.shodan.report()}

    async def persist(self) -> None:
        """Store what sources keep across runs (Shodan answers). Call it once the run's results
        are written: on SQLite a second writer during the scan could fail the result writer."""
        await self.shodan.persist()

    async def aclose(self, *, persist: bool = True) -> None:
        """Close everything; `persist=False` when the caller persists later (`persist()`)."""
        try:
            await self.health.close()
            await self.ctx.memo.close()
            await self.shodan.aclose()
            if persist:
                await self.persist()
        finally:
            if self._own_resolver and isinstance(self._inner, AiodnsResolver):
                await self._inner.close()

    async def __aenter__(self) -> RunResources:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def run_check(check: Check, target: ScanTarget, rt: Runtime) -> TaskOutcome:
    """One (target, check) pair, bounded by the global slots and the per-check time-out."""
    meta = check.meta
    async with rt.slots:
        started = time.perf_counter()
        observations: list[Observation]
        try:
            async with asyncio.timeout_at(_check_deadline(meta.paced, rt)):
                result = await metered(check.run(target, rt.ctx), rt.cpu, meta.id)
            observations = _vet(check, list(result))
        except TimeoutError:
            observations = [
                CheckFailure(
                    FailureReason.TIMEOUT,
                    f"no verdict within {rt.settings.check_timeout:g} s",
                    subject=target.value,
                )
            ]
        except Exception as exc:
            log.debug("check %s failed on %s:\n%s", meta.id, target.value, traceback.format_exc())
            observations = [
                CheckFailure(
                    FailureReason.BUG,
                    f"{type(exc).__name__}: {exc}"[:500],
                    subject=target.value,
                )
            ]
        rt.checks_run += 1
        return TaskOutcome(
            target=target,
            family=meta.id,
            finding_ids=meta.finding_ids,
            observations=tuple(observations),
            seconds=time.perf_counter() - started,
        )


def _check_deadline(paced: bool, rt: Runtime) -> float:
    """`check_timeout` from now; for a check that waits for a paced source (`CheckMeta.paced`),
    the run's deadline when that is later (the check bounds its own work itself)."""
    end = asyncio.get_running_loop().time() + rt.settings.check_timeout
    if paced and rt.ctx.deadline is not None:
        return max(end, rt.ctx.deadline)
    return end


def _vet(check: Check, observations: list[Observation]) -> list[Observation]:
    """A check may only emit what it declared; anything else is its bug, not a finding."""
    declared = check.meta.finding_ids
    vetted: list[Observation] = []
    for obs in observations:
        if isinstance(obs, FindingCandidate) and obs.check_id not in declared:
            vetted.append(
                CheckFailure(
                    FailureReason.BUG,
                    f"check {check.meta.id!r} emitted undeclared finding {obs.check_id!r}",
                    subject=obs.subject,
                )
            )
        elif isinstance(obs, FindingCandidate | CheckFailure):
            vetted.append(obs)
        else:
            vetted.append(
                CheckFailure(FailureReason.BUG, f"check {check.meta.id!r} returned {obs!r:.100}")
            )
    return vetted


async def scan_company(company: CompanySnapshot, rt: Runtime, run_id: int) -> CompanyResult:
    """Scan one company: every applicable (target, check) pair, concurrently."""
    tasks: list[asyncio.Task[TaskOutcome]] = []
    skipped: list[TaskOutcome] = []
    for target in company.targets:
        in_scope = target_in_scope(target.kind, target.value, rt.settings.allow_private)
        for check in rt.checks:
            if target.kind not in check.meta.target_kinds:
                continue
            cause = rt.health.unavailable(check.meta.hard_sources) if in_scope else None
            if cause is not None:
                skipped.append(
                    unavailable_outcome(
                        TaskOutcome(target, check.meta.id, check.meta.finding_ids), cause
                    )
                )
                continue
            if not in_scope:
                rt.skipped[target.value] += 1
                skipped.append(
                    TaskOutcome(
                        target=target,
                        family=check.meta.id,
                        finding_ids=check.meta.finding_ids,
                        observations=(
                            CheckFailure(
                                FailureReason.OUT_OF_SCOPE,
                                f"{target.value} is private, loopback or link-local address "
                                "space; skipped (set allow_private to scan it)",
                                subject=target.value,
                            ),
                        ),
                    )
                )
                continue
            tasks.append(asyncio.create_task(run_check(check, target, rt)))
    try:
        outcomes = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return CompanyResult(
        run_id=run_id,
        company_id=company.id,
        outcomes=(*outcomes, *skipped),
        finished_at=datetime.now(UTC).replace(tzinfo=None),
        titles=rt.titles,
    )


class UnknownCompanyError(ValueError):
    pass


class Orchestrator:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        engine: Engine,
        *,
        progress: ProgressSink | None = None,
        resolver: Resolver | None = None,
        clock: Callable[[], datetime] | None = None,
        preflight: Callable[[], Awaitable[None]] | None = None,
        on_run: Callable[[int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.engine = engine
        self.progress = progress or NullProgress()
        self._resolver = resolver
        self._clock = clock or (lambda: datetime.now(UTC))
        # Awaited after the input is validated and before a run is started; it raises (e.g.
        # `exposure.scan.preflight.SourceDownError`) to refuse a run whose essential sources are down.
        self._preflight = preflight
        # Called (in a thread) with the run's id once it is started or resumed: the run lease
        # names its run (`exposure.store.lease`).
        self._on_run = on_run

    async def scan(
        self,
        company_ids: Sequence[str] | None = None,
        check_prefixes: Sequence[str] | None = None,
    ) -> RunSummary:
        started = time.perf_counter()
        checks = self.registry.select(check_prefixes)
        company_ids_found = await asyncio.to_thread(active_company_ids, self.engine, company_ids)
        if company_ids:
            missing = sorted(set(company_ids) - set(company_ids_found))
            if missing:
                raise UnknownCompanyError(f"unknown or inactive company: {', '.join(missing)}")
        scope = {
            "companies": sorted(company_ids) if company_ids else None,
            "checks": sorted(c.meta.id for c in checks),
        }
        if self._preflight is not None:
            await self._preflight()
        run_id, pending_ids = await asyncio.to_thread(self._start_run, company_ids_found, scope)
        if self._on_run is not None:
            await asyncio.to_thread(self._on_run, run_id)
        pending = set(pending_ids)
        todo = CompanyStream(self.engine, [c for c in company_ids_found if c in pending])
        resumed_done = len(company_ids_found) - len(pending)
        del pending, pending_ids

        resources = RunResources(
            self.settings,
            resolver=self._resolver,
            now=self._clock(),
            engine=self.engine,
            wants=wants_of(checks),
        )
        rt = Runtime(resources.ctx, checks, self.settings, resources.health)
        resources.health.run_id = run_id
        await preflight_sources(resources.health, rt.needs.values())
        writer = StoreWriter(self.engine)
        await writer.start()
        self.progress.start(len(company_ids_found), resumed_done)
        status = RunStatus.COMPLETE
        scanned = 0
        deadline = asyncio.get_running_loop().time() + self.settings.run_deadline
        rt.ctx = replace(rt.ctx, deadline=deadline)  # what a paced check may wait for
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    scanned = await self._scan_all(todo, rt, run_id, writer)
            except TimeoutError:
                status = RunStatus.INCOMPLETE
                self.progress.note(
                    f"run deadline of {self.settings.run_deadline:g} s reached: the run stops "
                    "here; `exposure scan` again completes it"
                )
        except BaseException as exc:
            # Ctrl-C, SIGTERM, a crash, a full disk: keep every company already handed to the
            # writer, mark the run unfinished so the next `exposure scan` resumes it.
            after = (
                store_runs.INCOMPLETE
                if isinstance(exc, StoreExhaustedError)
                else store_runs.INTERRUPTED
            )
            await asyncio.shield(self._abort(writer, run_id, after))
            self.progress.close()
            raise
        finally:
            await resources.aclose(persist=False)
        await writer.close()
        if writer.exhausted is not None:
            self.progress.close()
            await asyncio.to_thread(self._mark_interrupted, run_id, store_runs.INCOMPLETE)
            raise writer.exhausted
        # after the result writer: it is SQLite's only writer till now
        await self._guard(run_id, resources.persist())
        if writer.failures and status == RunStatus.COMPLETE:
            # A company the store could not take stays pending in the run: the run is not
            # complete, and `exposure scan` again completes it.
            status = RunStatus.INCOMPLETE
            self.progress.note(
                f"{len(writer.failures)} companies could not be stored (see `exposure runs "
                f"--errors {run_id}`); `exposure scan` again completes the run"
            )
        self.progress.close()
        if todo.missing:
            self.progress.note(
                f"{todo.missing} companies were removed or made inactive during the run: "
                "not scanned"
            )
        for value, count in sorted(rt.skipped.items()):
            self.progress.note(
                f"skipped {value}: private, loopback or link-local address space "
                f"({count} checks; set allow_private to scan it)"
            )
        summary = RunSummary(
            run_id=run_id,
            status=status,
            companies_total=len(company_ids_found),
            companies_scanned=writer.stats.companies,
            resumed_done=resumed_done,
            checks_run=rt.checks_run,
            duration=time.perf_counter() - started,
            stats=writer.stats,
            skipped_out_of_scope=len(rt.skipped),
            cpu_by_family=dict(rt.cpu.seconds),
            store_cpu=writer.cpu_seconds,
            dns_queries=resources.dns_queries,
            sources=resources.sources(),
            tls=await tls_summary(resources.ctx),
        )
        for name, report in summary.sources.items():
            for line in report.get("notes", ()):
                self.progress.note(f"{name}: {line}")
        del scanned
        if rt.health.broken:
            status = store_runs.DEGRADED
            summary.status = status
            summary.sources_failed = {s.value: c for s, c in rt.health.failed.items()}
            summary.untested = len(rt.health.untested)
            self.progress.note(
                f"{rt.health.describe()}; {len(rt.health.untested)} companies were not fully "
                "tested: the run is degraded, `exposure scan` again (once it works) completes it"
            )
        summary.open_by_severity = await self._guard(
            run_id,
            asyncio.to_thread(
                self._finish_run, run_id, status, summary, sorted(rt.health.untested)
            ),
        )
        return summary

    async def _guard(self, run_id: int, work: Awaitable[T]) -> T:
        """`work`, with a store that ran out of room (disk full, locked, gone) turned into a
        clean stop of the run instead of an escaping database error."""
        try:
            return await work
        except Exception as exc:
            cause = cause_of(exc)
            if cause is None:
                raise
            log.debug("run %s: the store stopped taking writes", run_id, exc_info=True)
            self.progress.close()
            await asyncio.to_thread(self._mark_interrupted, run_id, store_runs.INCOMPLETE)
            raise StoreExhaustedError(cause, detail_of(exc), run_id) from None

    async def _scan_all(
        self, todo: CompanyStream, rt: Runtime, run_id: int, writer: StoreWriter
    ) -> int:
        """Stream companies through a bounded window; results go to the writer as they finish."""
        window = asyncio.Semaphore(self.settings.company_concurrency)
        running: set[asyncio.Task[None]] = set()
        done = 0
        # The first company whose result could not be handed to the writer (the store ran out of
        # room) stops the run; a finished task leaves `running`, so nobody else would see it.
        failed: list[Exception] = []

        async def one(company: CompanySnapshot) -> None:
            nonlocal done
            try:
                result = await scan_company(company, rt, run_id)
                vouched = await rt.health.vouch(result, rt.needs, time.monotonic(), rt.partial)
                if vouched is not None:
                    await writer.submit(vouched)
                done += 1
                self.progress.advance(company.id)
            except Exception as exc:
                failed.append(exc)
            finally:
                window.release()

        try:
            async for company in todo:
                await window.acquire()
                if failed:
                    window.release()
                    break
                if rt.health.blind(rt.hard.values()):
                    window.release()
                    break  # every check needs a source of ours that failed: stop starting
                task = asyncio.create_task(one(company))
                running.add(task)
                task.add_done_callback(running.discard)
            if running:
                await asyncio.gather(*running)
            if failed:
                raise failed[0]
        except BaseException:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        return done

    async def _abort(self, writer: StoreWriter, run_id: int, status: str) -> None:
        try:
            await writer.close()
        finally:
            await asyncio.to_thread(self._mark_interrupted, run_id, status)

    def _start_run(self, company_ids: list[str], scope: dict[str, Any]) -> tuple[int, list[str]]:
        with session_scope(self.engine) as session:
            run, pending = store_runs.start_or_resume_run(session, company_ids, scope)
            assert run.id is not None
            return run.id, list(pending)

    def _mark_interrupted(self, run_id: int, status: str = store_runs.INTERRUPTED) -> None:
        """As far as the store still allows: a full disk may refuse even this one row (the run
        then stays `running` until the next scan resumes it); the caller's exception, not this
        one, is what the user needs to hear."""
        try:
            with session_scope(self.engine) as session:
                store_runs.mark_interrupted(session, run_id, status=status)
        except Exception as exc:
            if cause_of(exc) is None:
                log.exception("run %s could not be marked %s", run_id, status)
            else:  # the line that names the cause is the caller's; this is for the logs
                log.info("run %s could not be marked %s: %s", run_id, status, detail_of(exc))

    def _finish_run(
        self, run_id: int, status: str, summary: RunSummary, untested: Sequence[str] = ()
    ) -> dict[str, int]:
        from exposure.store.queries import open_by_severity

        with session_scope(self.engine) as session:
            if untested:
                store_runs.reopen_companies(session, run_id, untested)
            store_runs.finish_run(session, run_id, status, summary.as_dict())
            return open_by_severity(session)
