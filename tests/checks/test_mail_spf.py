"""SPF: the strict parser and the worst-case evaluator, in both directions.

Every rule has a case that must be flagged and a neighbouring case that must not: 10 look-ups
pass and 11 fail, 2 void look-ups pass and 3 fail, `~all` is fine and `?all` is not.
"""

from __future__ import annotations

import pytest

from checks.mail.spf import (
    MAX_LOOKUPS,
    Qualifier,
    SpfError,
    SpfStatus,
    SpfSyntaxError,
    evaluate,
    expand,
    is_spf,
    parse_spf,
    select_spf,
)
from tests.checks.fakedns import FakeDns

D = "example.test"


# --- parsing ---------------------------------------------------------------------------------------


def test_parse_a_full_record():
    record = parse_spf(
        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.test/24//64 "
        "ptr exists:%{i}.spf.example.test include:_spf.example.net ~all exp=explain.%{d} "
        "x-vendor=yes"
    )
    names = [m.name for m in record.mechanisms]
    assert names == ["ip4", "ip6", "a", "mx", "ptr", "exists", "include", "all"]
    mx = record.mechanisms[3]
    assert (mx.value, mx.cidr4, mx.cidr6) == ("mail.example.test", 24, 64)
    assert record.all is not None and record.all.qualifier is Qualifier.SOFTFAIL
    assert record.exp == "explain.%{d}"
    assert record.unknown_modifiers == ("x-vendor=yes",)
    # include, a, mx, ptr, exists: five DNS-querying terms
    assert record.lookup_terms == 5


def test_qualifiers_and_defaults():
    record = parse_spf("v=spf1 +a -mx ?include:x.example.test ~exists:y.example.test all")
    assert [m.qualifier for m in record.mechanisms] == [
        Qualifier.PASS,
        Qualifier.FAIL,
        Qualifier.NEUTRAL,
        Qualifier.SOFTFAIL,
        Qualifier.PASS,  # no qualifier means +
    ]


@pytest.mark.parametrize(
    "text",
    [
        "v=spf1 foo:bar -all",  # unknown mechanism
        "v=spf1 ip4:300.1.1.1 -all",
        "v=spf1 ip4:192.0.2.1/33 -all",
        "v=spf1 ip4:192.0.2.0/024 -all",  # leading zero in the prefix length
        "v=spf1 ip6:192.0.2.1 -all",
        "v=spf1 ip4:2001:db8::1 -all",
        "v=spf1 ip4 -all",
        "v=spf1 a/33 -all",
        "v=spf1 mx//129 -all",
        "v=spf1 a:example.test/24/ -all",
        "v=spf1 ptr/24 -all",
        "v=spf1 include -all",
        "v=spf1 include: -all",
        "v=spf1 exists -all",
        "v=spf1 all:foo",
        "v=spf1 -redirect=_spf.example.test",  # a modifier takes no qualifier
        "v=spf1 redirect=a.example.test redirect=b.example.test",
        "v=spf1 exp=a.example.test exp=b.example.test -all",
        "v=spf1 redirect= -all",
        "v=spf1 include:%{x}.example.test -all",  # unknown macro letter
        "v=spf1 include:%{c}.example.test -all",  # c, r, t: exp only
        "v=spf1 include:%{d0}.example.test -all",  # a transformer of 0
        "v=spf1 include:%{d}x.%.example.test -all",  # a lone '%'
        "v=spf1 include:%{d.example.test -all",  # unterminated macro
        "v=spf1 -all junk:here",  # a syntax error after all is still a permerror (§4.6)
        "v=spf1 ip4:192.0.2.1 ümlaut -all",
    ],
)
def test_syntax_errors(text):
    with pytest.raises(SpfSyntaxError):
        parse_spf(text)


