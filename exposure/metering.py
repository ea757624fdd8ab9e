"""CPU accounting per check family without a profiler.

The scan runs hundreds of checks interleaved on one event loop, so wall time says little about
what a check costs. `metered` steps a coroutine itself and adds the thread CPU time of every step
to a bucket: the CPU that check spent on the loop, whatever it awaited in between.
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
    clock = time.thread_time
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
