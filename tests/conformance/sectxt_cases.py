"""sectxt's test inputs as data (`sectxt/cases.yml`), built into the bytes its tests feed.

sectxt's tests compute dates from today; the cases use placeholders that are filled in from a
fixed clock (`NOW`), so a case means the same thing on every day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from checks.securitytxt.validator import Validation, validate, validate_file

HERE = Path(__file__).parent / "sectxt"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Case:
    test: str
    content: str = ""
    base: str = ""
    prefix: str = ""
    suffix: str = ""
    replace: list[list[str]] = field(default_factory=list)
    http: dict[str, str] = field(default_factory=dict)
    unknown_fields: bool = True
    valid: bool | None = None
    expect: list[dict[str, Any]] = field(default_factory=list)
    absent: list[dict[str, Any]] = field(default_factory=list)
    mailto: dict[str, Any] = field(default_factory=dict)


def load() -> tuple[str, list[Case]]:
    with (HERE / "cases.yml").open(encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    return data["signed"], [Case(**entry) for entry in data["cases"]]


def build(case: Case, signed: str) -> bytes:
    text = signed if case.base == "signed" else case.content
    for old, new in case.replace:
        text = text.replace(old, new)
    text = case.prefix + text + case.suffix
    expires = (NOW + timedelta(days=10)).date().isoformat() + "T18:37:07z"
    text = text.replace("<EXPIRES>", expires).replace("<YEAR+3>", str(NOW.year + 3))
    return text.encode("utf-8")


def run(case: Case, signed: str) -> Validation:
    content = build(case, signed)
    if case.http:
        return validate(
            content,
            content_type=case.http["content_type"],
            url=case.http["url"],
            now=NOW,
            unknown_fields=case.unknown_fields,
        )
    return validate_file(content, now=NOW, unknown_fields=case.unknown_fields)


def issues(result: Validation, level: str) -> list[tuple[str, int | None]]:
    found = {
        "error": result.errors,
        "recommendation": result.recommendations,
        "notification": result.notifications,
    }[level]
    return [(issue.code, issue.line) for issue in found]