@pytest.mark.parametrize(
    "text",
    [
        "v=spf1",
        "v=spf1 -all",
        "V=SPF1 -ALL",  # case-insensitive
        "v=spf1 a/24 mx//64 a:x.example.test/24//64 -all",
        "v=spf1 include:%{d2}._spf.example.test -all",
        "v=spf1 exists:%{ir}.%{v}._spf.%{d} -all",
        "v=spf1 exists:%{l1r-}.example.test -all",
        "v=spf1 -all exp=explain._spf.%{d}",
        "v=spf1 ptr ptr:example.test -all",
        "v=spf1 a:example.test. -all",  # domain-end may carry the root dot
        "v=spf1 a:%{d} include:_spf.%{d2} -all",  # domain-end may be a macro
        "v=spf1 a:mail.example.x-1 -all",  # a top label with an inner hyphen may be digits
        "v=spf1 a:foo:bar/baz.example.test -all",  # ':' and '/' are macro-literals (§7.1)
        "v=spf1 a:foo:bar/baz.example.test/24//64 -all",  # ... and the cidr is the tail
        "v=spf1  ip4:192.0.2.1   -all ",  # extra spaces
    ],
)
def test_valid_syntax(text):
    parse_spf(text)


def test_record_selection():
    assert is_spf("v=spf1 -all")
    assert is_spf("v=spf1")
    assert is_spf("V=Spf1 ~all")
    assert not is_spf("v=spf10 -all")
    assert not is_spf(" v=spf1 -all")  # must begin with the version
    assert not is_spf("spf2.0/pra -all")
    assert select_spf(["google-site-verification=x", "v=spf1 -all", "v=spf10"]) == ["v=spf1 -all"]


def test_terms_after_all_and_redirect_with_all():
    record = parse_spf("v=spf1 -all include:never.example.test redirect=never2.example.test")
    assert [m.name for m in record.evaluated] == ["all"]
    assert [m.name for m in record.after_all] == ["include"]
    assert record.effective_redirect is None
    assert record.lookup_terms == 0


def test_macro_expansion():
    assert expand("%{d}", "mail.example.test") == "mail.example.test"
    assert expand("_spf.%{d}", "example.test") == "_spf.example.test"
    assert expand("%{d2}", "a.b.example.test") == "example.test"
    assert expand("%{dr}", "a.b.test") == "test.b.a"
    assert expand("%{d1r}", "a.b.test") == "a"
    assert expand("%{d-}", "a-b.test") == "a.b.test"
    assert expand("%{i}.x.test", "example.test") is None  # needs the sender's address
    assert expand("%{s}.x.test", "example.test") is None
    assert expand("%{o}.x.test", "example.test") is None


# --- evaluation ------------------------------------------------------------------------------------


def chain(dns: FakeDns, prefix: str, n: int) -> list[str]:
    """n include targets, each a plain record without look-ups."""
    names = [f"{prefix}{i}.example.net" for i in range(n)]
    for name in names:
        dns.txt(name, "v=spf1 ip4:192.0.2.0/24 -all")
    return names


async def test_no_record_is_none_and_the_other_txt_records_are_ignored():
    dns = FakeDns().txt(D, "google-site-verification=abc", "v=spf10 -all")
    result = await evaluate(D, dns)
    assert result.status is SpfStatus.NONE


async def test_nodata_is_none():
    dns = FakeDns().a(D)
    assert (await evaluate(D, dns)).status is SpfStatus.NONE


async def test_several_records_are_invalid():
    dns = FakeDns().txt(D, "v=spf1 -all", "v=spf1 mx -all")
    result = await evaluate(D, dns)
    assert (result.status, result.error) == (SpfStatus.PERMERROR, SpfError.MULTIPLE_RECORDS)
    assert len(result.records) == 2


async def test_syntax_error_is_invalid():
    dns = FakeDns().txt(D, "v=spf1 ip4:192.0.2.300 -all")
    result = await evaluate(D, dns)
    assert (result.status, result.error) == (SpfStatus.PERMERROR, SpfError.SYNTAX)


