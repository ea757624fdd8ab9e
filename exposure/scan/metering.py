"""CPU accounting per check family without a profiler.

The scan runs hundreds of checks interleaved on one event loop, so wall time says little about
what a check costs. `metered` steps a coroutine itself and adds the time of every step to a
bucket: the time that check held the loop, whatever it awaited in between.

A step is timed with `time.perf_counter` (a vDSO read, ~0.1 µs), not `time.thread_time`: the
thread CPU clock is a system call (~1.4 µs on the 2-core VMs), two per step, and a scan takes
about a million steps, which made the meter itself some 15% of the scan's CPU
(benchmarks/README.md). A step does no blocking I/O, so its time on the loop is its CPU time,
plus any time the process was preempted during it: on a busy machine the buckets read high.
"""

from __future__ import annotations

import time
import types
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


class CpuMeter:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, bucket: str, seconds: float) -> None:
        self.seconds[bucket] = self.seconds.get(bucket, 0.0) + seconds


@types.coroutine
def metered(coro: Coroutine[Any, Any, T], meter: CpuMeter, bucket: str) -> Generator[Any, Any, T]:
    clock = time.perf_counter
    send_value: Any = None
    error: BaseException | None = None
    try:
        while True:
            start = clock()
            try:
                yielded = coro.throw(error) if error is not None else coro.send(send_value)
            except StopIteration as stop:
                meter.add(bucket, clock() - start)
                return stop.value
            finally:
                error = None
            meter.add(bucket, clock() - start)
            try:
                send_value = yield yielded
            except BaseException as exc:  # delivered into the inner coroutine (cancellation too)
                error, send_value = exc, None
    finally:
        coro.close()
