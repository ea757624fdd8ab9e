"""Reading the member-list CSV (DESIGN.md: `id,name,email,domains,ips,sector`).

The file comes out of a spreadsheet kept by people, so the reader is tolerant where the meaning
is clear (a BOM, CRLF, blank lines, padding, header case and order, Excel's empty trailing
columns, a `;`-separated file from a Dutch Excel) and strict everywhere else. Every problem of the
file is collected, located as `FILE:LINE: field: reason` with LINE the physical line on which
the record starts, and raised together in one `MemberListError`: nothing is returned, and so
nothing is stored, unless the whole file is valid.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from targets.members import Issue, Member, MemberListError
from targets.normalise import (
    DomainTarget,
    InvalidValue,
    normalise_company_id,
    normalise_domain,
    normalise_email,
    normalise_ip,
    normalise_language,
    normalise_phone,
    normalise_text,
)

REQUIRED_COLUMNS = ("id", "name", "email", "domains", "ips", "sector")
OPTIONAL_COLUMNS = ("language", "phone")
LIST_SEPARATOR = ";"

_EXPECTED = f"expected {', '.join(REQUIRED_COLUMNS)} and optionally {', '.join(OPTIONAL_COLUMNS)}"

T = TypeVar("T")


def read_members(
    path: str | os.PathLike[str], *, allow_large_networks: bool = False
) -> tuple[Member, ...]:
    """Read and validate a member list file; raise `MemberListError` with every problem."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise MemberListError([Issue(source, None, "file", f"cannot be read: {reason}")]) from None
    text = _decode(data, source)
    return parse_members(text, source=source, allow_large_networks=allow_large_networks)


def _decode(data: bytes, source: str) -> str:
    """UTF-8 with or without BOM; anything else is refused with the line of the first bad byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MemberListError(
            [Issue(source, 1, "file", "UTF-16 text: save the file as 'CSV UTF-8'")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8-sig")
        line = len(re.findall(r"\r\n|\r|\n", before)) + 1
        reason = f"not UTF-8 (byte 0x{data[exc.start]:02x}): save the file as 'CSV UTF-8'"
        raise MemberListError([Issue(source, line, "file", reason)]) from None


def parse_members(
    text: str, *, source: str = "<input>", allow_large_networks: bool = False
) -> tuple[Member, ...]:
    """Validate a member list given as text; `source` names it in the messages."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    parser = _Parser(source, allow_large_networks)
    while True:
        line = reader.line_num + 1  # the record starts on the line after the previous one
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parser.issue(line, "csv", f"malformed CSV ({exc}): check the quotes in this record")
            continue
        if not any(cell.strip() for cell in row):
            continue  # blank line, or a row of empty cells
        parser.row(row, line)
    return parser.result()


def _delimiter(text: str) -> str:
    """`,` as the contract says, or `;` when the header has no comma but semicolons.

    Excel with Dutch regional settings saves "CSV" with `;` between columns (the comma is the
    decimal separator). Only the header decides, and only when it is unambiguous.
    """
    for header in text.splitlines():
        if header.strip():
            return ";" if "," not in header and ";" in header else ","
    return ","


@dataclass(frozen=True, slots=True)
class _Header:
    names: tuple[str, ...]  # per column; "" for an unnamed column
    index: dict[str, int]  # column name -> position, for the known columns present


