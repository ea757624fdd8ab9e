"""The testbed's DNS server: authoritative for the scenario's zones, and the scanner's "resolver".

The scanner is configured with this server as its recursive resolver (`resolvers`), so answers
carry RA as well as AA. It answers from a mutable `Records` store (tests change a record and scan
again), over UDP and TCP (2-byte length framing), with the distinctions the checks depend on:

- NXDOMAIN vs NODATA: a name exists when it has any record, or when any name below it does
  (an empty non-terminal such as `_domainkey.example.test` is NODATA, not NXDOMAIN);
- CNAME chains are followed within the data (the final rcode belongs to the last name, RFC 6604);
- negative answers carry the SOA of the closest enclosing zone;
- UDP answers larger than the client's EDNS payload (at most 1232 bytes; 512 without EDNS) are
  truncated (TC) so the client retries over TCP;
- knobs: a latency per answer (scheduled, never blocking the loop), names that never get an
  answer (`timeouts`) or get SERVFAIL (`servfail`); counters of queries by type and by name;
- DNSSEC (`signer`, exposure.testbed.dnssec): RRSIGs for signed zones when the client sets DO,
  and with `validating=True` the AD flag and SERVFAIL-for-bogus of a validating resolver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from exposure.testbed.dnssec import ZoneMode, ZoneSigner, wants_dnssec

log = logging.getLogger(__name__)

MAX_UDP_PAYLOAD = 1232
MAX_CNAME_CHAIN = 8
DEFAULT_TTL = 300

NameLike = str | dns.name.Name


def to_name(name: NameLike) -> dns.name.Name:
    """Absolute, lower-case name; Unicode labels are IDNA-encoded (dnspython's IDNA 2008)."""
    if isinstance(name, dns.name.Name):
        return name.canonicalize() if name.is_absolute() else name.concatenate(dns.name.root)
    text = name.strip()
    return dns.name.from_text(text if text.endswith(".") else text + ".").canonicalize()


def txt(*strings: str) -> str:
    """Presentation text of one TXT record made of several character-strings."""
    return " ".join(_quote(s) for s in strings)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _txt_value(value: str) -> str:
    """A TXT value given as plain text becomes one record split into 255-byte strings."""
    if value.lstrip().startswith('"'):
        return value
    raw = value.encode("utf-8")
    parts = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    return " ".join(_quote(p.decode("utf-8", errors="replace")) for p in parts)


class Records:
    """Mutable zone data: rrsets by owner name and type, plus the names that exist.

    Values are presentation text (`"10 mx.example.test."`, `"0 ."`, `'"v=spf1 -all"'`); names in
    rdata without a trailing dot are taken as absolute. A TXT value that does not start with a
    quote is one string (split every 255 bytes); use `txt("a", "b")` for several strings.
    """

    def __init__(self) -> None:
        self._nodes: dict[dns.name.Name, dict[int, dns.rrset.RRset]] = {}
        self._below: Counter[dns.name.Name] = Counter()  # ancestors of nodes -> node count

    # --- writing -------------------------------------------------------------------------------

    def add(self, name: NameLike, rdtype: str, *values: str, ttl: int = DEFAULT_TTL) -> None:
        """Add records (duplicates are ignored, as in DNS)."""
        owner = to_name(name)
        code = dns.rdatatype.from_text(rdtype)
        node = self._nodes.get(owner)
        if node is None:
            node = self._nodes[owner] = {}
            for ancestor in _ancestors(owner):
                self._below[ancestor] += 1
        rrset = node.get(code)
        if rrset is None:
            rrset = node[code] = dns.rrset.RRset(owner, dns.rdataclass.IN, code)
        for value in values:
            text = _txt_value(value) if code in (dns.rdatatype.TXT, dns.rdatatype.SPF) else value
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, code, text, origin=dns.name.root, relativize=False
            )
            rrset.add(rdata, ttl)
        if not rrset:
            del node[code]
            if not node:
                self._drop(owner)

    def set(self, name: NameLike, rdtype: str, *values: str, ttl: int = DEFAULT_TTL) -> None:
        """Replace the records of one type (no values: remove them)."""
        self.remove(name, rdtype)
        if values:
            self.add(name, rdtype, *values, ttl=ttl)

    def remove(self, name: NameLike, rdtype: str | None = None) -> None:
        """Remove one type at a name, or the whole name (its children stay)."""
        owner = to_name(name)
        node = self._nodes.get(owner)
        if node is None:
            return
        if rdtype is not None:
            node.pop(dns.rdatatype.from_text(rdtype), None)
            if node:
                return
        self._drop(owner)

    def remove_tree(self, name: NameLike) -> None:
        """Remove a name and everything below it (a domain that stops existing)."""
        top = to_name(name)
        for owner in [n for n in self._nodes if n.is_subdomain(top)]:
            self._drop(owner)

    def _drop(self, owner: dns.name.Name) -> None:
        del self._nodes[owner]
        for ancestor in _ancestors(owner):
            self._below[ancestor] -= 1
            if self._below[ancestor] <= 0:
                del self._below[ancestor]

    # --- reading -------------------------------------------------------------------------------

    def get(self, name: NameLike, rdtype: str | int) -> dns.rrset.RRset | None:
        node = self._nodes.get(to_name(name))
        if node is None:
            return None
        code = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
        return node.get(code)

    def rrsets(self, name: NameLike) -> list[dns.rrset.RRset]:
        return list(self._nodes.get(to_name(name), {}).values())

    def exists(self, name: NameLike) -> bool:
        """The name has records, or some name below it has (empty non-terminal)."""
        owner = to_name(name)
        return owner in self._nodes or owner in self._below

    def soa_for(self, name: NameLike) -> dns.rrset.RRset | None:
        """The SOA of the closest enclosing zone, for negative answers."""
        owner = to_name(name)
        while True:
            node = self._nodes.get(owner)
            if node is not None and dns.rdatatype.SOA in node:
                return node[dns.rdatatype.SOA]
            if owner == dns.name.root:
                return None
            owner = owner.parent()

    def names(self) -> Iterator[dns.name.Name]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)


