"""The open-SPF RFC 7208 test suite (`rfc7208/`, from pyspf) against `checks.mail.spf.evaluate`.

Every case of the suite runs; how a case maps to a verdict without a message is in
`rfc7208_suite`. A case that disagrees fails the test unless it is listed in `DEVIATIONS` with
the RFC text that justifies it, and a listed case that starts to agree fails too (the list must
say what is true). The agreement figure is asserted, so the README's figure cannot drift.
"""

from __future__ import annotations

import pytest

from checks.mail.spf import evaluate
from tests.conformance.rfc7208_suite import SpfCase, load_cases
from tests.conformance.zonedata import ZoneResolver

CASES = list(load_cases())

#: case -> (our status, why). Each is a difference by design, not a bug.
DEVIATIONS: dict[str, tuple[str, str]] = {
    "include-at-limit": (
        "permerror",
        "The suite's sender 1.2.3.4 matches ip4:1.2.3.4 after the 10th look-up, so check_host() "
        "stops before the 11th (the mx) and returns pass. The scanner has no sender: it judges "
        "the policy for every sender, and every other sender reaches the mx, the 11th "
        "DNS-querying term, where RFC 7208 section 4.6.4 says 'If this limit is exceeded, "
        "the implementation MUST return \"permerror\"'. For the domain's owner the record is "
        "broken for nearly all mail, which is what mail.spf.invalid reports.",
    ),
}

#: The figures the README states (issue 18).
TOTAL, AGREE = 203, 202


def _id(case: SpfCase) -> str:
    return case.name


@pytest.mark.parametrize("case", CASES, ids=_id)
async def test_case(case: SpfCase) -> None:
    resolver = ZoneResolver(case.zonedata)
    result = await evaluate(case.domain, resolver)
    status = str(result.status)
    if case.name in DEVIATIONS:
        ours, _why = DEVIATIONS[case.name]
        assert status == ours and status not in case.expected, (
            f"{case.name}: listed as a deviation ({ours}) but we now say {status}; "
            f"the suite says {case.results}: update DEVIATIONS"
        )
        return
    assert status in case.expected, (
        f"{case.name} ({case.scenario}, RFC 7208 {case.spec}): the suite says "
        f"{'/'.join(case.results)}, we say {status}: {result.message}"
    )


def test_agreement_figures() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)) == TOTAL
    assert set(DEVIATIONS) <= set(names)
    assert TOTAL - len(DEVIATIONS) == AGREE