class _Parser:
    """The state of one parse: the header, the members so far, the ids seen, the issues."""

    def __init__(self, source: str, allow_large_networks: bool) -> None:
        self.source = source
        self.allow_large_networks = allow_large_networks
        self.header: _Header | None = None
        self.members: list[Member] = []
        self.issues: list[Issue] = []
        self.seen_ids: dict[str, int] = {}  # case-folded id -> line

    def issue(self, line: int, field: str, reason: str) -> None:
        self.issues.append(Issue(self.source, line, field, reason))

    def result(self) -> tuple[Member, ...]:
        if self.header is None and not self.issues:
            self.issue(1, "header", f"the file is empty: {_EXPECTED}")
        if self.issues:
            raise MemberListError(self.issues)
        return tuple(self.members)

    def row(self, row: list[str], line: int) -> None:
        if self.header is None:
            self.header = self._header(row, line)
        else:
            self._record(row, line, self.header)

    def _header(self, row: list[str], line: int) -> _Header:
        names = tuple(cell.strip().lower() for cell in row)
        known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
        index: dict[str, int] = {}
        unknown: list[str] = []
        for position, name in enumerate(names):
            if not name:
                continue  # an empty header cell: Excel's trailing columns; values must be empty
            if name in index:
                self.issue(line, "header", f"column {name!r} appears twice")
            elif name in known:
                index[name] = position
            else:
                unknown.append(name)
        if unknown:
            listed = ", ".join(repr(name) for name in unknown)
            self.issue(line, "header", f"unknown column(s) {listed}: {_EXPECTED}")
        missing = [name for name in REQUIRED_COLUMNS if name not in index]
        if missing:
            listed = ", ".join(repr(name) for name in missing)
            self.issue(line, "header", f"missing column(s) {listed}: {_EXPECTED}")
        return _Header(names, index)

    def _record(self, row: list[str], line: int, header: _Header) -> None:
        before = len(self.issues)
        width = len(header.names)
        needed = max(header.index.values(), default=-1) + 1  # up to the last named column
        if len(row) < needed:
            self.issue(line, "row", f"{len(row)} fields, the header has {width}")
            return
        row = row + [""] * (width - len(row))  # Excel drops empty cells of unnamed columns
        if any(cell.strip() for cell in row[width:]):
            self.issue(
                line,
                "row",
                f"{len(row)} fields, the header has {width} "
                "(a value with a comma that is not in quotes?)",
            )
            return
        for position, column in enumerate(header.names):
            if not column and row[position].strip():
                self.issue(line, f"column {position + 1}", "a value in a column without a header")

        def cell(column: str) -> str | None:
            """The raw value, or None when the column is missing (reported once, at the header)."""
            return row[header.index[column]] if column in header.index else None

        company_id = self._field(line, "id", cell("id"), normalise_company_id)
        name = self._field(line, "name", cell("name"), lambda v: normalise_text(v, required=True))
        email = self._field(line, "email", cell("email"), normalise_email)
        sector = self._field(
            line, "sector", cell("sector"), lambda v: normalise_text(v, required=False)
        )
        language = self._field(line, "language", cell("language"), normalise_language)
        phone = self._field(line, "phone", cell("phone"), normalise_phone)
        domains = self._list(line, "domains", cell("domains"), normalise_domain)
        ips = self._list(
            line,
            "ips",
            cell("ips"),
            lambda v: normalise_ip(v, allow_large_networks=self.allow_large_networks).value,
        )

        if company_id is not None:
            key = company_id.casefold()
            if key in self.seen_ids:
                first = self.seen_ids[key]
                reason = f"company id {company_id!r} is listed twice (lines {first} and {line})"
                self.issue(line, "id", reason)
            else:
                self.seen_ids[key] = line
        if (
            len(self.issues) > before
            or company_id is None
            or name is None
            or email is None
            or sector is None
        ):
            return  # the file is refused anyway; the member is not needed
        self.members.append(
            Member(
                id=company_id,
                name=name,
                email=email,
                sector=sector,
                language=language,
                phone=phone,
                domains=_unique_domains(domains),
                ips=tuple(dict.fromkeys(ips)),
                line=line,
            )
        )

    def _field(
        self, line: int, field: str, raw: str | None, normalise: Callable[[str], T]
    ) -> T | None:
        if raw is None:
            return None
        try:
            return normalise(raw)
        except InvalidValue as exc:
            self.issue(line, field, _reason(raw, exc))
            return None

    def _list(
        self, line: int, field: str, raw: str | None, normalise: Callable[[str], T]
    ) -> list[T]:
        """The `;`-separated entries of a list field; empty entries (`a.nl;;b.nl;`) are skipped."""
        values: list[T] = []
        for entry in (raw or "").split(LIST_SEPARATOR):
            if not entry.strip():
                continue
            value = self._field(line, field, entry, normalise)
            if value is not None:
                values.append(value)
        return values


def _unique_domains(domains: list[DomainTarget]) -> tuple[DomainTarget, ...]:
    """Duplicates within a company (`Example.nl;example.nl.`) are one target: keep the first."""
    unique: dict[str, DomainTarget] = {}
    for domain in domains:
        unique.setdefault(domain.value, domain)
    return tuple(unique.values())


def _reason(raw: str, exc: InvalidValue) -> str:
    """The reason, after the offending value when there is one to show."""
    value = raw.strip()
    if not value:
        return str(exc)
    if len(value) > 80:
        value = value[:77] + "..."
    return f"{value!r}: {exc}"
