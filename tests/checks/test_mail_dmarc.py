"""DMARC: strict parsing, the effective policy (p, sp, t=y, pct=0), and discovery with the
organisational-domain fall-back. Each rule in both directions."""

from __future__ import annotations

import pytest

from checks.mail.dmarc import (
    DmarcStatus,
    DmarcSyntaxError,
    Policy,
    discover,
    is_dmarc,
    parse_dmarc,
)
from checks.mail.shared import organisational_domain
from tests.checks.fakedns import FakeDns


def test_parse_a_full_record():
    record = parse_dmarc(
        "v=DMARC1; p=reject; sp=quarantine; np=reject; pct=50; t=n; psd=n; "
        "rua=mailto:dmarc@example.test,mailto:d@reports.example.net!10m; "
        "ruf=mailto:forensic@example.test; adkim=s; aspf=r; fo=1:d; rf=afrf; ri=86400;"
    )
    assert (record.p, record.sp, record.np, record.pct, record.testing) == (
        Policy.REJECT,
        Policy.QUARANTINE,
        Policy.REJECT,
        50,
        False,
    )
    assert record.rua == ("mailto:dmarc@example.test", "mailto:d@reports.example.net!10m")
    assert record.notes == ()


def test_whitespace_case_and_trailing_separator():
    record = parse_dmarc("v = DMARC1 ;  P = Reject ; RUA=mailto:a@example.test ;")
    assert record.p is Policy.REJECT
    assert record.rua == ("mailto:a@example.test",)


@pytest.mark.parametrize(
    "text",
    [
        "v=DMARC1; p=rejectt",  # a typo makes the policy unusable
        "v=DMARC1; p=reject; p=none",  # a tag twice
        "v=DMARC1; p=reject; sp=maybe",
        "v=DMARC1; p=reject; np=all",
        "v=DMARC1; p=reject; t=yes",
        "v=DMARC1; p=reject; psd=x",
        "v=DMARC1; p=reject; rua=dmarc@example.test",  # no scheme
        "v=DMARC1; p=reject; rua=mailto:nobody",  # no @
        "v=DMARC1; p=reject; rua=mailto:a@example.test,",  # empty entry
        "v=DMARC1; p=reject;; rua=mailto:a@example.test",  # an empty tag in the middle
        "v=DMARC1; p reject",  # not tag=value
        "v=DMARC1; 1p=reject",  # bad tag name
    ],
)
def test_invalid_records(text):
    with pytest.raises(DmarcSyntaxError):
        parse_dmarc(text)


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("v=DMARC1; p=reject; adkim=x", "adkim"),  # falls back to r (RFC 9989 §4.8)
        ("v=DMARC1; p=reject; fo=2", "fo"),
        ("v=DMARC1; p=reject; future=1", "unknown tag"),  # unknown tags MUST be ignored
        # RFC 7489 §6.3: discarded in favour of the defaults; RFC 9989 drops both tags
        ("v=DMARC1; p=reject; pct=150", "pct"),
        ("v=DMARC1; p=reject; pct=101", "pct"),
        ("v=DMARC1; p=reject; pct=-1", "pct"),
        ("v=DMARC1; p=reject; pct=abc", "pct"),
        ("v=DMARC1; p=reject; ri=abc", "ri"),
    ],
)
def test_harmless_mistakes_are_notes_not_errors(text, note):
    record = parse_dmarc(text)
    assert any(note in n for n in record.notes)


@pytest.mark.parametrize("pct", ["150", "-1", "abc", ""])
def test_a_bad_pct_leaves_the_policy_whole(pct):
    record = parse_dmarc(f"v=DMARC1; p=reject; pct={pct}")
    assert record.pct == 100
    assert record.effective(organisational=False) == (Policy.REJECT, "p=reject")
    assert parse_dmarc("v=DMARC1; p=reject; pct=0").pct == 0  # a good one still counts


def test_version_tag():
    assert is_dmarc("v=DMARC1; p=none")
    assert is_dmarc("v=DMARC1")
    assert is_dmarc("V = DMARC1;p=none")
    assert not is_dmarc("v=dmarc1; p=none")  # "DMARC1" is case-sensitive
    assert not is_dmarc("p=none; v=DMARC1")  # v must come first
    assert not is_dmarc("v=DMARC10; p=none")
    assert not is_dmarc("v=spf1 -all")


@pytest.mark.parametrize(
    ("text", "organisational", "policy"),
    [
        ("v=DMARC1; p=reject", False, Policy.REJECT),
        ("v=DMARC1; p=quarantine", False, Policy.QUARANTINE),
        ("v=DMARC1; p=none", False, Policy.NONE),
        ("v=DMARC1; rua=mailto:a@example.test", False, Policy.NONE),  # no p: acts as none
        ("v=DMARC1", False, Policy.NONE),
        # sp applies to subdomains, i.e. when the record came from the organisational domain
        ("v=DMARC1; p=reject; sp=none", False, Policy.REJECT),
        ("v=DMARC1; p=reject; sp=none", True, Policy.NONE),
        ("v=DMARC1; p=none; sp=reject", True, Policy.REJECT),
        ("v=DMARC1; p=quarantine", True, Policy.QUARANTINE),  # no sp: p applies
        # t=y (RFC 9989) and pct=0 (RFC 7489) lower the policy one step
        ("v=DMARC1; p=quarantine; t=y", False, Policy.NONE),
        ("v=DMARC1; p=reject; t=y", False, Policy.QUARANTINE),
        ("v=DMARC1; p=quarantine; t=n", False, Policy.QUARANTINE),
        ("v=DMARC1; p=quarantine; pct=0", False, Policy.NONE),
        ("v=DMARC1; p=quarantine; pct=1", False, Policy.QUARANTINE),
        ("v=DMARC1; p=reject; sp=quarantine; t=y", True, Policy.NONE),
    ],
)
def test_effective_policy(text, organisational, policy):
    effective, how = parse_dmarc(text).effective(organisational=organisational)
    assert effective is policy, how


