"""Asynchronous DNS for checks: one resolver per run, answers cached and in-flight queries shared.

The scan is I/O-bound and sends most of its packets here, so the resolver is c-ares (aiodns),
never a blocking `getaddrinfo`. Outcomes are values, not exceptions: NXDOMAIN and NODATA mean
different things to several checks (DKIM existence, `target.unresolvable`), and a time-out is
"could not test", which checks must be able to tell apart from "no record".
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter, OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import aiodns
import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver
import pycares

from exposure.net.cares import make_resolver


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
    CNAME/NS/PTR: host; other types: the library's record data objects (pycares for the types
    c-ares asks, dnspython rdata for `DNSPYTHON_TYPES` and everything `DnspythonResolver` asks).
    Host names carry no trailing dot and are lower-case.
    """

    name: str
    rdtype: str
    status: DnsStatus
    records: tuple[Any, ...] = ()
    ttl: int = 0
    error: str = ""
    #: RRSIG rdata covering `records` (dnspython path with DNSSEC only: `DnspythonResolver`).
    signatures: tuple[Any, ...] = ()
    #: The resolver set AD: it validated the answer itself (a validating resolver only).
    authenticated: bool = False
    #: The zone the answer came from, where the server said (the SOA owner of a negative answer).
    zone: str = ""

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
        # Without c-ares' own query cache: `CachingResolver` in front is the one cache, bounded.
        self._resolver, self.query_cache_off = make_resolver(
            servers or None, timeout=timeout, tries=tries
        )
        # c-ares cannot ask for TLSA, DS or DNSKEY: those go through dnspython, to the same
        # servers with the same time-outs (and through the same cache, `CachingResolver`).
        self._dnspython = DnspythonResolver(nameservers, timeout=timeout, tries=tries)
        self.queries: Counter[str] = Counter()

    async def resolve(self, name: str, rdtype: str) -> DnsAnswer:
        name = normalise_name(name)
        rdtype = rdtype.upper()
        self.queries[rdtype] += 1
        if rdtype in DNSPYTHON_TYPES:
            return await self._dnspython.resolve(name, rdtype)
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


#: Record types aiodns (c-ares) cannot query; `AiodnsResolver` sends them through dnspython.
DNSPYTHON_TYPES = frozenset(
    {"TLSA", "DS", "DNSKEY", "CDS", "CDNSKEY", "RRSIG", "NSEC", "NSEC3PARAM"}
)

_RCODES = {
    dns.rcode.NXDOMAIN: DnsStatus.NXDOMAIN,
    dns.rcode.SERVFAIL: DnsStatus.SERVFAIL,
    dns.rcode.REFUSED: DnsStatus.REFUSED,
}


def _system_nameservers() -> list[tuple[str, int]]:
    """The system's resolvers (reads /etc/resolv.conf: call it off the event loop)."""
    try:
        system = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration:
        return [("127.0.0.1", 53)]
    return [(str(ns), system.port) for ns in system.nameservers]


def _dnspython_value(rdtype: str, rdata: Any) -> Any:
    """The same simple values `AiodnsResolver` gives for the common types; rdata otherwise."""
    if rdtype in ("A", "AAAA"):
        return rdata.address
    if rdtype == "MX":
        return (rdata.preference, normalise_name(rdata.exchange.to_text()))
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    if rdtype == "CNAME":
        return normalise_name(rdata.target.to_text())
    if rdtype == "NS":
        return normalise_name(rdata.target.to_text())
    if rdtype == "PTR":
        return normalise_name(rdata.target.to_text())
    return rdata


