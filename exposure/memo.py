"""Work shared across a run: done once, awaited by everybody who needs it.

An MX host used by 50 domains is probed once per run; each domain's check awaits the same
result. Failures are shared too (a host that timed out for one domain is not retried for the
next one in the same run).

The shared work runs in a task of its own. A caller that is cancelled (its check hit its
time-out) stops waiting, but does not cancel the work others are waiting for, and they do not
receive its cancellation. The work bounds its own waits; whatever is still running when the run
ends is cancelled by `close()`.

A namespace with one entry per host (an SMTP session per MX host) grows with the run when
companies have hosts of their own: such a caller passes `keep`, and beyond that many the least
recently used finished results of that namespace are forgotten (a host used again later is then
asked again; a provider's MX host used by many companies stays, every use refreshes it). Memory
stays flat in the number of companies (issue #11).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
F = TypeVar("F", bound="asyncio.Future[Any]")


def drop_oldest_finished(entries: OrderedDict[K, F], limit: int) -> list[K]:
    """Drop the oldest finished entries beyond `limit` (oldest first in `entries`); work in
    flight stays, others wait for it. The walk stops at the first finished ones it needs, and the
    oldest are nearly always finished, so a full memo costs O(1) per new entry, not a walk over
    every entry (at 10,000 companies that walk was ≈30% of the CPU). Returns the keys dropped."""
    excess = len(entries) - limit
    if excess <= 0:
        return []
    victims: list[K] = []
    for key, future in entries.items():
        if future.done():
            victims.append(key)
            if len(victims) == excess:
                break
    for key in victims:
        del entries[key]
    return victims


class RunMemo:
    def __init__(self) -> None:
        self._tasks: dict[tuple[str, Any], asyncio.Task[Any]] = {}
        # the bounded namespaces' tasks (also in `_tasks`), least recently used first
        self._recent: dict[str, OrderedDict[Any, asyncio.Task[Any]]] = {}
        self.hits = 0
        self.misses = 0
        self.forgotten = 0

    async def once(
        self,
        namespace: str,
        key: Any,
        make: Callable[[], Awaitable[T]],
        *,
        keep: int | None = None,
    ) -> T:
        """`make()`'s result, shared by every caller of the run with the same namespace and key.

        `keep`: at most this many finished results of the namespace are kept (see above)."""
        result: T = await asyncio.shield(self.start(namespace, key, make, keep=keep))
        return result

    def start(
        self,
        namespace: str,
        key: Any,
        make: Callable[[], Awaitable[T]],
        *,
        keep: int | None = None,
    ) -> asyncio.Task[T]:
        """The shared task of `once`, started if need be, without waiting for it (for a caller
        that waits for something else too). Never cancel it: others may be waiting."""
        full = (namespace, key)
        task = self._tasks.get(full)
        if task is None:
            self.misses += 1
            task = asyncio.ensure_future(make())
            task.add_done_callback(_retrieve)
            self._tasks[full] = task
        else:
            self.hits += 1
        if keep is not None:
            recent = self._recent.setdefault(namespace, OrderedDict())
            recent[key] = task
            recent.move_to_end(key)
            for gone in drop_oldest_finished(recent, keep):
                del self._tasks[(namespace, gone)]
                self.forgotten += 1
        return task

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
