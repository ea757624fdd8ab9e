"""sectxt's own test inputs (`sectxt/`, EUPL-1.2) against checks/securitytxt's validator.

Every case is one input of sectxt's `test/test_sectxt.py` with what that test asserts. A case
we disagree with fails unless `DEVIATIONS` lists it with the RFC 9116 text that justifies our
verdict; a listed case that agrees fails too.
"""

from __future__ import annotations

import pytest

from tests.conformance.sectxt_cases import HERE, Case, issues, load, run

SIGNED, CASES = load()

#: (test, index among that test's cases) -> why we differ
DEVIATIONS: dict[tuple[str, int], str] = {
    ("test_empty_key2", 0): (
        "' : mailto:...' starts with a space: we report invalid_line, sectxt empty_key (both "
        "errors, the file is invalid either way). RFC 9116 section 4: a line is "
        "'[ (field / comment) ] eol' and field-name = 1*(%d33-57 / %d59-126), so a line that "
        "begins with SP is neither a field (with an empty name) nor a comment; we name that "
        "one cause once (no folding in security.txt)."
    ),
    ("test_signed_invalid_pgp", 2): (
        "the signature's base64 is cut short: we report pgp_data_error (RFC 4880 section 6: "
        "the radix-64 armour data does not decode), sectxt pgp_error (PGPy gives up on the "
        "message). Both errors; we name the broken armour, not the library's exception."
    ),
    ("test_contact_field_properties", 0): (
        "'Contact: mailto:not_a_valid_email' beside good contacts: sectxt drops it and calls "
        "the file valid; we keep it an error (invalid_uri). RFC 9116 section 2.5.3: the value "
        "'MUST follow the URI syntax described in [RFC3986]', and RFC 3986 section 3.1 leaves "
        "a scheme's syntax to its specification: RFC 6068 section 2 has 'to = addr-spec *(\",\" "
        "addr-spec)', so a mailto URI without an addr-spec is not a mailto URI. A Contact a "
        "finder cannot write to defeats the field, and the owner can fix it in a minute. "
        "(Decision for issue 18; the file's other addresses are still used for warnings.)"
    ),
}

TOTAL, AGREE = 37, 34


def _keyed() -> list[tuple[tuple[str, int], Case]]:
    seen: dict[str, int] = {}
    out = []
    for case in CASES:
        index = seen.get(case.test, 0)
        seen[case.test] = index + 1
        out.append(((case.test, index), case))
    return out


KEYED = _keyed()


def _disagreements(case: Case) -> list[str]:
    result = run(case, SIGNED)
    problems: list[str] = []
    if case.valid is not None and result.valid != case.valid:
        problems.append(f"valid is {result.valid}: {sorted(result.error_codes)}")
    for want in case.expect:
        found = [line for code, line in issues(result, want["level"]) if code == want["code"]]
        if not found:
            problems.append(f"no {want['level']} {want['code']}")
        elif "count" in want and len(found) != want["count"]:
            problems.append(f"{want['code']} {len(found)} times, not {want['count']}")
        elif "lines" in want and found != want["lines"]:
            problems.append(f"{want['code']} on lines {found}, not {want['lines']}")
    for unwanted in case.absent:
        if any(code == unwanted["code"] for code, _ in issues(result, unwanted["level"])):
            problems.append(f"{unwanted['level']} {unwanted['code']} reported")
    if case.mailto:
        addresses = result.mailto_addresses()
        if addresses[:1] != (case.mailto["first"],):
            problems.append(f"first mailto is {addresses[:1]}")
        problems += [f"{a} missing" for a in case.mailto["include"] if a not in addresses]
        problems += [f"{a} kept" for a in case.mailto["exclude"] if a in addresses]
    return problems


@pytest.mark.parametrize(("key", "case"), KEYED, ids=[f"{t}[{i}]" for (t, i), _ in KEYED])
def test_case(key: tuple[str, int], case: Case) -> None:
    problems = _disagreements(case)
    if key in DEVIATIONS:
        assert problems, f"{key} is listed as a deviation but now agrees: update DEVIATIONS"
        return
    assert not problems, f"{key}: sectxt's test asserts otherwise: {problems}"


def test_cases_come_from_sectxt_and_the_figures_hold() -> None:
    text = (HERE / "test_sectxt.py.txt").read_text(encoding="utf-8")
    for case in CASES:
        assert f"def {case.test}(" in text, case.test
    assert set(DEVIATIONS) <= {key for key, _ in KEYED}
    assert (len(CASES), len(CASES) - len(DEVIATIONS)) == (TOTAL, AGREE)