async def test_ten_lookups_pass_eleven_fail():
    dns = FakeDns()
    names = chain(dns, "inc", 11)
    dns.txt(D, "v=spf1 " + " ".join(f"include:{n}" for n in names[:10]) + " -all")
    ok = await evaluate(D, dns)
    assert (ok.status, ok.lookups, ok.permissive) == (SpfStatus.VALID, 10, False)

    dns.txt(D, "v=spf1 " + " ".join(f"include:{n}" for n in names) + " -all")
    bad = await evaluate(D, dns)
    assert (bad.status, bad.error, bad.lookups) == (
        SpfStatus.PERMERROR,
        SpfError.TOO_MANY_LOOKUPS,
        MAX_LOOKUPS + 1,
    )


async def test_nested_lookups_count_and_a_repeated_include_counts_again():
    dns = FakeDns()
    leaf = chain(dns, "leaf", 1)[0]
    dns.txt("mid.example.net", f"v=spf1 include:{leaf} a mx -all")
    dns.a("mid.example.net")
    dns.mx("mid.example.net", "mx.example.net")
    dns.txt(D, "v=spf1 include:mid.example.net include:mid.example.net -all")
    result = await evaluate(D, dns)
    # each include of mid: 1 + (include leaf, a, mx) = 4; twice = 8 (RFC 7208 §4.6.4 counts
    # every term evaluated; a receiver would evaluate mid twice)
    assert (result.status, result.lookups) == (SpfStatus.VALID, 8)
    assert result.nodes[0].lookup_terms == 2  # the top record's own terms


async def test_two_void_lookups_pass_three_fail():
    dns = FakeDns()
    dns.txt(D, "v=spf1 a:nx1.example.test mx:nx2.example.test ip4:192.0.2.1 -all")
    ok = await evaluate(D, dns)
    assert (ok.status, ok.void_lookups) == (SpfStatus.VALID, 2)
    dns.txt(D, "v=spf1 a:nx1.example.test mx:nx2.example.test exists:nx3.example.test -all")
    bad = await evaluate(D, dns)
    assert (bad.status, bad.error, bad.void_lookups) == (
        SpfStatus.PERMERROR,
        SpfError.TOO_MANY_VOID_LOOKUPS,
        3,
    )


async def test_an_a_term_with_only_aaaa_is_not_void():
    dns = FakeDns().set("v6.example.test", "AAAA", "2001:db8::1")
    dns.txt(D, "v=spf1 a:v6.example.test -all")
    result = await evaluate(D, dns)
    assert (result.status, result.void_lookups) == (SpfStatus.VALID, 0)


async def test_include_loop_and_redirect_loop():
    dns = FakeDns()
    dns.txt(D, "v=spf1 include:b.example.test -all")
    dns.txt("b.example.test", f"v=spf1 include:{D} -all")
    result = await evaluate(D, dns)
    assert (result.status, result.error) == (SpfStatus.PERMERROR, SpfError.INCLUDE_LOOP)
    assert "example.test -> b.example.test -> example.test" in result.message

    dns.txt(D, "v=spf1 redirect=r.example.test")
    dns.txt("r.example.test", f"v=spf1 redirect={D}")
    result = await evaluate(D, dns)
    assert (result.status, result.error) == (SpfStatus.PERMERROR, SpfError.REDIRECT_LOOP)


async def test_the_same_include_twice_is_not_a_loop():
    dns = FakeDns()
    leaf = chain(dns, "leaf", 1)[0]
    dns.txt(D, f"v=spf1 include:{leaf} include:{leaf} -all")
    assert (await evaluate(D, dns)).status is SpfStatus.VALID


async def test_include_or_redirect_of_a_domain_without_spf_is_invalid():
    dns = FakeDns().txt("nospf.example.net", "some other text")
    dns.txt(D, "v=spf1 include:nospf.example.net -all")
    result = await evaluate(D, dns)
    assert (result.status, result.error, result.void_lookups) == (
        SpfStatus.PERMERROR,
        SpfError.INCLUDE_WITHOUT_SPF,
        0,  # the name answered (with other TXT records): not void
    )
    dns.txt(D, "v=spf1 include:gone.example.net -all")
    result = await evaluate(D, dns)
    assert (result.error, result.void_lookups) == (SpfError.INCLUDE_WITHOUT_SPF, 1)
    dns.txt(D, "v=spf1 redirect=gone.example.net")
    result = await evaluate(D, dns)
    assert result.error is SpfError.REDIRECT_WITHOUT_SPF


