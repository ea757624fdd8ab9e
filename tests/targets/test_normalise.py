"""Normalisation, value by value: what is accepted (and its canonical form) and what is refused."""

from __future__ import annotations

import pytest

from exposure.contract import TargetKind
from targets.normalise import (
    DomainTarget,
    InvalidValue,
    TargetSpec,
    is_private_target,
    normalise_company_id,
    normalise_domain,
    normalise_email,
    normalise_ip,
    normalise_language,
    normalise_text,
)

IP_COLUMN = "an IP address, not a domain: put IP addresses in the ips column"


# --- domains ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        ("example.nl", "example.nl", "example.nl"),
        ("  Example.NL  ", "example.nl", "example.nl"),
        ("example.nl.", "example.nl", "example.nl"),
        ("https://example.nl", "example.nl", "example.nl"),
        ("HTTP://Example.nl/contact?x=1#top", "example.nl", "example.nl"),
        ("https://example.nl:8443/", "example.nl", "example.nl"),
        ("example.nl:443", "example.nl", "example.nl"),
        ("example.nl?x", "example.nl", "example.nl"),
        # www. is kept: a different DNS name than the registered domain
        ("www.example.nl", "www.example.nl", "www.example.nl"),
        ("https://www.example.nl/", "www.example.nl", "www.example.nl"),
        ("mail.haven.example.nl", "mail.haven.example.nl", "mail.haven.example.nl"),
        ("a-b.example.nl", "a-b.example.nl", "a-b.example.nl"),
        ("123.nl", "123.nl", "123.nl"),
        # IDN: A-label stored, U-label displayed (UTS-46, non-transitional)
        ("Bakkerij-Dé-Haven.nl", "xn--bakkerij-d-haven-kqb.nl", "bakkerij-dé-haven.nl"),
        (
            "https://Bakkerij-Dé-Haven.nl/brood",
            "xn--bakkerij-d-haven-kqb.nl",
            "bakkerij-dé-haven.nl",
        ),
        ("xn--bakkerij-d-haven-kqb.nl", "xn--bakkerij-d-haven-kqb.nl", "bakkerij-dé-haven.nl"),
        ("XN--CAF-DMA.NL", "xn--caf-dma.nl", "café.nl"),
        ("CAFÉ.nl", "xn--caf-dma.nl", "café.nl"),
        ("straße.de", "xn--strae-oqa.de", "straße.de"),
        ("münchen.de", "xn--mnchen-3ya.de", "münchen.de"),
        ("ＥＸＡＭＰＬＥ．ｎｌ", "example.nl", "example.nl"),  # full-width, mapped by UTS-46
        ("voorbeeld。nl", "voorbeeld.nl", "voorbeeld.nl"),  # ideographic full stop
        ("a" * 63 + ".nl", "a" * 63 + ".nl", "a" * 63 + ".nl"),
        ("haven.test", "haven.test", "haven.test"),
    ],
)
def test_domain_accepted(raw: str, value: str, display: str) -> None:
    assert normalise_domain(raw) == DomainTarget(value, display)


def test_domain_at_the_length_limit() -> None:
    name = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters
    assert len(name) == 253
    assert normalise_domain(name).value == name
    with pytest.raises(InvalidValue, match=r"^longer than 253 characters \(255\)$"):
        normalise_domain(name + ".c")


