"""Run health: did our own view of the world break (resolver, outbound port 25, Shodan)?

A nightly scanner fails most often on its own side: the resolver dies at 02:40, the provider
blocks outbound port 25, a source goes down. Each looks, per member, exactly like a fault of the
member (a DNS time-out, an unreachable MX host). What tells them apart is a canary: a question
about a host that is not a member's and always answers (the resolver's root NS, a large public
MX host). So:

- a company's result that holds failures a broken source of ours would also cause (a DNS error,
  an unreachable mail host, ...) is stored only after that source's canary answered *after* the
  company finished (`vouch`). The canaries of many companies are coalesced: one in flight, each
  answering for every company that finished before it started;
- a canary that does not answer marks the source failed (once, JSON log event `source_failed`);
  the outcomes of every family that needs it become "could not test" (`source_unavailable`),
  nothing of them is a finding or resolves one, and the company stays pending in the run, so the
  next run scans it again (`untested`);
- checks that need a failed source are not started any more; when every check needs one, no
  company is started any more. The run ends `degraded` (exit code 4) with the cause;
- a family that can do without a source (`CheckMeta.partial`: the mail family without SMTP
  still decides SPF, DMARC, DKIM, MTA-STS, TLS-RPT and DANE) is started anyway: it sees the
  source down (`CheckContext.down`) and leaves only the ids that rest on it undecided, and what
  it finished before the source failed is vouched for the same way, id by id;
- a source switched off by a setting (`smtp_probes = false`: a machine that may not send on port
  25) is down from the start but not failed: its ids are could-not-test, said as such, and the
  run is not degraded for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import ChainMap
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from exposure.contract import CheckFailure, FailureReason, FindingCandidate, Observation, Source
from exposure.scan.results import CompanyResult, TaskOutcome

log = logging.getLogger("exposure.run")

#: A source's canary: (it answered, what happened).
Probe = Callable[[], Awaitable[tuple[bool, str]]]

#: Failures a broken source of ours causes too: they make a result wait for that source's canary.
SUSPECT: Mapping[Source, frozenset[FailureReason]] = {
    # not TIMEOUT: a check's own time-out is nearly always a slow target (DNS has its own)
    Source.DNS: frozenset({FailureReason.DNS_ERROR}),
    Source.SMTP: frozenset(
        {
            FailureReason.UNREACHABLE,
            FailureReason.REFUSED,
            FailureReason.TIMEOUT,
            FailureReason.PROTOCOL,
        }
    ),
    # not UNAVAILABLE (a rejected key, spent credits: the source says so itself) nor RATE_LIMITED
    Source.SHODAN: frozenset(
        {FailureReason.TIMEOUT, FailureReason.UNREACHABLE, FailureReason.PROTOCOL}
    ),
}

#: Words for the sources in messages.
NAMES: Mapping[Source, str] = {
    Source.DNS: "resolver",
    Source.SMTP: "outbound SMTP (port 25)",
    Source.SHODAN: "Shodan/InternetDB",
    Source.HTTP: "outbound HTTP",
    Source.TLS: "outbound TLS",
}


@dataclass(frozen=True, slots=True)
class _Answer:
    started: float
    ok: bool
    detail: str


class Canary:
    """A probe asked again only as often as needed: `confirm(since)` returns the answer of a
    probe that started at or after `since`, sharing one probe between every caller it serves.

    `gather`: seconds a probe waits before it starts, so that every company finishing in the
    meantime is answered by it too: a canary on somebody else's server (a public MX host) is
    asked at most about once per `gather` seconds, however many companies wait for it."""

    def __init__(self, probe: Probe, gather: float = 0.0) -> None:
        self._probe = probe
        self._gather = gather
        self._last: _Answer | None = None
        self._running: asyncio.Task[_Answer] | None = None
        self.asked = 0

    async def confirm(self, since: float) -> tuple[bool, str]:
        while True:
            if self._last is not None and self._last.started >= since:
                return self._last.ok, self._last.detail
            task = self._running
            if task is None or task.done():
                task = self._running = asyncio.ensure_future(self._ask())
            answer = await asyncio.shield(task)
            if answer.started >= since:
                return answer.ok, answer.detail

    async def _ask(self) -> _Answer:
        if self._gather > 0:
            await asyncio.sleep(self._gather)
        started = time.monotonic()
        self.asked += 1
        try:
            ok, detail = await self._probe()
        except Exception as exc:  # a canary that crashes proves nothing works
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        answer = _Answer(started, ok, detail)
        if self._last is None or answer.started >= self._last.started:
            self._last = answer
        return answer

    async def close(self) -> None:
        if self._running is not None and not self._running.done():
            self._running.cancel()
            await asyncio.gather(self._running, return_exceptions=True)


class RunHealth:
    """Which of the run's own sources failed, and why; see the module docstring."""

    def __init__(self) -> None:
        self.failed: dict[Source, str] = {}
        self.off: dict[Source, str] = {}  # switched off by a setting: down, not failed
        # what checks see (`CheckContext.down`): failed or off, kept up to date as sources fail
        self.down: ChainMap[Source, str] = ChainMap(self.failed, self.off)
        self.canaries: dict[Source, Canary] = {}
        self.untested: set[str] = set()
        self.run_id: int | None = None

    def watch(self, source: Source, probe: Probe, gather: float = 0.0) -> None:
        """Give `source` a canary: from now on, suspect results wait for it (see `Canary`)."""
        self.canaries[source] = Canary(probe, gather)

    def fail(self, source: Source, cause: str) -> None:
        """Mark `source` failed (the first cause is kept and logged once)."""
        if source in self.failed:
            return
        self.failed[source] = cause
        log.error(
            "%s failed: %s",
            NAMES.get(source, source.value),
            cause,
            extra={"action": "source_failed", "source": source.value, "run_id": self.run_id},
        )

    def switch_off(self, source: Source, cause: str) -> None:
        """`source` is not to be used in this run, by the operator's choice (not a failure)."""
        self.off.setdefault(source, cause)

    async def check(self, source: Source) -> bool:
        """Ask `source`'s canary now (the preflight); False (and failed) when it does not answer."""
        if source in self.off:
            return False  # not asked: switched off, not failed
        canary = self.canaries.get(source)
        if canary is None:
            return source not in self.failed
        ok, detail = await canary.confirm(time.monotonic())
        if not ok:
            self.fail(source, detail)
        return ok

    @property
    def broken(self) -> bool:
        return bool(self.failed)

    def describe(self) -> str:
        """One line for the summary, `doctor` and the operator."""
        return "; ".join(
            f"{NAMES.get(source, source.value)} failed during the run: {cause}"
            for source, cause in self.failed.items()
        )

    def unavailable(self, sources: Iterable[Source]) -> str | None:
        """The cause when one of `sources` failed or is switched off, else None."""
        for source in sources:
            if source in self.failed:
                return f"not tested: our own {NAMES.get(source, source.value)} failed"
            if source in self.off:
                return self.off[source]
        return None

    def blind(self, needs: Iterable[frozenset[Source]]) -> bool:
        """Every check needs a failed source: starting another company is pointless."""
        return all(self.unavailable(sources) is not None for sources in needs)

    async def vouch(
        self,
        result: CompanyResult,
        needs: Mapping[str, frozenset[Source]],
        finished: float,
        partial: Mapping[str, Mapping[Source, frozenset[str]]] | None = None,
    ) -> CompanyResult | None:
        """`result` as it may be stored: outcomes that rest on a failed source become "could not
        test" and the company stays pending (`untested`); None when nothing of it is left.

        `needs`: each family's sources; `finished`: when the company finished (monotonic);
        `partial`: each family's `CheckMeta.partial` (only those ids rest on such a source)."""
        partial = partial or {}
        suspects: set[Source] = set()
        for outcome in result.outcomes:
            for source in needs.get(outcome.family, frozenset()):
                reasons = SUSPECT.get(source, frozenset())
                if source in self.canaries and any(f.reason in reasons for f in outcome.failures):
                    suspects.add(source)
        asked = [s for s in suspects if s not in self.failed]
        answers = await asyncio.gather(*(self.canaries[s].confirm(finished) for s in asked))
        for source, (ok, detail) in zip(asked, answers, strict=True):
            if not ok:
                self.fail(source, detail)
        if not self.failed:
            return result
        kept: list[TaskOutcome] = []
        untested = False
        for outcome in result.outcomes:
            optional = partial.get(outcome.family, {})
            hard = needs.get(outcome.family, frozenset()) - frozenset(optional)
            cause = self.unavailable(hard)
            if cause is None:
                for source, ids in optional.items():
                    if source in self.failed:
                        untested = True
                        outcome = partly_unavailable(outcome, ids, self.unavailable([source]))
                kept.append(outcome)
                continue
            untested = untested or any(s in self.failed for s in hard)
            kept.append(outcome if _unavailable(outcome) else unavailable_outcome(outcome, cause))
        if untested:
            self.untested.add(result.company_id)
        if all(_unavailable(o) for o in kept):
            return None  # nothing was tested: store nothing, the company stays pending
        return replace(result, outcomes=tuple(kept))

    async def close(self) -> None:
        for canary in self.canaries.values():
            await canary.close()


