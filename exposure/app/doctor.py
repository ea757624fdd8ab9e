"""`exposure doctor`: checks the configuration for real, one line per thing it needs.

Each check uses the real thing, not a reading of the settings: a DNS query through the same
resolver the scan uses, the CA bundle loaded the way TLS checks load it, a connection to the
database and its schema revision, the Shodan API's own account endpoint, an SMTP conversation up
to EHLO (and STARTTLS, and the login when the URL has credentials). A check that does not apply
(no Shodan key, no SMTP server, no run yet) says so and passes. `last_run` looks at the newest
run: complete and less than a day old, or still within its deadline; `discovery` at the last
discovery look (how many companies, which sources could not test, what waits for the Meldpunt),
failing when it is older than `discovery_schedule` allows or a source failed for every company.
The exit code is 0 when
every check passed, 4 when one failed, so `exposure doctor` can gate a deployment and
`exposure doctor --check last_run` can be a monitoring probe.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import httpx

from exposure.settings import Settings


class Outcome(StrEnum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"  # does not apply to this configuration; counts as passed


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    outcome: Outcome
    detail: str

    @property
    def passed(self) -> bool:
        return self.outcome is not Outcome.FAIL

    def line(self) -> str:
        return f"{self.outcome.value:<4}  {self.name:<9}  {self.detail}"


def ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Outcome.OK, detail)


def fail(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Outcome.FAIL, detail)


def skip(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Outcome.SKIP, detail)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# --- the checks ---------------------------------------------------------------------------------


async def check_resolver(settings: Settings) -> CheckResult:
    from exposure.scan.preflight import probe_resolver

    result = await probe_resolver(settings)
    return (ok if result.ok else fail)("resolver", result.describe())


async def check_egress(settings: Settings) -> CheckResult:
    """Outbound port 25: without it every member's mail server would look unreachable."""
    from exposure.net.egress import probe_smtp_egress

    if not settings.smtp_probes:
        return skip(
            "egress",
            "smtp_probes = false: port 25 is not used; the mail servers' STARTTLS is reported "
            "as not tested",
        )
    result = await probe_smtp_egress(settings)
    return (ok if result.ok else fail)("egress", result.detail)


async def check_ca_bundle(settings: Settings) -> CheckResult:
    """Load the trust store as the TLS checks do, and count what it holds."""
    where = str(settings.ca_bundle) if settings.ca_bundle else "the system trust store"
    try:
        context = ssl.create_default_context(
            cafile=str(settings.ca_bundle) if settings.ca_bundle else None
        )
    except (OSError, ssl.SSLError) as exc:
        return fail("ca_bundle", f"{where} does not load: {_reason(exc)}")
    count = context.cert_store_stats().get("x509_ca", 0)
    if settings.ca_bundle is None and count == 0:
        # OpenSSL loads the default paths lazily; ask for them explicitly before judging.
        context.load_default_certs()
        count = len(context.get_ca_certs())
    if count == 0:
        return fail("ca_bundle", f"{where} holds no CA certificate: every TLS check would fail")
    return ok("ca_bundle", f"{where}: {count} CA certificates")


def _check_database(settings: Settings) -> CheckResult:
    from sqlalchemy import text

    from exposure.store.db import check_current, database_url, make_engine

    url = database_url(settings.database)
    shown = url.render_as_string(hide_password=True)
    try:
        engine = make_engine(url)
    except Exception as exc:
        return fail("database", f"{shown}: {_reason(exc)}")
    try:
        status = check_current(engine)
        if not status.ok:
            return fail("database", f"{shown}: {status.describe()} (`exposure migrate`)")
        detail = f"{shown}: {status.describe()}"
        if url.get_backend_name() == "postgresql":
            with engine.connect() as conn:
                queue = conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar()
                if queue is None:
                    detail += "; job queue tables not created yet (`exposure migrate`)"
                else:
                    workers = conn.execute(
                        text(
                            "SELECT count(*) FROM procrastinate_workers "
                            "WHERE last_heartbeat > now() - interval '1 minute'"
                        )
                    ).scalar()
                    detail += f"; job queue ready, {workers} workers alive"
        return ok("database", detail)
    except Exception as exc:
        return fail("database", f"{shown}: {_reason(exc)}")
    finally:
        engine.dispose()


async def check_database(settings: Settings) -> CheckResult:
    return await asyncio.to_thread(_check_database, settings)


