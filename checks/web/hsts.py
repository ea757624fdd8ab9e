"""Strict-Transport-Security (RFC 6797): parse the header the way a browser does.

A browser uses only the first STS header of a response, ignores a header whose directives
repeat or whose max-age is missing or malformed, and reads directive names case-insensitively
with token or quoted-string values. `web.hsts.missing` is raised when there is no usable policy,
or when max-age is below one year (internet.nl, and the HSTS preload list, ask for a year).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_MAX_AGE = 31_536_000  # one year, in seconds


@dataclass(frozen=True, slots=True)
class HstsPolicy:
    raw: str | None  # the first header's value as sent; None when there is none
    max_age: int | None = None
    include_subdomains: bool = False
    preload: bool = False
    problem: str = ""  # why the header is unusable ("" when it is usable)

    @property
    def sufficient(self) -> bool:
        return not self.problem and self.max_age is not None and self.max_age >= MIN_MAX_AGE

    @property
    def code(self) -> str:
        """The evidence code of an insufficient policy (see `checks.web.codes`), "" if fine."""
        if self.raw is None:
            return "no_header"
        if self.problem:
            return "invalid_header"
        if self.max_age is None or self.max_age < MIN_MAX_AGE:
            return "short_max_age"
        return ""

    @property
    def reason(self) -> str:
        """Why the policy is not sufficient, for the evidence ("" when it is)."""
        if self.raw is None:
            return "no Strict-Transport-Security header"
        if self.problem:
            return self.problem
        if self.max_age is None or self.max_age < MIN_MAX_AGE:
            return f"max-age={self.max_age} is shorter than one year ({MIN_MAX_AGE})"
        return ""


def parse_hsts(values: Sequence[str]) -> HstsPolicy:
    """The policy of a response, from all its Strict-Transport-Security header values."""
    if not values:
        return HstsPolicy(raw=None)
    raw = values[0]
    seen: set[str] = set()
    max_age: int | None = None
    include_subdomains = preload = False
    for part in raw.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if name in seen:
            return HstsPolicy(raw, problem=f"directive {name!r} appears twice (header ignored)")
        seen.add(name)
        if name == "max-age":
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if not sep or not value.isdigit():
                return HstsPolicy(raw, problem=f"max-age {value!r} is not a number")
            max_age = int(value)
        elif name == "includesubdomains":
            include_subdomains = True
        elif name == "preload":
            preload = True
    if max_age is None:
        return HstsPolicy(raw, problem="no max-age directive (header ignored)")
    return HstsPolicy(raw, max_age, include_subdomains, preload)