def test_idn_flags() -> None:
    assert normalise_domain("café.nl").is_idn
    assert not normalise_domain("example.nl").is_idn


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            "info@example.nl",
            "an e-mail address, not a domain: give the part after '@' (put the contact address in the email column)",
        ),
        (
            "mailto:info@example.nl",
            "an e-mail address, not a domain: give the part after '@' (put the contact address in the email column)",
        ),
        (
            "https://user:secret@example.nl/",
            "a URL with credentials (user@ or user:password@) is not accepted",
        ),
        (
            "http://user@example.nl",
            "a URL with credentials (user@ or user:password@) is not accepted",
        ),
        ("ftp://example.nl", "ftp:// is not a web address: give the domain name only"),
        ("192.0.2.1", IP_COLUMN),
        ("2001:db8::1", IP_COLUMN),
        ("192.0.2.0/24", IP_COLUMN),
        ("https://192.0.2.1/admin", IP_COLUMN),
        ("http://[2001:db8::1]:8080/", IP_COLUMN),
        ("192.0.2.1:8080", IP_COLUMN),
        ("1.2.3", "the last label is a number: not a domain (put IP addresses in the ips column)"),
        (
            "example.123",
            "the last label is a number: not a domain (put IP addresses in the ips column)",
        ),
        ("localhost", "a single-label name: give the full domain, e.g. example.nl"),
        ("nl", "a single-label name: give the full domain, e.g. example.nl"),
        ("https://intranet/", "a single-label name: give the full domain, e.g. example.nl"),
        ("example..nl", "empty label (two dots in a row, or a leading dot)"),
        (".example.nl", "empty label (two dots in a row, or a leading dot)"),
        ("example.nl..", "empty label (two dots in a row, or a leading dot)"),
        ("foo_bar.nl", "invalid character '_': a domain has letters, digits and '-'"),
        ("exa!mple.nl", "invalid character '!': a domain has letters, digits and '-'"),
        ("*.example.nl", "wildcards are not supported: list each name"),
        ("-abc.nl", "label '-abc' starts or ends with '-'"),
        ("abc-.nl", "label 'abc-' starts or ends with '-'"),
        ("a" * 64 + ".nl", f"label {'a' * 20}… is longer than 63 characters"),
        ("é" * 60 + ".nl", f"label {'é' * 20}… is longer than 63 characters as an A-label"),
        ("ex ample.nl", "contains a comma or a space: separate several domains with ';'"),
        ("a.nl,b.nl", "contains a comma or a space: separate several domains with ';'"),
        ("example.nl:http", "invalid port 'http'"),
        ("example.nl:70000", "invalid port '70000'"),
        ("https://", "no domain name in it"),
        ("", "empty"),
        (
            "xn--.nl",
            "label 'xn--' is not a valid internationalised label (Malformed A-label, no Punycode eligible content found)",
        ),
    ],
)
def test_domain_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise_domain(raw)
    assert str(info.value) == reason