async def check_shodan(settings: Settings) -> CheckResult:
    """The key against the API's account endpoint: valid, which plan, what is left."""
    key = settings.shodan_key
    if not key:
        return skip("shodan", "no API key: only the free InternetDB is used")
    url = settings.shodan_api_url.rstrip("/") + "/api-info"
    try:
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            trust_env=False,
        ) as client:
            response = await client.get(url, params={"key": key})
    except httpx.HTTPError as exc:
        return fail("shodan", f"{settings.shodan_api_url}: {_reason(exc)}")
    if response.status_code in (401, 403):
        return fail("shodan", f"{settings.shodan_api_url}: the API key is not valid")
    if response.status_code != 200:
        return fail("shodan", f"{settings.shodan_api_url}: HTTP {response.status_code}")
    try:
        info = response.json()
    except ValueError:
        return fail("shodan", f"{settings.shodan_api_url}: the answer is not JSON")
    plan = info.get("plan", "?")
    credits = info.get("query_credits", 0)
    unlocked = bool(info.get("unlocked"))
    if not unlocked:
        return fail(
            "shodan",
            f"key valid (plan {plan}) but without membership: host look-ups are refused; "
            "remove the key to use InternetDB only, or upgrade it",
        )
    detail = f"key valid, plan {plan}, {credits} query credits left"
    if not credits:
        detail += " (host look-ups still work; network searches do not)"
    return ok("shodan", detail)


def _check_smtp(settings: Settings) -> CheckResult:
    if settings.smtp_url is None:
        return skip("smtp", "no smtp_url: warnings go to an outbox only")
    from exposure.net.smtp_url import SmtpUrlError, parse_smtp_url, smtp_ssl_context

    try:
        config = parse_smtp_url(settings.smtp_url.get_secret_value())
    except SmtpUrlError as exc:
        return fail("smtp", str(exc))
    where = config.describe()
    context = smtp_ssl_context(getattr(settings, "smtp_ca_bundle", None))
    timeout = float(getattr(settings, "smtp_timeout", 30.0))
    steps: list[str] = []
    try:
        server: smtplib.SMTP
        if config.security == "tls":
            server = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
            steps.append("TLS")
        else:
            server = smtplib.SMTP(config.host, config.port, timeout=timeout)
        with server:
            code, _ = server.ehlo()
            if code != 250:
                return fail("smtp", f"{where}: EHLO answered {code}")
            steps.append("EHLO")
            if config.security == "starttls":
                if not server.has_extn("starttls"):
                    return fail("smtp", f"{where}: the server does not offer STARTTLS")
                server.starttls(context=context)
                server.ehlo()
                steps.append("STARTTLS")
            if config.username:
                server.login(config.username, config.password)
                steps.append("login")
            server.quit()
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        done = f" after {', '.join(steps)}" if steps else ""
        return fail("smtp", f"{where}{done}: {_reason(exc)}")
    return ok("smtp", f"{where}: {', '.join(steps)} ok")


async def check_smtp(settings: Settings) -> CheckResult:
    return await asyncio.to_thread(_check_smtp, settings)


#: A nightly scan's last run older than this (hours) means the schedule stopped.
LAST_RUN_MAX_AGE_HOURS = 26.0


def _check_last_run(settings: Settings) -> CheckResult:
    """The newest run: complete and recent is ok; failed, incomplete, stale or stuck is not.

    The monitoring probe of a scheduled installation: the distributed mode's nightly run has no
    exit code of its own, so `exposure doctor --check last_run` gives it one.
    """
    from sqlmodel import col, select

    from exposure.models import RunStatus, ScanRun, utcnow
    from exposure.store.db import check_current, make_engine, session

    engine = make_engine(settings.database)
    try:
        if not check_current(engine).ok:
            return skip("last_run", "no schema yet (see database)")
        with session(engine) as db:
            run = db.exec(select(ScanRun).order_by(col(ScanRun.id).desc()).limit(1)).first()
    finally:
        engine.dispose()
    if run is None:
        return skip("last_run", "no run yet")
    now = utcnow()
    progress = f"{run.companies_done}/{run.companies_total} companies"
    if run.status == RunStatus.RUNNING:
        running = (now - run.started_at).total_seconds()
        if running > settings.run_deadline + 3600:
            return fail(
                "last_run",
                f"run #{run.id} has been running for {running / 3600:.1f} h ({progress}): "
                "are the workers (or the scan) still alive?",
            )
        return ok("last_run", f"run #{run.id} running for {running / 60:.0f} min ({progress})")
    age = (now - (run.finished_at or run.started_at)).total_seconds() / 3600
    when = f"finished {age:.1f} h ago"
    if run.status != RunStatus.COMPLETE:
        reason = run.summary.get("error") if isinstance(run.summary, dict) else None
        detail = f"run #{run.id} {run.status}, {when} ({progress})"
        return fail("last_run", f"{detail}: {reason or f'see `exposure runs --errors {run.id}`'}")
    if age > LAST_RUN_MAX_AGE_HOURS:
        return fail("last_run", f"run #{run.id} complete but {when}: is the schedule running?")
    return ok("last_run", f"run #{run.id} complete, {when} ({progress}, {run.errors} errors)")


