"""The mail exchangers of a domain: which hosts receive its mail, or that it receives none.

A null MX (`0 .`, RFC 7505) says the domain sends and receives no mail; no MX record at all means
the same for this scanner (RFC 5321's fall-back to the A record would make a web server the mail
host, and probing a web server's port 25 is not what the company asked for). Either way the
checks that only make sense for a mail domain (DKIM, STARTTLS, MTA-STS, TLS-RPT, DANE) skip it;
SPF and DMARC still apply: a domain that sends no mail is protected by `v=spf1 -all` and
`p=reject`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from exposure.net.dns import DnsStatus, Resolver, normalise_name

MAX_MX_HOSTS = 10  # the bound: a domain with more is judged on its best ten


class MxStatus(StrEnum):
    MAIL = "mail"  # one or more mail hosts
    NULL = "null"  # null MX: no mail, by declaration
    NONE = "none"  # no MX record
    NXDOMAIN = "nxdomain"  # the domain does not exist
    TEMPERROR = "temperror"  # DNS did not answer


@dataclass(frozen=True, slots=True)
class MxSet:
    domain: str
    status: MxStatus
    hosts: tuple[str, ...] = ()  # by preference, at most MAX_MX_HOSTS
    records: tuple[tuple[int, str], ...] = ()  # every (preference, host) as published
    message: str = ""

    @property
    def receives_mail(self) -> bool:
        return self.status is MxStatus.MAIL

    def evidence(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": str(self.status)}
        if self.records:
            data["mx"] = [f"{pref} {host or '.'}" for pref, host in self.records]
        if len(self.hosts) < len([h for _, h in self.records if h]):
            data["mx_checked"] = list(self.hosts)
        return data


async def mail_exchangers(domain: str, resolver: Resolver) -> MxSet:
    domain = normalise_name(domain)
    answer = await resolver.resolve(domain, "MX")
    if not answer.decisive:
        return MxSet(
            domain,
            MxStatus.TEMPERROR,
            message=f"MX look-up of {domain} failed: {answer.status} ({answer.error or '-'})",
        )
    if answer.status is DnsStatus.NXDOMAIN:
        return MxSet(domain, MxStatus.NXDOMAIN)
    records = tuple(sorted((int(pref), normalise_name(host)) for pref, host in answer.records))
    if not records:
        return MxSet(domain, MxStatus.NONE)
    hosts = tuple(dict.fromkeys(host for _, host in records if host))
    if not hosts:
        return MxSet(domain, MxStatus.NULL, records=records)
    return MxSet(domain, MxStatus.MAIL, hosts[:MAX_MX_HOSTS], records)
