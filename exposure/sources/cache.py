"""The cache a source keeps across runs, as an interface the engine implements over the store.

Checks never touch the database, and neither does a source: it is handed an `AnswerCache`.
The engine's implementation (`exposure.store.source_cache.StoreAnswerCache`) keeps answers in
the `SourceCache` table; `MemoryAnswerCache` serves tests and runs without a store.

Times are naive UTC, as everywhere in the store.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """One answer of a source: the HTTP status that mattered (200, 404) and its JSON body."""

    status: int
    payload: Mapping[str, Any]
    fetched_at: datetime  # naive UTC

    def fresh(self, now: datetime, max_age_days: float) -> bool:
        """Young enough to stand in for asking again (`max_age_days` 0: never)."""
        if max_age_days <= 0:
            return False
        return (now - self.fetched_at).total_seconds() < max_age_days * 86_400


class AnswerCache(Protocol):
    """Keyed answers per source. Implementations must not raise for a missing key, and `load`
    must see what `save` was given even before `flush`.

    A failing cache (database locked, gone) may raise; the source treats that as a miss and
    asks the API, so a broken cache costs requests, never verdicts.
    """

    async def load(self, source: str, key: str) -> CachedAnswer | None: ...

    async def save(self, source: str, key: str, answer: CachedAnswer) -> None: ...

    async def flush(self) -> int:
        """Make saved answers durable (an implementation may buffer `save`); returns how many."""
        ...


@dataclass(slots=True)
class MemoryAnswerCache:
    """An `AnswerCache` in a dict: for tests, and for a source used without a store."""

    entries: dict[tuple[str, str], CachedAnswer] = field(default_factory=dict)
    loads: int = 0
    saves: int = 0

    async def load(self, source: str, key: str) -> CachedAnswer | None:
        self.loads += 1
        return self.entries.get((source, key))

    async def save(self, source: str, key: str, answer: CachedAnswer) -> None:
        self.saves += 1
        self.entries[(source, key)] = CachedAnswer(
            answer.status, copy.deepcopy(dict(answer.payload)), answer.fetched_at
        )

    async def flush(self) -> int:
        return 0
