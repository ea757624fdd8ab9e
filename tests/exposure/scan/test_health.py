"""Run health in parts: the canary is asked once for everybody it can answer for, and a failed
source turns exactly the outcomes that rest on it into "could not test"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from typing import Any

from exposure.contract import (
    CheckFailure,
    FailureReason,
    FindingCandidate,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.scan.canaries import probe_shodan
from exposure.scan.health import Canary, RunHealth
from exposure.scan.results import CompanyResult, TaskOutcome
from exposure.settings import Settings
from exposure.severity import Severity

TARGET = ScanTarget("c1", TargetKind.DOMAIN, "kade.test")
NEEDS = {
    "mail": frozenset({Source.DNS, Source.SMTP}),
    "shodan": frozenset({Source.DNS, Source.SHODAN}),
    "web": frozenset({Source.DNS, Source.HTTP}),
}


def _outcome(family: str, *observations) -> TaskOutcome:
    return TaskOutcome(TARGET, family, frozenset({f"{family}.x"}), tuple(observations))


def _result(*outcomes: TaskOutcome) -> CompanyResult:
    return CompanyResult(1, "c1", outcomes, datetime(2026, 1, 1))


def _finding(family: str) -> FindingCandidate:
    return FindingCandidate(check_id=f"{family}.x", subject="kade.test", severity=Severity.LOW)


async def test_one_probe_answers_for_every_company_that_finished_before_it_started():
    asked: list[float] = []
    gate = asyncio.Event()

    async def probe() -> tuple[bool, str]:
        asked.append(time.monotonic())
        await gate.wait()
        return True, "up"

    canary = Canary(probe)
    now = time.monotonic()
    waiting = [asyncio.ensure_future(canary.confirm(now)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == [(True, "up")] * 10
    assert len(asked) == 1
    assert await canary.confirm(now) == (True, "up")  # answered already: not asked again
    assert len(asked) == 1
    assert await canary.confirm(time.monotonic()) == (True, "up")  # finished later: asked again
    assert len(asked) == 2


async def test_a_healthy_run_keeps_the_result_as_it_is():
    health = RunHealth()

    async def up() -> tuple[bool, str]:
        return True, "up"

    health.watch(Source.DNS, up)
    result = _result(
        _outcome("mail", CheckFailure(FailureReason.DNS_ERROR, "SERVFAIL", "kade.test")),
        _outcome("web", _finding("web")),
    )
    assert await health.vouch(result, NEEDS, time.monotonic()) is result
    assert not health.broken and not health.untested


async def test_a_failed_source_takes_only_what_rests_on_it(caplog):
    health = RunHealth()

    async def down() -> tuple[bool, str]:
        return False, "InternetDB answered HTTP 503"

    health.watch(Source.SHODAN, down)
    result = _result(
        _outcome("shodan", CheckFailure(FailureReason.UNREACHABLE, "HTTP 503", "kade.test")),
        _outcome("mail", _finding("mail")),
    )
    with caplog.at_level(logging.ERROR, logger="exposure.run"):
        kept = await health.vouch(result, NEEDS, time.monotonic())
        again = await health.vouch(result, NEEDS, time.monotonic())
    assert kept is not None and again is not None
    shodan, mail = kept.outcomes
    assert mail == result.outcomes[1]  # untouched
    assert [(f.reason, f.finding_ids) for f in shodan.failures] == [
        (FailureReason.UNAVAILABLE, frozenset())  # every id of the family: none resolves
    ]
    assert not shodan.candidates
    assert health.untested == {"c1"}
    assert health.failed == {Source.SHODAN: "InternetDB answered HTTP 503"}
    events = [r for r in caplog.records if getattr(r, "action", "") == "source_failed"]
    assert len(events) == 1 and events[0].source == "shodan"  # type: ignore[attr-defined]


async def test_nothing_is_kept_when_everything_rested_on_the_failed_source():
    health = RunHealth()

    async def down() -> tuple[bool, str]:
        return False, "resolver did not answer"

    health.watch(Source.DNS, down)
    result = _result(
        _outcome("mail", CheckFailure(FailureReason.DNS_ERROR, "timeout", "kade.test")),
        _outcome("web", _finding("web")),  # a finding from before the resolver died: not kept
    )
    assert await health.vouch(result, NEEDS, time.monotonic()) is None
    assert health.untested == {"c1"}
    assert health.blind(NEEDS.values())


async def _serve(respond: Any) -> tuple[asyncio.Server, str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            await reader.readuntil(b"\r\n\r\n")
            await respond(writer)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def test_the_shodan_canary_reads_the_status_line_only_and_within_one_bound():
    """A body that never ends does not hold the canary (only the status is read); a server that
    trickles its head a byte at a time (each read in time) is bounded as a whole."""

    async def endless_body(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 100000000\r\n\r\n")
        while True:
            writer.write(b"x" * 4096)
            await writer.drain()
            await asyncio.sleep(0.01)

    async def trickle(writer: asyncio.StreamWriter) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 10_000:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)

    for respond, up in ((endless_body, True), (trickle, False)):
        server, url = await _serve(respond)
        try:
            settings = Settings(
                database="sqlite://", internetdb_url=url, connect_timeout=0.2, read_timeout=0.3
            )
            started = time.monotonic()
            ok, detail = await probe_shodan(settings)
            assert ok is up, detail
            assert time.monotonic() - started < 2.0
        finally:
            server.close()
