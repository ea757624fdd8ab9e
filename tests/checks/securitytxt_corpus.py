"""A corpus of security.txt files, with the verdict of our validator and of the DTC's `sectxt`.

Every case says which error codes our validator reports (`errors`) and where `sectxt` (the
Digital Trust Center's validator, used by internet.nl) differs on purpose: `only_ours` are codes
we report and it does not, `only_theirs` the reverse, each with the reason (`why`). The
validator tests hold our side to `errors`; the cross-check test runs `sectxt` on the same bytes
and holds it to `errors - only_ours | only_theirs`, so that a change on either side shows up.

All dates are judged at `NOW` (the cross-check freezes `sectxt`'s clock to it as well).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "https://example.test/.well-known/security.txt"

GOOD = (
    "# Beveiligingscontact van Example B.V.\n"
    "Contact: mailto:security@example.test\n"
    "Contact: tel:+31-10-1234567\n"
    "Expires: 2026-09-01T00:00:00.000Z\n"
    "Encryption: https://example.test/pgp-key.txt\n"
    "Canonical: https://example.test/.well-known/security.txt\n"
    "Policy: https://example.test/beleid\n"
    "Preferred-Languages: nl, en\n"
)

#: A real OpenPGP cleartext signature (RSA-2048, made with PGPy); the text is the signed one.
SIGNED = """-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

# Beveiligingscontact van Example B.V.
Contact: mailto:security@example.test
Contact: https://example.test/contact
Expires: 2026-12-31T23:00:00.000Z
Encryption: https://example.test/pgp-key.txt
Canonical: https://example.test/.well-known/security.txt
Preferred-Languages: nl, en
- -X-Intern: een eigen veld dat met een streepje begint

-----BEGIN PGP SIGNATURE-----

