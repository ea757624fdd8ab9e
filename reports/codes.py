"""The words for the finer codes a finding's evidence carries, each with its one-line fix.

Some findings carry codes rather than one fact: the RFC 9116 errors of an invalid security.txt
(`invalid_cert`, `no_contact`, ...), the reason a file counts as missing. A shop owner cannot act
on `invalid_cert, no_contact`; the check that emits the codes publishes plain words and a
one-line fix for each (`CheckMeta.codes`). This module gathers them per finding id from the
registry (reports never import a check) and turns a finding's evidence into (what, fix) lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exposure.contract import CodeText
from exposure.registry import Registry

#: finding id -> code -> words
CodeBook = Mapping[str, Mapping[str, CodeText]]

#: The evidence keys whose values are codes (a string or a list of strings).
CODE_KEYS: tuple[str, ...] = ("reason", "errors", "hints")


@dataclass(frozen=True, slots=True)
class Explained:
    code: str
    text: str  # what is wrong, in plain words
    fix: str  # what to do, in one line


def code_book(registry: Registry) -> dict[str, dict[str, CodeText]]:
    """Per finding id, the words of its family's codes."""
    return {
        spec.id: {c.code: c for c in check.meta.codes}
        for check in registry.checks
        for spec in check.meta.findings
        if check.meta.codes
    }


def _codes(evidence: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for key in CODE_KEYS:
        value = evidence.get(key)
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        found.extend(v for v in values if isinstance(v, str))
    return found


def explain(
    book: CodeBook | None,
    check_id: str,
    evidences: Iterable[Mapping[str, Any]],
    language: str,
) -> tuple[Explained, ...]:
    """Every code in the evidence that has words, once, in the order first seen."""
    words = (book or {}).get(check_id, {})
    if not words:
        return ()
    seen: dict[str, Explained] = {}
    for evidence in evidences:
        for code in _codes(evidence):
            entry = words.get(code)
            if entry is not None and code not in seen:
                seen[code] = Explained(code, entry.text.get(language), entry.fix.get(language))
    return tuple(seen.values())