def _unavailable(outcome: TaskOutcome) -> bool:
    """The outcome says only that a source of ours was down (or the target was out of scope)."""
    return bool(outcome.observations) and all(
        isinstance(o, CheckFailure)
        and o.reason in (FailureReason.UNAVAILABLE, FailureReason.OUT_OF_SCOPE)
        and not o.finding_ids
        for o in outcome.observations
    )


def partly_unavailable(outcome: TaskOutcome, ids: frozenset[str], cause: str | None) -> TaskOutcome:
    """`outcome` without what it says about `ids` (they rest on a source of ours that failed:
    a finding could be our fault, a pass could be luck), which become could-not-test instead;
    the rest of the family's verdicts stand."""
    kept: list[Observation] = []
    for obs in outcome.observations:
        if isinstance(obs, FindingCandidate) and obs.check_id in ids:
            continue
        if isinstance(obs, CheckFailure) and obs.finding_ids and obs.finding_ids <= ids:
            continue
        kept.append(obs)
    why = cause or "not tested: a source of ours failed"
    kept.append(CheckFailure(FailureReason.UNAVAILABLE, why, outcome.target.value, ids))
    return replace(outcome, observations=tuple(kept))


def unavailable_outcome(outcome: TaskOutcome, cause: str) -> TaskOutcome:
    """A check not started because a source it needs failed: could not test, all its ids."""
    return replace(
        outcome,
        observations=(CheckFailure(FailureReason.UNAVAILABLE, cause, outcome.target.value),),
    )