def test_domain_with_invalid_idn_codepoint() -> None:
    """A zero-width joiner is invisible; the message shows it escaped."""
    with pytest.raises(InvalidValue) as info:
        normalise_domain("exa\u200dmple.nl")
    assert str(info.value).startswith(
        "label 'exa\\u200dmple' is not a valid internationalised label (Joiner U+200D"
    )


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("192.0.2.1", TargetKind.IP, "192.0.2.1"),
        (" 192.0.2.1 ", TargetKind.IP, "192.0.2.1"),
        ("192.0.2.1/32", TargetKind.IP, "192.0.2.1"),
        ("192.0.2.0/24", TargetKind.NETWORK, "192.0.2.0/24"),
        ("192.0.2.128/25", TargetKind.NETWORK, "192.0.2.128/25"),
        ("192.0.2.0/255.255.255.0", TargetKind.NETWORK, "192.0.2.0/24"),
        ("2001:DB8:0:0::1", TargetKind.IP, "2001:db8::1"),
        ("2001:0db8::0001/128", TargetKind.IP, "2001:db8::1"),
        ("2001:db8::/120", TargetKind.NETWORK, "2001:db8::/120"),
        ("2001:DB8::100/121", TargetKind.NETWORK, "2001:db8::100/121"),
        ("::ffff:192.0.2.1", TargetKind.IP, "192.0.2.1"),
        ("10.0.0.1", TargetKind.IP, "10.0.0.1"),  # private: accepted, marked at listing
        ("127.0.0.1", TargetKind.IP, "127.0.0.1"),
    ],
)
def test_ip_accepted(raw: str, kind: TargetKind, value: str) -> None:
    assert normalise_ip(raw) == TargetSpec(kind, value)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("192.0.2.5/24", "host bits set: the network is 192.0.2.0/24"),
        ("2001:db8::1/120", "host bits set: the network is 2001:db8::/120"),
        (
            "192.0.2.0/23",
            "a network larger than /24 (512 addresses): list the addresses that are the member's own, or allow large networks (--allow-large-networks)",
        ),
        (
            "10.0.0.0/8",
            "a network larger than /24 (16777216 addresses): list the addresses that are the member's own, or allow large networks (--allow-large-networks)",
        ),
        (
            "2001:db8::/119",
            "a network larger than /120 (512 addresses): list the addresses that are the member's own, or allow large networks (--allow-large-networks)",
        ),
        (
            "2001:db8::/64",
            "a network larger than /120 (2^64 addresses): list the addresses that are the member's own, or allow large networks (--allow-large-networks)",
        ),
        ("256.1.1.1", "not an IP address or CIDR network"),
        ("192.168.001.1", "not an IP address or CIDR network"),
        ("192.0.2.0/33", "not an IP address or CIDR network"),
        ("1.2.3", "not an IP address or CIDR network"),
        ("example.nl", "a domain name, not an IP address: put domains in the domains column"),
        ("fe80::1%eth0", "a zone index (%...) is not allowed: give a global address"),
        ("", "empty"),
    ],
)
def test_ip_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise_ip(raw)
    assert str(info.value) == reason


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("192.0.2.0/23", "192.0.2.0/23"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("2001:db8::/64", "2001:db8::/64"),
    ],
)
def test_large_networks_with_the_flag(raw: str, value: str) -> None:
    assert normalise_ip(raw, allow_large_networks=True) == TargetSpec(TargetKind.NETWORK, value)


def test_host_bits_are_an_error_even_with_the_flag() -> None:
    with pytest.raises(InvalidValue, match=r"^host bits set: the network is 10\.0\.0\.0/8$"):
        normalise_ip("10.1.2.3/8", allow_large_networks=True)


@pytest.mark.parametrize(
    ("kind", "value", "private"),
    [
        (TargetKind.IP, "10.1.2.3", True),
        (TargetKind.IP, "172.16.0.1", True),
        (TargetKind.IP, "192.168.1.1", True),
        (TargetKind.IP, "127.0.0.1", True),
        (TargetKind.IP, "169.254.1.1", True),
        (TargetKind.IP, "100.64.0.1", True),  # carrier-grade NAT: not reachable either
        (TargetKind.IP, "::1", True),
        (TargetKind.IP, "fe80::1", True),
        (TargetKind.IP, "fd00::1", True),
        (TargetKind.IP, "8.8.8.8", False),
        (TargetKind.IP, "2a00:1450:4001::1", False),
        (TargetKind.IP, "64:ff9b::a00:1", True),  # 10.0.0.1 through NAT64: as the scan judges
        (TargetKind.IP, "fec0::1", True),
        (TargetKind.IP, "64:ff9b::808:808", False),
        (TargetKind.NETWORK, "10.0.0.0/24", True),
        (TargetKind.NETWORK, "8.8.8.0/24", False),
        ("network", "127.0.0.0/24", True),
        (TargetKind.DOMAIN, "example.nl", False),
        (TargetKind.DOMAIN, "haven.test", True),
        (TargetKind.DOMAIN, "printer.local", True),
        (TargetKind.DOMAIN, "app.localhost", True),
        (TargetKind.DOMAIN, "nas.home.arpa", True),
        (TargetKind.DOMAIN, "latest.nl", False),  # a suffix match is per label
        ("domain", "intra.internal", True),
    ],
)
def test_is_private_target(kind: TargetKind | str, value: str, private: bool) -> None:
    assert is_private_target(kind, value) is private


