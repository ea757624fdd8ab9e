"""The `tls` family check: certificates and protocol versions of a company's web sites.

For every domain target: the apex and `www.` (when they resolve), over every A/AAAA address
(`checks._site.website`). Each address is visited once per run, the visit shared with the web
check; the certificate is judged on the handshake that succeeded (the modern one, else the
legacy one, so a TLS 1.0-only server still gets its certificate judged) and legacy TLS on the
legacy probe. Findings are per host, the worst address counting (`checks._site.sitefold`).

"Could not test" stays apart from "fine": a host that hangs or resets every handshake is a
`CheckFailure` for the whole family; a legacy probe that timed out after a good modern handshake
leaves only the `tls.protocol.*` ids undecided. A host with nothing on the HTTPS port gets no TLS
verdict at all: that is the web check's `web.https.missing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from checks._site.sitefold import (
    AddressFailure,
    AddressFinding,
    fold,
    host_failures,
    visits_of,
)
from checks._site.website import SITE, site_hosts
from checks.tls.certificate import CERTIFICATE_IDS, CERTIFICATE_SPECS, judge_certificate
from checks.tls.codes import TRUST_CODES
from checks.tls.protocol import LEGACY, OBSOLETE_ONLY, PROTOCOL_IDS, judge_protocol
from exposure.contract import (
    CheckContext,
    CheckMeta,
    Observation,
    ScanTarget,
    Source,
    TargetKind,
)
from exposure.net.failures import could_not_test
from exposure.text import Text

ALL_IDS = frozenset({*CERTIFICATE_IDS, *PROTOCOL_IDS})


class TlsCheck:
    meta: ClassVar[CheckMeta] = CheckMeta(
        id="tls",
        title=Text(
            nl="Certificaat en versleuteling van de website",
            en="Website certificate and encryption",
        ),
        description=Text(
            nl="Maakt per websitenaam (met en zonder www) en per adres een TLS-verbinding zoals "
            "een browser, beoordeelt het certificaat (geldigheid, naam, uitgever, sleutel, "
            "handtekening) en kijkt of TLS 1.0/1.1 nog wordt geaccepteerd.",
            en="Connects to each website name (with and without www) on each address as a "
            "browser does, judges the certificate (validity, name, issuer, key, signature) and "
            "checks whether TLS 1.0/1.1 is still accepted.",
        ),
        target_kinds=frozenset({TargetKind.DOMAIN, TargetKind.HOST}),
        sources=frozenset({Source.DNS, Source.TLS}),
        wants=frozenset({SITE}),
        findings=(*CERTIFICATE_SPECS, LEGACY, OBSOLETE_ONLY),
        codes=TRUST_CODES,
    )

    async def run(self, target: ScanTarget, ctx: CheckContext) -> Sequence[Observation]:
        hosts = await site_hosts(ctx, target)
        failures = host_failures(hosts, ALL_IDS)
        findings: list[AddressFinding] = []
        # the handshakes only: the visit's HTTP waits are the web family's budget, not ours
        for visit in await visits_of(ctx, hosts, handshakes_only=True):
            shake = visit.handshake
            if shake is not None:
                findings.extend(judge_certificate(shake, visit.host, visit.url, ctx.now))
                if visit.legacy_accepted is None:
                    assert visit.legacy is not None
                    failures.append(
                        AddressFailure(
                            visit.host,
                            visit.address,
                            could_not_test(visit.legacy.failure),
                            f"legacy TLS probe: {visit.legacy.detail}",
                            PROTOCOL_IDS,
                        )
                    )
                else:
                    findings.extend(judge_protocol(visit))
            elif visit.undecided:
                failures.append(
                    AddressFailure(
                        visit.host,
                        visit.address,
                        could_not_test(visit.undecided_reason),
                        visit.undecided,
                        ALL_IDS,
                    )
                )
        checked = {h.name: h.addresses for h in hosts}
        return fold(findings, failures, checked)
