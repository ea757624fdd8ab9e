"""The run memo's probe namespace stays bounded (oldest finished results go, probes in flight
never do), and a caller that gives up never cancels a probe for the others waiting on it."""

from __future__ import annotations

import asyncio
from typing import Any

from exposure.memo import RunMemo
from exposure.net.tls import PROBE_NAMESPACE, Offer, Outcome, TlsResult


class ProbeMemo:
    """The probe namespace of a run memo, as `exposure.net.tls.probe` uses it."""

    def __init__(self, limit: int) -> None:
        self.memo = RunMemo()
        self.limit = limit

    def __len__(self) -> int:
        return self.memo.count(PROBE_NAMESPACE)

    async def once(self, key: Any, make: Any) -> TlsResult:
        result: TlsResult = await self.memo.once(PROBE_NAMESPACE, key, make, keep=self.limit)
        return result


def _key(n: int) -> tuple[str, int, str, str, str]:
    return (f"192.0.2.{n % 250}", 443, f"site{n}.test", "modern", "")


def _result(n: int) -> TlsResult:
    return TlsResult(f"192.0.2.{n % 250}", 443, f"site{n}.test", Offer.MODERN, Outcome.ACCEPTED)


async def _done(memo: ProbeMemo, n: int) -> TlsResult:
    async def make() -> TlsResult:
        return _result(n)

    return await memo.once(_key(n), make)


async def test_the_oldest_finished_results_are_dropped_beyond_the_limit():
    memo = ProbeMemo(limit=8)
    for n in range(20):
        await _done(memo, n)
    assert len(memo) == 8
    made: list[int] = []

    async def again(n: int) -> TlsResult:
        made.append(n)
        return _result(n)

    for n in (19, 12):  # still there: answered from the memo
        await memo.once(_key(n), lambda n=n: again(n))
    assert made == []
    await memo.once(_key(0), lambda: again(0))  # dropped long ago: probed again
    assert made == [0]
    assert len(memo) == 8


async def test_a_result_used_again_is_kept_over_older_ones():
    memo = ProbeMemo(limit=4)
    for n in range(4):
        await _done(memo, n)
    await _done(memo, 0)  # refreshed: now the most recent
    await _done(memo, 4)  # one too many: 1 (the oldest unused) goes, not 0
    made: list[int] = []

    async def again(n: int) -> TlsResult:
        made.append(n)
        return _result(n)

    await memo.once(_key(0), lambda: again(0))
    assert made == []
    await memo.once(_key(1), lambda: again(1))
    assert made == [1]


async def test_probes_in_flight_are_never_dropped():
    memo = ProbeMemo(limit=2)
    gate = asyncio.Event()

    async def slow(n: int) -> TlsResult:
        await gate.wait()
        return _result(n)

    waiting = [asyncio.create_task(memo.once(_key(n), lambda n=n: slow(n))) for n in range(5)]
    await asyncio.sleep(0)
    assert len(memo) == 5  # over the limit, but nothing is finished: nothing can go
    shared = asyncio.create_task(memo.once(_key(3), lambda: slow(99)))
    gate.set()
    results = await asyncio.gather(*waiting, shared)
    assert results[3] is results[5]  # the second caller shared the first one's probe
    await _done(memo, 10)
    assert len(memo) == 2


async def test_a_cancelled_waiter_does_not_cancel_the_probe_for_the_others():
    """The first caller (whose check hit its time-out) is cancelled; the second still gets the
    result, and the probe ran once."""
    memo = ProbeMemo(limit=8)
    gate = asyncio.Event()
    made: list[int] = []

    async def slow() -> TlsResult:
        made.append(1)
        await gate.wait()
        return _result(1)

    first = asyncio.create_task(memo.once(_key(1), slow))
    await asyncio.sleep(0)
    second = asyncio.create_task(memo.once(_key(1), slow))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    gate.set()
    assert (await second).outcome is Outcome.ACCEPTED
    assert first.cancelled() and made == [1]
    await memo.memo.close()


def test_stats_count_attempts_and_names_and_keep_only_repeats_in_full():
    from exposure.net.tls import TlsStats

    stats = TlsStats()
    for n in range(1000):
        stats.attempted(_key(n), f"Site{n}.test")
    assert stats.total == 1000 and stats.names == 1000 and stats.repeated == {}
    assert stats.for_name("site7.test") == 1 and stats.for_name("other.test") == 0
    stats.attempted(_key(7), "site7.test")  # the same key again: a repeat, kept in full
    stats.attempted(_key(7), "site7.test")
    stats.attempted((*_key(7)[:4], "https-get"), "site7.test")  # another purpose: no repeat
    assert stats.repeated == {_key(7): 3}
    assert stats.for_name("SITE7.test") == 4 and stats.names == 1000 and stats.total == 1003
