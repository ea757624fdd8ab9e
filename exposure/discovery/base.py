"""What every discoverer answers: candidates with evidence, or why it could not ask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from exposure.contract import FailureReason


@dataclass(frozen=True, slots=True)
class Candidate:
    """One host a source names for a domain: a name (`domain`) or an address (`ip`)."""

    kind: str  # domain | ip
    value: str  # canonical: lower-case name without the trailing dot, or a normalised address
    source: str  # the discoverer's name
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DiscoveryFailure:
    """A source that could not answer for a domain: its "could not test". It never means
    "nothing there", so a failing source proposes nothing and retires nothing."""

    source: str
    domain: str
    reason: FailureReason
    message: str


@dataclass(slots=True)
class DiscoveryAnswer:
    candidates: list[Candidate] = field(default_factory=list)
    failures: list[DiscoveryFailure] = field(default_factory=list)
    #: What the source learnt about addresses in passing (Shodan's host names and tags), which
    #: the shared-hosting rule reads: ip -> {"hostnames": [...], "tags": [...]}.
    address_facts: dict[str, dict[str, Any]] = field(default_factory=dict)


class Discoverer(Protocol):
    """A pluggable source. `name` is stored with each sighting (`DiscoveredHost.sources`)."""

    name: str

    async def discover(self, domain: str) -> DiscoveryAnswer: ...

    async def aclose(self) -> None: ...


def under(name: str, domain: str) -> bool:
    """`name` is `domain` or a name below it (`vpn.haven.nl` under `haven.nl`)."""
    return name == domain or name.endswith("." + domain)
