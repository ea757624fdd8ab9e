"""Reading member-list files: what a spreadsheet produces is accepted, mistakes are located exactly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from exposure.contract import TargetKind
from targets.csv import parse_members, read_members
from targets.members import Issue, Member, MemberListError
from targets.normalise import DomainTarget, TargetSpec

WriteCsv = Callable[..., Path]
HEADER = "id,name,email,domains,ips,sector\n"
EXPECTED = "expected id, name, email, domains, ips, sector and optionally language"


def errors_of(path: Path, **options: bool) -> list[str]:
    """Every message of a refused file, with the file name shortened to `members.csv`."""
    with pytest.raises(MemberListError) as info:
        read_members(path, **options)
    return [str(issue).replace(str(path), path.name) for issue in info.value.errors]


# --- accepted --------------------------------------------------------------------------------


def test_a_plain_file(write_csv: WriteCsv) -> None:
    path = write_csv(
        HEADER
        + "12345678,Bakkerij De Haven,info@dehaven.nl,dehaven.nl;www.dehaven.nl,192.0.2.10,retail\n"
        + "87654321,Stuwadoors BV,ict@stuwadoors.nl,stuwadoors.nl,198.51.100.0/24;2001:db8::/120,logistics\n"
    )
    members = read_members(path)
    assert members == (
        Member(
            id="12345678",
            name="Bakkerij De Haven",
            email="info@dehaven.nl",
            sector="retail",
            language=None,
            domains=(
                DomainTarget("dehaven.nl", "dehaven.nl"),
                DomainTarget("www.dehaven.nl", "www.dehaven.nl"),
            ),
            ips=("192.0.2.10",),
            line=2,
        ),
        Member(
            id="87654321",
            name="Stuwadoors BV",
            email="ict@stuwadoors.nl",
            sector="logistics",
            language=None,
            domains=(DomainTarget("stuwadoors.nl", "stuwadoors.nl"),),
            ips=("198.51.100.0/24", "2001:db8::/120"),
            line=3,
        ),
    )
    assert members[1].targets == (
        TargetSpec(TargetKind.DOMAIN, "stuwadoors.nl"),
        TargetSpec(TargetKind.NETWORK, "198.51.100.0/24"),
        TargetSpec(TargetKind.NETWORK, "2001:db8::/120"),
    )


def test_bom_crlf_quotes_blank_lines_and_padding(write_csv: WriteCsv) -> None:
    text = (
        "\ufeff ID , Name,EMAIL,Domains , IPs,sector\r\n"
        "\r\n"
        '1,"Bakker, Jansen; Zn.", Info@Bakker.NL ," bakker.nl ; https://www.bakker.nl/contact ",'
        '" 192.0.2.1 ; 192.0.2.1/32 ","Food, drinks"\r\n'
        "   \r\n"
        ",,,,,\r\n"
        '2,"Haven ""De Kaai""",kaai@example.nl,kaai.example.nl;,,\r\n'
    )
    members = read_members(write_csv(text.encode("utf-8")))
    assert [m.line for m in members] == [3, 6]
    bakker, kaai = members
    assert bakker.name == "Bakker, Jansen; Zn."
    assert bakker.email == "Info@bakker.nl"
    assert bakker.sector == "Food, drinks"
    assert [d.value for d in bakker.domains] == ["bakker.nl", "www.bakker.nl"]
    assert bakker.ips == ("192.0.2.1",)  # the /32 is the same address: deduplicated
    assert kaai.name == 'Haven "De Kaai"'
    assert kaai.sector == ""
    assert kaai.ips == ()


def test_columns_in_any_order(write_csv: WriteCsv) -> None:
    path = write_csv(
        "Sector,IPS,domains,email,NAME,id\nretail,192.0.2.1,example.nl,a@example.nl,A,1\n"
    )
    (member,) = read_members(path)
    assert (member.id, member.name, member.email, member.sector) == (
        "1",
        "A",
        "a@example.nl",
        "retail",
    )
    assert member.ips == ("192.0.2.1",)


