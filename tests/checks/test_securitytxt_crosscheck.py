"""Our validator against the Digital Trust Center's `sectxt`, on the same files.

The issue asks that our codes agree with the DTC's where the two overlap, so that a company
checking its file with internet.nl (which uses `sectxt`) or with the DTC's own tool sees the
same problems. Every corpus file is judged by both; the sets of error and recommendation codes
must be equal, except for the differences documented per case in `securitytxt_corpus.py`
(`only_ours`, `only_theirs`, with the reason). A difference that is not documented fails this
test, on our side or after an upgrade of `sectxt`.

In short, the intentional differences are:
- we are stricter where RFC 9116 says MUST and `sectxt` does not look: URI syntax of values
  (`invalid_uri`), field-name syntax (`invalid_field_name`), lines starting with white space or
  holding control characters (`invalid_line`), a space instead of 'T' in Expires, '_' in a
  language tag, the empty line after the armour headers of a signed file, a signature block that
  holds no signature packet (`pgp_signature_error`);
- we are more lenient where `sectxt` rejects what the standards allow: a Canonical that differs
  only in case or in an explicit default port (RFC 3986 §6.2), a leap second, a signature
  without CRC line (RFC 4880 §6.2, RFC 9580 §6.1), a content type in other letter case;
- we report one cause once: text before a signed header is `signed_format_issue` only (PGPy
  also calls the armour broken); an unterminated signature is `pgp_data_error` only;
- three-letter language subtags, variants and extensions are only checked for form (see
  `checks/securitytxt/langtags.py`); none is in the corpus, as the corpus pins agreement.

Check-level codes have no validator counterpart: `sectxt`'s `no_security_txt` is our
`securitytxt.missing` (with a reason), judged by the check against the testbed in
`test_securitytxt_check.py`.

`sectxt` is in the `crosscheck` extra, which the `test` extra includes (it installs in a few
seconds, without conflicts). Locally a missing `sectxt` skips this module; on CI (CI=true) that
is a failure: the cross-check must never be skipped silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, tzinfo
from types import ModuleType
from typing import Any

import pytest

from checks.securitytxt.validator import validate, validate_file
from tests.checks.securitytxt_corpus import CORPUS, GOOD, NOW, URL, Case


def _import_sectxt() -> ModuleType:
    try:
        import sectxt
    except ImportError:
        message = "sectxt is not installed (pip install -e '.[crosscheck]')"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{message}; the cross-check must not be skipped on CI", pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return sectxt


sectxt = _import_sectxt()
requests_mock = pytest.importorskip("requests_mock")  # a dependency of sectxt itself
import requests  # noqa: E402  (after the skip: only present with sectxt)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # PGPy's CRC warnings


class _FrozenDatetime(datetime):
    """`sectxt` calls `datetime.now(timezone.utc)`; the corpus is judged at NOW."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Any:
        return NOW.astimezone(tz) if tz else NOW.replace(tzinfo=None)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sectxt, "datetime", _FrozenDatetime)
    yield


def _codes(entries: list[dict[str, Any]]) -> set[str]:
    return {e["code"] for e in entries}


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name)
def test_corpus_agrees_with_sectxt(case: Case):
    theirs_parser = sectxt.Parser(case.content, urls=URL)
    theirs = _codes(theirs_parser.errors) | _codes(theirs_parser.recommendations)
    ours_result = validate_file(case.content, now=NOW, urls=[URL])
    ours = set(ours_result.error_codes) | set(ours_result.recommendation_codes)
    expected = (ours - case.only_ours) | case.only_theirs
    assert theirs == expected, (
        f"{case.name}: sectxt says {sorted(theirs)}, we say {sorted(ours)}; documented: "
        f"only ours {sorted(case.only_ours)}, only theirs {sorted(case.only_theirs)}"
    )


def test_every_documented_difference_has_a_reason():
    for case in CORPUS:
        if case.only_ours or case.only_theirs:
            assert case.why, case.name
        assert case.only_ours <= case.errors, case.name