async def test_several_records_at_an_include_target_are_invalid():
    dns = FakeDns().txt("two.example.net", "v=spf1 -all", "v=spf1 ~all")
    dns.txt(D, "v=spf1 include:two.example.net -all")
    result = await evaluate(D, dns)
    assert (result.status, result.error) == (SpfStatus.PERMERROR, SpfError.MULTIPLE_RECORDS)


async def test_more_than_ten_mx_records_is_invalid():
    dns = FakeDns().mx("many.example.test", *(f"mx{i}.example.test" for i in range(11)))
    dns.txt(D, "v=spf1 mx:many.example.test -all")
    assert (await evaluate(D, dns)).error is SpfError.TOO_MANY_MX
    dns.mx("many.example.test", *(f"mx{i}.example.test" for i in range(10)))
    for i in range(10):
        dns.a(f"mx{i}.example.test")  # (an MX host without an address is a void look-up)
    assert (await evaluate(D, dns)).status is SpfStatus.VALID


@pytest.mark.parametrize(
    ("record", "permissive"),
    [
        ("v=spf1 mx -all", False),
        ("v=spf1 mx ~all", False),
        ("v=spf1 mx +all", True),
        ("v=spf1 mx all", True),
        ("v=spf1 mx ?all", True),
        ("v=spf1 mx", True),  # no all, no redirect: neutral
        ("v=spf1", True),
        ("v=spf1 ip4:0.0.0.0/0 -all", True),
        ("v=spf1 -ip4:0.0.0.0/0 -all", False),
        ("v=spf1 ip6:::/0 -all", True),
        ("v=spf1 a/0 -all", True),
        ("v=spf1 ip4:0.0.0.0 -all", False),
        ("v=spf1 include:open.example.net -all", True),  # the include passes everybody
        ("v=spf1 -include:open.example.net -all", False),  # a match there means fail
        ("v=spf1 include:neutral.example.net -all", False),  # ?all in an include: no match
        ("v=spf1 redirect=strict.example.net", False),
        ("v=spf1 redirect=neutral.example.net", True),
        ("v=spf1 redirect=open.example.net", True),
    ],
)
async def test_permissive(record, permissive):
    dns = FakeDns().mx(D, "mx.example.test").a(D)
    dns.txt("open.example.net", "v=spf1 +all")
    dns.txt("neutral.example.net", "v=spf1 ?all")
    dns.txt("strict.example.net", "v=spf1 ip4:192.0.2.0/24 -all")
    dns.txt(D, record)
    result = await evaluate(D, dns)
    assert result.status is SpfStatus.VALID
    assert result.permissive is permissive, result.permissive_reason
    assert bool(result.permissive_reason) is permissive


async def test_redirect_policy_is_followed_and_counted():
    dns = FakeDns().txt("_spf.example.net", "v=spf1 include:inc0.example.net -all")
    chain(dns, "inc", 1)
    dns.txt(D, "v=spf1 redirect=_spf.example.net")
    result = await evaluate(D, dns)
    assert (result.status, result.lookups, result.all_qualifier) == (SpfStatus.VALID, 2, "-")
    assert [n.via for n in result.nodes] == ["top", "redirect", "include"]


async def test_macros_expand_the_domain_and_leave_message_macros_unfollowed():
    dns = FakeDns().txt("_spf.example.test", "v=spf1 ip4:192.0.2.0/24 -all")
    dns.txt(D, "v=spf1 include:_spf.%{d} exists:%{i}._spf.%{d} -all")
    result = await evaluate(D, dns)
    assert (result.status, result.lookups) == (SpfStatus.VALID, 2)
    # %{d} was expanded and followed; %{i} needs the sender: counted, never queried
    assert ("_spf.example.test", "TXT") in dns.asked
    assert not any("%" in name or "{" in name for name, _ in dns.asked)


