"""The operations commands: `scan` (embedded and `--distributed`), `worker`, `nightly`, `doctor`,
`migrate`. Kept apart from `exposure/app/cli/__init__.py`, which registers them, so that the command line's
shared file stays small; they use its settings, error and output helpers.

Exit codes are those of `exposure.exit_codes.ExitCode` (README, "Exit codes").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from exposure.app.cli.common import (
    err,
    error,
    fail,
    open_store,
    out,
    progress,
    redact,
    settings_of,
)
from exposure.app.cli.lease import take_lease
from exposure.app.loop import run as run_on_loop
from exposure.exit_codes import ExitCode, for_run_status
from exposure.models import RunStatus
from exposure.settings import Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from exposure.models import ScanRun
    from exposure.scan.orchestrator import RunSummary
    from exposure.store.exhaustion import StoreExhaustedError
    from exposure.store.lease import Lease

log = logging.getLogger("exposure.run")

#: Seconds between looks at a distributed run's progress while `scan --distributed --wait` waits.
WAIT_POLL = 2.0


def _scope(companies: Sequence[str] | None, checks: Sequence[str] | None) -> dict[str, Any]:
    from exposure.registry import load

    families = [c.meta.id for c in load().select(checks)]
    return {"companies": sorted(companies) if companies else None, "checks": sorted(families)}


def _refused(engine: Engine, scope: dict[str, Any], reason: str) -> int:
    from exposure.distributed.bookkeeping import record_refused_run

    run_id = record_refused_run(engine, scope, reason)
    log.error(reason, extra={"action": "run_refused", "run_id": run_id})
    error(f"{reason}; nothing was scanned (run {run_id} recorded as failed)")
    return ExitCode.SOURCE_DOWN


def _finished(summary: RunSummary) -> None:
    from exposure.app.summary import print_summary

    print_summary(summary, out)
    log.info(
        "run %s %s",
        summary.run_id,
        summary.status,
        extra={"action": "run_finished", "summary": summary.as_dict()},
    )


# --- clean stops ---------------------------------------------------------------------------------


def _exhausted(exc: StoreExhaustedError) -> int:
    """The store ran out of room mid-run: one line, exit code 3 (the traceback is at debug)."""
    where = f"run {exc.run_id} stopped" if exc.run_id is not None else "the scan stopped"
    error(
        f"the store stopped taking results: {exc.cause} ({exc.detail}); {where}, what was "
        "stored is kept; fix that, then `exposure scan` again completes the run"
    )
    log.debug("store exhausted", exc_info=exc)
    return ExitCode.INCOMPLETE


# --- scan -----------------------------------------------------------------------------------------


def scan_embedded(
    settings: Settings,
    companies: Sequence[str] | None,
    checks: Sequence[str] | None,
    *,
    wait: bool = False,
) -> tuple[int, int | None]:
    """The in-process scan (SQLite or PostgreSQL): (exit code, run id).

    Holds the scan lease for the whole run, so that a second scan on the same database refuses
    (exit 2) before it sends a single query; SIGTERM stops it like Ctrl-C (exit 143)."""
    from exposure.store.lease import SCAN

    engine = open_store(settings)
    lease = take_lease(engine, SCAN, settings, wait=wait)
    try:
        _refuse_next_to_workers(engine)
        return _scan_leased(settings, engine, lease, companies, checks)
    finally:
        lease.release()


def _refuse_next_to_workers(engine: Engine) -> None:
    """A distributed run is owned by the workers through its queued jobs: an embedded scan
    beside it would scan the same hosts twice. One line and exit code 2, like a held lease."""
    from exposure.distributed.bookkeeping import runs_with_queued_work

    busy = runs_with_queued_work(engine)
    if busy:
        run_id, count = min(busy.items())
        fail(
            f"run {run_id} is being scanned by the workers ({count} companies queued or in "
            "progress); not started (`exposure runs` shows how it stands)"
        )


def _scan_leased(
    settings: Settings,
    engine: Engine,
    lease: Lease,
    companies: Sequence[str] | None,
    checks: Sequence[str] | None,
) -> tuple[int, int | None]:
    from exposure.registry import RegistryError, load
    from exposure.scan.orchestrator import Orchestrator, UnknownCompanyError
    from exposure.scan.preflight import SourceDownError, require_resolver
    from exposure.signals import cancel_on_sigterm, exit_code
    from exposure.store.exhaustion import StoreExhaustedError, cause_of, detail_of

    async def preflight() -> None:
        await require_resolver(settings)

    try:
        registry = load()
        orchestrator = Orchestrator(
            settings,
            registry,
            engine,
            progress=progress(),
            preflight=preflight,
            on_run=lease.attach_run,
        )
        summary = run_on_loop(cancel_on_sigterm(orchestrator.scan(companies, checks)), settings)
    except (UnknownCompanyError, RegistryError, SettingsError) as exc:
        fail(str(exc))
    except SourceDownError as exc:
        return _refused(engine, _scope(companies, checks), str(exc)), None
    except KeyboardInterrupt as exc:
        what = "terminated (SIGTERM)" if exit_code(exc) == ExitCode.TERMINATED else "interrupted"
        err.print(
            f"{what}: what was scanned is stored; run `exposure scan` again to complete the run"
        )
        return exit_code(exc), None
    except StoreExhaustedError as exc:
        return _exhausted(exc), exc.run_id
    except Exception as exc:
        cause = cause_of(exc)
        if cause is None:
            raise
        return _exhausted(StoreExhaustedError(cause, detail_of(exc))), None
    _finished(summary)
    return for_run_status(summary.status), summary.run_id


def scan_distributed(
    settings: Settings,
    companies: Sequence[str] | None,
    checks: Sequence[str] | None,
    *,
    wait: bool,
) -> int:
    """Queue one job per pending company for the workers; with `wait`, follow the run to its end."""
    from exposure.distributed.app import DistributedModeError, require_postgres

    try:
        require_postgres(settings)
    except DistributedModeError as exc:
        fail(str(exc))
    engine = open_store(settings)
    from exposure.store.lease import SCAN

    # Not beside an embedded scan: holding its lease while queueing refuses (exit 2) if one is
    # live. The run itself is then the workers', through its jobs, not through this lease.
    take_lease(engine, SCAN, settings).release()
    try:
        return asyncio.run(_scan_distributed(settings, engine, companies, checks, wait=wait))
    except KeyboardInterrupt:
        err.print(
            "stopped waiting: the run goes on in the workers; `exposure runs` shows how it stands"
        )
        return ExitCode.INTERRUPTED
    finally:
        engine.dispose()


async def _scan_distributed(
    settings: Settings,
    engine: Engine,
    companies: Sequence[str] | None,
    checks: Sequence[str] | None,
    *,
    wait: bool,
) -> int:
    from exposure.distributed.app import make_app, prepare_database
    from exposure.distributed.coordinator import UnknownCompanyError, run_scope, start_run
    from exposure.registry import RegistryError, load
    from exposure.scan.preflight import probe_resolver

    await prepare_database(settings)
    exp = make_app(settings, nightly_cron="")
    try:
        registry = load()
        registry.select(checks)
    except RegistryError as exc:
        fail(str(exc))
    async with exp.app.open_async():
        probe = await probe_resolver(settings)
        if not probe.ok:
            scope = run_scope(companies, [c.meta.id for c in registry.select(checks)])
            return await asyncio.to_thread(_refused, engine, scope, probe.describe())
        try:
            started = await start_run(exp, engine, registry, companies, checks)
        except (UnknownCompanyError, RegistryError) as exc:
            fail(str(exc))
    resumed = f", {started.resumed_done} done earlier in this run" if started.resumed_done else ""
    queued = f", {started.already_queued} already queued" if started.already_queued else ""
    out.print(
        f"run #{started.run_id}: {started.deferred} companies queued for the workers "
        f"(of {started.companies_total}{resumed}{queued})",
        markup=False,
    )
    if not wait:
        out.print(
            "the workers (`exposure worker`) scan them; follow it with `exposure runs`",
            markup=False,
        )
        return ExitCode.OK
    run = await _wait_for(
        engine,
        started.run_id,
        started.companies_total,
        started.resumed_done,
        settings.run_deadline,
    )
    _finished(summary_from_run(run))
    return for_run_status(run.status) if run.status != RunStatus.RUNNING else ExitCode.INCOMPLETE


async def _wait_for(
    engine: Engine, run_id: int, total: int, resumed: int, deadline: float
) -> ScanRun:
    """Follow the run until it is no longer running. Says so when no worker is alive (the run
    waits for one), and gives up after the run's deadline plus a margin (the deadline is
    enforced by a job, which needs a worker too)."""
    from exposure.distributed import bookkeeping

    sink = progress()
    sink.start(total, resumed)
    done = resumed
    started = time.monotonic()
    give_up = started + deadline + 600
    next_worker_check = started + 30
    try:
        while True:
            run = await asyncio.to_thread(bookkeeping.get_run, engine, run_id)
            if run is None:
                raise RuntimeError(f"run {run_id} disappeared from the database")
            for _ in range(max(0, run.companies_done - done)):
                sink.advance("")
            done = max(done, run.companies_done)
            if run.status != RunStatus.RUNNING:
                return run
            now = time.monotonic()
            if now >= next_worker_check:
                next_worker_check = now + 300
                if not await asyncio.to_thread(_workers_alive, engine):
                    sink.note("no worker is alive: start `exposure worker` (the run waits)")
            if now > give_up:
                sink.note("the run is past its deadline and no worker stopped it")
                return run
            await asyncio.sleep(WAIT_POLL)
    finally:
        sink.close()


def _workers_alive(engine: Engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        alive = conn.execute(
            text(
                "SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - interval '1 minute'"
            )
        ).scalar()
    return int(alive or 0)


def summary_from_run(run: ScanRun) -> RunSummary:
    """The summary a distributed run stored when it finished (or its counters, if it has none)."""
    from exposure.scan.orchestrator import RunSummary
    from exposure.scan.results import ApplyStats

    stored = dict(run.summary or {})
    duration = stored.get("duration_seconds")
    if duration is None and run.finished_at is not None:
        duration = (run.finished_at - run.started_at).total_seconds()
    stats = ApplyStats(
        new=run.findings_new,
        reopened=run.findings_reopened,
        resolved=run.findings_resolved,
        errors=run.errors,
        companies=run.companies_done,
        new_by_severity=dict(stored.get("findings_new_by_severity") or {}),
        errors_by_reason=dict(stored.get("errors_by_reason") or {}),
    )
    assert run.id is not None
    return RunSummary(
        run_id=run.id,
        status=run.status,
        companies_total=run.companies_total,
        companies_scanned=run.companies_done,
        resumed_done=0,
        checks_run=run.checks_run,
        duration=float(duration or 0.0),
        stats=stats,
        open_by_severity=dict(stored.get("open_by_severity") or {}),
        sources_failed=dict(stored.get("sources_failed") or {}),
        untested=int(stored.get("companies_untested") or 0),
    )


# --- the other commands -------------------------------------------------------------------------


def scan(
    ctx: typer.Context,
    company: Annotated[
        list[str] | None, typer.Option("--company", help="scan only this company (repeatable)")
    ] = None,
    check: Annotated[
        list[str] | None,
        typer.Option("--check", help="run only checks with this id prefix (repeatable)"),
    ] = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed", help="queue one job per company for `exposure worker` (PostgreSQL)"
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="wait for a scan in progress to end first; "
            "with --distributed: follow the run until it is finished",
        ),
    ] = False,
) -> None:
    """Scan the member list (or a part of it); resumes an interrupted run.

    Exit codes: 0 complete; 2 bad input, or another scan is in progress; 3 incomplete
    (deadline, companies that failed, the store ran out of room); 4 the resolver did not
    answer, nothing scanned; 130 interrupted; 143 terminated (SIGTERM).
    """
    settings = settings_of(ctx)
    if distributed:
        raise typer.Exit(scan_distributed(settings, company or None, check or None, wait=wait))
    code, _run_id = scan_embedded(settings, company or None, check or None, wait=wait)
    raise typer.Exit(code)


def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int,
        typer.Option(
            envvar="EXPOSURE_WORKER_CONCURRENCY", min=1, help="companies in flight in this worker"
        ),
    ] = 16,
    name: Annotated[
        str | None, typer.Option(envvar="EXPOSURE_WORKER_NAME", help="name in the logs")
    ] = None,
    heartbeat: Annotated[
        float, typer.Option(min=0.1, help="seconds between this worker's heartbeats")
    ] = 10.0,
    stalled_after: Annotated[
        float,
        typer.Option(
            min=0.5,
            help="seconds without a heartbeat after which a worker's jobs go to the others",
        ),
    ] = 60.0,
    shutdown_timeout: Annotated[
        float,
        typer.Option(min=0, help="on SIGTERM: seconds to finish running jobs before aborting"),
    ] = 30.0,
    schedule: Annotated[
        bool,
        typer.Option(
            "--schedule/--no-schedule", help="start the nightly run at nightly_cron (default on)"
        ),
    ] = True,
    keep_jobs: Annotated[
        bool, typer.Option("--keep-jobs", help="keep finished jobs in the queue (debugging)")
    ] = False,
    shared_limits: Annotated[
        bool,
        typer.Option(
            "--shared-limits/--local-limits",
            envvar="EXPOSURE_WORKER_SHARED_LIMITS",
            help="per-IP limits shared with the other workers through PostgreSQL (default); "
            "--local-limits only where this is the only worker",
        ),
    ] = True,
) -> None:
    """Run a worker of the distributed mode (PostgreSQL): scans queued companies until stopped."""
    from exposure.distributed.app import DistributedModeError, make_app, require_postgres
    from exposure.distributed.worker import WorkerOptions, run_worker

    settings = settings_of(ctx)
    try:
        require_postgres(settings)
        options = WorkerOptions(
            concurrency=concurrency,
            name=name,
            heartbeat=heartbeat,
            stalled_after=stalled_after,
            shutdown_timeout=shutdown_timeout,
            delete_jobs="never" if keep_jobs else "successful",
        )
    except (DistributedModeError, ValueError) as exc:
        fail(str(exc))
    exp = make_app(settings, nightly_cron=None if schedule else "", shared_limits=shared_limits)
    logging.getLogger("exposure.worker").warning(
        "worker %s starting: %d companies at a time, nightly run %s",
        name or "",
        concurrency,
        f"at '{settings.nightly_cron}'" if schedule and settings.nightly_cron else "not scheduled",
        extra={"action": "worker_started"},
    )
    try:
        run_on_loop(run_worker(exp, options), settings)
    except SettingsError as exc:
        fail(str(exc))


def nightly(ctx: typer.Context) -> None:
    """The nightly job of the embedded mode (cron, systemd timer): discovery
    (`discovery_schedule`), scan, then `after_scan`.

    Exit code 0 when the scan completed and every follow-up succeeded; 3, 4, 130 as `scan`;
    5 when the scan completed but a follow-up (warnings, reports) failed.
    """
    from exposure.app.cli.discovery import nightly_discovery
    from exposure.distributed.followups import run_followups
    from exposure.signals import Terminated, sigterm_raises
    from exposure.store.lease import NIGHTLY

    settings = settings_of(ctx)
    engine = open_store(settings)
    lease = take_lease(engine, NIGHTLY, settings)
    try:
        # Discovery first (issue #22): what it found and the Meldpunt confirmed is scanned
        # tonight; the time it took comes off the scan's deadline, so the night ends when it should.
        spent = nightly_discovery(settings)
        if spent:
            settings = settings.model_copy(update={"run_deadline": settings.run_deadline - spent})
        code, run_id = scan_embedded(settings, None, None)
        if code not in (ExitCode.OK, ExitCode.INCOMPLETE) or not settings.after_scan:
            raise typer.Exit(code)
        try:
            with sigterm_raises():
                results = asyncio.run(run_followups(settings, run_id))
        except Terminated:
            err.print("terminated (SIGTERM) during the follow-ups", markup=False)
            raise typer.Exit(ExitCode.TERMINATED) from None
    finally:
        lease.release()
    for result in results:
        err.print(result.describe(), markup=False, highlight=False)
    if any(not r.ok for r in results):
        raise typer.Exit(ExitCode.FOLLOWUP_FAILED)
    raise typer.Exit(code)


def doctor(
    ctx: typer.Context,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check", help="only this check (repeatable): resolver, ca_bundle, database, ..."
        ),
    ] = None,
) -> None:
    """Check the configuration for real: resolver, CA bundle, database, Shodan, SMTP."""
    from exposure.app.doctor import run_checks

    settings = settings_of(ctx)
    started = time.perf_counter()
    try:
        results = asyncio.run(run_checks(settings, check))
    except ValueError as exc:
        fail(str(exc))
    for result in results:
        out.print(result.line(), markup=False, highlight=False)
        log.info(
            "doctor %s: %s",
            result.name,
            result.outcome.value,
            extra={"check": result.name, "outcome": result.outcome.value, "detail": result.detail},
        )
    failed = [r.name for r in results if not r.passed]
    took = time.perf_counter() - started
    if failed:
        out.print(f"{len(failed)} of {len(results)} checks failed ({took:.1f} s)", markup=False)
        raise typer.Exit(ExitCode.SOURCE_DOWN)
    out.print(f"all {len(results)} checks passed ({took:.1f} s)", markup=False)


def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the database: the store's schema and, on PostgreSQL, the job queue's."""
    from exposure.store.db import check_current, database_url

    settings = settings_of(ctx)
    engine = open_store(settings)  # migrates the store
    try:
        status = check_current(engine)
    finally:
        engine.dispose()
    line = f"{redact(settings.database)}: {status.describe()}"
    if database_url(settings.database).get_backend_name() == "postgresql":
        from exposure.distributed.app import prepare_database

        asyncio.run(prepare_database(settings))
        line += "; job queue ready"
    out.print(line, markup=False)


def update_kev(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option("--url", help="the feed to fetch (default: the kev_url setting)")
    ] = None,
) -> None:
    """Refresh CISA's Known Exploited Vulnerabilities catalogue (kev_url -> kev_file).

    A feed that is not a KEV catalogue, or larger than the cap, is refused and the old catalogue
    kept (exit code 4). As a nightly step: after_scan = ["update-kev", ...].
    """
    from exposure.sources.kev import KevError, update

    settings = settings_of(ctx)
    try:
        kev = asyncio.run(update(settings, url=url))
    except (KevError, OSError) as exc:
        error(f"update-kev: {exc}; the catalogue in use is unchanged")
        raise typer.Exit(ExitCode.SOURCE_DOWN) from None
    ransomware = sum(1 for e in kev.entries.values() if e.ransomware)
    out.print(
        f"{settings.kev_file}: KEV catalogue {kev.version} (released {kev.released}), "
        f"{len(kev)} entries, {ransomware} used by ransomware campaigns",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the operations commands to the command line."""
    app.command()(scan)
    app.command()(worker)
    app.command()(nightly)
    app.command()(doctor)
    app.command()(migrate)
    app.command(name="update-kev")(update_kev)
