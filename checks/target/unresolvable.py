"""`target.unresolvable`: a registered domain that has no address and no mail server.

Usually a typo in the member list or a domain that lapsed; either way nothing else can be
checked for it, and a lapsed domain can be registered by somebody else and used to impersonate
the company. The Meldpunt wants to know, so the member list can be corrected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import ClassVar

from exposure.contract import (
    CheckContext,
    CheckFailure,
    CheckMeta,
    Effort,
    FailureReason,
    FindingSpec,
    Observation,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.net.dns import DnsStatus
from exposure.severity import Severity
from exposure.text import Text

UNRESOLVABLE = FindingSpec(
    id="target.unresolvable",
    severity=Severity.INFO,
    title=Text(
        nl="Domeinnaam werkt niet",
        en="Domain name does not resolve",
    ),
    risk=Text(
        nl="Deze domeinnaam staat op uw ledenlijst, maar heeft geen website en geen e-mail. "
        "Misschien is het een tikfout, of is de naam verlopen. Een verlopen naam kan door "
        "iemand anders worden gekocht en gebruikt om zich als uw bedrijf voor te doen.",
        en="This domain name is on your member record but has no website and no e-mail. It may "
        "be a typo, or the name may have lapsed. A lapsed name can be bought by someone else "
        "and used to impersonate your business.",
    ),
    remediation=Text(
        nl="Controleer of de naam klopt en nog op naam van uw bedrijf staat. Geef een correctie "
        "door aan het Meldpunt, of verleng de registratie bij uw provider.",
        en="Check that the name is correct and still registered to your business. Send a "
        "correction to the Meldpunt, or renew the registration with your provider.",
    ),
    technical=Text(
        nl="De naam geeft NXDOMAIN of heeft geen A-, AAAA- of MX-records.",
        en="The name returns NXDOMAIN or has no A, AAAA or MX records.",
    ),
    effort=Effort.LOW,
)

_TYPES = ("A", "AAAA", "MX")


class UnresolvableCheck:
    meta: ClassVar[CheckMeta] = CheckMeta(
        id="target",
        title=Text(nl="Bereikbaarheid van de domeinnaam", en="Domain name resolution"),
        description=Text(
            nl="Kijkt of een geregistreerde domeinnaam een adres of een mailserver heeft.",
            en="Checks that a registered domain name has an address or a mail server.",
        ),
        target_kinds=frozenset({TargetKind.DOMAIN}),
        sources=frozenset({Source.DNS}),
        findings=(UNRESOLVABLE,),
    )

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        answers = await asyncio.gather(*(ctx.dns.resolve(target.value, t) for t in _TYPES))
        if any(a.status is DnsStatus.OK and a.records for a in answers):
            return []
        undecided = [a for a in answers if not a.decisive]
        if undecided:
            detail = ", ".join(f"{a.rdtype}: {a.status}" for a in undecided)
            return [
                CheckFailure(
                    FailureReason.DNS_ERROR,
                    f"DNS did not answer for {target.value} ({detail})",
                    subject=target.value,
                )
            ]
        nxdomain = any(a.status is DnsStatus.NXDOMAIN for a in answers)
        return [
            UNRESOLVABLE.candidate(
                target.value,
                {
                    "domain": target.value,
                    "display": target.label,
                    "answers": {a.rdtype: str(a.status) for a in answers},
                },
                detail="NXDOMAIN" if nxdomain else "no A, AAAA or MX records",
            )
        ]
