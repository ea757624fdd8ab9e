"""Work shared across a run: done once, awaited by everybody who needs it.

An MX host used by 50 domains is probed once per run; each domain's check awaits the same
result. Failures are shared too (a host that timed out for one domain is not retried for the
next one in the same run).

The shared work runs in a task of its own. A caller that is cancelled (its check hit its
time-out) stops waiting, but does not cancel the work others are waiting for, and they do not
receive its cancellation. The work bounds its own waits; whatever is still running when the run
ends is cancelled by `close()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class RunMemo:
    def __init__(self) -> None:
        self._tasks: dict[tuple[str, Any], asyncio.Task[Any]] = {}
        self.hits = 0
        self.misses = 0

    async def once(self, namespace: str, key: Any, make: Callable[[], Awaitable[T]]) -> T:
        full = (namespace, key)
        task = self._tasks.get(full)
        if task is None:
            self.misses += 1
            task = asyncio.ensure_future(make())
            task.add_done_callback(_retrieve)
            self._tasks[full] = task
        else:
            self.hits += 1
        result: T = await asyncio.shield(task)
        return result

    def count(self, namespace: str) -> int:
        return sum(1 for ns, _ in self._tasks if ns == namespace)

    async def close(self) -> None:
        """Cancel shared work nobody waits for any more (the run is over)."""
        pending = [t for t in self._tasks.values() if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a failure as seen: when no caller is left to await it, it is not a loose error."""
    if not task.cancelled():
        task.exception()
