"""internet.nl's checks/test/ cases (`internetnl/`, Apache-2.0) against checks/mail and
checks/securitytxt.

internet.nl judges security.txt with sectxt and DMARC with its own pyparsing grammar; its
cases say what a Dutch owner sees on internet.nl, so the scanner should say the same. A
disagreement fails unless listed in `DEVIATIONS` with its reason; none is at present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.mail.dmarc import DmarcSyntaxError, parse_dmarc
from checks.securitytxt.validator import validate, validate_file
from tests.conformance.sectxt_cases import NOW

HERE = Path(__file__).parent / "internetnl"
DATA: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (HERE / "cases.yml").read_text(encoding="utf-8")
)
SOURCES = {
    "dmarc": "test_dmarc_parser.py.txt",
    "securitytxt_response": "test_securitytxt.py.txt",
    "securitytxt_content": "test_securitytxt.py.txt",
}

#: (section, index) -> why we differ
DEVIATIONS: dict[tuple[str, int], str] = {}

TOTAL, AGREE = 21, 21


def _params(section: str) -> list[Any]:
    return [
        pytest.param(index, case, id=f"{case['test']}[{index}]")
        for index, case in enumerate(DATA[section])
    ]


def _judge(key: tuple[str, int], problems: list[str]) -> None:
    if key in DEVIATIONS:
        assert problems, f"{key} is listed as a deviation but now agrees: update DEVIATIONS"
    else:
        assert not problems, f"{key}: internet.nl's test says otherwise: {problems}"


@pytest.mark.parametrize(("index", "case"), _params("dmarc"))
def test_dmarc(index: int, case: dict[str, Any]) -> None:
    try:
        parse_dmarc(case["record"])
        ours = "valid"
    except DmarcSyntaxError:
        ours = "invalid"
    problems = [] if ours == case["internetnl"] else [f"we say {ours}"]
    _judge(("dmarc", index), problems)


_RESPONSE_CODES = frozenset(
    {"no_content_type", "invalid_media", "invalid_charset", "location", "invalid_uri_scheme"}
)


@pytest.mark.parametrize(("index", "case"), _params("securitytxt_response"))
def test_securitytxt_response(index: int, case: dict[str, Any]) -> None:
    result = validate(
        b"content",
        content_type=case["content_type"],
        url="https://example.com" + case["path"],
        now=NOW,
    )
    ours = sorted(result.error_codes & _RESPONSE_CODES)
    problems = [] if ours == sorted(case["codes"]) else [f"we say {ours}"]
    _judge(("securitytxt_response", index), problems)


@pytest.mark.parametrize(("index", "case"), _params("securitytxt_content"))
def test_securitytxt_content(index: int, case: dict[str, Any]) -> None:
    result = validate_file(case["content"].encode(), now=NOW, urls=case["urls"])
    errors = sorted((i.code, i.line) for i in result.errors)
    advice = sorted((i.code, i.line) for i in (*result.recommendations, *result.notifications))
    problems = []
    if errors != sorted((code, line) for code, line in case["errors"]):
        problems.append(f"errors {errors}")
    if advice != sorted((code, line) for code, line in case["recommendations"]):
        problems.append(f"recommendations {advice}")
    _judge(("securitytxt_content", index), problems)


def test_cases_come_from_internetnl_and_the_figures_hold() -> None:
    total = 0
    for section, source in SOURCES.items():
        text = (HERE / source).read_text(encoding="utf-8")
        for case in DATA[section]:
            assert f"def {case['test']}(" in text, case["test"]
            total += 1
    assert (total, total - len(DEVIATIONS)) == (TOTAL, AGREE)
