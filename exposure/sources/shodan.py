"""Shodan as a source: what Shodan already saw on an address, asked politely, once per run.

The scanner is passive: for exposed cameras, remote desktops, databases and the like it never
connects to a company's address itself; it asks what Shodan saw there.

- **InternetDB** first (free, no key): ports, CPEs, tags, CVE ids and host names of an IP.
- With an API key, the **REST API** `/shodan/host/{ip}` for the addresses InternetDB shows open
  ports on (the banners: products, headers, titles, favicons, timestamps, CVSS), and `net:`
  searches for networks when the plan allows filters.

The REST API allows one request per second per key. `Pacer` holds the whole run to that: one
request at a time and a full interval of quiet between one answer and the next request, so a
server that counts arrivals never sees two closer than the interval whatever the latency. With a
`KeyGate` (the engine hands one in on PostgreSQL: an advisory lock per key, see
exposure/store/source_pace.py) the turn and its quiet interval are held across processes too, so
N workers on one key still send one request at a time. A 429 still gets a back-off (another
installation may use the same key).

Host look-ups are batched: the addresses queued while a request waits for its turn go out
together as `/shodan/host/{ip1},{ip2},...` (what the official `shodan` client's `host()` sends
for a list), up to `batch_size` at a time. The API answers a list of host documents, leaving out
the addresses it has no data on, and 404 when it has none; a batch refused or failed as a whole
(another 4xx, a server error, a time-out) is asked again address by address. An invalid key or spent credits
put the source in an "unavailable" state: every later look-up returns that failure at once, so
a night with a broken key costs one request, and the other check families run as usual.

Answers are shared for the run (one task per address, awaited by every check that needs it,
surviving a waiter that gives up) and kept across runs through an `AnswerCache` the engine
implements over the store, for `cache_days`. InternetDB answers are not cached across runs: they
are free, and comparing their port list with a cached host document is how a change on an
address is noticed before the cached document expires.

Outcomes are values (`HostView`, `SourceFailure`), never exceptions, and no message carries the
API key (httpx's request log lines are redacted too).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import ipaddress
import logging
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from exposure.contract import FailureReason
from exposure.net.http import USER_AGENT
from exposure.sources.cache import AnswerCache, CachedAnswer
from exposure.sources.jsonget import GetFailure, get_json, redact_httpx_logs
from exposure.sources.shodan_documents import hosts_from_banners, slim_host, slim_internetdb

if TYPE_CHECKING:
    from exposure.settings import Settings

log = logging.getLogger(__name__)

JSON = Any

REST_CACHE = "shodan"  # SourceCache.source of REST answers
_NONE = {"error": "No information available for that IP."}  # an address a batch left out
MAX_ANSWER_BYTES = 16 * 1024 * 1024
NO_KEY = "no Shodan API key (InternetDB only)"
INTERNETDB_PORTS = "internetdb_ports"  # kept with a cached host answer: the change detector


class ViewKind(StrEnum):
    """How much is known about an address."""

    FULL = "shodan"  # the REST host document: banners with products, headers, timestamps
    SUMMARY = "internetdb"  # InternetDB's summary: ports, CPEs, tags, CVE ids; no banners
    EMPTY = "none"  # Shodan has no information on the address: nothing open that it saw


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """ "Could not ask": the reason a check turns into a `CheckFailure`.

    `source_wide` marks the failures that stop the source for the rest of the run (invalid key,
    credits spent, an outage), so a check can say so instead of blaming one address.
    """

    reason: FailureReason
    message: str
    source_wide: bool = False


@dataclass(frozen=True, slots=True)
class HostView:
    """What Shodan knows about one address. `doc` is a slim REST host document (FULL) or a
    slim InternetDB summary (SUMMARY); `degraded` says why only a summary is known."""

    ip: str
    kind: ViewKind
    doc: Mapping[str, JSON] = field(default_factory=dict)
    degraded: str = ""
    cached: bool = False
    fetched_at: datetime | None = None  # naive UTC: when the answer was fetched from Shodan

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(p for p in self.doc.get("ports", ()) if isinstance(p, int))


HostResult = HostView | SourceFailure


@dataclass(frozen=True, slots=True)
class NetworkAnswer:
    """What Shodan knows about a network: views of the addresses it has data on."""

    views: tuple[HostView, ...] = ()
    failures: tuple[SourceFailure, ...] = ()
    method: str = "addresses"  # "search" (one `net:` search) or "addresses" (one by one)


@dataclass(frozen=True, slots=True)
class ShodanConfig:
    """The source's knobs. `request_interval` is the REST API's rate (1 s for the real one;
    labs and tests may configure a faster look-alike with the same, shorter interval)."""

    api_url: str = "https://api.shodan.io"
    internetdb_url: str = "https://internetdb.shodan.io"
    api_key: str | None = field(default=None, repr=False)
    cache_days: float = 7.0
    request_interval: float = 1.0
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_retries: int = 3  # 429 answers retried with back-off before giving up on a look-up
    batch_size: int = 50  # addresses per host look-up request (1: address by address)
    internetdb_concurrency: int = 8  # InternetDB is free but not ours to flood
    max_network_addresses: int = 256  # a network looked up address by address (no search)
    max_search_pages: int = 10  # 100 banners a page, one query credit each
    failures_to_stop: int = 3  # transport failures in a row that mean "the API is down"

    @classmethod
    def from_settings(cls, settings: Settings) -> ShodanConfig:
        return cls(
            api_url=settings.shodan_api_url,
            internetdb_url=settings.internetdb_url,
            api_key=settings.shodan_key,
            cache_days=settings.shodan_cache_days,
            request_interval=settings.shodan_request_interval,
            batch_size=settings.shodan_batch_size,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )

    @property
    def total_timeout(self) -> float:
        """The most one request may take, however slowly the answer trickles in."""
        return self.connect_timeout + self.read_timeout


@dataclass(slots=True)
class ShodanStats:
    """What the source did in a run: for the run summary and for tests."""

    rest_requests: int = 0
    host_requests: int = 0  # REST host look-up requests (a batch counts once)
    batched_addresses: int = 0  # addresses asked in requests of more than one address
    batch_fallbacks: int = 0  # batches failed as a whole and asked again address by address
    internetdb_requests: int = 0
    cache_hits: int = 0
    cache_errors: int = 0
    rate_limited: int = 0  # 429 answers received (each one backed off and retried)
    searches: int = 0
    deferred: set[str] = field(default_factory=set)  # addresses not reached within a check
    shared_hosting: set[str] = field(default_factory=set)  # addresses skipped as shared


class KeyGate(Protocol):
    """A turn on the API key shared with other processes (the engine implements it over the
    store: exposure/store/source_pace.py). `turn()` is held for one request and the quiet
    interval after it; `aclose()` gives back what it holds."""

    def turn(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    async def aclose(self) -> None: ...


class Pacer:
    """One request at a time, and `interval` seconds of quiet after each answer.

    Lives on the source, so it covers everything the run sends to the REST API and nothing
    else; a module-level limiter would leak between runs and tests. `hold` pushes the next turn
    further out (a 429 back-off applies to every waiter: the key is over its rate, not one
    request). With a `gate`, each turn is also the gate's turn, and the quiet interval after
    the answer is spent holding it, so other processes on the key keep to the same pace.
    """

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        gate: KeyGate | None = None,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._gate = gate
        self._lock = asyncio.Lock()
        self._ready_at = float("-inf")
        self.waiting = 0
        self.turns = 0

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self.waiting -= 1
        try:
            delay = self._ready_at - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            async with contextlib.AsyncExitStack() as shared:
                gated = await self._enter_gate(shared)
                try:
                    self.turns += 1
                    yield
                finally:
                    self._ready_at = max(self._ready_at, self._clock() + self.interval)
                    if gated:
                        # the key's quiet interval (and a 429 back-off) holds for the others too
                        quiet = self._ready_at - self._clock()
                        if quiet > 0:
                            await asyncio.sleep(quiet)
        finally:
            self._lock.release()

    async def _enter_gate(self, stack: contextlib.AsyncExitStack) -> bool:
        """Take the gate's turn; a gate that fails (its database gone) is dropped for the rest
        of the run: the in-process pace still holds, and a 429 is backed off."""
        if self._gate is None:
            return False
        try:
            await stack.enter_async_context(self._gate.turn())
        except Exception:
            log.warning(
                "shodan: the key's shared turn failed; pacing in this process only",
                exc_info=True,
            )
            self._gate = None
            return False
        return True

    def hold(self, seconds: float) -> None:
        self._ready_at = max(self._ready_at, self._clock() + seconds)


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: JSON  # parsed JSON, or None when the body was not JSON
    text: str  # the head of the body, for messages
    retry_after: float | None = None


class ShodanSource:
    """InternetDB and the REST API for one run. Build with `from_settings`, close with `aclose`."""

    def __init__(
        self,
        config: ShodanConfig,
        *,
        cache: AnswerCache | None = None,
        clock: Callable[[], datetime] | None = None,
        gate: KeyGate | None = None,
    ) -> None:
        self.config = config
        self._cache = cache
        self._clock = clock or (lambda: datetime.now(UTC))
        self._gate = gate
        self._pacer = Pacer(config.request_interval, gate=gate)
        # The key's rate is per key, not per run: a run that ended a moment ago (another
        # `exposure scan`, the previous job of a worker) may have spent this second already.
        # Waiting one interval before the first request costs a second a night and spares a 429.
        self._pacer.hold(config.request_interval)
        self._idb_slots = asyncio.Semaphore(config.internetdb_concurrency)
        self._shared: dict[tuple[str, str], asyncio.Future[Any]] = {}
        self._host_queue: dict[str, asyncio.Future[_Reply | SourceFailure | None]] = {}
        self._drainer: asyncio.Task[None] | None = None
        self._batch_size = max(1, config.batch_size)
        self._batch_note = ""
        self._client: httpx.AsyncClient | None = None
        self._rest_down: SourceFailure | None = None
        self._idb_down: SourceFailure | None = None
        self._host_lookups = config.api_key is not None
        self._searches = config.api_key is not None
        self._plan_note = ""
        self._search_note = ""
        self._rest_failures = 0
        self._idb_failures = 0
        self.stats = ShodanStats()
        redact_httpx_logs()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        cache: AnswerCache | None = None,
        clock: Callable[[], datetime] | None = None,
        gate: KeyGate | None = None,
    ) -> ShodanSource:
        return cls(ShodanConfig.from_settings(settings), cache=cache, clock=clock, gate=gate)

    # --- state, for checks and the run summary -------------------------------------------------

    @property
    def has_key(self) -> bool:
        return self.config.api_key is not None

    @property
    def mode(self) -> str:
        """`full`, `degraded` (InternetDB only) or `unavailable` (the key stopped working)."""
        if self.has_key and self._rest_down is not None:
            return "unavailable"
        if not self._host_lookups:
            return "degraded"
        return "full"

    @property
    def degraded_reason(self) -> str:
        """Why look-ups return InternetDB summaries only ("" when they do not)."""
        if not self.has_key:
            return NO_KEY
        return self._plan_note

    @property
    def unavailable(self) -> SourceFailure | None:
        return self._rest_down if self.has_key else None

    @property
    def queued(self) -> int:
        """REST look-ups waiting for their turn (a check reports this when it gives up)."""
        return self._pacer.waiting + len(self._host_queue)

    @property
    def answering(self) -> bool:
        """The REST API is not stopped and its last request did not fail."""
        return self._rest_down is None and not self._rest_failures

    def paced(self, ip: str | None = None) -> bool:
        """Is the REST look-up of `ip` (None: any REST look-up) only waiting for its turn
        behind the pacer, with the API answering? Then a check past its own time budget may
        keep waiting (the run waits for Shodan). Not when the API stopped answering or the
        last request failed (a time-out, no connection, a server error): a hung or failing
        API costs a check its own time-out, not the run's."""
        if not self.answering:
            return False
        if ip is None:
            return self.queued > 0
        return str(ipaddress.ip_address(ip)) in self._host_queue

    def note_deferred(self, ip: str) -> None:
        self.stats.deferred.add(ip)

    def note_shared_hosting(self, ip: str) -> None:
        self.stats.shared_hosting.add(ip)

    @property
    def used(self) -> bool:
        """Was anything asked of the source in this run (a run may select no Shodan check)?"""
        return bool(self._shared)

    def report(self) -> dict[str, JSON]:
        """The source's line in the run summary ("unused" when no check asked anything)."""
        if not self.used:
            return {"mode": "unused", "notes": []}
        notes = []
        if self.mode == "unavailable" and self._rest_down is not None:
            notes.append(self._rest_down.message)
        elif self.mode == "degraded":
            notes.append(f"ran degraded: {self.degraded_reason}")
        if self._search_note:
            notes.append(self._search_note)
        if self._batch_note:
            notes.append(self._batch_note)
        if self._idb_down is not None:
            notes.append(self._idb_down.message)
        return {
            "mode": self.mode,
            "notes": notes,
            "rest_requests": self.stats.rest_requests,
            "host_requests": self.stats.host_requests,
            "batch_fallbacks": self.stats.batch_fallbacks,
            "internetdb_requests": self.stats.internetdb_requests,
            "searches": self.stats.searches,
            "cache_hits": self.stats.cache_hits,
            "rate_limited": self.stats.rate_limited,
            "deferred": len(self.stats.deferred),
            "shared_hosting_skipped": len(self.stats.shared_hosting),
        }

    # --- look-ups ------------------------------------------------------------------------------

    async def host_view(self, ip: str) -> HostResult:
        """What Shodan knows about `ip`: InternetDB first, the REST API for open ports."""
        ip = str(ipaddress.ip_address(ip))
        return await self._once(("view", ip), lambda: self._host_view(ip))

    async def internetdb(self, ip: str) -> HostResult:
        """InternetDB's summary of `ip` (SUMMARY, or EMPTY when it knows nothing)."""
        ip = str(ipaddress.ip_address(ip))
        return await self._once(("internetdb", ip), lambda: self._internetdb(ip))

    async def network(self, cidr: str) -> NetworkAnswer:
        """What Shodan knows about the addresses of a network.

        With a key whose plan allows filters: one `net:` search (a query credit per 100
        banners). Otherwise, for networks of at most `max_network_addresses`: address by
        address, as `host_view`.
        """
        net = ipaddress.ip_network(cidr, strict=False)
        if self.unavailable is not None:
            return NetworkAnswer(failures=(self.unavailable,), method="search")
        if net.num_addresses == 1:  # a /32 written as a network: no query credit for it
            one = await self.host_view(str(net.network_address))
            if isinstance(one, SourceFailure):
                return NetworkAnswer(failures=(one,))
            return NetworkAnswer((one,) if one.kind is not ViewKind.EMPTY else ())
        if self.has_key and self._searches:
            found = await self._once(("net", str(net)), lambda: self._search(net))
            if found is not None:
                return found
        addresses = _addresses(net, self.config.max_network_addresses)
        if addresses is None:
            why = self._search_note or "net: searches need a Shodan API key"
            failure = SourceFailure(
                FailureReason.UNAVAILABLE,
                f"{net}: {net.num_addresses} addresses are too many to look up one by one "
                f"(at most {self.config.max_network_addresses}), and {why}",
            )
            return NetworkAnswer(failures=(failure,))
        results = await asyncio.gather(*(self.host_view(a) for a in addresses))
        views = tuple(
            r for r in results if isinstance(r, HostView) and r.kind is not ViewKind.EMPTY
        )
        failures: dict[str, SourceFailure] = {}
        for r in results:
            if isinstance(r, SourceFailure):
                failures.setdefault(r.message, r)
        return NetworkAnswer(views, tuple(failures.values()), "addresses")

    async def persist(self) -> None:
        """Make this run's answers durable in the cache. The engine calls it once the run's
        results are stored (see exposure/store/source_cache.py for why not earlier)."""
        if self._cache is None:
            return
        try:
            await self._cache.flush()
        except Exception:
            self.stats.cache_errors += 1
            log.warning("shodan: could not store this run's answers in the cache", exc_info=True)

    async def aclose(self) -> None:
        """Stop what is still running (deferred look-ups) and close the HTTP client."""
        pending = [f for f in self._shared.values() if not f.done()]
        if self._drainer is not None and not self._drainer.done():
            pending.append(self._drainer)
        for fut in pending:
            fut.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for waiter in self._host_queue.values():
            waiter.cancel()
        self._host_queue.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._gate is not None:
            try:
                await self._gate.aclose()
            except Exception:
                log.warning("shodan: could not close the key gate", exc_info=True)

    # --- the flow of one address ---------------------------------------------------------------

    async def _host_view(self, ip: str) -> HostResult:
        if self.unavailable is not None:
            return self.unavailable
        summary = await self.internetdb(ip)
        if not (self.has_key and self._host_lookups):
            return self._as_degraded(summary)
        if isinstance(summary, SourceFailure):
            hint: tuple[int, ...] | None = None  # InternetDB could not say: ask the API
        elif summary.kind is ViewKind.EMPTY:
            return summary  # nothing open that Shodan saw: no REST request spent on it
        else:
            hint = summary.ports
        full = await self._rest_host(ip, hint)
        if full is None:  # the plan does not include host look-ups (found out just now)
            return self._as_degraded(summary)
        if isinstance(full, SourceFailure):
            return full
        if (
            full.kind is ViewKind.EMPTY
            and isinstance(summary, HostView)
            and summary.kind is ViewKind.SUMMARY
        ):
            return replace(
                summary,
                degraded="the Shodan API has no banners for this address (InternetDB only)",
            )
        return full

    def _as_degraded(self, summary: HostResult) -> HostResult:
        if isinstance(summary, HostView) and summary.kind is ViewKind.SUMMARY:
            return replace(summary, degraded=self.degraded_reason)
        return summary

    async def _rest_host(self, ip: str, hint: tuple[int, ...] | None) -> HostResult | None:
        key = f"host:{ip}"
        now = self._now()
        cached = await self._cache_load(key)
        if (
            cached is not None
            and cached.fresh(now, self.config.cache_days)
            and _agrees(cached, hint)
        ):
            self.stats.cache_hits += 1
            if cached.status == 404:
                return HostView(ip, ViewKind.EMPTY, cached=True, fetched_at=cached.fetched_at)
            return HostView(
                ip, ViewKind.FULL, cached.payload, cached=True, fetched_at=cached.fetched_at
            )
        reply = await self._host_reply(ip)
        if reply is None or isinstance(reply, SourceFailure):
            return reply
        if reply.status == 200 and isinstance(reply.body, dict):
            doc = slim_host(reply.body)
            await self._cache_save(key, CachedAnswer(200, _noting(doc, hint), now))
            return HostView(ip, ViewKind.FULL, doc, fetched_at=now)
        if reply.status == 404:
            await self._cache_save(key, CachedAnswer(404, _noting({}, hint), now))
            return HostView(ip, ViewKind.EMPTY, fetched_at=now)
        return self._rest_refusal(reply, "host look-up")

    # --- batched host look-ups -----------------------------------------------------------------

    async def _host_reply(self, ip: str) -> _Reply | SourceFailure | None:
        """The REST API's answer on `ip` alone (200 with its document, or 404), from a batch
        it shares with the addresses queued at the same time."""
        waiter: asyncio.Future[_Reply | SourceFailure | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._host_queue[ip] = waiter
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain())
        try:
            return await waiter
        finally:
            if self._host_queue.get(ip) is waiter:
                del self._host_queue[ip]

    async def _drain(self) -> None:
        """Send the queued host look-ups, a batch per turn, until the queue is empty. A bug in
        here answers every waiter with a failure rather than leaving it to its time budget."""
        try:
            await self._drain_batches()
        except Exception as exc:
            log.exception("shodan: batched host look-ups failed")
            failure = SourceFailure(FailureReason.BUG, f"{type(exc).__name__}: {exc}"[:300])
            for waiter in self._host_queue.values():
                if not waiter.done():
                    waiter.set_result(failure)
            self._host_queue.clear()

    async def _drain_batches(self) -> None:
        while self._host_queue:
            batch: list[str] = []
            reply = await self._rest(
                functools.partial(self._take_batch, batch),
                {},
                allowed=lambda: self._host_lookups and self._live_queued(),
            )
            if batch:
                self.stats.host_requests += 1
            else:  # stopped or refused before asking: the same for everything queued
                batch = list(self._host_queue)
            answers = await self._split(batch, reply)
            for ip in batch:
                waiter = self._host_queue.pop(ip, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(answers.get(ip))

    def _live_queued(self) -> bool:
        return any(not w.done() for w in self._host_queue.values())

    def _take_batch(self, batch: list[str]) -> str:
        """Fill `batch` with the queued addresses (at most `batch_size`); its request path."""
        for ip in list(self._host_queue):
            if len(batch) >= self._batch_size:
                break
            if not self._host_queue[ip].done():
                batch.append(ip)
        return "/shodan/host/" + ",".join(batch)

    async def _split(
        self, batch: list[str], reply: _Reply | SourceFailure | None
    ) -> dict[str, _Reply | SourceFailure | None]:
        """A batch's answer as each address's own answer (`/shodan/host/{ip}`)."""
        if len(batch) == 1 or reply is None:
            return dict.fromkeys(batch, reply)
        if (
            isinstance(reply, _Reply)
            and reply.status == 200
            and isinstance(reply.body, list | dict)
        ):
            docs = reply.body if isinstance(reply.body, list) else [reply.body]
            by_ip: dict[str, JSON] = {}
            for doc in docs:
                if isinstance(doc, dict) and isinstance(doc.get("ip_str"), str):
                    with contextlib.suppress(ValueError):
                        by_ip[str(ipaddress.ip_address(doc["ip_str"]))] = doc
            self.stats.batched_addresses += len(batch)
            return {
                ip: _Reply(200, by_ip[ip], "") if ip in by_ip else _Reply(404, _NONE, "")
                for ip in batch
            }
        if isinstance(reply, _Reply) and reply.status == 404:
            self.stats.batched_addresses += len(batch)
            return dict.fromkeys(batch, reply)
        if isinstance(reply, _Reply) and reply.status in (401, 403) and _key_refused(reply):
            return dict.fromkeys(batch, reply)  # the key itself: the same for each address
        if isinstance(reply, SourceFailure) and (
            reply.source_wide or reply.reason is FailureReason.RATE_LIMITED
        ):
            return dict.fromkeys(batch, reply)
        # Failed as a whole (another 4xx, a server error, a time-out): address by address. A
        # refusal (4xx: a plan without bulk look-ups, a list too long) holds for the rest of the
        # run; a time-out or a server error may pass, so the next batch is tried again.
        self.stats.batch_fallbacks += 1
        if isinstance(reply, _Reply) and 400 <= reply.status < 500 and self._batch_size > 1:
            self._batch_size = 1
            self._batch_note = (
                f"the Shodan API refused a host look-up of {len(batch)} addresses (HTTP "
                f"{reply.status}: {_error_text(reply)[:120]}); address by address for the rest "
                "of this run"
            )
            log.warning("shodan: %s", self._batch_note)
        log.info(
            "shodan: a host look-up of %d addresses failed as a whole (%s); asking one by one",
            len(batch),
            reply.message if isinstance(reply, SourceFailure) else f"HTTP {reply.status}",
        )
        answers: dict[str, _Reply | SourceFailure | None] = {}
        for ip in batch:
            one = await self._rest(f"/shodan/host/{ip}", {}, allowed=lambda: self._host_lookups)
            if isinstance(one, _Reply) and one.status in (401, 403):
                self._rest_refusal(one, "host look-up")  # the plan or key: not asked again
            answers[ip] = one
            self.stats.host_requests += 1 if one is not None else 0
        return answers

    async def _search(
        self, net: ipaddress.IPv4Network | ipaddress.IPv6Network
    ) -> NetworkAnswer | None:
        """One `net:` search, page by page. None: searches are not possible (plan, credits)."""
        key = f"net:{net}"
        now = self._now()
        cached = await self._cache_load(key)
        if cached is not None and cached.fresh(now, self.config.cache_days):
            self.stats.cache_hits += 1
            return NetworkAnswer(
                self._search_views(cached.payload, cached.fetched_at, True), (), "search"
            )
        banners: list[Mapping[str, JSON]] = []
        total = 0
        page = 1
        failures: tuple[SourceFailure, ...] = ()
        while True:
            self.stats.searches += 1
            reply = await self._rest(
                "/shodan/host/search",
                {"query": f"net:{net}", "page": str(page)},
                allowed=lambda: self._searches,
            )
            if isinstance(reply, SourceFailure):
                return NetworkAnswer(failures=(reply,), method="search")
            if reply is None or reply.status != 200 or not isinstance(reply.body, dict):
                refusal = self._search_refusal(reply) if reply is not None else None
                if refusal is None and page == 1:
                    return None  # fall back to address by address
                failure = refusal or SourceFailure(
                    FailureReason.UNAVAILABLE,
                    f"{net}: the net: search stopped at page {page} ({self._search_note})",
                )
                return NetworkAnswer(failures=(failure,), method="search")
            matches = [m for m in reply.body.get("matches", []) if isinstance(m, dict)]
            total = int(reply.body.get("total") or 0)
            banners.extend(matches)
            if not matches or len(banners) >= total:
                break
            if page >= self.config.max_search_pages:
                failures = (
                    SourceFailure(
                        FailureReason.UNAVAILABLE,
                        f"{net}: Shodan has {total} banners; only the first {len(banners)} "
                        f"were read (max_search_pages {self.config.max_search_pages})",
                    ),
                )
                break
            page += 1
        hosts = hosts_from_banners(banners)
        payload: dict[str, JSON] = {"total": total, "hosts": hosts}
        if not failures:
            await self._cache_save(key, CachedAnswer(200, payload, now))
        return NetworkAnswer(self._search_views(payload, now, False), failures, "search")

    def _search_views(
        self, payload: Mapping[str, JSON], fetched_at: datetime, cached: bool
    ) -> tuple[HostView, ...]:
        views = []
        hosts = payload.get("hosts", {})
        for ip, doc in sorted(hosts.items()) if isinstance(hosts, Mapping) else ():
            view = HostView(ip, ViewKind.FULL, doc, cached=cached, fetched_at=fetched_at)
            views.append(view)
            key = ("view", ip)
            if key not in self._shared:  # the same address listed as an IP: no second look-up
                fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                fut.set_result(view)
                self._shared[key] = fut
        return tuple(views)

    async def _internetdb(self, ip: str) -> HostResult:
        if self._idb_down is not None:
            return self._idb_down
        url = f"{self.config.internetdb_url.rstrip('/')}/{ip}"
        reply: _Reply | SourceFailure
        attempt = 0
        while True:
            async with self._idb_slots:
                self.stats.internetdb_requests += 1
                reply = await self._get(url, {}, "InternetDB")
            if isinstance(reply, _Reply) and reply.status == 429:
                self.stats.rate_limited += 1
                if attempt >= self.config.max_retries:
                    return SourceFailure(
                        FailureReason.RATE_LIMITED,
                        f"InternetDB still rate-limited after {attempt + 1} tries",
                    )
                await asyncio.sleep(self._backoff(attempt, reply.retry_after))
                attempt += 1
                continue
            break
        if isinstance(reply, SourceFailure) or reply.status >= 500:
            failure = (
                reply
                if isinstance(reply, SourceFailure)
                else SourceFailure(
                    FailureReason.UNREACHABLE, f"InternetDB answered HTTP {reply.status}"
                )
            )
            self._idb_failures += 1
            if self._idb_failures >= self.config.failures_to_stop and self._idb_down is None:
                self._idb_down = SourceFailure(
                    FailureReason.UNAVAILABLE,
                    f"InternetDB unavailable: {self._idb_failures} look-ups in a row failed "
                    f"(last: {failure.message}); no more InternetDB look-ups this run",
                    source_wide=True,
                )
            return failure
        self._idb_failures = 0
        if reply.status == 404:
            return HostView(ip, ViewKind.EMPTY, fetched_at=self._now())
        if reply.status == 200 and isinstance(reply.body, dict):
            doc = slim_internetdb(reply.body)
            kind = ViewKind.SUMMARY if doc["ports"] else ViewKind.EMPTY
            return HostView(ip, kind, doc, fetched_at=self._now())
        return SourceFailure(
            FailureReason.PROTOCOL,
            f"InternetDB answered HTTP {reply.status} for {ip}: {_error_text(reply)[:200]}",
        )

    # --- the REST API: pacing, retries, refusals -----------------------------------------------

    async def _rest(
        self,
        path: str | Callable[[], str],
        params: dict[str, str],
        *,
        allowed: Callable[[], bool] = lambda: True,
    ) -> _Reply | SourceFailure | None:
        """One REST request in its turn. None: `allowed()` turned False while it waited (a
        refusal by the plan learnt from an earlier answer: not asked again). A callable `path`
        is called once, when the first turn comes (a batch takes what is queued by then)."""
        if self._rest_down is not None:
            return self._rest_down
        key = self.config.api_key
        assert key is not None
        url = ""
        rate_limited = 0
        server_errors = 0
        while True:
            async with self._pacer.turn():
                if self._rest_down is not None:  # went down while this one waited its turn
                    return self._rest_down
                if not allowed():
                    return None
                if not url:
                    url = self.config.api_url.rstrip("/") + (
                        path if isinstance(path, str) else path()
                    )
                self.stats.rest_requests += 1
                reply = await self._get(url, {**params, "key": key}, "Shodan API")
                if isinstance(reply, _Reply) and reply.status == 429:
                    self.stats.rate_limited += 1
                    if rate_limited >= self.config.max_retries:
                        return SourceFailure(
                            FailureReason.RATE_LIMITED,
                            f"Shodan API still rate-limited after {rate_limited + 1} tries",
                        )
                    self._pacer.hold(self._backoff(rate_limited, reply.retry_after))
                    rate_limited += 1
                    continue
            if isinstance(reply, _Reply) and reply.status < 500:
                self._rest_failures = 0
                return reply
            if isinstance(reply, _Reply) and server_errors == 0:
                server_errors += 1  # one more try after a pause: gateways hiccup
                self._pacer.hold(2 * self.config.request_interval)
                continue
            return self._rest_transport_failure(reply)

    def _rest_transport_failure(self, reply: _Reply | SourceFailure) -> SourceFailure:
        failure = (
            reply
            if isinstance(reply, SourceFailure)
            else SourceFailure(
                FailureReason.UNREACHABLE, f"Shodan API answered HTTP {reply.status}"
            )
        )
        self._rest_failures += 1
        if self._rest_failures >= self.config.failures_to_stop and self._rest_down is None:
            self._rest_down = SourceFailure(
                FailureReason.UNAVAILABLE,
                f"Shodan API unavailable: {self._rest_failures} look-ups in a row failed "
                f"(last: {failure.message}); no more Shodan look-ups this run",
                source_wide=True,
            )
        return failure

    def _rest_refusal(self, reply: _Reply, what: str) -> SourceFailure | None:
        """A refused look-up: a source-wide stop, a plan without host look-ups (None), or an
        error for this look-up only."""
        message = _error_text(reply)
        lowered = message.lower()
        if reply.status == 401 and "credit" in lowered:
            return self._stop(f"Shodan API query credits exhausted ({message})")
        if reply.status == 401 and "upgrade" not in lowered:
            return self._stop(
                f"Shodan API key rejected (HTTP 401: {message}); check shodan_api_key"
            )
        if reply.status in (401, 403):
            self._host_lookups = False
            self._plan_note = (
                f"the Shodan API key's plan does not include host look-ups (HTTP {reply.status}: "
                f"{message}); InternetDB only"
            )
            return None
        return SourceFailure(
            FailureReason.PROTOCOL,
            f"Shodan API answered HTTP {reply.status} to a {what}: {message[:200]}",
        )

    def _search_refusal(self, reply: _Reply) -> SourceFailure | None:
        """A refused search: None when searches are off for the run (plan or credits)."""
        message = _error_text(reply)
        lowered = message.lower()
        if reply.status in (401, 403) and ("upgrade" in lowered or reply.status == 403):
            self._searches = False
            self._search_note = f"the key's plan allows no net: searches ({message})"
            return None
        if reply.status == 401 and "credit" in lowered:
            self._searches = False
            self._search_note = f"query credits exhausted: no net: searches ({message})"
            return None
        if reply.status == 401:
            return self._stop(
                f"Shodan API key rejected (HTTP 401: {message}); check shodan_api_key"
            )
        return SourceFailure(
            FailureReason.PROTOCOL,
            f"Shodan API answered HTTP {reply.status} to a net: search: {message[:200]}",
        )

    def _stop(self, why: str) -> SourceFailure:
        if self._rest_down is None:
            self._rest_down = SourceFailure(
                FailureReason.UNAVAILABLE,
                f"{why}; no Shodan look-ups for the rest of this run",
                source_wide=True,
            )
            log.warning("shodan: %s", self._rest_down.message)
        return self._rest_down

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, self.config.request_interval), 60.0)
        return self.config.request_interval * (2**attempt)

    # --- HTTP ----------------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        """The source's own client: the public trust store (not the lab's CA bundle), bounded
        waits, no redirects, no proxy or netrc from the environment."""
        if self._client is None:
            _skip_sniffio_search()
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(
                    self.config.read_timeout, connect=self.config.connect_timeout
                ),
                follow_redirects=False,
                trust_env=False,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                limits=httpx.Limits(
                    max_connections=self.config.internetdb_concurrency + 2,
                    max_keepalive_connections=self.config.internetdb_concurrency + 2,
                ),
            )
        return self._client

    async def _get(self, url: str, params: dict[str, str], what: str) -> _Reply | SourceFailure:
        reply = await get_json(
            self._http(),
            url,
            params,
            what,
            within=self.config.total_timeout,
            max_bytes=MAX_ANSWER_BYTES,
        )
        if isinstance(reply, GetFailure):
            return SourceFailure(reply.reason, reply.message)
        return _Reply(reply.status, reply.body, reply.text, reply.retry_after)

    # --- the cache and the clock ---------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now

    async def _cache_load(self, key: str) -> CachedAnswer | None:
        if self._cache is None:
            return None
        try:
            return await self._cache.load(REST_CACHE, key)
        except Exception:
            self.stats.cache_errors += 1
            log.warning("shodan: cache read of %s failed; asking the API", key, exc_info=True)
            return None

    async def _cache_save(self, key: str, answer: CachedAnswer) -> None:
        if self._cache is None:
            return
        try:
            await self._cache.save(REST_CACHE, key, answer)
        except Exception:
            self.stats.cache_errors += 1
            log.warning("shodan: cache write of %s failed", key, exc_info=True)

    # --- shared work ---------------------------------------------------------------------------

    async def _once(
        self, key: tuple[str, str], make: Callable[[], Coroutine[Any, Any, Any]]
    ) -> Any:
        """One task per key for the run, awaited by every caller. A caller that gives up (its
        check's time budget) does not cancel it: the answer still lands in the caches."""
        fut = self._shared.get(key)
        if fut is None:
            fut = asyncio.ensure_future(make())
            fut.add_done_callback(_retrieve)
            self._shared[key] = fut
        return await asyncio.shield(fut)


# --- helpers -------------------------------------------------------------------------------------


def _noting(doc: Mapping[str, JSON], hint: tuple[int, ...] | None) -> dict[str, JSON]:
    """A host answer to cache, with the ports InternetDB showed when it was fetched."""
    return {**doc, INTERNETDB_PORTS: sorted(hint) if hint is not None else None}


def _agrees(cached: CachedAnswer, hint: tuple[int, ...] | None) -> bool:
    """Does a cached host answer still stand for what InternetDB shows today?

    It does when InternetDB shows the ports the answer has, or the ports it showed when the
    answer was fetched (the two sources may disagree for a while; that alone is no reason to
    spend a request every night). New or closed ports mean something changed: ask again.
    """
    if hint is None:
        return True
    recorded = cached.payload.get(INTERNETDB_PORTS)
    if isinstance(recorded, list) and set(recorded) == set(hint):
        return True
    if cached.status == 404:
        return not hint
    return set(cached.payload.get("ports", [])) == set(hint)


def _addresses(net: ipaddress.IPv4Network | ipaddress.IPv6Network, limit: int) -> list[str] | None:
    """The addresses of a network worth a look-up (None: more than `limit`)."""
    if net.num_addresses <= 2:
        return [str(a) for a in net]
    if net.num_addresses - 2 > limit:
        return None
    return [str(a) for a in net.hosts()]


def _key_refused(reply: _Reply) -> bool:
    """A 401/403 about the key itself (invalid, credits spent), as `_rest_refusal` reads it,
    rather than about what was asked (a plan that allows single look-ups but no lists)."""
    lowered = _error_text(reply).lower()
    return reply.status == 401 and ("credit" in lowered or "upgrade" not in lowered)


def _error_text(reply: _Reply) -> str:
    """The API's own words: `{"error": ...}`; nginx's HTML 401 page means an invalid key."""
    if isinstance(reply.body, dict):
        for name in ("error", "detail"):
            if isinstance(reply.body.get(name), str):
                return str(reply.body[name])
    if reply.status == 401:
        return "Invalid API key"
    text = re.sub(r"<[^>]+>", " ", reply.text)
    return " ".join(text.split())[:200] or f"HTTP {reply.status}"


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()  # a failure nobody awaited any more is still not "never retrieved"


def _skip_sniffio_search() -> None:
    """httpcore tries `import sniffio` on every lock, event and shield it sets up (several per
    request); when sniffio is not installed, each try searches sys.path again (≈0.1 ms; 3.7% of
    a scan's CPU when every fetch went through httpx, benchmarks/README.md). None in
    sys.modules makes the failed import immediate; httpcore then assumes asyncio, as it does
    without sniffio anyway. Only this source sends through httpx during a scan (the fetches of
    `exposure.net.http` do not), so it is set here, when the source's client is made."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]