def test_idn_domains(write_csv: WriteCsv) -> None:
    path = write_csv(
        HEADER + "1,De Haven,info@Bakkerij-Dé-Haven.nl,Bakkerij-Dé-Haven.nl;xn--caf-dma.nl,,\n"
    )
    (member,) = read_members(path)
    assert member.domains == (
        DomainTarget("xn--bakkerij-d-haven-kqb.nl", "bakkerij-dé-haven.nl"),
        DomainTarget("xn--caf-dma.nl", "café.nl"),
    )
    assert member.email == "info@xn--bakkerij-d-haven-kqb.nl"
    assert member.targets[0] == TargetSpec(
        TargetKind.DOMAIN, "xn--bakkerij-d-haven-kqb.nl", "bakkerij-dé-haven.nl"
    )


def test_duplicates_within_a_row_are_one_target(write_csv: WriteCsv) -> None:
    path = write_csv(
        HEADER
        + '1,A,a@example.nl,"example.nl;Example.NL;https://example.nl/;example.nl.",'
        + '"2001:db8::1;2001:DB8:0::1;192.0.2.0/24;192.0.2.0/255.255.255.0",\n'
    )
    (member,) = read_members(path)
    assert [d.value for d in member.domains] == ["example.nl"]
    assert member.ips == ("2001:db8::1", "192.0.2.0/24")


def test_the_same_target_in_two_companies_is_allowed(write_csv: WriteCsv) -> None:
    """Small firms share hosting: one address may be listed by several members."""
    path = write_csv(HEADER + "1,A,a@a.nl,,192.0.2.1,\n2,B,b@b.nl,,192.0.2.1,\n")
    assert [m.ips for m in read_members(path)] == [("192.0.2.1",), ("192.0.2.1",)]


def test_cidrs_v4_and_v6(write_csv: WriteCsv) -> None:
    path = write_csv(HEADER + "1,A,a@a.nl,,192.0.2.128/25;2001:db8::100/120;2001:db8::5/128,\n")
    (member,) = read_members(path)
    assert member.ips == ("192.0.2.128/25", "2001:db8::100/120", "2001:db8::5")
    assert [t.kind for t in member.targets] == [
        TargetKind.NETWORK,
        TargetKind.NETWORK,
        TargetKind.IP,
    ]


def test_large_network_only_with_the_flag(write_csv: WriteCsv) -> None:
    path = write_csv(HEADER + "1,A,a@a.nl,,10.0.0.0/16;2001:db8::/64,\n")
    assert errors_of(path) == [
        "members.csv:2: ips: '10.0.0.0/16': a network larger than /24 (65536 addresses): list the "
        "addresses that are the member's own, or allow large networks (--allow-large-networks)",
        "members.csv:2: ips: '2001:db8::/64': a network larger than /120 (2^64 addresses): list the "
        "addresses that are the member's own, or allow large networks (--allow-large-networks)",
    ]
    (member,) = read_members(path, allow_large_networks=True)
    assert member.ips == ("10.0.0.0/16", "2001:db8::/64")


def test_optional_language_column(write_csv: WriteCsv) -> None:
    path = write_csv(
        "id,name,email,domains,ips,sector,Language\n1,A,a@a.nl,,,,EN\n2,B,b@b.nl,,,,\n"
    )
    assert [m.language for m in read_members(path)] == ["en", ""]


def test_semicolon_separated_file_from_dutch_excel(write_csv: WriteCsv) -> None:
    path = write_csv(
        "id;name;email;domains;ips;sector\r\n"
        '1;Bakker, Jansen;a@a.nl;"a.nl;www.a.nl";192.0.2.1;retail\r\n'
    )
    (member,) = read_members(path)
    assert member.name == "Bakker, Jansen"
    assert [d.value for d in member.domains] == ["a.nl", "www.a.nl"]