def test_the_corpus_covers_the_codes_both_validators_share():
    """The overlap the issue names, each seen in agreement at least once."""
    shared = {
        "no_contact",
        "no_expire",
        "multi_expire",
        "invalid_expiry",
        "expired",
        "no_canonical_match",
        "no_uri",
        "no_https",
        "invalid_line",
        "bom_in_file",
        "utf8",
        "invalid_lang",
        "multi_lang",
        "prec_ws",
        "no_space",
        "empty_key",
        "empty_value",
        "no_line_separators",
        "too_many_line_separators",
        "data_after_sig",
        "signed_format_issue",
        "pgp_data_error",
        "no_csaf_file",
    }
    agreed = {code for case in CORPUS for code in case.errors - case.only_ours}
    assert shared <= agreed, shared - agreed


# --- what sectxt judges from the HTTP response ----------------------------------------------------

HTTPS_WELL_KNOWN = URL
HTTPS_LEGACY = "https://example.test/security.txt"
HTTP_WELL_KNOWN = "http://example.test/.well-known/security.txt"
WWW = "https://www.example.test/.well-known/security.txt"
WWW_BODY = GOOD.replace(URL, WWW)


def _sectxt_fetch(routes: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Run sectxt's own fetcher against mocked responses (no network)."""
    with requests_mock.Mocker() as mock:
        for url, responses in routes.items():
            mock.get(url, responses)
        parser = sectxt.SecurityTXT("example.test")
    return _codes(parser.errors)


def _ok(body: str = GOOD, content_type: str | None = "text/plain; charset=utf-8") -> dict:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return {"text": body, "headers": headers, "status_code": 200}


Routes = dict[str, list[dict[str, Any]]]

#: (name, what sectxt's fetcher is served, how our validator is called, documented differences)
HTTP_CASES: list[tuple[str, Routes, dict[str, Any], dict[str, set[str]]]] = [
    ("plain text", {HTTPS_WELL_KNOWN: [_ok()]}, {}, {}),
    (
        "html content type",
        {HTTPS_WELL_KNOWN: [_ok(content_type="text/html")]},
        {"content_type": "text/html"},
        {},
    ),
    (
        "no content type",
        {HTTPS_WELL_KNOWN: [_ok(content_type=None)]},
        {"content_type": None},
        {},
    ),
    (
        "latin-1 charset",
        {HTTPS_WELL_KNOWN: [_ok(content_type="text/plain; charset=iso-8859-1")]},
        {"content_type": "text/plain; charset=iso-8859-1"},
        {},
    ),
    (
        # RFC 2045 §5.1: type and subtype are case-insensitive; sectxt compares as given.
        "content type in capitals",
        {HTTPS_WELL_KNOWN: [_ok(content_type="Text/Plain")]},
        {"content_type": "Text/Plain"},
        {"only_theirs": {"invalid_media"}},
    ),
    (
        "legacy location only",
        {HTTPS_LEGACY: [_ok()]},
        {"url": HTTPS_LEGACY},
        {},
    ),
    (
        "plain http only",
        {HTTP_WELL_KNOWN: [_ok()]},
        {"url": HTTP_WELL_KNOWN},
        {},
    ),
    (
        "certificate error",
        {HTTPS_WELL_KNOWN: [{"exc": requests.exceptions.SSLError}, _ok()]},
        {"certificate_valid": False},
        {},
    ),
    (
        "redirect to www",
        {
            HTTPS_WELL_KNOWN: [{"status_code": 301, "headers": {"Location": WWW}}],
            WWW: [_ok(WWW_BODY)],
        },
        {"final_url": WWW, "body": WWW_BODY},
        {},
    ),
]


@pytest.mark.parametrize(
    ("name", "routes", "ours_kwargs", "differences"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES]
)
def test_http_metadata_agrees_with_sectxt(
    name: str, routes: Routes, ours_kwargs: dict[str, Any], differences: dict[str, set[str]]
):
    theirs = _sectxt_fetch(routes)
    kwargs: dict[str, Any] = {"content_type": "text/plain; charset=utf-8", "url": URL}
    kwargs |= ours_kwargs
    body = kwargs.pop("body", GOOD)
    ours = set(validate(body, now=NOW, **kwargs).error_codes)
    only_theirs = differences.get("only_theirs", set())
    assert theirs == ours | only_theirs, (name, sorted(theirs), sorted(ours))


def test_sectxt_reports_no_file_where_our_check_reports_missing():
    assert _sectxt_fetch({}) == {"no_security_txt"}
