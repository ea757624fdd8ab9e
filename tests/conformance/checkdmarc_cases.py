"""checkdmarc's record-judging tests as data (`checkdmarc/*.yml`), and how to run each one.

checkdmarc's own tests mock its DNS functions; the cases restate those mocks as zone data for
`ZoneResolver` (same format as the RFC 7208 suite). Each case names the checkdmarc test it
comes from, and the harness checks that the test exists in the vendored copy of checkdmarc's
test file, so a case cannot be invented here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from publicsuffixlist import PublicSuffixList

from checks.mail import dmarc, spf
from checks.mail.shared import organisational_domain
from tests.conformance.zonedata import ZoneResolver

HERE = Path(__file__).parent / "checkdmarc"


@dataclass(frozen=True, slots=True)
class Case:
    test: str
    kind: str
    checkdmarc: str
    record: str = ""
    domain: str = "example.com"
    zone: dict[str, Any] = field(default_factory=dict)
    why: str = ""

    @property
    def id(self) -> str:
        return f"{self.test}:{self.record or self.domain}"


def load(name: str) -> list[Case]:
    with (HERE / name).open(encoding="utf-8") as stream:
        return [Case(**entry) for entry in yaml.safe_load(stream)]


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


def vendored_tests(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


async def spf_verdict(case: Case) -> tuple[str, str]:
    """Ours, in checkdmarc's words (error, none, valid), and the message."""
    match case.kind:
        case "parse":
            try:
                spf.parse_spf(case.record)
            except spf.SpfSyntaxError as exc:
                return "error", str(exc)
            return "valid", ""
        case "select":
            return ("valid" if spf.select_spf([case.record]) else "none"), ""
        case _:
            result = await spf.evaluate(case.domain, ZoneResolver(case.zone))
            words = {"permerror": "error", "none": "none", "valid": "valid"}
            return words.get(str(result.status), str(result.status)), result.message


async def dmarc_verdict(case: Case) -> tuple[str, str]:
    """Ours, in checkdmarc's words (invalid, missing, valid), and the evidence's text."""
    if case.kind == "parse":
        try:
            dmarc.parse_dmarc(case.record)
        except dmarc.DmarcSyntaxError as exc:
            return "invalid", str(exc)
        return "valid", ""
    result = await dmarc.discover(
        case.domain, ZoneResolver(case.zone), organisational_domain(_psl(), case.domain)
    )
    return str(result.status), " ".join((result.message, *result.why))