# --- company fields --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["12345678", "KvK-12345678", "a.b_c-d", "x" * 64, " 0123 "])
def test_company_id_accepted(raw: str) -> None:
    assert normalise_company_id(raw) == raw.strip()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "missing"),
        ("   ", "missing"),
        ("x" * 65, "longer than 64 characters (65)"),
        ("bad id", "may contain only letters, digits, '.', '_' and '-'"),
        ("a/b", "may contain only letters, digits, '.', '_' and '-'"),
        ("bäcker", "may contain only letters, digits, '.', '_' and '-'"),
    ],
)
def test_company_id_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise_company_id(raw)
    assert str(info.value) == reason


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("info@example.nl", "info@example.nl"),
        ("  info@Example.NL ", "info@example.nl"),
        ("Info@example.nl", "Info@example.nl"),  # the local part is kept as written
        ("o'brien+tag@example.nl", "o'brien+tag@example.nl"),
        ("a.b@example.nl", "a.b@example.nl"),
        ("info@Bakkerij-Dé-Haven.nl", "info@xn--bakkerij-d-haven-kqb.nl"),
    ],
)
def test_email_accepted(raw: str, value: str) -> None:
    assert normalise_email(raw) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "missing: the contact address receives the warnings"),
        ("info@example.nl\r\nBcc: all@example.nl", "contains a line break"),
        ("info@exa\x00mple.nl", "contains a control character"),
        ("Jan <jan@example.nl>", "give the address only, without a name or <>"),
        ("a@example.nl; b@example.nl", "one address only, without spaces"),
        ("a@example.nl,b@example.nl", "one address only, without spaces"),
        ("example.nl", "not an e-mail address (expected name@example.nl)"),
        ("a@b@example.nl", "not an e-mail address (expected name@example.nl)"),
        ("@example.nl", "nothing before the '@'"),
        ("info@", "nothing after the '@'"),
        ("jé@example.nl", "the part before '@' must be ASCII"),
        ("a..b@example.nl", "invalid characters or dots in the part before '@'"),
        (".a@example.nl", "invalid characters or dots in the part before '@'"),
        ("a(b)@example.nl", "invalid characters or dots in the part before '@'"),
        ("x" * 65 + "@example.nl", "the part before '@' is longer than 64 characters"),
        (
            "info@example",
            "the domain after '@' is invalid: a single-label name: give the full domain, e.g. example.nl",
        ),
        (
            "info@exa_mple.nl",
            "the domain after '@' is invalid: invalid character '_': a domain has letters, digits and '-'",
        ),
    ],
)
def test_email_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise_email(raw)
    assert str(info.value) == reason


@pytest.mark.parametrize(
    ("raw", "required", "value"),
    [
        ("  Bakkerij  De   Haven ", True, "Bakkerij De Haven"),
        ("Bakker, Jansen; Zn.", True, "Bakker, Jansen; Zn."),
        ("a\tb", True, "a b"),
        ("", False, ""),
        ("  Haven & Logistiek ", False, "Haven & Logistiek"),
    ],
)
def test_text_accepted(raw: str, required: bool, value: str) -> None:
    assert normalise_text(raw, required=required) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "missing"),
        ("   ", "missing"),
        ("a\nb", "contains a line break"),
        ("a\rb", "contains a line break"),
        ("a\x1bb", "contains a control character"),
    ],
)
def test_text_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalise_text(raw, required=True)
    assert str(info.value) == reason


@pytest.mark.parametrize(("raw", "value"), [("nl", "nl"), (" EN ", "en"), ("", "")])
def test_language_accepted(raw: str, value: str) -> None:
    assert normalise_language(raw) == value


@pytest.mark.parametrize("raw", ["de", "dutch", "nl-NL"])
def test_language_refused(raw: str) -> None:
    with pytest.raises(InvalidValue, match=r"^must be nl or en \(or empty for the default\)$"):
        normalise_language(raw)