async def test_timeouts_are_temperror_never_missing():
    dns = FakeDns().timeout(D, "TXT")
    result = await evaluate(D, dns)
    assert result.status is SpfStatus.TEMPERROR
    assert result.record == ""

    dns = FakeDns().timeout("slow.example.net")
    dns.txt(D, "v=spf1 include:slow.example.net -all")
    result = await evaluate(D, dns)
    assert (result.status, result.record, result.permissive) == (
        SpfStatus.TEMPERROR,
        "v=spf1 include:slow.example.net -all",
        None,  # whether the include opens the door is unknown
    )

    dns.txt(D, "v=spf1 include:slow.example.net +all")
    result = await evaluate(D, dns)
    assert (result.status, result.permissive) == (SpfStatus.TEMPERROR, True)

    dns = FakeDns().fail("broken.example.net")
    dns.txt(D, "v=spf1 a:broken.example.net -all")
    assert (await evaluate(D, dns)).status is SpfStatus.TEMPERROR


async def test_prefetch_stays_within_the_lookup_budget():
    dns = FakeDns()
    names = chain(dns, "inc", 15)
    dns.txt(D, "v=spf1 " + " ".join(f"include:{n}" for n in names) + " -all")
    result = await evaluate(D, dns)
    assert result.error is SpfError.TOO_MANY_LOOKUPS
    asked = {name for name, rdtype in dns.log if rdtype == "TXT" and name != D}
    assert len(asked) == MAX_LOOKUPS  # the 11th to 15th targets were never asked


async def test_evidence_holds_the_record_the_tree_and_the_counts():
    dns = FakeDns()
    leaf = chain(dns, "leaf", 1)[0]
    dns.txt(D, f"v=spf1 include:{leaf} ptr -all")
    result = await evaluate(D, dns)
    evidence = result.evidence()
    assert evidence["record"] == f"v=spf1 include:{leaf} ptr -all"
    assert (evidence["lookups"], evidence["void_lookups"], evidence["all"]) == (2, 0, "-all")
    assert [t["domain"] for t in evidence["tree"]] == [D, leaf]
    assert any("ptr" in note for note in evidence["notes"])


async def test_a_name_that_cannot_be_asked_is_invalid_a_single_label_too():
    dns = FakeDns().txt(D, "v=spf1 a:bad..example.test -all")
    result = await evaluate(D, dns)
    assert (result.status, result.error) == (SpfStatus.PERMERROR, SpfError.SYNTAX)
    dns.txt(D, "v=spf1 include:" + "x" * 64 + ".example.test -all")
    assert (await evaluate(D, dns)).error is SpfError.SYNTAX
    # Once left to DNS as a void look-up; the grammar's domain-end makes it a permerror (§12).
    dns.txt(D, "v=spf1 a:localhost -all")
    result = await evaluate(D, dns)
    assert (result.status, result.error) == (SpfStatus.PERMERROR, SpfError.SYNTAX)
    assert (D, "A") not in dns.asked and ("localhost", "A") not in dns.asked


async def test_a_redirect_that_needs_the_message_is_not_called_permissive():
    dns = FakeDns().txt(D, "v=spf1 redirect=%{l}._spf.example.test")
    result = await evaluate(D, dns)
    assert (result.status, result.permissive, result.all_qualifier) == (
        SpfStatus.VALID,
        False,
        None,
    )
    assert any("needs the message" in note for note in result.notes)


# --- rules the RFC 7208 test suite found (issue 18); each failed before its fix ----------------


