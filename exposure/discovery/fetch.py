"""A paced, bounded, cached JSON GET: what the web-based discoverers (CT, Shodan search) share.

Each discoverer owns one `JsonFetcher`, so each has its own time-out and pace (crt.sh is a
volunteer service that answers 429 to crawlers; Shodan allows one request a second per key).
Answers are kept in the run's `AnswerCache` (the `SourceCache` table) under the discoverer's
name for `cache_days`, like the Shodan host answers: a nightly run asks again only for domains
whose answer is stale. Only a usable answer is cached; an error is asked again next time.

A 429 is waited out once (its Retry-After, capped by the time-out) and then reported as
"rate limited": a source that keeps refusing costs its own time, never the run's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from exposure.contract import FailureReason
from exposure.sources.cache import AnswerCache
from exposure.sources.jsonget import GetFailure, get_json, redact_httpx_logs
from exposure.sources.shodan import CachedAnswer, Pacer

USER_AGENT = "exposure-discovery (passive; Meldpunt Cybersecurity)"
MAX_ANSWER_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchConfig:
    timeout: float = 30.0  # seconds per request, everything included
    interval: float = 1.0  # seconds of quiet between two requests of this source
    cache_days: float = 7.0
    max_retries_429: int = 1


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    body: Any  # parsed JSON (None when not JSON)
    text: str  # the head of the body, for messages
    cached: bool = False
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class FetchFailure:
    reason: FailureReason
    message: str


class Turns(Protocol):
    """Whatever hands out a source's turns: a `Pacer` (exposure.sources.shodan), for the Shodan
    key with its turn shared across processes."""

    def turn(self) -> contextlib.AbstractAsyncContextManager[None]: ...


class JsonFetcher:
    def __init__(
        self,
        source: str,
        config: FetchConfig,
        cache: AnswerCache | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None),
        pace: Turns | None = None,
    ) -> None:
        self.source = source
        self.config = config
        self.cache = cache
        self.pace: Turns = pace or Pacer(config.interval)
        self.requests = 0
        self.cache_hits = 0
        self._client = client
        self._own_client = client is None
        redact_httpx_logs()  # the Shodan search sends its key in the query string
        self._now = now

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.config.timeout),
                follow_redirects=False,
                trust_env=False,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None

    async def has_fresh(self, cache_key: str) -> bool:
        """Whether `get` would answer `cache_key` from the cache: a source that pays per
        request (Shodan's query credits) asks before it spends."""
        return await self._cache_load(cache_key) is not None

    async def get(
        self, url: str, params: dict[str, str], *, cache_key: str | None, what: str
    ) -> Fetched | FetchFailure:
        """GET `url` (or its cached answer). `what` names the request in messages (no key).
        `cache_key=None`: always asked, never kept (an account's state, not an answer)."""
        cached = await self._cache_load(cache_key) if cache_key is not None else None
        if cached is not None:
            self.cache_hits += 1
            return Fetched(cached.status, cached.payload.get("body"), "", cached=True)
        attempt = 0
        while True:
            async with self.pace.turn():
                self.requests += 1
                reply = await self._once(url, params, what)
            if isinstance(reply, FetchFailure):
                return reply
            if reply.status == 429:
                if attempt >= self.config.max_retries_429:
                    return FetchFailure(
                        FailureReason.RATE_LIMITED, f"{what}: rate limited (HTTP 429) twice"
                    )
                attempt += 1
                await asyncio.sleep(min(self._retry_after(reply), self.config.timeout))
                continue
            if reply.status == 200 and reply.body is not None and cache_key is not None:
                await self._cache_save(cache_key, reply)
            return reply

    def _retry_after(self, reply: Fetched) -> float:
        """The server's Retry-After, else one pause of the source's own pace (at least 1 s)."""
        if reply.retry_after is not None:
            return reply.retry_after
        return max(self.config.interval, 1.0)

    async def _once(self, url: str, params: dict[str, str], what: str) -> Fetched | FetchFailure:
        reply = await get_json(
            self._http(),
            url,
            params,
            what,
            within=self.config.timeout,
            max_bytes=MAX_ANSWER_BYTES,
            head_chars=200,
        )
        if isinstance(reply, GetFailure):
            return FetchFailure(reply.reason, reply.message)
        return Fetched(reply.status, reply.body, reply.text, False, reply.retry_after)

    async def _cache_load(self, key: str) -> CachedAnswer | None:
        if self.cache is None:
            return None
        try:
            answer = await self.cache.load(self.source, key)
        except Exception:  # a broken cache costs requests, never verdicts
            return None
        if answer is None or not answer.fresh(self._now(), self.config.cache_days):
            return None
        return answer

    async def _cache_save(self, key: str, reply: Fetched) -> None:
        if self.cache is None or self.config.cache_days <= 0:
            return
        with contextlib.suppress(Exception):
            await self.cache.save(
                self.source, key, CachedAnswer(reply.status, {"body": reply.body}, self._now())
            )
