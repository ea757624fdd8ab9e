"""The RFC 7208 test suite's cases, and what each means for a policy evaluated without a message.

The suite asks `check_host(ip, sender, helo)` for one connection. The scanner has no
connection: `checks.mail.spf.evaluate` judges the policy of the sender's domain the way
`check_host()` would end for any sender, and answers one of none, valid, permerror and
temperror. A case maps to that by its result: `permerror`, `temperror` and `none` are
themselves; `pass`, `fail`, `softfail` and `neutral` are all "valid" (the policy works; which
of them applies depends on the address). The domain is the one `check_host()` starts from: the
sender's domain part, or the HELO name when the sender is empty (RFC 7208 section 2.4).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUITE = Path(__file__).parent / "rfc7208" / "rfc7208-tests.yml"

_VALID = frozenset({"pass", "fail", "softfail", "neutral"})


@dataclass(frozen=True, slots=True)
class SpfCase:
    scenario: str
    name: str
    domain: str
    results: tuple[str, ...]  # the suite's result(s), the first preferred
    zonedata: dict[str, Any]
    spec: str

    @property
    def expected(self) -> frozenset[str]:
        """The project's statuses that agree with the suite."""
        return frozenset("valid" if r in _VALID else r for r in self.results)


def identity(mailfrom: str, helo: str) -> str:
    if not mailfrom:
        return helo
    return mailfrom.rsplit("@", 1)[-1]


def load_cases(path: Path = SUITE) -> Iterator[SpfCase]:
    with path.open(encoding="utf-8") as stream:
        for scenario in yaml.safe_load_all(stream):
            zonedata = scenario.get("zonedata") or {}
            for name, test in scenario["tests"].items():
                result = test["result"]
                results = tuple(result) if isinstance(result, list) else (result,)
                yield SpfCase(
                    scenario=scenario["description"],
                    name=name,
                    domain=identity(str(test.get("mailfrom", "")), str(test["helo"])),
                    results=results,
                    zonedata=zonedata,
                    spec=str(test.get("spec", "")),
                )