def _ancestors(name: dns.name.Name) -> Iterable[dns.name.Name]:
    while name != dns.name.root:
        name = name.parent()
        yield name


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        wire = self.server.answer_wire(data, udp=True)
        if wire is None or self.transport is None:
            return
        delay = self.server.latency
        if delay > 0:
            handle = asyncio.get_running_loop().call_later(delay, self._send, wire, addr)
            self.server._timers.add(handle)
        else:
            self._send(wire, addr)

    def _send(self, wire: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(wire, addr)


class DnsServer:
    """UDP + TCP DNS server on one address and port, answering from `records`."""

    def __init__(
        self,
        records: Records | None = None,
        *,
        latency: float = 0.0,
        tcp_idle_timeout: float = 10.0,
        signer: ZoneSigner | None = None,
        validating: bool = False,
    ) -> None:
        self.records = records if records is not None else Records()
        self.latency = latency
        #: Signs the answers of its zones for clients that set DO (see exposure.testbed.dnssec).
        self.signer = signer
        #: Behave as a validating resolver: AD for signed zones, SERVFAIL for bogus ones (no CD).
        self.validating = validating
        self.tcp_idle_timeout = tcp_idle_timeout
        self.timeouts: set[dns.name.Name] = set()
        self.servfail: set[dns.name.Name] = set()
        self.queries: Counter[str] = Counter()  # by type, e.g. {"A": 12, "MX": 3}
        self.names: Counter[str] = Counter()  # by "name TYPE"
        self.tcp_queries = 0
        self.truncated = 0
        self.host = ""
        self.port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._timers: set[asyncio.TimerHandle] = set()

    @property
    def total(self) -> int:
        return sum(self.queries.values())

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def resolver_spec(self) -> str:
        """The `ip:port` form the `resolvers` setting takes."""
        return f"{self.host}:{self.port}"

    def time_out(self, *names: NameLike) -> None:
        """Never answer queries for these names."""
        self.timeouts.update(to_name(n) for n in names)

    def fail(self, *names: NameLike) -> None:
        """Answer SERVFAIL for these names."""
        self.servfail.update(to_name(n) for n in names)

    def reset_counters(self) -> None:
        self.queries.clear()
        self.names.clear()
        self.tcp_queries = self.truncated = 0

    # --- life cycle ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind UDP (ephemeral when `port` is 0), then TCP on the same port."""
        loop = asyncio.get_running_loop()
        for _attempt in range(20):
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(host, port)
            )
            bound = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(
                    self._serve_tcp, host, bound, reuse_address=True
                )
            except OSError:
                transport.close()
                if port:
                    raise
                continue
            self._udp = transport
            self.host, self.port = host, bound
            return
        raise OSError(f"no free port for DNS on {host}")

    async def close(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        server, self._tcp = self._tcp, None
        if server is not None:
            server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), self.tcp_idle_timeout)
                (size,) = struct.unpack("!H", head)
                data = await reader.readexactly(size)
                self.tcp_queries += 1
                wire = self.answer_wire(data, udp=False)
                if wire is None:
                    continue  # a timed-out name: keep the connection, never answer
                if self.latency > 0:
                    await asyncio.sleep(self.latency)
                writer.write(struct.pack("!H", len(wire)) + wire)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.transport.abort()

    # --- answering -----------------------------------------------------------------------------

    def answer_wire(self, data: bytes, *, udp: bool) -> bytes | None:
        """The wire answer to one query, or None for "no answer at all"."""
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return _formerr(data)
        if query.flags & dns.flags.QR:
            return None
        response = self.answer(query)
        if response is None:
            return None
        if not udp:
            return response.to_wire(max_size=65535)
        limit = 512 if query.edns < 0 else max(512, min(query.payload, MAX_UDP_PAYLOAD))
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            self.truncated += 1
            short = dns.message.make_response(query, recursion_available=True, our_payload=1232)
            short.flags |= dns.flags.AA | dns.flags.TC
            return short.to_wire(max_size=limit)

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        response = dns.message.make_response(
            query, recursion_available=True, our_payload=MAX_UDP_PAYLOAD
        )
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        qname = question.name.canonicalize()
        qtype = question.rdtype
        self.queries[dns.rdatatype.to_text(qtype)] += 1
        self.names[f"{qname.to_text(omit_final_dot=True)} {dns.rdatatype.to_text(qtype)}"] += 1
        if qname in self.timeouts:
            return None
        if qname in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        if self.validating and self._bogus(qname) and not query.flags & dns.flags.CD:
            response.set_rcode(dns.rcode.SERVFAIL)  # what a validating resolver answers
            return response
        response.flags |= dns.flags.AA
        self._resolve(qname, qtype, response)
        if self.signer is not None and wants_dnssec(query):
            response.ednsflags |= dns.flags.DO
            self.signer.sign_sections(response)
            if self.validating and self.signer.status(qname) == ZoneMode.SIGNED:
                response.flags |= dns.flags.AD
        return response

    def _bogus(self, qname: dns.name.Name) -> bool:
        """Would a validator call this name's data bogus? A bogus signed zone, or a DS at the
        apex of a zone that nothing signs (keys published, nothing signed)."""
        zone = self.signer.zone_of(qname) if self.signer is not None else None
        if zone is not None:
            return zone.mode.bogus
        name = qname
        while name != dns.name.root:
            if self.records.get(name, dns.rdatatype.DS) is not None:
                return True
            name = name.parent()
        return False

    def _resolve(self, qname: dns.name.Name, qtype: int, response: dns.message.Message) -> None:
        records = self.records
        name = qname
        seen: set[dns.name.Name] = set()
        for _ in range(MAX_CNAME_CHAIN + 1):
            if name in self.servfail or name in self.timeouts:
                response.set_rcode(dns.rcode.SERVFAIL)
                return
            owner = name if records.exists(name) else _wildcard(records, name)
            if owner is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                self._negative(name, response)
                return
            if qtype == dns.rdatatype.ANY:
                rrsets = [_as(name, r) for r in records.rrsets(owner)]
                if not rrsets:
                    self._negative(name, response)
                response.answer.extend(rrsets)
                return
            found = records.get(owner, qtype)
            if found is not None:
                response.answer.append(_as(name, found))
                return
            cname = records.get(owner, dns.rdatatype.CNAME)
            cname = None if cname is None else _as(name, cname)
            if cname is None or qtype == dns.rdatatype.CNAME:
                self._negative(name, response)  # NODATA
                return
            response.answer.append(cname)
            seen.add(name)
            target = next(iter(cname)).target
            name = target.canonicalize()
            if name in seen:
                response.set_rcode(dns.rcode.SERVFAIL)  # a loop, as a real resolver reports it
                return
        response.set_rcode(dns.rcode.SERVFAIL)

    def _negative(self, name: dns.name.Name, response: dns.message.Message) -> None:
        soa = self.records.soa_for(name)
        if soa is not None:
            minimum = next(iter(soa)).minimum
            negative = dns.rrset.RRset(soa.name, soa.rdclass, soa.rdtype)
            negative.update(soa)
            negative.ttl = min(soa.ttl, minimum)
            response.authority.append(negative)