wsBzBAEBCAAdBQJrAS7mFiEEXPiYz8fPrmsAnghaLRWT04fzPHAACgkQLRWT04fz
PHDIrgf/U1lup3W5J7xWbPgCxcdNvwGJUJY1nEGuDu0vtQzgye6UzrLx+rjaliT/
T3IIaL9EhpJuueapuXAb1XD3JY1ziNw1tPWr1eH9XSqKHeYzVwP8PfGaPzT0VMUc
s5YOGoUPjXSU5oJeUH47awTZ1AOm9C6M3spI7kVgjGbGClTh4R5AW8TDKFnQOBF3
0h5J+4Cc2lnZkvI8ALr67pwx1dz8ipBWAKmfSuXz8oe1t3REGGLpUtrtNhpNo96H
c/UGdSQ+vykzodvyOgJYEwWz77R45zbWGDltdaBXsu/aEHFKmVDKZW7aK/vjzzfU
pZ29HVH/s0KiPK8Dv0bh0e30nNQQXw==
=L1wF
-----END PGP SIGNATURE-----
"""
SIGNATURE_DATA = SIGNED[SIGNED.index("wsBz") : SIGNED.index("=L1wF")]


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    errors: frozenset[str]
    only_ours: frozenset[str] = frozenset()
    only_theirs: frozenset[str] = frozenset()
    why: str = ""


def _case(
    name: str,
    content: str | bytes,
    errors: str = "",
    *,
    only_ours: str = "",
    only_theirs: str = "",
    why: str = "",
) -> Case:
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return Case(
        name,
        raw,
        frozenset(errors.split()),
        frozenset(only_ours.split()),
        frozenset(only_theirs.split()),
        why,
    )


def _swap(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new)


CORPUS: tuple[Case, ...] = (
    # --- valid files, in the forms they come in ------------------------------------------------
    _case("valid", GOOD),
    _case("valid_crlf", GOOD.replace("\n", "\r\n")),
    _case("valid_comments", "# kop\n#\n" + GOOD + "\n# Laatst bijgewerkt: maart\n"),
    _case("valid_trailing_blanks", GOOD.replace("\n", "  \n")),
    _case("valid_signed", SIGNED),
    _case("valid_signed_crlf", SIGNED.replace("\n", "\r\n")),
    _case(
        "valid_signed_without_hash_header",
        SIGNED.replace("Hash: SHA256\n", ""),
    ),
    _case(
        "valid_signed_armor_headers",
        SIGNED.replace(
            "-----BEGIN PGP SIGNATURE-----\n", "-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG\n"
        ),
    ),
    _case(
        "valid_signed_bad_crc",
        SIGNED.replace("=L1wF", "=AAAA"),
        why="RFC 9580 §6.1: a receiver must not reject on the CRC24; neither does sectxt",
    ),
    _case("valid_long_expiry", _swap("2026-09-01", "2028-09-01")),
    _case("valid_offset", _swap("2026-09-01T00:00:00.000Z", "2026-09-01T02:00:00+02:00")),
    _case("valid_lower_case_t_z", _swap("2026-09-01T00:00:00.000Z", "2026-09-01t00:00:00z")),
    _case("valid_unknown_field", GOOD + "Kontakt: mailto:x@example.test\n"),
    _case("valid_double_space", _swap("Policy: ", "Policy:  ")),
    _case(
        "valid_csaf",
        GOOD + "CSAF: https://example.test/.well-known/csaf/provider-metadata.json\n",
    ),
    _case(
        "valid_all_fields",
        GOOD
        + "Acknowledgments: https://example.test/bedankt\nHiring: https://example.test/vacatures\n",
    ),
    # --- one error each ------------------------------------------------------------------------
    _case(
        "no_contact",
        _swap("Contact: mailto:security@example.test\nContact: tel:+31-10-1234567\n", ""),
        "no_contact",
    ),
    _case("no_expire", _swap("Expires: 2026-09-01T00:00:00.000Z\n", ""), "no_expire"),
    _case("multi_expire", GOOD + "Expires: 2026-08-01T00:00:00Z\n", "multi_expire"),
    _case("expired", _swap("2026-09-01", "2025-09-01"), "expired"),
    _case(
        "expired_and_no_contact",
        _swap(
            "Contact: mailto:security@example.test\nContact: tel:+31-10-1234567\n",
            "",
            _swap("2026-09-01", "2025-09-01"),
        ),
        "expired no_contact",
    ),
    _case(
        "invalid_expiry_words",
        _swap("2026-09-01T00:00:00.000Z", "1 september 2026"),
        "invalid_expiry",
    ),
    _case(
        "invalid_expiry_no_zone",
        _swap("2026-09-01T00:00:00.000Z", "2026-09-01T00:00:00"),
        "invalid_expiry",
    ),
    _case(
        "invalid_expiry_date_only",
        _swap("2026-09-01T00:00:00.000Z", "2026-09-01"),
        "invalid_expiry",
    ),
    _case("invalid_expiry_month_13", _swap("2026-09-01", "2026-13-01"), "invalid_expiry"),
    _case(
        "invalid_expiry_space",
        _swap("2026-09-01T00:00:00.000Z", "2026-09-01 00:00:00Z"),
        "invalid_expiry",
        only_ours="invalid_expiry",
        why="RFC 3339 §5.6 date-time has 'T'; a space is only a readability note, which RFC "
        "9116 does not adopt. sectxt accepts a space.",
    ),
    _case(
        "leap_second",
        _swap("2026-09-01T00:00:00.000Z", "2026-06-30T23:59:60Z"),
        only_theirs="invalid_expiry",
        why="RFC 3339 allows second 60 (a leap second); sectxt's date parser does not.",
    ),
    _case("no_uri", _swap("mailto:security@example.test", "security@example.test"), "no_uri"),
    _case("no_uri_phone", _swap("tel:+31-10-1234567", "+31 10 1234567"), "no_uri"),
    _case(
        "no_https_contact", _swap("tel:+31-10-1234567", "http://example.test/contact"), "no_https"
    ),
    _case("no_https_policy", _swap("Policy: https", "Policy: http"), "no_https"),
    _case(
        "no_canonical_match",
        _swap("Canonical: https://example.test", "Canonical: https://elders.test"),
        "no_canonical_match",
    ),
    _case(
        "canonical_other_case",
        _swap("Canonical: https://example.test", "Canonical: HTTPS://Example.TEST"),
        only_theirs="no_canonical_match",
        why="RFC 3986 §6.2.2: scheme and host are case-insensitive; sectxt compares strings.",
    ),
    _case(
        "canonical_default_port",
        _swap("Canonical: https://example.test", "Canonical: https://example.test:443"),
        only_theirs="no_canonical_match",
        why="RFC 3986 §6.2.3: the default port is the same URI; sectxt compares strings.",
    ),
    _case("invalid_line", GOOD + "Bel ons gerust\n", "invalid_line"),
    _case(
        "invalid_line_leading_space",
        GOOD + " Hiring: https://example.test/vacatures\n",
        "invalid_line",
        only_ours="invalid_line",
        why="RFC 9116 §3: a line is a field, a comment or empty; there is no folding. sectxt "
        "reads it as an unknown field ' hiring'.",
    ),
    _case(
        "invalid_line_control_character",
        GOOD + "Hiring: https://example.test/\x07vacatures\n",
        "invalid_line",
        only_ours="invalid_line",
        why="RFC 9116 §3: values are VCHAR/WSP; sectxt does not look at control characters.",
    ),
    _case(
        "lone_cr_line_ends",
        GOOD.replace("\n", "\r"),
        "invalid_line no_contact no_expire no_line_separators",
        only_ours="invalid_line",
        why="RFC 9116 §3: eol is [CR] LF, so a file with bare CRs is one line holding control "
        "characters; sectxt reads that one line as a comment (it starts with '#').",
    ),
    _case(
        "invalid_field_name",
        GOOD + "Contact us: mailto:x@example.test\n",
        "invalid_field_name",
        only_ours="invalid_field_name",
        why="RFC 5322 field-name has no spaces; sectxt treats it as an unknown field.",
    ),
    _case("prec_ws", _swap("Policy:", "Policy :"), "prec_ws"),
    _case("no_space", _swap("Policy: ", "Policy:"), "no_space"),
    _case("no_space_tab", _swap("Policy: ", "Policy:\t"), "no_space"),
    _case("empty_key", GOOD + ": zonder naam\n", "empty_key"),
    _case("empty_value", GOOD + "Hiring:\n", "empty_value"),
    _case("no_line_separators", GOOD.rstrip("\n"), "no_line_separators"),
    _case("invalid_lang_words", _swap("nl, en", "Nederlands, English"), "invalid_lang"),
    _case("invalid_lang_empty", _swap("nl, en", "nl, "), "invalid_lang"),
    _case(
        "invalid_lang_underscore",
        _swap("nl, en", "nl_NL"),
        "invalid_lang",
        only_ours="invalid_lang",
        why="RFC 5646 tags use '-'; langcodes (in sectxt) silently reads '_' as '-'.",
    ),
    _case("multi_lang", GOOD + "Preferred-Languages: de\n", "multi_lang"),
    _case("bom_in_file", b"\xef\xbb\xbf" + GOOD.encode(), "bom_in_file"),
    _case("utf8", _swap("Beveiligingscontact", "Sécurité").encode("latin-1"), "utf8"),
    _case("no_csaf_file", GOOD + "CSAF: https://example.test/csaf.json\n", "no_csaf_file"),
    _case(
        "invalid_uri_space",
        _swap("mailto:security@example.test", "mailto:security@example .test"),
        "invalid_uri",
        only_ours="invalid_uri",
        why="RFC 9116 §2.5.3: Contact MUST follow URI syntax (RFC 3986 has no spaces); sectxt "
        "only checks that a scheme is present.",
    ),
    _case(
        "invalid_uri_two_addresses",
        _swap("mailto:security@example.test", "mailto:a@example.test, mailto:b@example.test"),
        "invalid_uri",
        only_ours="invalid_uri",
        why="Several values on one line are not one URI (§2.5: one value per field).",
    ),
    _case(
        "invalid_uri_mailto_without_at",
        _swap("mailto:security@example.test", "mailto:security(at)example.test"),
        "invalid_uri",
        only_ours="invalid_uri",
        why="RFC 6068: a mailto URI holds addr-specs; sectxt only checks the scheme.",
    ),
    _case(
        "invalid_uri_non_ascii",
        _swap("mailto:security@example.test", "mailto:security@bakkerij-dé-haven.test"),
        "invalid_uri",
        only_ours="invalid_uri",
        why="RFC 3986 URIs are ASCII: an IDN goes in its xn-- form or percent-encoded.",
    ),
    # --- signed files --------------------------------------------------------------------------
    _case("signed_no_final_line_break", SIGNED.rstrip("\n"), "no_line_separators"),
    _case("signed_two_final_line_breaks", SIGNED + "\n", "too_many_line_separators"),
    _case("data_after_sig", SIGNED + "Contact: mailto:x@example.test\n", "data_after_sig"),
    _case(
        "signed_format_issue_text_before_header",
        "# inleiding\n" + SIGNED,
        "signed_format_issue",
        only_theirs="pgp_data_error",
        why="The armour is intact; only its place is wrong. PGPy (in sectxt) refuses any text "
        "before the header and reports the armour as broken too.",
    ),
    _case(
        "signed_format_issue_no_blank_after_hash",
        SIGNED.replace("Hash: SHA256\n\n", "Hash: SHA256\n"),
        "signed_format_issue",
        only_ours="signed_format_issue",
        why="RFC 4880 §7: the armour headers end with an empty line; sectxt does not check.",
    ),
    _case(
        "pgp_data_error_bad_base64",
        SIGNED.replace("wsBzBAEB", "wsBz!!EB"),
        "pgp_data_error",
    ),
    _case(
        "pgp_data_error_no_signature_data",
        SIGNED.replace(SIGNATURE_DATA, ""),
        "pgp_data_error",
    ),
    _case(
        "pgp_data_error_unterminated",
        SIGNED.replace("-----END PGP SIGNATURE-----\n", ""),
        "pgp_data_error",
        only_theirs="no_line_separators",
        why="sectxt counts the unterminated signature's lines as the last line of the file.",
    ),
    _case(
        "pgp_data_error_no_signature_block",
        SIGNED[: SIGNED.index("-----BEGIN PGP SIGNATURE-----")].rstrip("\n") + "\n",
        "pgp_data_error",
    ),
    _case(
        "signature_without_crc",
        SIGNED.replace("=L1wF\n", ""),
        only_theirs="pgp_data_error",
        why="RFC 4880 §6.2: the checksum MAY be left out (and RFC 9580 drops it); PGPy "
        "requires it.",
    ),
    _case(
        "pgp_signature_error_not_a_signature",
        SIGNED.replace(SIGNATURE_DATA, "aGVsbG8gd29ybGQ=\n"),
        "pgp_signature_error",
        only_ours="pgp_signature_error",
        why="The armour holds base64 that is not an OpenPGP signature packet; PGPy only warns.",
    ),
    _case(
        "signed_expired",
        SIGNED.replace("2026-12-31", "2025-12-31"),
        "expired",
    ),
    # --- several problems at once --------------------------------------------------------------
    _case(
        "everything_wrong",
        b"\xef\xbb\xbf"
        + (
            b"Contact :security@example.test\n"
            b"Expires: morgen\n"
            b"Expires: 2020-01-01T00:00:00Z\n"
            b"Preferred-Languages: Nederlands\n"
            b"Preferred-Languages: en\n"
            b"Canonical: http://elders.test/security.txt\n"
            b"zomaar tekst"
        ),
        "bom_in_file prec_ws no_space no_uri invalid_expiry expired multi_expire invalid_lang "
        "multi_lang no_https no_canonical_match invalid_line no_line_separators",
    ),
)


def case(name: str) -> Case:
    for found in CORPUS:
        if found.name == name:
            return found
    raise KeyError(name)
