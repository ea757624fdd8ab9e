"""Certificate transparency: the names in the certificates issued for a member's domain.

Every publicly trusted certificate is logged; crt.sh makes the logs searchable. A search for
`%.domain` with `output=json` answers a list of entries, each with `name_value` (the
certificate's names, newline-separated), `common_name`, `id`, `issuer_name`, `not_before`,
`not_after`. Any crt.sh-compatible service will do (`discovery_ct_url`; the testbed serves a
look-alike). Only names under the member's domain are kept; a wildcard (`*.haven.nl`) is noted
in the evidence and never expanded (it names no host); the domain itself is already a target.
"""

from __future__ import annotations

from typing import Any

from exposure.contract import FailureReason
from exposure.discovery.base import Candidate, DiscoveryAnswer, DiscoveryFailure, under
from exposure.discovery.fetch import FetchFailure, JsonFetcher

NAME = "ct"
#: Certificates mentioned per name in the evidence: enough to check by hand, small to store.
MAX_CERTS_PER_NAME = 3


class CtDiscoverer:
    name = NAME

    def __init__(self, url: str, fetcher: JsonFetcher) -> None:
        self.url = url.rstrip("/") + "/"
        self.fetcher = fetcher

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def discover(self, domain: str) -> DiscoveryAnswer:
        answer = DiscoveryAnswer()
        what = f"certificate transparency for {domain}"
        reply = await self.fetcher.get(
            self.url,
            {"q": f"%.{domain}", "output": "json"},
            cache_key=domain,
            what=what,
        )
        if isinstance(reply, FetchFailure):
            answer.failures.append(DiscoveryFailure(NAME, domain, reply.reason, reply.message))
            return answer
        if reply.status != 200:
            reason = (
                FailureReason.RATE_LIMITED if reply.status == 429 else FailureReason.UNAVAILABLE
            )
            answer.failures.append(
                DiscoveryFailure(NAME, domain, reason, f"{what}: HTTP {reply.status}")
            )
            return answer
        if not isinstance(reply.body, list):
            answer.failures.append(
                DiscoveryFailure(
                    NAME, domain, FailureReason.PROTOCOL, f"{what}: the answer is not a JSON list"
                )
            )
            return answer
        answer.candidates.extend(names_from_entries(reply.body, domain))
        return answer


def names_from_entries(entries: list[Any], domain: str) -> list[Candidate]:
    """The host names under `domain` in crt.sh entries, with the certificates that name them."""
    certs: dict[str, list[dict[str, Any]]] = {}
    wildcards: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        raw = f"{entry.get('name_value') or ''}\n{entry.get('common_name') or ''}"
        for line in raw.splitlines():
            name = line.strip().rstrip(".").lower()
            if not name or not under(name.removeprefix("*."), domain):
                continue
            if name.startswith("*."):
                wildcards.add(name)
                continue
            if name == domain or "*" in name or " " in name:
                continue
            seen = certs.setdefault(name, [])
            if len(seen) < MAX_CERTS_PER_NAME:
                seen.append(
                    {
                        "crt_id": entry.get("id"),
                        "issuer": str(entry.get("issuer_name") or "")[:120],
                        "not_after": str(entry.get("not_after") or ""),
                    }
                )
    evidence_wildcards = sorted(wildcards)
    return [
        Candidate(
            "domain",
            name,
            NAME,
            {
                "certificates": found,
                **({"wildcards": evidence_wildcards} if evidence_wildcards else {}),
            },
        )
        for name, found in sorted(certs.items())
    ]