def _formerr(data: bytes) -> bytes | None:
    """FORMERR for a query we cannot parse, if it is at least long enough to carry an id."""
    if len(data) < 12:
        return None
    with contextlib.suppress(Exception):
        (qid,) = struct.unpack("!H", data[:2])
        flags = dns.flags.QR | dns.flags.RA
        return struct.pack("!HHHHHH", qid, flags | dns.rcode.FORMERR, 0, 0, 0, 0)
    return None


def soa_text(zone: NameLike, serial: int = 1) -> str:
    """A plausible SOA for a test zone (the minimum field is the negative-caching TTL)."""
    apex = to_name(zone).to_text()
    return f"ns1.{apex} hostmaster.{apex} {serial} 3600 600 604800 60"


def add_zone(
    records: Records,
    zone: NameLike,
    nameservers: Sequence[str] = (),
    *,
    ttl: int = DEFAULT_TTL,
) -> None:
    """Give a zone apex its SOA and NS records (negative answers then carry the SOA)."""
    apex = to_name(zone)
    records.set(apex, "SOA", soa_text(apex), ttl=ttl)
    ns = list(nameservers) or [f"ns1.{apex.to_text()}"]
    records.set(apex, "NS", *ns, ttl=ttl)


def _wildcard(records: Records, name: dns.name.Name) -> dns.name.Name | None:
    """The wildcard `*.<closest encloser>` that answers for a name that does not exist
    (RFC 4592: only the closest existing ancestor's wildcard counts), or None."""
    parent = name
    while len(parent) > 1:
        parent = parent.parent()
        star = dns.name.Name((b"*",)).concatenate(parent)
        if records.exists(star) and records.rrsets(star):
            return star
        if records.exists(parent):
            return None
    return None


def _as(owner: dns.name.Name, rrset: dns.rrset.RRset) -> dns.rrset.RRset:
    """`rrset` under `owner` (a wildcard's records synthesised for the name asked)."""
    if rrset.name == owner:
        return rrset
    copy = dns.rrset.RRset(owner, rrset.rdclass, rrset.rdtype)
    copy.update(rrset)
    copy.ttl = rrset.ttl
    return copy
