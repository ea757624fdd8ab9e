"""The web family's rules on their own: HSTS parsing, the redirect judgement, folding per host."""

from __future__ import annotations

import pytest

from checks._site.sitefold import AddressFailure, AddressFinding, fold
from checks.web.check import HSTS_MISSING, judge_redirect
from checks.web.hsts import MIN_MAX_AGE, parse_hsts
from exposure.contract import CheckFailure, FailureReason, FindingCandidate
from exposure.net.http import FetchResult, Hop


@pytest.mark.parametrize(
    ("values", "max_age", "sufficient"),
    [
        (["max-age=31536000"], 31536000, True),
        (["max-age=63072000; includeSubDomains; preload"], 63072000, True),
        (['MAX-AGE="31536000"'], 31536000, True),
        (["max-age=300"], 300, False),
        (["max-age=0"], 0, False),
        (["includeSubDomains"], None, False),
        (["max-age=abc"], None, False),
        (["max-age=31536000; max-age=31536000"], None, False),
        (["max-age=300", "max-age=31536000"], 300, False),  # only the first header counts
        ([], None, False),
    ],
)
def test_hsts_parsing(values, max_age, sufficient):
    policy = parse_hsts(values)
    assert policy.max_age == max_age
    assert policy.sufficient is sufficient
    assert (policy.reason == "") is sufficient


def test_every_code_a_rule_can_produce_has_words():
    from checks.tls.check import TlsCheck
    from checks.web.check import WebCheck
    from exposure.net.certs import TrustProblem

    web = {c.code for c in WebCheck.meta.codes}
    assert {"no_redirect", "redirect_to_http", "redirect_to_other_host", "bad_location"} <= web
    for values in ([], ["max-age=1"], ["max-age=x"]):
        assert parse_hsts(values).code in web
    assert {c.code for c in TlsCheck.meta.codes} == {p.value for p in TrustProblem}


def test_hsts_flags_and_reasons():
    policy = parse_hsts(["max-age=31536000; includeSubDomains; preload"])
    assert policy.include_subdomains and policy.preload
    assert "no Strict-Transport-Security" in parse_hsts([]).reason
    assert str(MIN_MAX_AGE) in parse_hsts(["max-age=10"]).reason


def _http(status: int, location: str = "", url: str = "http://a.test/") -> FetchResult:
    return FetchResult(
        url=url, final_url=url, status=status, hops=(Hop(url, "192.0.2.1", status, location),)
    )


@pytest.mark.parametrize(
    ("status", "location", "reason"),
    [
        (301, "https://a.test/", None),
        (308, "https://a.test:8443/path", None),  # ports do not matter
        (302, "https://A.TEST/", None),
        (301, "/secure", "redirect_to_http"),  # relative: stays on http
        (301, "http://www.a.test/", "redirect_to_http"),
        (301, "https://www.a.test/", "redirect_to_other_host"),
        (200, "", "no_redirect"),
        (404, "", "no_redirect"),
        (301, "", "no_redirect"),  # a redirect without Location goes nowhere
    ],
)
def test_first_hop_must_be_https_on_the_same_host(status, location, reason):
    verdict = judge_redirect(_http(status, location), "a.test")
    assert (verdict[0] if verdict else None) == reason


def test_fold_keeps_one_finding_per_host_with_the_addresses():
    items = [
        AddressFinding(HSTS_MISSING, "a.test", "192.0.2.2", {"reason": "x"}, "x"),
        AddressFinding(HSTS_MISSING, "a.test", "192.0.2.1", {"reason": "y"}, "y"),
        AddressFinding(HSTS_MISSING, "www.a.test", "192.0.2.1", {}, ""),
    ]
    failures = [
        AddressFailure("a.test", "2001:db8::1", FailureReason.TIMEOUT, "slow", frozenset({"x"})),
        AddressFailure("a.test", "192.0.2.3", FailureReason.TIMEOUT, "slow", frozenset({"x"})),
    ]
    checked = {
        "a.test": ["192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1"],
        "www.a.test": ["192.0.2.1"],
    }
    out = fold(items, failures, checked)
    found = [o for o in out if isinstance(o, FindingCandidate)]
    failed = [o for o in out if isinstance(o, CheckFailure)]
    assert [(f.subject, f.discriminator) for f in found] == [("a.test", ""), ("www.a.test", "")]
    first = found[0].evidence
    assert first["addresses"] == ["192.0.2.1", "192.0.2.2"] and first["reason"] == "y"
    assert first["addresses_checked"] == checked["a.test"]
    assert "addresses_checked" not in found[1].evidence
    assert len(failed) == 1 and failed[0].finding_ids == frozenset({"x"})
    assert failed[0].message.startswith("a.test (192.0.2.3): slow; a.test (2001:db8::1)")
