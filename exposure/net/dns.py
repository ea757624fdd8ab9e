"""Asynchronous DNS for checks: one resolver per run, answers cached and in-flight queries shared.

The scan is I/O-bound and sends most of its packets here, so the resolver is c-ares (aiodns),
never a blocking `getaddrinfo`. Outcomes are values, not exceptions: NXDOMAIN and NODATA mean
different things to several checks (DKIM existence, `target.unresolvable`), and a time-out is
"could not test", which checks must be able to tell apart from "no record".
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import aiodns
import pycares


class DnsStatus(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"


#: Outcomes that say something about the name; the others mean "could not ask".
DECISIVE = frozenset({DnsStatus.OK, DnsStatus.NXDOMAIN, DnsStatus.NODATA})


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    """One answer. `records` hold simple values per type:

    A/AAAA: address text; MX: (preference, host); TXT: the record's strings joined, as text;
    CNAME/NS/PTR: host; other types: the library's record data objects.
    Host names carry no trailing dot and are lower-case.
    """

    name: str
    rdtype: str
    status: DnsStatus
    records: tuple[Any, ...] = ()
    ttl: int = 0
    error: str = ""

    @property
    def decisive(self) -> bool:
        return self.status in DECISIVE

    @property
    def exists(self) -> bool:
        """The name exists (it may have no record of this type): NOERROR."""
        return self.status in (DnsStatus.OK, DnsStatus.NODATA)

    @property
    def texts(self) -> list[str]:
        return [r for r in self.records if isinstance(r, str)] if self.rdtype == "TXT" else []


class Resolver(Protocol):
    async def resolve(self, name: str, rdtype: str) -> DnsAnswer: ...


def normalise_name(name: str) -> str:
    return name.strip().rstrip(".").lower()


_ERRNO = {
    pycares.errno.ARES_ENOTFOUND: DnsStatus.NXDOMAIN,
    pycares.errno.ARES_ENODATA: DnsStatus.NODATA,
    pycares.errno.ARES_ESERVFAIL: DnsStatus.SERVFAIL,
    pycares.errno.ARES_EREFUSED: DnsStatus.REFUSED,
    pycares.errno.ARES_ETIMEOUT: DnsStatus.TIMEOUT,
    pycares.errno.ARES_ECONNREFUSED: DnsStatus.TIMEOUT,
}

_TYPE_CODES = {
    "A": 1,
    "NS": 2,
    "CNAME": 5,
    "SOA": 6,
    "PTR": 12,
    "MX": 15,
    "TXT": 16,
    "AAAA": 28,
    "SRV": 33,
    "TLSA": 52,
    "CAA": 257,
}


def _value(rdtype: str, data: Any) -> Any:
    if rdtype in ("A", "AAAA"):
        return data.addr
    if rdtype == "MX":
        return (data.priority, normalise_name(data.exchange))
    if rdtype == "TXT":
        return data.data.decode("utf-8", errors="replace")
    if rdtype == "CNAME":
        return normalise_name(data.cname)
    if rdtype == "NS":
        return normalise_name(data.nsdname)
    if rdtype == "PTR":
        return normalise_name(data.dname)
    return data


class AiodnsResolver:
    """c-ares through aiodns, pointed at the configured recursive resolvers (or the system's)."""

    def __init__(
        self,
        nameservers: list[tuple[str, int]] | None = None,
        *,
        timeout: float = 2.0,
        tries: int = 3,
    ) -> None:
        servers = [
            f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}" for ip, port in nameservers or []
        ]
        self._resolver = aiodns.DNSResolver(
            nameservers=servers or None, timeout=timeout, tries=tries
        )
        self.queries: Counter[str] = Counter()

    async def resolve(self, name: str, rdtype: str) -> DnsAnswer:
        name = normalise_name(name)
        rdtype = rdtype.upper()
        self.queries[rdtype] += 1
        try:
            result = await self._resolver.query_dns(name, rdtype)
        except aiodns.error.DNSError as exc:
            code = exc.args[0] if exc.args else None
            message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
            return DnsAnswer(name, rdtype, _ERRNO.get(code, DnsStatus.ERROR), error=message)
        code = _TYPE_CODES.get(rdtype)
        matching = [rr for rr in result.answer if code is None or rr.type == code]
        if not matching:
            return DnsAnswer(name, rdtype, DnsStatus.NODATA)
        records = tuple(_value(rdtype, rr.data) for rr in matching)
        return DnsAnswer(name, rdtype, DnsStatus.OK, records, min(rr.ttl for rr in matching))

    async def close(self) -> None:
        await self._resolver.close()

    @property
    def total(self) -> int:
        return sum(self.queries.values())


class CachingResolver:
    """Answers cached for one run and concurrent identical queries coalesced.

    Bounded (LRU) so that a run over many thousands of companies keeps a flat memory profile.
    Time-outs and server failures are not cached: the next check may ask again.
    """

    def __init__(self, inner: Resolver, max_entries: int = 50_000) -> None:
        self._inner = inner
        self._max = max_entries
        self._cache: OrderedDict[tuple[str, str], DnsAnswer] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future[DnsAnswer]] = {}
        self.hits = 0
        self.misses = 0

    async def resolve(self, name: str, rdtype: str) -> DnsAnswer:
        key = (normalise_name(name), rdtype.upper())
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.hits += 1
            return cached
        pending = self._inflight.get(key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending)
        self.misses += 1
        fut: asyncio.Future[DnsAnswer] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            answer = await self._inner.resolve(*key)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()
            raise
        finally:
            self._inflight.pop(key, None)
        fut.set_result(answer)
        if answer.decisive:
            self._cache[key] = answer
            if len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return answer
