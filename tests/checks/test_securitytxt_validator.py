"""The RFC 9116 validator, code by code and in both directions, and its words.

Every error code is shown to fire on a file that has the problem and to stay silent on files
that do not (the valid corpus entries, and near misses such as a lower-case 'T' in a date or a
Canonical with the default port). The corpus itself lives in `securitytxt_corpus.py`, shared
with the cross-check against the DTC's validator.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest

from checks.securitytxt import langtags
from checks.securitytxt.check import SecurityTxtCheck
from checks.securitytxt.messages import MESSAGES, Kind, message
from checks.securitytxt.sniff import has_security_txt_fields, is_blank, looks_like_html
from checks.securitytxt.validator import (
    MAX_PER_CODE,
    Validation,
    add_years,
    mailto_addresses,
    normalise_url,
    parse_content_type,
    parse_rfc3339,
    validate,
    validate_file,
)
from exposure.contract import Check, CheckMeta, CodeText
from exposure.registry import Registry
from exposure.registry import validate as validate_checks
from exposure.text import Text
from tests.checks.securitytxt_corpus import CORPUS, GOOD, NOW, SIGNED, URL, Case

TEXT_PLAIN = "text/plain; charset=utf-8"


def _http(content: str | bytes = GOOD, **kwargs: Any) -> Validation:
    values: dict[str, Any] = {"content_type": TEXT_PLAIN, "url": URL, "now": NOW} | kwargs
    return validate(content, **values)


# --- the corpus: every code fires where it should and nowhere else -----------------------------


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name)
def test_corpus_errors(case: Case):
    result = validate_file(case.content, now=NOW, urls=[URL])
    assert result.error_codes == case.errors, [i.as_json() for i in result.errors]
    assert result.valid is (not case.errors)


def test_valid_corpus_entries_have_no_errors_over_http_either():
    for case in CORPUS:
        if not case.errors:
            result = _http(case.content)
            assert result.valid, (case.name, result.errors)


HTTP_CASES: list[tuple[str, dict, set[str]]] = [
    ("plain", {}, set()),
    ("plain no charset", {"content_type": "text/plain"}, set()),
    ("case and quotes", {"content_type": 'TEXT/Plain; Charset="UTF-8"'}, set()),
    ("csUTF8 alias", {"content_type": "text/plain;charset=csUTF8"}, set()),
    ("extra parameter", {"content_type": "text/plain; format=flowed; charset=utf-8"}, set()),
    ("no content type", {"content_type": None}, {"no_content_type"}),
    ("html", {"content_type": "text/html; charset=utf-8"}, {"invalid_media"}),
    ("octet stream", {"content_type": "application/octet-stream"}, {"invalid_media"}),
    ("latin-1", {"content_type": "text/plain; charset=iso-8859-1"}, {"invalid_charset"}),
    ("utf8 without dash", {"content_type": "text/plain; charset=utf8"}, {"invalid_charset"}),
    (
        "plain http",
        {"url": "http://example.test/.well-known/security.txt"},
        {"invalid_uri_scheme", "no_canonical_match"},
    ),
    (
        "legacy path",
        {"url": "https://example.test/security.txt"},
        {"location", "no_canonical_match"},
    ),
    ("bad certificate", {"certificate_valid": False}, {"invalid_cert"}),
    ("truncated", {"truncated": True}, {"too_large"}),
]


@pytest.mark.parametrize(("name", "kwargs", "codes"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_http_metadata(name: str, kwargs: dict, codes: set[str]):
    assert _http(**kwargs).error_codes == codes


def test_every_error_code_is_exercised_by_a_test():
    """Both directions need a firing case: every error code must appear in the corpus or in
    HTTP_CASES (the valid entries are the other direction)."""
    fired = {code for case in CORPUS for code in case.errors}
    fired |= {code for _, _, codes in HTTP_CASES for code in codes}
    assert codes_of(Kind.ERROR) <= fired, codes_of(Kind.ERROR) - fired


def codes_of(kind: Kind) -> set[str]:
    return {m.code for m in MESSAGES if m.kind is kind}


# --- Canonical ---------------------------------------------------------------------------------


def test_a_cut_file_is_too_large_not_missing_its_last_line_break():
    cut = (GOOD + "# opvulling\n" * 50)[: len(GOOD) + 30]
    assert _http(cut, truncated=True).error_codes == {"too_large"}
    assert _http(cut).error_codes == {"no_line_separators"}
    half_a_character = (GOOD + "# café\n").encode()[:-2]  # ends in the first byte of é
    assert _http(half_a_character, truncated=True).error_codes == {"too_large"}
    assert _http(half_a_character).error_codes == {"utf8", "no_line_separators"}


def test_canonical_matches_the_first_or_the_last_url_of_a_redirect_chain():
    final = "https://www.example.test/.well-known/security.txt"
    text = GOOD.replace("https://example.test/.well-known", "https://www.example.test/.well-known")
    assert _http(text, final_url=final).valid
    assert _http(GOOD, final_url=final).valid  # the first URL still matches
    other = GOOD.replace("https://example.test/.well-known", "https://elders.test/.well-known")
    assert _http(other, final_url=final).error_codes == {"no_canonical_match"}


def test_canonical_in_a_lab_with_a_high_port():
    lab = GOOD.replace("https://example.test/", "https://example.test:43031/")
    assert _http(lab).error_codes == {"no_canonical_match"}
    assert _http(lab, default_ports={"https": 43031}).valid
    assert _http(lab, default_ports={"https": 8443}).error_codes == {"no_canonical_match"}


def test_no_canonical_field_means_nothing_to_match():
    text = GOOD.replace("Canonical: https://example.test/.well-known/security.txt\n", "")
    assert _http(text).valid


def test_several_canonicals_one_of_which_matches():
    text = GOOD + "Canonical: https://elders.test/.well-known/security.txt\n"
    assert _http(text).valid


# --- Expires -----------------------------------------------------------------------------------


def _with_expiry(when: datetime) -> str:
    return GOOD.replace("2026-09-01T00:00:00.000Z", when.strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_expiry_boundaries():
    assert _http(_with_expiry(NOW)).valid  # stale *after* the moment, not at it
    assert _http(_with_expiry(NOW - timedelta(seconds=1))).error_codes == {"expired"}
    in_a_year = add_years(NOW, 1)
    assert "long_expiry" not in _http(_with_expiry(in_a_year)).recommendation_codes
    late = _http(_with_expiry(in_a_year + timedelta(seconds=1)))
    assert late.valid and "long_expiry" in late.recommendation_codes


def test_expires_is_kept_in_utc():
    result = _http(GOOD.replace("2026-09-01T00:00:00.000Z", "2026-09-01T02:00:00+02:00"))
    assert result.expires == datetime(2026, 9, 1, tzinfo=UTC)


def test_multiple_expires_keep_the_first_and_judge_each():
    text = GOOD + "Expires: 2020-01-01T00:00:00Z\n"
    result = _http(text)
    assert result.error_codes == {"multi_expire", "expired"}
    assert result.expires == datetime(2026, 9, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01T00:00:00Z", datetime(2026, 9, 1, tzinfo=UTC)),
        ("2026-09-01T00:00:00.123456789Z", datetime(2026, 9, 1, tzinfo=UTC)),
        ("2026-09-01t00:00:00z", datetime(2026, 9, 1, tzinfo=UTC)),
        ("2026-09-01T01:30:00+01:30", datetime(2026, 9, 1, tzinfo=UTC)),
        ("2026-08-31T23:00:00-01:00", datetime(2026, 9, 1, tzinfo=UTC)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("9999-12-31T23:59:59-23:59", datetime.max.replace(tzinfo=UTC)),
        ("2025-02-29T00:00:00Z", None),
        ("2026-09-01 00:00:00Z", None),
        ("2026-09-01T00:00Z", None),
        ("2026-09-01T24:00:00Z", None),
        ("2026-09-01T00:00:00+2:00", None),
        ("2026-09-01T00:00:00+24:00", None),
        ("2026-9-1T00:00:00Z", None),
        ("２０２６-09-01T00:00:00Z", None),  # non-ASCII digits
        ("", None),
    ],
)
def test_parse_rfc3339(text: str, expected: datetime | None):
    assert parse_rfc3339(text) == expected


def test_add_years_on_leap_day():
    assert add_years(datetime(2024, 2, 29, tzinfo=UTC), 1) == datetime(2025, 2, 28, tzinfo=UTC)


# --- recommendations and notifications, both directions ------------------------------------------


def test_recommendations():
    good = _http(GOOD)
    assert good.recommendation_codes == {"not_signed"}
    mail_only = GOOD.replace("Encryption: https://example.test/pgp-key.txt\n", "")
    assert "no_encryption" in _http(mail_only).recommendation_codes
    phone_only = mail_only.replace("Contact: mailto:security@example.test\n", "")
    assert "no_encryption" not in _http(phone_only).recommendation_codes
    signed = _http(SIGNED)
    assert signed.recommendation_codes == set()
    signed_no_canonical = SIGNED.replace(
        "Canonical: https://example.test/.well-known/security.txt\n", ""
    )
    assert _http(signed_no_canonical).recommendation_codes == {"no_canonical"}
    two_csaf = (
        GOOD
        + "CSAF: https://example.test/a/provider-metadata.json\n"
        + "CSAF: https://example.test/b/provider-metadata.json\n"
    )
    assert "multiple_csaf_fields" in _http(two_csaf).recommendation_codes
    one_csaf = GOOD + "CSAF: https://example.test/a/provider-metadata.json\n"
    assert "multiple_csaf_fields" not in _http(one_csaf).recommendation_codes


def test_unknown_fields_are_notifications_only():
    result = _http(GOOD + "Kontakt: mailto:x@example.test\nX-Team: rood\n")
    assert result.valid
    assert [i.code for i in result.notifications] == ["unknown_field", "unknown_field"]
    assert result.unknown_fields == ("kontakt", "x-team")
    assert _http(GOOD).notifications == ()
    quiet = validate(GOOD + "X-Team: rood\n", content_type=TEXT_PLAIN, url=URL, now=NOW,
                     unknown_fields=False)  # fmt: skip
    assert quiet.notifications == ()


# --- what is parsed --------------------------------------------------------------------------------


def test_parsed_values_of_a_signed_file():
    result = _http(SIGNED)
    assert result.valid and result.signed
    assert result.contacts == ("mailto:security@example.test", "https://example.test/contact")
    assert result.mailto_addresses() == ("security@example.test",)
    assert result.expires == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert result.canonical == (URL,)
    assert result.encryption == ("https://example.test/pgp-key.txt",)
    assert result.languages == ("nl", "en")
    # the dash-escaped line is a field of the signed text, without its escape
    assert any(f.name == "-x-intern" for f in result.fields)
    # field names are case-insensitive; lines are numbered in the file
    assert [f.line for f in result.fields if f.name == "contact"] == [5, 6]


def test_text_outside_the_signature_does_not_count():
    result = _http(SIGNED + "Contact: mailto:evil@example.test\n")
    assert "mailto:evil@example.test" not in result.contacts
    assert result.error_codes == {"data_after_sig"}


def test_values_are_kept_when_the_file_is_invalid():
    text = GOOD.replace("Expires: 2026-09-01T00:00:00.000Z\n", "")
    result = _http(text, content_type="text/html")
    assert result.error_codes == {"no_expire", "invalid_media"}
    assert result.mailto_addresses() == ("security@example.test",)
    assert result.contacts[1] == "tel:+31-10-1234567"


def test_field_names_are_case_insensitive():
    text = GOOD.replace("Contact:", "CONTACT:").replace("Expires:", "expires:")
    result = _http(text)
    assert result.valid and len(result.contacts) == 2


def test_lines_and_fields_of_errors():
    result = _http(GOOD + "Bel ons\nHiring:\n")
    lines = {(i.code, i.line) for i in result.errors}
    assert lines == {("invalid_line", 9), ("empty_value", 10)}
    assert result.errors[1].as_json() == {"code": "empty_value", "line": 10, "field": "hiring"}


def test_bytes_and_text_give_the_same_result():
    assert _http(GOOD) == _http(GOOD.encode())
    assert _http("\ufeff" + GOOD).error_codes == _http(b"\xef\xbb\xbf" + GOOD.encode()).error_codes


def test_an_empty_body_has_no_contact_and_no_expires():
    assert _http(b"").error_codes == {"no_contact", "no_expire"}


def test_utf8_error_is_reported_once_not_again_as_a_bad_uri():
    text = GOOD.replace("security@", "sécurité@").encode("latin-1")
    assert _http(text).error_codes == {"utf8"}


def test_repeated_problems_are_capped():
    result = _http(GOOD + "rommel\n" * 1000)
    assert result.error_codes == {"invalid_line"}
    assert len(result.errors) == MAX_PER_CODE


def test_a_large_file_is_validated_quickly():
    text = GOOD + "# " + "x" * 70 + "\n" * 1  # a comment line
    big = (text * 250)[: 100 * 1024]
    started = time.perf_counter()
    _http(big)
    assert time.perf_counter() - started < 0.5


def test_now_must_be_timezone_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        validate(GOOD, content_type=TEXT_PLAIN, url=URL, now=datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_file(GOOD, now=datetime(2026, 3, 1))


def test_now_in_another_timezone_is_the_same_moment():
    amsterdam = NOW.astimezone(timezone(timedelta(hours=1)))
    assert _http(GOOD, now=amsterdam) == _http(GOOD)


# --- helpers -----------------------------------------------------------------------------------------


def test_mailto_addresses():
    contacts = (
        "mailto:Security@Example.TEST",
        "https://example.test/contact",
        "mailto:a@example.test,b@example.test?subject=Lek",
        "mailto:security@example.test",
        "mailto:geen-adres",
        "MAILTO:c%40x@example.test",  # two @ once decoded: not an address
        "tel:+31101234567",
        "d@example.test",  # no scheme: not a mailto URI
    )
    assert mailto_addresses(contacts) == (
        "Security@example.test",
        "a@example.test",
        "b@example.test",
        "security@example.test",  # local parts are case-sensitive (RFC 5321 §2.4)
    )


def test_mailto_addresses_exact():
    assert mailto_addresses(["mailto:x@Example.Test", "mailto:x@example.test"]) == (
        "x@example.test",
    )
    assert mailto_addresses(["mailto:%20", "mailto:", "mailto:?subject=x"]) == ()
    assert mailto_addresses(["mailto:j%C3%A9@example.test"]) == ("jé@example.test",)


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://Example.TEST/.well-known/security.txt", URL),
        ("https://example.test:443/.well-known/security.txt", URL),
        ("https://example.test./.well-known/security.txt", URL),
        ("https://example.test", "https://example.test/"),
        ("https://example.test:8443/x", "https://example.test:8443/x"),
        ("https://example.test/a%2fb", "https://example.test/a%2Fb"),
        ("https://example.test/x?y=1", "https://example.test/x?y=1"),
        ("https://example.test:notaport/x", "https://example.test:notaport/x"),
    ],
)
def test_normalise_url(url: str, normal: str):
    assert normalise_url(url) == normal


def test_parse_content_type():
    assert parse_content_type('Text/Plain; Charset="UTF-8" ; x=y') == (
        "text/plain",
        {"charset": "UTF-8", "x": "y"},
    )
    assert parse_content_type("text/plain") == ("text/plain", {})


# The verdicts of langcodes (used by sectxt) for these tags, except where the comment says.
LANG_TAGS = {
    "nl": True,
    "NL": True,
    "nl-NL": True,
    "nl-BE": True,
    "en-GB": True,
    "EN-us": True,
    "eng": True,
    "nld": True,
    "en-Latn": True,
    "zh-Hant-TW": True,
    "en-419": True,
    "x-foo": True,
    "i-klingon": True,
    "en-GB-oed": True,
    "zh-min-nan": True,
    "en-US-x-twain": True,
    "de-CH-1901": True,
    "sl-rozaj-biske-1994": True,
    "ar-afb": True,
    "qaa-Qaaa-QM-x-southern": True,
    "und": True,
    "dutch": False,
    "Nederlands": False,
    "English": False,
    "abcd": False,
    "xx": False,
    "en-Xxxx": False,
    "en-XY-XZ": False,
    "fr-FR-FR": False,
    "en--US": False,
    "en-a-bb-a-cc": False,
    "de-1996-1996": False,
    "nl-x": False,
    "x": False,
    "": False,
    "nl ": False,
    "*": False,
    "nl_NL": False,  # langcodes says True (it reads '_' as '-'); RFC 5646 has no '_'
}


@pytest.mark.parametrize(("tag", "valid"), LANG_TAGS.items())
def test_language_tags(tag: str, valid: bool):
    assert langtags.is_valid(tag) is valid


def test_well_formed_but_not_registered():
    assert langtags.is_well_formed("dutch") and not langtags.is_valid("dutch")


# --- sniffing: is it a security.txt at all? --------------------------------------------------------


def test_sniffing():
    page = "<!DOCTYPE html>\n<html><head><title>Welkom</title></head><body>Contact: 010</body>"
    assert looks_like_html(page)
    assert looks_like_html("\ufeff\n  <html lang='nl'>")
    assert looks_like_html("<?xml version='1.0'?><feed/>")
    assert not looks_like_html(GOOD)
    assert not looks_like_html("<3 security\n" + GOOD)
    assert has_security_txt_fields(GOOD)
    assert has_security_txt_fields(SIGNED)
    assert has_security_txt_fields("expires : 2026-01-01T00:00:00Z\n")
    assert not has_security_txt_fields("Not Found\n")
    assert not has_security_txt_fields("A" * 100_000)
    assert not has_security_txt_fields('{"contact": "x"}')
    assert is_blank(" \r\n\t\ufeff") and not is_blank(GOOD)


# --- the words -------------------------------------------------------------------------------------


def test_every_code_has_dutch_and_english_words_and_a_fix():
    seen: set[str] = set()
    for m in MESSAGES:
        assert m.code not in seen, f"{m.code} declared twice"
        seen.add(m.code)
        for label, text in (("text", m.text), ("fix", m.fix)):
            assert text.nl.strip() and text.en.strip(), (m.code, label)
            assert text.nl != text.en, (m.code, label)
        assert m.rfc, m.code
        assert len(m.fix.nl) < 200 and len(m.fix.en) < 200, f"{m.code}: the fix is one line"


def test_every_code_the_validator_emits_has_words():
    emitted: dict[str, Kind] = {}
    results = [validate_file(c.content, now=NOW, urls=[URL]) for c in CORPUS]
    results += [_http(**kwargs) for _, kwargs, _ in HTTP_CASES]
    results.append(_http(GOOD + "X: y\n" + "CSAF: https://a.test/provider-metadata.json\n" * 2))
    results.append(_http(GOOD.replace("Encryption: https://example.test/pgp-key.txt\n", "")))
    results.append(_http(SIGNED.replace(f"Canonical: {URL}\n", "")))
    for result in results:
        for issue in result.errors:
            emitted[issue.code] = Kind.ERROR
        for issue in result.recommendations:
            emitted[issue.code] = Kind.RECOMMENDATION
        for issue in result.notifications:
            emitted[issue.code] = Kind.NOTIFICATION
    for code, kind in emitted.items():
        assert message(code).kind is kind, code
    # and no words for codes that nothing emits (except the check's own missing/hint codes)
    validator_kinds = {Kind.ERROR, Kind.RECOMMENDATION, Kind.NOTIFICATION}
    assert {m.code for m in MESSAGES if m.kind in validator_kinds} == set(emitted)


def test_the_words_travel_in_the_check_metadata():
    meta = SecurityTxtCheck.meta
    assert {c.code for c in meta.codes} == {m.code for m in MESSAGES}
    expired = meta.code_text("expired")
    assert expired is not None
    assert expired.text.nl.startswith("Uw security.txt is verlopen")
    assert "binnen een jaar" in expired.fix.nl
    assert meta.code_text("nonsense") is None


class _Wrapped:
    def __init__(self, meta: CheckMeta) -> None:
        self.meta = meta

    async def run(self, target: object, ctx: object) -> list[object]:  # pragma: no cover
        return []


def _problems(meta: CheckMeta) -> list[str]:
    return validate_checks([cast(Check, _Wrapped(meta))])


def test_the_registry_holds_the_words_to_the_contract():
    meta = SecurityTxtCheck.meta
    assert validate_checks([SecurityTxtCheck()]) == []
    twice = replace(meta, codes=(*meta.codes, meta.codes[0]))
    assert any("declared twice" in p for p in _problems(twice))
    half = CodeText("x", Text(nl="x", en=""), Text(nl="a", en="b"))
    broken = replace(meta, codes=(half,))
    assert any("text lacks Dutch or English" in p for p in _problems(broken))


def test_reports_find_the_words_through_the_registry():
    registry = Registry((SecurityTxtCheck(),))
    words = registry.code_text("securitytxt.invalid", "invalid_media")
    assert words is not None and "text/plain" in words.fix.en
    assert registry.code_text("securitytxt.missing", "html_page") is not None
    assert registry.code_text("tls.cert.expired", "html_page") is None