def test_excel_trailing_empty_columns(write_csv: WriteCsv) -> None:
    path = write_csv("id,name,email,domains,ips,sector,,\n1,A,a@a.nl,a.nl,,,,\n2,B,b@b.nl,b.nl,,\n")
    assert [m.id for m in read_members(path)] == ["1", "2"]


def test_a_quoted_list_may_span_lines(write_csv: WriteCsv) -> None:
    """A record's line is where it starts; the next one is counted after all its lines."""
    path = write_csv(HEADER + '1,A,a@a.nl,"a.nl;\nwww.a.nl;\nshop.a.nl",,\n2,B,b@b.nl,b.nl,,\n')
    first, second = read_members(path)
    assert [d.value for d in first.domains] == ["a.nl", "www.a.nl", "shop.a.nl"]
    assert (first.line, second.line) == (2, 5)


def test_header_only_is_an_empty_list(write_csv: WriteCsv) -> None:
    assert read_members(write_csv(HEADER)) == ()


def test_parse_members_names_its_source() -> None:
    with pytest.raises(MemberListError) as info:
        parse_members(HEADER + "1,,a@a.nl,,,\n", source="upload")
    assert str(info.value) == "upload:2: name: missing"
    assert info.value.errors == (Issue("upload", 2, "name", "missing"),)


# --- refused ---------------------------------------------------------------------------------


def test_every_error_of_the_file_is_reported_with_its_line(write_csv: WriteCsv) -> None:
    path = write_csv(
        HEADER
        + "1,,info@@x.nl,info@x.nl;foo_bar.nl,192.0.2.5/24;example.nl,\n"
        + "\n"
        + '2,"Two\nlines",b@b.nl,https://u:p@b.nl,,\n'
        + "bad id!,C,c@c.nl,192.0.2.1;c.nl,,\n"
        + "1,D,d@d.nl,d.nl,,\n"
        + "ok,E,e@e.nl,e.nl,fe80::1%eth0,\n"
    )
    assert errors_of(path) == [
        "members.csv:2: name: missing",
        "members.csv:2: email: 'info@@x.nl': not an e-mail address (expected name@example.nl)",
        "members.csv:2: domains: 'info@x.nl': an e-mail address, not a domain: give the part "
        "after '@' (put the contact address in the email column)",
        "members.csv:2: domains: 'foo_bar.nl': invalid character '_': a domain has letters, "
        "digits and '-'",
        "members.csv:2: ips: '192.0.2.5/24': host bits set: the network is 192.0.2.0/24",
        "members.csv:2: ips: 'example.nl': a domain name, not an IP address: put domains in the "
        "domains column",
        "members.csv:4: name: 'Two\\nlines': contains a line break",
        "members.csv:4: domains: 'https://u:p@b.nl': a URL with credentials (user@ or "
        "user:password@) is not accepted",
        "members.csv:6: id: 'bad id!': may contain only letters, digits, '.', '_' and '-'",
        "members.csv:6: domains: '192.0.2.1': an IP address, not a domain: put IP addresses in "
        "the ips column",
        "members.csv:7: id: company id '1' is listed twice (lines 2 and 7)",
        "members.csv:8: ips: 'fe80::1%eth0': a zone index (%...) is not allowed: give a global "
        "address",
    ]


