"""Folding per-address verdicts into findings per host (shared by the tls and web families),
and what both ask of a domain's sites first: the visits, and the hosts that could not be tested.

A host such as `www.bakkerij.nl` may have several A/AAAA addresses (a load balancer, IPv4 and
IPv6). As internet.nl does, the worst address counts: a defect on any address is a finding on
the host. The finding's subject is the host name and it has no discriminator, so it keeps its
identity when the hosting provider renumbers; the evidence lists the addresses that showed it
(and all that were checked), and the details of the first of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks._site.website import HttpsVisit, SiteHost, visit_https
from exposure.contract import (
    JSON,
    CheckContext,
    CheckFailure,
    FailureReason,
    FindingSpec,
    Observation,
)


@dataclass(frozen=True, slots=True)
class AddressFinding:
    """One defect seen on one address of one host."""

    spec: FindingSpec
    host: str
    address: str
    evidence: Mapping[str, JSON] = field(default_factory=dict)
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AddressFailure:
    """Could not decide `finding_ids` for one host (on one address, or "" for the host)."""

    host: str
    address: str
    reason: FailureReason
    message: str
    finding_ids: frozenset[str]


def fold(
    findings: Iterable[AddressFinding],
    failures: Iterable[AddressFailure],
    checked: Mapping[str, Iterable[str]],
) -> list[Observation]:
    """One finding per (host, id), one failure per (host, reason, ids).

    `checked` maps each host to every address that was looked at.
    """
    grouped: dict[tuple[str, str], list[AddressFinding]] = {}
    for item in findings:
        grouped.setdefault((item.host, item.spec.id), []).append(item)
    observations: list[Observation] = []
    for (host, _), items in sorted(grouped.items()):
        items.sort(key=lambda i: _address_order(i.address))
        first = items[0]
        evidence: dict[str, Any] = {"host": host, **dict(first.evidence)}
        evidence["addresses"] = sorted({i.address for i in items}, key=_address_order)
        all_addresses = sorted(set(checked.get(host, ())), key=_address_order)
        if all_addresses != evidence["addresses"]:
            evidence["addresses_checked"] = all_addresses
        observations.append(first.spec.candidate(host, evidence, detail=first.detail))
    merged: dict[tuple[str, FailureReason, frozenset[str]], list[AddressFailure]] = {}
    for failure in failures:
        merged.setdefault((failure.host, failure.reason, failure.finding_ids), []).append(failure)
    for (host, reason, ids), fails in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        parts = []
        for fail in sorted(fails, key=lambda i: _address_order(i.address)):
            where = f"{host} ({fail.address})" if fail.address else host
            parts.append(f"{where}: {fail.message}")
        observations.append(CheckFailure(reason, "; ".join(dict.fromkeys(parts))[:500], host, ids))
    return observations


def _address_order(address: str) -> tuple[int, str]:
    return (1 if ":" in address else 0, address)


def host_failures(hosts: Sequence[SiteHost], ids: frozenset[str]) -> list[AddressFailure]:
    """DNS that did not answer, and addresses out of scope: could not test (those ids)."""
    failures: list[AddressFailure] = []
    for host in hosts:
        if host.dns_error:
            failures.append(
                AddressFailure(
                    host.name,
                    "",
                    FailureReason.DNS_ERROR,
                    f"DNS did not answer ({host.dns_error})",
                    ids,
                )
            )
        for address in host.skipped:
            failures.append(
                AddressFailure(
                    host.name,
                    address,
                    FailureReason.OUT_OF_SCOPE,
                    "private, loopback or link-local address space; not scanned "
                    "(set allow_private to scan it)",
                    ids,
                )
            )
    return failures


async def visits_of(
    ctx: CheckContext, hosts: Sequence[SiteHost], *, handshakes_only: bool = False
) -> list[HttpsVisit]:
    return list(
        await asyncio.gather(
            *(
                visit_https(ctx, a, h.name, handshakes_only=handshakes_only)
                for h in hosts
                for a in h.addresses
            )
        )
    )
