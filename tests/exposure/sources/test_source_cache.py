"""`StoreAnswerCache`: source answers kept in the `SourceCache` table (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from exposure.sources.cache import CachedAnswer
from exposure.store.source_cache import StoreAnswerCache

T0 = datetime(2026, 3, 2, 2, 0)


async def test_save_flush_load_update_and_purge(store_engine):
    cache = StoreAnswerCache(store_engine)
    assert await cache.load("shodan", "host:192.0.2.1") is None

    doc = {"ip_str": "192.0.2.1", "ports": [80], "data": [{"port": 80, "product": "nginx"}]}
    await cache.save("shodan", "host:192.0.2.1", CachedAnswer(200, doc, T0))
    assert cache.pending == 1
    assert await cache.load("shodan", "host:192.0.2.1") == CachedAnswer(200, doc, T0)
    assert await StoreAnswerCache(store_engine).load("shodan", "host:192.0.2.1") is None
    assert await cache.flush() == 1 and cache.pending == 0
    fresh = StoreAnswerCache(store_engine)  # the next run
    assert await fresh.load("shodan", "host:192.0.2.1") == CachedAnswer(200, doc, T0)

    later = T0 + timedelta(days=3)
    await fresh.save("shodan", "host:192.0.2.1", CachedAnswer(404, {}, later))
    await fresh.save("shodan", "host:192.0.2.2", CachedAnswer(200, {"ports": []}, T0))
    await fresh.save("other", "host:192.0.2.2", CachedAnswer(200, {}, T0))
    assert await fresh.flush() == 3
    third = StoreAnswerCache(store_engine)
    assert await third.load("shodan", "host:192.0.2.1") == CachedAnswer(404, {}, later)

    assert await third.purge("shodan", T0 + timedelta(days=1)) == 1
    assert await third.load("shodan", "host:192.0.2.2") is None
    assert await third.load("other", "host:192.0.2.2") is not None
    assert await third.load("shodan", "host:192.0.2.1") is not None


async def test_many_answers_in_one_flush(store_engine):
    cache = StoreAnswerCache(store_engine)
    await asyncio.gather(
        *(
            cache.save("shodan", f"host:192.0.2.{n}", CachedAnswer(200, {"n": n}, T0))
            for n in range(1, 201)
        )
    )
    assert await cache.flush() == 200
    assert await cache.flush() == 0
    reader = StoreAnswerCache(store_engine)
    for n in (1, 100, 200):
        answer = await reader.load("shodan", f"host:192.0.2.{n}")
        assert answer is not None and answer.payload == {"n": n}