class DnspythonResolver:
    """dnspython over UDP (TCP when truncated) to the configured recursive resolvers.

    Two uses. `AiodnsResolver` hands it the types c-ares cannot ask for (`DNSPYTHON_TYPES`).
    With `dnssec=True` it is the DNSSEC check's resolver: every query sets DO (send the RRSIGs)
    and CD (checking disabled: a validating resolver must hand over the data of a zone that
    fails validation instead of SERVFAIL, so that the check can say *why* it fails), and the
    answer carries the signatures, the AD flag and the zone of a negative answer.

    Outcomes are values like `AiodnsResolver`'s: `tries` rounds over the servers, the first
    waiting `timeout` seconds and each next one twice as long (c-ares' back-off); nothing
    answered is TIMEOUT.
    """

    def __init__(
        self,
        nameservers: list[tuple[str, int]] | None = None,
        *,
        timeout: float = 2.0,
        tries: int = 3,
        dnssec: bool = False,
    ) -> None:
        self._servers = list(nameservers or [])
        self._timeout = timeout
        self._tries = max(1, tries)
        self.dnssec = dnssec
        self.queries: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.queries.values())

    async def _nameservers(self) -> list[tuple[str, int]]:
        if not self._servers:
            self._servers = await asyncio.to_thread(_system_nameservers)
        return self._servers

    async def resolve(self, name: str, rdtype: str) -> DnsAnswer:
        name = normalise_name(name)
        rdtype = rdtype.upper()
        self.queries[rdtype] += 1
        try:
            code = dns.rdatatype.from_text(rdtype)
            query = dns.message.make_query(
                dns.name.from_text(name or "."),
                code,
                use_edns=0,
                payload=1232,
                want_dnssec=self.dnssec,
            )
        except (dns.exception.DNSException, ValueError) as exc:
            return DnsAnswer(name, rdtype, DnsStatus.ERROR, error=str(exc))
        if self.dnssec:
            query.flags |= dns.flags.CD
        response, last_error = await self._ask(query)
        if response is None:
            return DnsAnswer(name, rdtype, DnsStatus.TIMEOUT, error=last_error)
        return _from_message(name, rdtype, code, response)

    async def _ask(self, query: dns.message.Message) -> tuple[dns.message.Message | None, str]:
        """Send `query` in rounds over the servers until one answers.

        Each round waits twice as long as the one before, as c-ares does, and every attempt to
        a server reuses that server's socket (the query keeps its id): an answer that arrived
        while the event loop was busy, after its attempt had given up, still answers the next
        attempt instead of being thrown away with a closed socket.
        """
        backend = dns.asyncbackend.get_backend("asyncio")
        sockets: dict[tuple[str, int], Any] = {}
        last_error = "no answer"
        try:
            for attempt in range(self._tries):
                wait = self._timeout * (2**attempt)
                for ip, port in await self._nameservers():
                    try:
                        sock = sockets.get((ip, port))
                        if sock is None:
                            family = dns.inet.af_for_address(ip)
                            sock = await backend.make_socket(family, socket.SOCK_DGRAM)
                            sockets[(ip, port)] = sock
                        response, _tcp = await dns.asyncquery.udp_with_fallback(
                            query, ip, timeout=wait, port=port, udp_sock=sock, backend=backend
                        )
                    except dns.exception.Timeout:
                        last_error = f"{ip}:{port} timed out"
                        continue
                    except (OSError, dns.exception.DNSException) as exc:
                        last_error = f"{ip}:{port}: {type(exc).__name__}: {exc}"
                        continue
                    return response, ""
            return None, last_error
        finally:
            for sock in sockets.values():
                await sock.close()


def _from_message(name: str, rdtype: str, code: int, response: dns.message.Message) -> DnsAnswer:
    rcode = response.rcode()
    authenticated = bool(response.flags & dns.flags.AD)
    zone = ""
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            zone = normalise_name(rrset.name.to_text())
    if rcode != dns.rcode.NOERROR:
        status = _RCODES.get(rcode, DnsStatus.ERROR)
        return DnsAnswer(
            name,
            rdtype,
            status,
            error=dns.rcode.to_text(rcode),
            zone=zone,
            authenticated=authenticated,
        )
    matching = [rrset for rrset in response.answer if rrset.rdtype == code]
    signatures = tuple(
        rdata
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.RRSIG and rrset.covers == code
        for rdata in rrset
    )
    if not matching:
        return DnsAnswer(
            name,
            rdtype,
            DnsStatus.NODATA,
            zone=zone,
            authenticated=authenticated,
            signatures=tuple(
                rdata
                for rrset in response.authority
                if rrset.rdtype == dns.rdatatype.RRSIG
                for rdata in rrset
            ),
        )
    records = tuple(_dnspython_value(rdtype, rdata) for rrset in matching for rdata in rrset)
    return DnsAnswer(
        name,
        rdtype,
        DnsStatus.OK,
        records,
        min(rrset.ttl for rrset in matching),
        signatures=signatures,
        authenticated=authenticated,
        zone=normalise_name(matching[0].name.to_text()) if code == dns.rdatatype.SOA else zone,
    )


class CachingResolver:
    """Answers cached for one run and concurrent identical queries coalesced.

    Bounded (LRU) so that a run over many thousands of companies keeps a flat memory profile.
    Time-outs and server failures are not cached: the next check may ask again.

    The bound: a company's own names are asked within its few seconds in the window (64
    companies, ~13 answers each), and what companies share (MX hosts, SPF includes, providers'
    names) is asked again all the time and so stays; 10,000 answers hold both many times over.
    An answer costs ~0.5 KB, so 50,000 (twice: the run has a DNSSEC cache too) was ~50 MB of
    the peak RSS of a 10,000-company run (benchmarks/README.md).
    """

    def __init__(self, inner: Resolver, max_entries: int = 10_000) -> None:
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
