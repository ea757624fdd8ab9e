"""The `shodan` family: exposed cameras and services of a company, from what Shodan already saw.

Passive by design: it never connects to a company's address. For an IP target it asks the run's
`ShodanSource` about that address; for a network, about the network (one `net:` search, or
address by address); for a domain, about the addresses the domain resolves to, minus shared
hosting (hosting.py) and addresses out of scope. What Shodan knows about each address becomes
findings in analysis.py.

"Could not decide" is kept apart from "nothing there", per address and per id:
- a look-up that failed (time-out, rate limit, outage, a key that stopped working) covers every
  id of the family, so no finding of this target is resolved on a night Shodan did not answer;
- a look-up that only got InternetDB's summary (no API key, or a plan without host look-ups)
  covers exactly the ids the summary could not decide ("ran degraded: …");
- the run waits for Shodan, not the check: the check's own time budget (`BUDGET_SHARE` of
  `check_timeout`) covers its own work, and a look-up that is only waiting for its turn behind the
  REST API's one request per second when the budget runs out is waited for up to the run's
  deadline (the family declares itself `paced`, so the orchestrator bounds it by the run's
  deadline rather than `check_timeout`). Only what is still queued near the run's deadline (or
  in a run without one, a distributed job, at the budget) is "deferred" (rate limited): its
  answer still lands in the caches, and the next run finds it there;
- a look-up past the budget whose API stopped answering (a request timed out or failed, the
  source stopped) is not waited for: a hung API costs its own time-out, not the run's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Sequence
from typing import ClassVar, TypeVar

from checks.shodan.analysis import analyse
from checks.shodan.banners import Host
from checks.shodan.camera import CAMERA
from checks.shodan.compromised import COMPROMISED
from checks.shodan.evidence import naive_utc
from checks.shodan.exploited import EXPLOITED
from checks.shodan.hosting import shared_hosting
from checks.shodan.services import DATABASE, FILE_SHARE, ICS, REMOTE_ACCESS, SERVICE
from checks.shodan.vulns import VULNERABLE
from exposure.contract import (
    CheckContext,
    CheckFailure,
    CheckMeta,
    FailureReason,
    FindingCandidate,
    Observation,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.net.dns import DnsStatus
from exposure.net.scope import in_scope
from exposure.sources.kev import KevCatalogue, catalogue_for
from exposure.sources.shodan import HostResult, HostView, NetworkAnswer, ShodanSource, SourceFailure
from exposure.text import Text

T = TypeVar("T")

#: Share of the per-check time-out the check's own work may take (its look-ups included, unless
#: they only wait for their turn behind the REST API's pace).
BUDGET_SHARE = 0.8


class _Deferred(Exception):
    """A look-up not answered in time: still queued at the run's deadline, or past the check's
    budget while the API was failing (`failing`)."""

    def __init__(self, failing: bool) -> None:
        super().__init__()
        self.failing = failing


class ShodanCheck:
    meta: ClassVar[CheckMeta] = CheckMeta(
        id="shodan",
        title=Text(
            nl="Open diensten en apparaten volgens Shodan",
            en="Exposed services and devices according to Shodan",
        ),
        description=Text(
            nl="Kijkt in de gegevens van Shodan welke camera's, diensten en apparaten op de "
            "adressen van het bedrijf vanaf internet te bereiken zijn. Maakt zelf geen "
            "verbinding met die adressen.",
            en="Looks up in Shodan's data which cameras, services and devices on the "
            "company's addresses can be reached from the internet. Never connects to those "
            "addresses itself.",
        ),
        target_kinds=frozenset(
            {TargetKind.IP, TargetKind.NETWORK, TargetKind.DOMAIN, TargetKind.HOST}
        ),
        sources=frozenset({Source.SHODAN, Source.DNS}),
        paced=True,  # the run waits for Shodan's pace, not the check (see the module's doc)
        findings=(
            CAMERA,
            REMOTE_ACCESS,
            FILE_SHARE,
            DATABASE,
            ICS,
            EXPLOITED,
            VULNERABLE,
            COMPROMISED,
            SERVICE,
        ),
    )

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        source: ShodanSource | None = getattr(ctx, "shodan", None)
        if source is None:
            return [
                CheckFailure(
                    FailureReason.UNAVAILABLE,
                    "no Shodan source in this run's context",
                    subject=target.value,
                )
            ]
        if source.unavailable is not None:
            return [
                CheckFailure(FailureReason.UNAVAILABLE, source.unavailable.message, target.value)
            ]
        run = _Run(target, ctx, source)
        match target.kind:
            case TargetKind.NETWORK:
                await run.network(target.value)
            case TargetKind.IP:
                await run.addresses([target.value], via="")
            case _:
                try:
                    async with asyncio.timeout_at(run.deadline):  # our own work: the budget
                        addresses = await run.resolve(target.value)
                except TimeoutError:
                    return [
                        CheckFailure(
                            FailureReason.TIMEOUT,
                            f"DNS did not answer for {target.value} within {run.budget:g} s",
                            target.value,
                        )
                    ]
                await run.addresses(addresses, via=target.value)
        return run.observations()


class _Run:
    """One target's look-ups and what they gave."""

    def __init__(self, target: ScanTarget, ctx: CheckContext, source: ShodanSource) -> None:
        self.target = target
        self.ctx = ctx
        self.source = source
        self.now = naive_utc(ctx.now)
        self.budget = ctx.settings.check_timeout * BUDGET_SHARE
        loop = asyncio.get_running_loop()
        self.deadline = loop.time() + self.budget  # the check's own work
        # How long a look-up that waits for its turn may be waited for: the run's deadline, less
        # what is left of the check's time-out for storing the company (no run deadline: none)
        margin = ctx.settings.check_timeout - self.budget
        self.last_wait = (
            max(self.deadline, ctx.deadline - margin) if ctx.deadline is not None else self.deadline
        )
        self.step = min(1.0, max(source.config.request_interval, 0.01))
        self.candidates: list[FindingCandidate] = []
        self.failures: dict[str, CheckFailure] = {}
        self.undecided: set[str] = set()
        self.degraded: set[str] = set()
        self.degraded_ips: set[str] = set()
        self.kev: KevCatalogue | None = _kev(ctx)

    # --- gathering -----------------------------------------------------------------------------

    async def network(self, cidr: str) -> None:
        try:
            answer: NetworkAnswer = await self._within(self.source.network(cidr), None)
        except _Deferred as deferred:
            self._defer(cidr, deferred)
            return
        for failure in answer.failures:
            self._fail(failure.reason, failure.message, cidr)
        for view in answer.views:
            self._view(view, via="")

    async def addresses(self, addresses: Sequence[str], via: str) -> None:
        results = await asyncio.gather(*(self._lookup(a) for a in addresses))
        for address, result in zip(addresses, results, strict=True):
            if isinstance(result, SourceFailure):
                self._fail(result.reason, result.message, address)
            elif result is not None:
                self._view(result, via)

    async def _lookup(self, address: str) -> HostResult | None:
        try:
            return await self._within(self.source.host_view(address), address)
        except _Deferred as deferred:
            self._defer(address, deferred)
            return None

    async def resolve(self, domain: str) -> list[str]:
        """The domain's addresses that are in scope (A and AAAA, through the run's resolver)."""
        answers = await asyncio.gather(
            self.ctx.dns.resolve(domain, "A"), self.ctx.dns.resolve(domain, "AAAA")
        )
        for answer in answers:
            if not answer.decisive:
                self._fail(
                    FailureReason.DNS_ERROR,
                    f"DNS did not answer {answer.rdtype} for {domain} ({answer.status})",
                    domain,
                )
        found = [
            str(ipaddress.ip_address(r))
            for a in answers
            if a.status is DnsStatus.OK
            for r in a.records
            if isinstance(r, str)
        ]
        allowed = [a for a in dict.fromkeys(found) if in_scope(a, self.ctx.settings.allow_private)]
        if found and not allowed:
            self._fail(
                FailureReason.OUT_OF_SCOPE,
                f"{domain} resolves only to private, loopback or link-local addresses "
                f"({', '.join(sorted(set(found)))}); skipped (set allow_private to scan it)",
                domain,
            )
        return allowed

    async def _within(self, awaitable: Awaitable[T], paced: str | None) -> T:
        """`awaitable` within the check's budget, and past it for as long as the look-up of
        `paced` (None: any REST look-up) only waits for its turn, up to `last_wait`."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(awaitable)
        try:
            end = self.deadline
            while True:
                await asyncio.wait({task}, timeout=max(end - loop.time(), 0.0))
                if task.done():
                    return task.result()
                if loop.time() >= self.last_wait:
                    raise _Deferred(failing=False)
                if not self.source.paced(paced):
                    raise _Deferred(failing=not self.source.answering)
                end = min(self.last_wait, loop.time() + self.step)
        finally:
            if not task.done():
                task.cancel()  # the look-up itself is shielded: its answer still lands

    def _defer(self, what: str, deferred: _Deferred) -> None:
        self.source.note_deferred(what)
        if deferred.failing:
            self._fail(
                FailureReason.TIMEOUT,
                f"Shodan look-up of {what} not waited for: the Shodan API stopped answering "
                f"or failed while it was queued, and this check's {self.budget:g} s ran out",
                what,
            )
            return
        when = (
            "the run's deadline came"
            if self.last_wait > self.deadline
            else f"this check's {self.budget:g} s ran out"
        )
        self._fail(
            FailureReason.RATE_LIMITED,
            f"Shodan look-up of {what} deferred: {self.source.queued} REST look-ups were still "
            f"queued (at most one per {self.source.config.request_interval:g} s) when {when}; "
            "it stays queued for the rest of this run and what arrives is cached for the next "
            "run",
            what,
        )

    # --- judging -------------------------------------------------------------------------------

    def _view(self, view: HostView, via: str) -> None:
        if not view.doc or (not view.ports and not view.doc.get("tags")):
            return  # Shodan saw nothing open there
        if via:
            shared = shared_hosting(view, via)
            if shared is not None:
                self.source.note_shared_hosting(view.ip)
                return
        verdict = analyse(Host.from_view(view), self.now, via, self.kev)
        self.candidates.extend(verdict.candidates)
        if verdict.undecided:
            self.undecided |= verdict.undecided
            self.degraded.add(view.degraded or "InternetDB summary only")
            self.degraded_ips.add(view.ip)

    def _fail(self, reason: FailureReason, message: str, subject: str) -> None:
        self.failures.setdefault(message, CheckFailure(reason, message, subject))

    def observations(self) -> list[Observation]:
        out: list[Observation] = list(self.candidates)
        out.extend(self.failures.values())
        if self.undecided:
            ids = ", ".join(sorted(self.undecided))
            ips = ", ".join(sorted(self.degraded_ips, key=_ip_key))
            out.append(
                CheckFailure(
                    FailureReason.UNAVAILABLE,
                    f"ran degraded: {'; '.join(sorted(self.degraded))}; could not decide "
                    f"{ids} for {ips}",
                    subject=self.target.value,
                    finding_ids=frozenset(self.undecided),
                )
            )
        return out


def _kev(ctx: CheckContext) -> KevCatalogue | None:
    """The run's KEV catalogue (`kev_file`, else the shipped snapshot); None if neither loads:
    then `exposure.exploited` is not judged and the CVE list keeps its CVSS order."""
    try:
        return catalogue_for(ctx.settings)
    except Exception:  # the shipped snapshot is tested; this is a broken installation
        logging.getLogger(__name__).exception("kev: no catalogue could be loaded")
        return None


def _ip_key(ip: str) -> tuple[int, int]:
    addr = ipaddress.ip_address(ip)
    return addr.version, int(addr)