async def check_last_run(settings: Settings) -> CheckResult:
    return await asyncio.to_thread(_check_last_run, settings)


def _check_discovery(settings: Settings) -> CheckResult:
    """The last discovery look (issue #22): recent enough for `discovery_schedule`, and no
    source that could not test for any company (a key out of credits, a CT service gone)."""
    from exposure.discovery.status import MAX_AGE, last_look
    from exposure.models import utcnow
    from exposure.store.db import check_current, make_engine

    schedule = settings.discovery_schedule
    engine = make_engine(settings.database)
    try:
        if not check_current(engine).ok:
            return skip("discovery", "no schema yet (see database)")
        look = last_look(engine)
    finally:
        engine.dispose()
    if look is None:
        why = "discovery_schedule is off" if schedule == "off" else "no discovery yet"
        return skip("discovery", f"{why} (`exposure discovery run`)")
    now = utcnow()
    detail = look.describe(now)
    dead = look.failed_everywhere()
    if dead:
        which = "; ".join(f"{s} ({', '.join(sorted(look.reasons.get(s, ())))})" for s in dead)
        return fail(
            "discovery",
            f"{detail}; could not test for any company: {which} "
            "(`exposure discovery run` names why)",
        )
    limit = MAX_AGE.get(schedule)
    if limit is not None and now - look.newest > limit:
        return fail(
            "discovery", f"{detail}; older than a {schedule} schedule allows: is it running?"
        )
    return ok("discovery", detail)


async def check_discovery(settings: Settings) -> CheckResult:
    return await asyncio.to_thread(_check_discovery, settings)


KEV_STALE_DAYS = 30


def _check_kev(settings: Settings) -> CheckResult:
    """Which KEV catalogue the scan uses and how old it is; a kev_file that does not parse
    fails (the scan falls back to the shipped snapshot, which is older)."""
    from pathlib import Path

    from exposure.sources.kev import SNAPSHOT, KevError, load_catalogue

    path = Path(settings.kev_file) if settings.kev_file else None
    if path is not None and path.is_file():
        try:
            kev = load_catalogue(path)
        except (OSError, KevError) as exc:
            return fail("kev", f"{path}: not a KEV catalogue ({exc}); run exposure update-kev")
        where = str(path)
    else:
        kev = load_catalogue(SNAPSHOT)
        where = "the snapshot shipped with exposure"
    age = kev.age_days()
    detail = f"{where}: catalogue {kev.version or '?'}, {len(kev)} entries"
    if age is not None:
        detail += f", {age:.0f} days old"
        if age > KEV_STALE_DAYS:
            detail += " (refresh it: exposure update-kev)"
    return ok("kev", detail)


async def check_kev(settings: Settings) -> CheckResult:
    return await asyncio.to_thread(_check_kev, settings)


CHECKS: dict[str, Callable[[Settings], Awaitable[CheckResult]]] = {
    "resolver": check_resolver,
    "ca_bundle": check_ca_bundle,
    "database": check_database,
    "shodan": check_shodan,
    "smtp": check_smtp,
    "egress": check_egress,
    "kev": check_kev,
    "last_run": check_last_run,
    "discovery": check_discovery,
}


async def run_checks(settings: Settings, names: Sequence[str] | None = None) -> list[CheckResult]:
    """Run the named checks (default all), concurrently; results in the order of `CHECKS`."""
    chosen = list(names) if names else list(CHECKS)
    unknown = sorted(set(chosen) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check {unknown[0]!r} (known: {', '.join(CHECKS)})")
    order = [name for name in CHECKS if name in chosen]

    async def guarded(name: str) -> CheckResult:
        started = time.perf_counter()
        try:
            return await CHECKS[name](settings)
        except Exception as exc:  # a doctor that crashes tells nothing
            took = time.perf_counter() - started
            return fail(name, f"{_reason(exc)} (after {took:.1f} s)")

    return list(await asyncio.gather(*(guarded(name) for name in order)))
