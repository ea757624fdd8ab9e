"""Work shared across a run: done once, awaited by everybody who needs it.

An MX host used by 50 domains is probed once per run; each domain's check awaits the same
future. Failures are shared too (a host that timed out for one domain is not retried for the
next one in the same run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class RunMemo:
    def __init__(self) -> None:
        self._futures: dict[tuple[str, Any], asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0

    async def once(self, namespace: str, key: Any, make: Callable[[], Awaitable[T]]) -> T:
        full = (namespace, key)
        fut = self._futures.get(full)
        if fut is None:
            self.misses += 1
            fut = asyncio.get_running_loop().create_future()
            self._futures[full] = fut
            try:
                fut.set_result(await make())
            except BaseException as exc:  # shared with every waiter, then re-raised here
                if isinstance(exc, asyncio.CancelledError):
                    del self._futures[full]  # a cancelled producer must not poison the key
                    fut.cancel()
                    raise
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: waiters may be none
                raise
            return fut.result()
        self.hits += 1
        return await asyncio.shield(fut)

    def count(self, namespace: str) -> int:
        return sum(1 for ns, _ in self._futures if ns == namespace)