# --- discovery -------------------------------------------------------------------------------------


async def test_own_record():
    dns = FakeDns().txt("_dmarc.example.test", "v=DMARC1; p=reject; rua=mailto:d@example.test")
    result = await discover("example.test", dns, "example.test")
    assert (result.status, result.policy, result.has_reports) == (
        DmarcStatus.VALID,
        Policy.REJECT,
        True,
    )
    assert result.location == "_dmarc.example.test"
    assert not result.organisational


async def test_other_txt_records_are_discarded():
    dns = FakeDns().txt("_dmarc.example.test", "some verification", "v=DMARC1; p=none")
    result = await discover("example.test", dns, "example.test")
    assert (result.status, result.policy, result.has_reports) == (
        DmarcStatus.VALID,
        Policy.NONE,
        False,
    )


async def test_missing_without_and_with_an_organisational_domain():
    dns = FakeDns().a("example.test")
    result = await discover("example.test", dns, "example.test")
    assert result.status is DmarcStatus.MISSING
    assert result.asked == ("_dmarc.example.test",)

    result = await discover("shop.example.test", dns, "example.test")
    assert result.status is DmarcStatus.MISSING
    assert result.asked == ("_dmarc.shop.example.test", "_dmarc.example.test")


async def test_falls_back_to_the_organisational_domain_and_applies_sp():
    dns = FakeDns().txt(
        "_dmarc.example.test", "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.test"
    )
    result = await discover("shop.example.test", dns, "example.test")
    assert (result.status, result.organisational, result.policy) == (
        DmarcStatus.VALID,
        True,
        Policy.NONE,
    )
    assert result.location == "_dmarc.example.test"
    assert "sp=none" in result.policy_how


async def test_own_record_wins_over_the_organisational_one():
    dns = FakeDns().txt("_dmarc.example.test", "v=DMARC1; p=none")
    dns.txt("_dmarc.shop.example.test", "v=DMARC1; p=reject")
    result = await discover("shop.example.test", dns, "example.test")
    assert (result.policy, result.organisational) == (Policy.REJECT, False)
    assert ("_dmarc.example.test", "TXT") not in dns.asked


async def test_several_records_are_invalid_and_do_not_fall_back():
    dns = FakeDns().txt("_dmarc.shop.example.test", "v=DMARC1; p=reject", "v=DMARC1; p=none")
    dns.txt("_dmarc.example.test", "v=DMARC1; p=reject")
    result = await discover("shop.example.test", dns, "example.test")
    assert result.status is DmarcStatus.INVALID
    assert len(result.records) == 2
    assert ("_dmarc.example.test", "TXT") not in dns.asked


async def test_a_record_that_does_not_parse_is_invalid():
    dns = FakeDns().txt("_dmarc.example.test", "v=DMARC1; p=rejcet")
    result = await discover("example.test", dns, "example.test")
    assert result.status is DmarcStatus.INVALID
    assert "p=" in result.message


async def test_timeouts_decide_nothing():
    dns = FakeDns().timeout("_dmarc.example.test")
    result = await discover("example.test", dns, "example.test")
    assert result.status is DmarcStatus.TEMPERROR

    dns = FakeDns().timeout("_dmarc.example.test").a("shop.example.test")
    result = await discover("shop.example.test", dns, "example.test")
    assert result.status is DmarcStatus.TEMPERROR


async def test_evidence():
    dns = FakeDns().txt("_dmarc.example.test", "v=DMARC1; p=quarantine; t=y")
    result = await discover("example.test", dns, "example.test")
    evidence = result.evidence()
    assert evidence["record"] == "v=DMARC1; p=quarantine; t=y"
    assert evidence["tags"] == {"v": "DMARC1", "p": "quarantine", "t": "y"}
    assert evidence["policy"] == "none"
    assert "t=y" in evidence["policy_from"]


def test_organisational_domain_from_the_shipped_public_suffix_list():
    from publicsuffixlist import PublicSuffixList

    psl = PublicSuffixList()
    assert organisational_domain(psl, "shop.bakkerij.nl") == "bakkerij.nl"
    assert organisational_domain(psl, "bakkerij.nl") == "bakkerij.nl"
    assert organisational_domain(psl, "mail.example.co.uk") == "example.co.uk"
    assert organisational_domain(psl, "a.b.example.test") == "example.test"  # default rule *
    assert organisational_domain(psl, "nl") == "nl"


# --- why "missing" is missing (issue 18: the evidence must say it) ------------------------------


async def test_a_record_with_leading_white_space_is_missing_and_says_why():
    dns = FakeDns().txt("_dmarc.example.test", " v=DMARC1; p=reject")
    result = await discover("example.test", dns, "example.test")
    assert result.status is DmarcStatus.MISSING
    assert any("starts with white space" in why for why in result.evidence()["why"])


async def test_a_record_at_the_apex_is_missing_and_says_why():
    dns = FakeDns().txt("example.test", "v=spf1 -all", "v=DMARC1; p=reject")
    result = await discover("example.test", dns, "example.test")
    assert result.status is DmarcStatus.MISSING
    (why,) = result.evidence()["why"]
    assert "published at example.test itself" in why and "_dmarc.example.test" in why


async def test_a_plain_missing_record_has_no_why():
    dns = FakeDns().txt("example.test", "v=spf1 -all")
    result = await discover("example.test", dns, "example.test")
    assert result.status is DmarcStatus.MISSING
    assert "why" not in result.evidence()
