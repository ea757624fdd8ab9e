"""The member's own DNS: the hosts its records point at, and the usual names of remote access.

Three passive looks through the normal resolver:
- MX hosts inside the member's domain (`mail.haven.nl`), a mail server of its own;
- the `ip4:`/`ip6:`/`a:` terms of its SPF record, the addresses its mail may leave from: often
  the office's own internet connection, where the camera and the VPN gateway live too. Only
  single addresses (a /32 or /128) and `a:` names inside the domain count; a `-`/`~`/`?` term
  says the address is *not* a sender, and a network is a provider's, not an office's;
- a short fixed list of common names (`COMMON_NAMES`), with wildcard detection: a random name
  is asked first, and a common name whose addresses are the wildcard's is not proposed, so that
  `*.domain` does not invent a VPN gateway.
"""

from __future__ import annotations

import ipaddress
import secrets

from exposure.contract import FailureReason
from exposure.discovery.base import Candidate, DiscoveryAnswer, DiscoveryFailure, under
from exposure.net.dns import DnsAnswer, DnsStatus, Resolver, normalise_name

NAME = "dns"
COMMON_NAMES = (
    "vpn",
    "remote",
    "webmail",
    "mail",
    "owa",
    "portal",
    "citrix",
    "sslvpn",
    "cam",
    "nas",
    "ftp",
)


class DnsDiscoverer:
    name = NAME

    def __init__(self, resolver: Resolver, common_names: tuple[str, ...] = COMMON_NAMES) -> None:
        self.resolver = resolver
        self.common_names = common_names

    async def aclose(self) -> None:
        return None

    async def discover(self, domain: str) -> DiscoveryAnswer:
        answer = DiscoveryAnswer()
        await self._mx(domain, answer)
        await self._spf(domain, answer)
        await self._common(domain, answer)
        return answer

    def _fail(self, answer: DiscoveryAnswer, domain: str, reply: DnsAnswer, what: str) -> None:
        reason = (
            FailureReason.TIMEOUT if reply.status == DnsStatus.TIMEOUT else FailureReason.DNS_ERROR
        )
        answer.failures.append(
            DiscoveryFailure(NAME, domain, reason, f"{what} {reply.name}: {reply.status.value}")
        )

    async def _mx(self, domain: str, answer: DiscoveryAnswer) -> None:
        reply = await self.resolver.resolve(domain, "MX")
        if not reply.decisive:
            self._fail(answer, domain, reply, "MX")
            return
        for record in reply.records:
            host = normalise_name(str(record[1]))
            if host != domain and under(host, domain):
                answer.candidates.append(Candidate("domain", host, NAME, {"mx": host}))

    async def _spf(self, domain: str, answer: DiscoveryAnswer) -> None:
        reply = await self.resolver.resolve(domain, "TXT")
        if not reply.decisive:
            self._fail(answer, domain, reply, "TXT")
            return
        for text in reply.texts:
            if text.lower().startswith("v=spf1 ") or text.lower() == "v=spf1":
                answer.candidates.extend(spf_candidates(text, domain))

    async def _addresses(self, name: str) -> tuple[set[str], DnsAnswer | None]:
        """The A and AAAA addresses of `name`, and the first answer that could not be had."""
        found: set[str] = set()
        for rdtype in ("A", "AAAA"):
            reply = await self.resolver.resolve(name, rdtype)
            if not reply.decisive:
                return found, reply
            found.update(str(r) for r in reply.records if isinstance(r, str))
        return found, None

    async def _common(self, domain: str, answer: DiscoveryAnswer) -> None:
        probe = f"exposure-wildcard-{secrets.token_hex(6)}.{domain}"
        wildcard, broken = await self._addresses(probe)
        if broken is not None:
            self._fail(answer, domain, broken, "wildcard probe")
            return
        for label in self.common_names:
            name = f"{label}.{domain}"
            addresses, broken = await self._addresses(name)
            if broken is not None:
                self._fail(answer, domain, broken, "A/AAAA")
                continue
            if not addresses or (wildcard and addresses <= wildcard):
                continue  # nothing there, or only what the wildcard answers for any name
            answer.candidates.append(
                Candidate(
                    "domain", name, NAME, {"common_name": label, "addresses": sorted(addresses)}
                )
            )


def spf_candidates(record: str, domain: str) -> list[Candidate]:
    """Single sender addresses and `a:` names inside `domain` of one SPF record."""
    found: list[Candidate] = []
    for term in record.split()[1:]:
        qualifier = term[0] if term[0] in "+-~?" else "+"
        body = term[1:] if term[0] in "+-~?" else term
        if qualifier != "+":
            continue
        mechanism, _, value = body.partition(":")
        mechanism = mechanism.lower()
        if mechanism in ("ip4", "ip6") and value:
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                continue
            if net.num_addresses == 1 and net.version == (4 if mechanism == "ip4" else 6):
                found.append(
                    Candidate("ip", str(net.network_address), NAME, {"spf": term, "domain": domain})
                )
        elif mechanism == "a" and value:
            name = normalise_name(value.split("/")[0])
            if name != domain and under(name, domain) and "%" not in name:
                found.append(Candidate("domain", name, NAME, {"spf": term, "domain": domain}))
    return found
