"""The values a member list turns into, and the error that refuses one.

A member list is validated as a whole before anything is written, so a parse produces either the
complete tuple of `Member`s or one `MemberListError` carrying every problem of the file: the
operator fixes the spreadsheet once instead of once per error.
"""

from __future__ import annotations

from dataclasses import dataclass

from exposure.contract import TargetKind
from targets.normalise import DomainTarget, TargetSpec


@dataclass(frozen=True, slots=True)
class Member:
    """One company of a member list, every field in canonical form.

    `language` is None when the file has no language column: the file then says nothing about
    it and an import keeps what is stored. `line` is the physical line the record starts on.
    """

    id: str
    name: str
    email: str
    sector: str
    language: str | None
    domains: tuple[DomainTarget, ...]
    ips: tuple[str, ...]  # canonical addresses and CIDR networks
    line: int
    phone: str | None = None  # None: the file has no phone column (an import keeps what is stored)

    @property
    def targets(self) -> tuple[TargetSpec, ...]:
        """The company's targets as the store keys them, in the order of the file."""
        specs = [
            TargetSpec(TargetKind.DOMAIN, d.value, d.display if d.is_idn else "")
            for d in self.domains
        ]
        specs += [
            TargetSpec(TargetKind.NETWORK if "/" in ip else TargetKind.IP, ip) for ip in self.ips
        ]
        return tuple(specs)


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem, located: prints as `FILE:LINE: field: reason`.

    `line` is None for a problem with the file as a whole (it cannot be read).
    """

    file: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.reason}"

    def __rich__(self) -> str:
        """Printed by rich as the plain line, not pretty-printed as a dataclass."""
        return str(self)


class MemberListError(Exception):
    """A member list that was refused; `errors` holds every problem found, in file order."""

    def __init__(self, errors: tuple[Issue, ...] | list[Issue]) -> None:
        self.errors: tuple[Issue, ...] = tuple(errors)
        super().__init__("\n".join(str(issue) for issue in self.errors))