def test_duplicate_company_id_names_both_lines(write_csv: WriteCsv) -> None:
    path = write_csv(HEADER + "K-1,A,a@a.nl,,,\n2,B,b@b.nl,,,\n\nk-1,C,c@c.nl,,,\n")
    assert errors_of(path) == [
        "members.csv:5: id: company id 'k-1' is listed twice (lines 2 and 5)"
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1,A,,,,", "email: missing: the contact address receives the warnings"),
        ("1,A,a@a.nl\r\n,,,", "row: 3 fields, the header has 6"),
        (",A,a@a.nl,,,", "id: missing"),
        (
            "1,A,a@a.nl,a.nl,,,x",
            "row: 7 fields, the header has 6 (a value with a comma that is not in quotes?)",
        ),
        ("1,A,a@a.nl,a.nl", "row: 4 fields, the header has 6"),
        ("1,A,a@a.nl,a.nl,,\x1b", "sector: '\\x1b': contains a control character"),
        (
            "1,A,a@a.nl,localhost,,",
            "domains: 'localhost': a single-label name: give the full domain, e.g. example.nl",
        ),
        (
            "1,A,a@a.nl,a.nl b.nl,,",
            "domains: 'a.nl b.nl': contains a comma or a space: separate several domains with ';'",
        ),
        (
            '1,A,a@a.nl,"a.nl,b.nl",,',
            "domains: 'a.nl,b.nl': contains a comma or a space: separate several domains with ';'",
        ),
        (
            "1,A,a@a.nl," + "x" * 64 + ".nl,,",
            f"domains: '{'x' * 64}.nl': label {'x' * 20}… is longer than 63 characters",
        ),
        (
            "1,A,a@a.nl,,192.0.2.0/23,",
            "ips: '192.0.2.0/23': a network larger than /24 (512 addresses): list the addresses that are the member's own, or allow large networks (--allow-large-networks)",
        ),
        (
            "1,A,a@a.nl,,2001:db8::1/64,",
            "ips: '2001:db8::1/64': host bits set: the network is 2001:db8::/64",
        ),
        ("1,A,a@a.nl,,999.1.1.1,", "ips: '999.1.1.1': not an IP address or CIDR network"),
        (
            '1,"A"x,a@a.nl,,,',
            "csv: malformed CSV (',' expected after '\"'): check the quotes in this record",
        ),
    ],
)
def test_bad_input_paths(write_csv: WriteCsv, row: str, message: str) -> None:
    assert errors_of(write_csv(HEADER + row + "\n")) == [f"members.csv:2: {message}"]


def test_unterminated_quote(write_csv: WriteCsv) -> None:
    path = write_csv(HEADER + '1,"A,a@a.nl,,,\n2,B,b@b.nl,,,\n')
    assert errors_of(path) == [
        "members.csv:2: csv: malformed CSV (unexpected end of data): check the quotes in this record"
    ]


def test_a_malformed_record_does_not_hide_later_errors(write_csv: WriteCsv) -> None:
    path = write_csv(HEADER + '1,"A"x,a@a.nl,,,\n2,B,,,,\n')
    assert errors_of(path) == [
        "members.csv:2: csv: malformed CSV (',' expected after '\"'): check the quotes in this record",
        "members.csv:3: email: missing: the contact address receives the warnings",
    ]


def test_language_must_be_nl_or_en(write_csv: WriteCsv) -> None:
    path = write_csv("id,name,email,domains,ips,sector,language\n1,A,a@a.nl,,,,de\n")
    assert errors_of(path) == [
        "members.csv:2: language: 'de': must be nl or en (or empty for the default)"
    ]


def test_missing_column(write_csv: WriteCsv) -> None:
    """Reported once at the header, not once per row."""
    path = write_csv("id,name,domains,ips\n1,A,a.nl,\n2,B,b.nl,\n")
    assert errors_of(path) == [
        f"members.csv:1: header: missing column(s) 'email', 'sector': {EXPECTED}"
    ]


def test_unknown_columns(write_csv: WriteCsv) -> None:
    path = write_csv("id,name,email,domains,ips,sector,Phone,kvk\n1,A,a@a.nl,,,,010,1\n")
    assert errors_of(path) == [
        f"members.csv:1: header: unknown column(s) 'phone', 'kvk': {EXPECTED}"
    ]


def test_duplicate_column(write_csv: WriteCsv) -> None:
    path = write_csv("id,name,email,domains,ips,sector,Email\n1,A,a@a.nl,,,,b@b.nl\n")
    assert errors_of(path) == ["members.csv:1: header: column 'email' appears twice"]


def test_value_under_an_unnamed_column(write_csv: WriteCsv) -> None:
    path = write_csv("id,name,email,domains,ips,sector,\n1,A,a@a.nl,,,,oops\n")
    assert errors_of(path) == ["members.csv:2: column 7: a value in a column without a header"]


