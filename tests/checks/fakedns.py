"""A resolver for unit tests: answers from a dict, records every question.

A name that has any record answers NODATA for the other types; an unknown name is NXDOMAIN; a name
marked with `timeout()` (optionally for one type) never answers (TIMEOUT), as c-ares reports it.
"""

from __future__ import annotations

from collections import Counter

from exposure.net.dns import DnsAnswer, DnsStatus, normalise_name


class FakeDns:
    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], DnsAnswer] = {}
        self.timeouts: set[tuple[str, str | None]] = set()
        self.servfail: set[str] = set()
        self.log: list[tuple[str, str]] = []

    def set(self, name: str, rdtype: str, *records: object) -> FakeDns:
        name = normalise_name(name)
        self.answers[(name, rdtype)] = DnsAnswer(name, rdtype, DnsStatus.OK, tuple(records), 300)
        return self

    def txt(self, name: str, *texts: str) -> FakeDns:
        return self.set(name, "TXT", *texts)

    def mx(self, name: str, *hosts: str) -> FakeDns:
        return self.set(name, "MX", *((10 * (i + 1), h) for i, h in enumerate(hosts)))

    def a(self, name: str, *addresses: str) -> FakeDns:
        return self.set(name, "A", *(addresses or ("192.0.2.1",)))

    def exists(self, name: str) -> FakeDns:
        """The name exists with no record of its own (an empty non-terminal)."""
        self.answers[(normalise_name(name), "_exists")] = DnsAnswer(name, "_", DnsStatus.OK)
        return self

    def timeout(self, name: str, rdtype: str | None = None) -> FakeDns:
        self.timeouts.add((normalise_name(name), rdtype))
        return self

    def fail(self, name: str) -> FakeDns:
        self.servfail.add(normalise_name(name))
        return self

    @property
    def asked(self) -> Counter[tuple[str, str]]:
        return Counter(self.log)

    async def resolve(self, name: str, rdtype: str) -> DnsAnswer:
        name = normalise_name(name)
        rdtype = rdtype.upper()
        self.log.append((name, rdtype))
        if (name, rdtype) in self.timeouts or (name, None) in self.timeouts:
            return DnsAnswer(name, rdtype, DnsStatus.TIMEOUT, error="timed out")
        if name in self.servfail:
            return DnsAnswer(name, rdtype, DnsStatus.SERVFAIL, error="SERVFAIL")
        found = self.answers.get((name, rdtype))
        if found is not None:
            return found
        if any(n == name or n.endswith("." + name) for n, _ in self.answers):
            return DnsAnswer(name, rdtype, DnsStatus.NODATA)
        return DnsAnswer(name, rdtype, DnsStatus.NXDOMAIN, error="NXDOMAIN")
