"""checkdmarc's SPF and DMARC tests (`checkdmarc/`, Apache-2.0) against checks/mail.

A case where we and checkdmarc disagree fails unless `SPF_DEVIATIONS` / `DMARC_DEVIATIONS`
list it with the RFC text that makes our verdict the right one; a listed case that agrees
fails too. Issue 18 asks that every `pct`/`ri` case and the MX-host void-look-up case agree:
they are not in the lists, so they must.
"""

from __future__ import annotations

import pytest

from tests.conformance.checkdmarc_cases import (
    Case,
    dmarc_verdict,
    load,
    spf_verdict,
    vendored_tests,
)

SPF_CASES = load("spf_cases.yml")
DMARC_CASES = load("dmarc_cases.yml")

_SYNTAX = (
    "RFC 7208 section 4.6: 'If there are any syntax errors anywhere in the record, "
    'check_host() returns immediately with the result "permerror", without further '
    "interpretation.'"
)

#: test -> (ours, why)
SPF_DEVIATIONS: dict[str, tuple[str, str]] = {
    "testTextAfterExpValueWarns": (
        "error",
        "`extra` is neither a mechanism nor a modifier (section 12: a modifier has '=', a "
        "mechanism a known name); checkdmarc warns and goes on. " + _SYNTAX,
    ),
    "testIncludeMissingSPFMocked": (
        "error",
        "the include target does not exist; checkdmarc warns and goes on. RFC 7208 section "
        '5.2: \'If the recursive check_host() returns "none" ... include ... returns '
        "permerror'; a receiver rejects or ignores the whole policy.",
    ),
}

#: test -> (ours, why)
DMARC_DEVIATIONS: dict[str, tuple[str, str]] = {
    "testDMARCSyntaxError": (
        "valid",
        "fo=invalid_value: RFC 7489 section 6.3, 'Syntax errors in the remainder of the "
        "record SHOULD be discarded in favor of default values (if any)'; RFC 9989 section "
        "4.8 has a bad fo fall back to 0. Receivers apply p=reject; we note it.",
    ),
    "testDMARCInvalidFoValue": (
        "valid",
        "fo=x: as testDMARCSyntaxError (RFC 7489 section 6.3; fo falls back to 0).",
    ),
    "testDMARCUnrelatedRecords": (
        "valid",
        "a TXT record that is not DMARC beside the DMARC one: RFC 7489 section 6.6.3, "
        '\'Records that do not start with a "v=" tag that identifies the current version of '
        "DMARC are discarded.' checkdmarc raises unless told to ignore them "
        "(testDMARCUnrelatedRecordsIgnored, which we agree with).",
    ),
    "testDMARCRecordStartsWithWhitespace": (
        "missing",
        "' v=DMARC1; ...' does not start with 'v=DMARC1', so receivers discard it (RFC 7489 "
        "section 6.6.3) and apply no DMARC: 'missing' is the verdict that says what receivers "
        "do. The evidence says why (issue 18): the record starts with white space.",
    ),
    "testApexFallbackWrongLocation": (
        "missing",
        "a v=DMARC1 record at the apex is never read (RFC 7489 section 6.1: the record is at "
        "_dmarc.<domain>), so receivers apply no DMARC: 'missing'. The evidence says why: the "
        "record is published at the domain itself.",
    ),
}


def _ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


def _judge(case: Case, ours: str, detail: str, deviations: dict[str, tuple[str, str]]) -> None:
    if case.test in deviations:
        expected, _why = deviations[case.test]
        assert ours == expected != case.checkdmarc, (
            f"{case.test}: listed as a deviation ({expected}) but we say {ours} and checkdmarc "
            f"{case.checkdmarc}: update the list"
        )
    else:
        assert ours == case.checkdmarc, (
            f"{case.test} {case.record!r}: checkdmarc says {case.checkdmarc}, we say {ours}: "
            f"{detail}"
        )
    if case.why:
        assert case.why in detail, f"{case.test}: the evidence does not say {case.why!r}"


@pytest.mark.parametrize("case", SPF_CASES, ids=_ids(SPF_CASES))
async def test_spf_case(case: Case) -> None:
    ours, detail = await spf_verdict(case)
    _judge(case, ours, detail, SPF_DEVIATIONS)


@pytest.mark.parametrize("case", DMARC_CASES, ids=_ids(DMARC_CASES))
async def test_dmarc_case(case: Case) -> None:
    ours, detail = await dmarc_verdict(case)
    _judge(case, ours, detail, DMARC_DEVIATIONS)


@pytest.mark.parametrize(
    ("cases", "source", "deviations", "total", "agree"),
    [
        (SPF_CASES, "test_spf.py.txt", SPF_DEVIATIONS, 64, 62),
        (DMARC_CASES, "test_dmarc.py.txt", DMARC_DEVIATIONS, 46, 41),
    ],
    ids=["spf", "dmarc"],
)
def test_cases_come_from_checkdmarc_and_the_figures_hold(
    cases: list[Case],
    source: str,
    deviations: dict[str, tuple[str, str]],
    total: int,
    agree: int,
) -> None:
    text = vendored_tests(source)
    for case in cases:
        assert f"def {case.test}(" in text, f"{case.test} is not in checkdmarc's {source}"
    assert set(deviations) <= {case.test for case in cases}
    disagree = sum(1 for case in cases if case.test in deviations)
    assert (len(cases), len(cases) - disagree) == (total, agree)