def test_header_after_blank_lines_keeps_physical_numbers(write_csv: WriteCsv) -> None:
    path = write_csv("\n\n" + HEADER + "1,,a@a.nl,,,\n")
    assert errors_of(path) == ["members.csv:4: name: missing"]


@pytest.mark.parametrize("content", ["", "\n\n  \n", "\ufeff"])
def test_empty_file(write_csv: WriteCsv, content: str) -> None:
    assert errors_of(write_csv(content)) == [
        f"members.csv:1: header: the file is empty: {EXPECTED}"
    ]


def test_not_utf8(write_csv: WriteCsv) -> None:
    path = write_csv(HEADER.encode() + b"1,A,a@a.nl,,,\r\n2,Caf\xe9 Noord,b@b.nl,,,\r\n")
    assert errors_of(path) == [
        "members.csv:3: file: not UTF-8 (byte 0xe9): save the file as 'CSV UTF-8'"
    ]


def test_utf16(write_csv: WriteCsv) -> None:
    path = write_csv((HEADER + "1,A,a@a.nl,,,\n").encode("utf-16"))
    assert errors_of(path) == ["members.csv:1: file: UTF-16 text: save the file as 'CSV UTF-8'"]


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"
    with pytest.raises(MemberListError) as info:
        read_members(path)
    assert str(info.value) == f"{path}: file: cannot be read: No such file or directory"


def test_an_issue_prints_as_its_line_through_rich() -> None:
    """The CLI prints issues with rich, which would otherwise pretty-print the dataclass."""
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(Issue("members.csv", 2, "name", "missing"), markup=False, highlight=False)
    assert console.export_text() == "members.csv:2: name: missing\n"


# --- names that would mislead on a page (issue 17.5, 17.6) -------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Haven BV\u202e10021", "202E"),  # right-to-left override: what follows reads backwards
        ("Haven\u200fBV", "200F"),  # right-to-left mark
        ("\u2066Haven\u2069", "2066"),  # isolates
        ("Ha\u200bven", "200B"),  # zero-width space
        ("Ha\u200dven", "200D"),  # zero-width joiner
        ("Haven\ufeff", "FEFF"),  # a byte-order mark inside a cell
        ("Haven\ue000", "E000"),  # private use
    ],
)
def test_invisible_and_bidi_characters_in_names_are_refused(
    write_csv: WriteCsv, name: str, code: str
) -> None:
    errors = errors_of(write_csv(HEADER + f"1,{name},a@a.nl,a.nl,,\n"))
    assert len(errors) == 1
    assert errors[0].startswith("members.csv:2: name: ")
    assert errors[0].endswith(f"contains an invisible or direction-changing character (U+{code})")
    assert name not in errors[0]  # the line itself shows the character escaped


def test_bidi_characters_in_the_sector_are_refused_too(write_csv: WriteCsv) -> None:
    errors = errors_of(write_csv(HEADER + "1,Haven,a@a.nl,a.nl,,Haven\u202eLog\n"))
    assert errors == [
        "members.csv:2: sector: 'Haven\\u202eLog': contains an invisible or direction-changing "
        "character (U+202E)"
    ]


def test_names_have_a_length_limit(write_csv: WriteCsv) -> None:
    errors = errors_of(write_csv(HEADER + f"1,{'A' * 100_000},a@a.nl,a.nl,,\n"))
    assert len(errors) == 1
    assert errors[0].startswith("members.csv:2: name: 'AAAA")
    assert errors[0].endswith("100000 characters, at most 200")


@pytest.mark.parametrize(
    "name",
    ["Café De Haven", "Ölçek Lojistik B.V.", "שלום Trading", "مطعم الميناء", "B" * 200],
)
def test_names_in_any_script_are_accepted(write_csv: WriteCsv, name: str) -> None:
    (member,) = read_members(write_csv(HEADER + f"1,{name},a@a.nl,a.nl,,\n"))
    assert member.name == name
