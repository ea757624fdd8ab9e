"""The engine's shared parts: the per-run memo, the keyed limiter, the DNS cache, CPU metering."""

from __future__ import annotations

import asyncio

import pytest

from exposure.memo import RunMemo
from exposure.net.dns import AiodnsResolver, CachingResolver, DnsStatus
from exposure.scan.limits import KeyedLimiter
from exposure.scan.metering import CpuMeter, metered
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec


async def test_memo_runs_shared_work_once_and_shares_failures():
    memo = RunMemo()
    calls = 0

    async def probe() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return "banner"

    results = await asyncio.gather(*(memo.once("smtp", "mx.test", probe) for _ in range(50)))
    assert results == ["banner"] * 50
    assert calls == 1
    assert memo.count("smtp") == 1

    async def broken() -> str:
        raise ConnectionRefusedError("refused")

    for _ in range(3):
        with pytest.raises(ConnectionRefusedError):
            await memo.once("smtp", "down.test", broken)
    assert memo.misses == 2  # the failure is remembered too


async def test_a_bounded_namespace_forgets_the_least_recently_used_finished_results():
    memo = RunMemo()
    made: list[str] = []
    gate = asyncio.Event()

    async def session(host: str) -> str:
        made.append(host)
        if host == "slow.test":
            await gate.wait()
        return f"banner of {host}"

    async def ask(host: str, keep: int | None = 3) -> str:
        return await memo.once("smtp", host, lambda: session(host), keep=keep)

    slow = asyncio.ensure_future(ask("slow.test"))  # in flight: never forgotten
    await asyncio.sleep(0)
    for host in ("provider.test", "a.test", "provider.test", "b.test", "provider.test", "c.test"):
        await ask(host)
    assert memo.count("smtp") == 3  # slow (in flight), provider (used often), c (newest)
    assert memo.forgotten == 2
    await ask("provider.test")
    await ask("a.test")  # forgotten: asked again
    assert made.count("provider.test") == 1 and made.count("a.test") == 2
    gate.set()
    assert await slow == "banner of slow.test" and made.count("slow.test") == 1
    # another namespace, unbounded, is not touched by the bound
    for n in range(10):
        await memo.once("psl", n, lambda n=n: session(f"n{n}"))
    assert memo.count("psl") == 10


async def test_keyed_limiter_bounds_each_key_and_forgets_idle_keys():
    limiter = KeyedLimiter(2)
    active: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def use(key: str) -> None:
        async with limiter.slot(key):
            active[key] = active.get(key, 0) + 1
            peak[key] = max(peak.get(key, 0), active[key])
            await asyncio.sleep(0.01)
            active[key] -= 1

    await asyncio.gather(*(use(k) for k in ["a"] * 10 + ["b"] * 10))
    assert peak == {"a": 2, "b": 2}
    assert len(limiter) == 0


async def test_dns_cache_coalesces_and_does_not_keep_timeouts():
    area = Area(
        companies=[
            CompanySpec("1", "A", "a@a.test", domains=[DomainSpec("cached.test")]),
            CompanySpec("2", "B", "b@b.test", domains=[DomainSpec("slow.test", dns="timeout")]),
        ]
    )
    async with Testbed(area, latency=0.05) as tb:
        inner = AiodnsResolver([(tb.dns.host, tb.dns.port)], timeout=0.2, tries=1)
        try:
            cache = CachingResolver(inner)
            answers = await asyncio.gather(*(cache.resolve("cached.test", "A") for _ in range(40)))
            assert {a.status for a in answers} == {DnsStatus.OK}
            assert tb.dns.queries["A"] == 1
            assert (await cache.resolve("CACHED.test.", "a")).records == answers[0].records
            assert tb.dns.queries["A"] == 1

            first = await cache.resolve("slow.test", "A")
            assert first.status is DnsStatus.TIMEOUT
            await cache.resolve("slow.test", "A")
            assert inner.queries["A"] == 3  # a time-out is asked again, not remembered
        finally:
            await inner.close()


async def test_metering_bills_cpu_to_the_right_bucket():
    meter = CpuMeter()

    async def busy() -> int:
        total = 0
        for _ in range(20):
            total += sum(range(50_000))
            await asyncio.sleep(0)
        return total

    async def idle() -> None:
        await asyncio.sleep(0.05)

    await asyncio.gather(metered(busy(), meter, "busy"), metered(idle(), meter, "idle"))
    assert meter.seconds["busy"] > 10 * meter.seconds["idle"]


async def test_a_cancelled_caller_does_not_cancel_shared_work_for_others():
    memo = RunMemo()
    release = asyncio.Event()

    async def probe() -> str:
        await release.wait()
        return "220 mx ready"

    impatient = asyncio.create_task(memo.once("smtp", "mx.test", probe))
    patient = asyncio.create_task(memo.once("smtp", "mx.test", probe))
    await asyncio.sleep(0.01)
    impatient.cancel()  # e.g. its check hit the per-check time-out
    await asyncio.sleep(0.01)
    release.set()
    assert await patient == "220 mx ready"
    assert impatient.cancelled()
    assert memo.misses == 1


async def test_close_cancels_work_nobody_waits_for():
    memo = RunMemo()
    started = asyncio.Event()

    async def hangs() -> None:
        started.set()
        await asyncio.sleep(3600)

    waiter = asyncio.create_task(memo.once("x", 1, hangs))
    await started.wait()
    waiter.cancel()
    await memo.close()
    assert memo.count("x") == 1