@pytest.mark.parametrize(
    "text",
    [
        "v=spf1 a:ctrl.example.test\rptr -all",  # only SP separates terms (§12: 1*SP)
        "v=spf1 ip4:192.0.2.1\t-all",
        "v=spf1 ip4:192.0.2.1\n-all",
        "v=spf1 ip4:192.0.2.1\x0b-all",
        "v=spf1 ip4:192.0.2.1\x0c-all",
    ],
)
def test_only_a_space_separates_terms(text):
    with pytest.raises(SpfSyntaxError):
        parse_spf(text)


@pytest.mark.parametrize(
    "text",
    [
        "v=spf1 a:foo-bar -all",
        "v=spf1 a:museum -all",
        "v=spf1 a:museum. -all",
        "v=spf1 a:abc.123 -all",
        "v=spf1 mx:abc.123 -all",
        "v=spf1 a:111.222.33.44 -all",
        "v=spf1 include:foo -all",
        "v=spf1 exists:%{d}.123 -all",
        "v=spf1 ptr:example.-test -all",
        "v=spf1 redirect=-all",
        "v=spf1 -all exp=-all",
        "v=spf1 a:example.test/abc -all",
    ],
)
def test_a_domain_spec_needs_a_valid_top_label(text):
    with pytest.raises(SpfSyntaxError, match="top-level label"):
        parse_spf(text)


def test_colon_and_slash_are_literals_and_only_the_tail_is_a_prefix_length():
    record = parse_spf("v=spf1 a:foo:bar/baz.example.test mx:x/y.example.test/24//64 -all")
    a, mx = record.mechanisms[0], record.mechanisms[1]
    assert (a.value, a.cidr4, a.cidr6) == ("foo:bar/baz.example.test", None, None)
    assert (mx.value, mx.cidr4, mx.cidr6) == ("x/y.example.test", 24, 64)


async def test_an_expanded_name_is_asked_whatever_visible_characters_it_holds():
    dns = FakeDns().txt(D, "v=spf1 a:macro%%percent%_space%-url.example.test -all")
    result = await evaluate(D, dns)
    assert (result.status, result.void_lookups) == (SpfStatus.VALID, 1)
    assert ("macro%percent space%20url.example.test", "A") in dns.asked


@pytest.mark.parametrize("domain", ["a" * 64 + ".example.test", "a..example.test", "localhost"])
async def test_a_domain_that_is_not_a_domain_name_has_no_policy(domain):
    dns = FakeDns().txt(domain, "v=spf1 -all")
    result = await evaluate(domain, dns)
    assert result.status is SpfStatus.NONE
    assert not dns.log  # section 4.3: nothing is asked


async def test_mx_hosts_without_addresses_are_void_lookups():
    dns = FakeDns().txt(D, "v=spf1 mx -all").mx(D, "mx1.example.test", "mx2.example.test")
    dns.mx("other.example.test", "mx3.example.test").a("mx3.example.test")
    result = await evaluate(D, dns)
    assert (result.status, result.void_lookups) == (SpfStatus.VALID, 2)
    dns.txt(D, "v=spf1 mx mx:mx9.example.test -all").mx("mx9.example.test", "mx4.example.test")
    result = await evaluate(D, dns)
    assert (result.status, result.error) == (SpfStatus.PERMERROR, SpfError.TOO_MANY_VOID_LOOKUPS)
    dns.txt(D, "v=spf1 mx mx:other.example.test -all")
    result = await evaluate(D, dns)
    assert (result.status, result.void_lookups) == (SpfStatus.VALID, 2)


async def test_an_mx_host_with_an_address_of_either_family_is_not_void():
    dns = FakeDns().txt(D, "v=spf1 mx -all").mx(D, "mx1.example.test", "mx2.example.test")
    dns.a("mx1.example.test").set("mx2.example.test", "AAAA", "2001:db8::25")
    result = await evaluate(D, dns)
    assert (result.status, result.void_lookups) == (SpfStatus.VALID, 0)


async def test_an_mx_host_address_time_out_is_a_temperror():
    dns = FakeDns().txt(D, "v=spf1 mx -all").mx(D, "mx1.example.test").timeout("mx1.example.test")
    assert (await evaluate(D, dns)).status is SpfStatus.TEMPERROR
