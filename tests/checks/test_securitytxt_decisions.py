"""The check's decision table, with the fetcher replaced by answers the test writes down.

The testbed shows the rules on real sockets (`test_securitytxt_check.py`); here every branch is
pinned, including outcomes a lab cannot produce on demand (a DNS failure for one host, a
server that speaks something else than HTTP on 443): which host is asked, when a result is
"no site", "could not test" or a verdict, and that the www fallback only happens when the apex
has no HTTPS site at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import checks.securitytxt.check as check_module
from checks.securitytxt.check import SecurityTxtCheck
from exposure.contract import (
    CheckContext,
    CheckFailure,
    FailureReason,
    FindingCandidate,
    ScanTarget,
    TargetKind,
)
from exposure.memo import RunMemo
from exposure.net.http import FetchError, FetchResult, Hop
from exposure.scan.limits import Limits
from exposure.settings import Settings
from exposure.text import Text

NOW = datetime(2026, 3, 1, tzinfo=UTC)
APEX = "https://example.test/.well-known/security.txt"
WWW = "https://www.example.test/.well-known/security.txt"
LEGACY = "https://example.test/security.txt"
HTTP = "http://example.test/.well-known/security.txt"
HTTP_WWW = "http://www.example.test/.well-known/security.txt"
GOOD = (
    "Contact: mailto:security@example.test\n"
    "Expires: 2026-09-01T00:00:00Z\n"
    "Canonical: https://example.test/.well-known/security.txt\n"
    "Canonical: https://www.example.test/.well-known/security.txt\n"
)
TEXT = (("Content-Type", "text/plain; charset=utf-8"),)


def ok(url: str, body: str = GOOD, status: int = 200, **kw: Any) -> FetchResult:
    return FetchResult(
        url=url,
        final_url=kw.pop("final_url", url),
        status=status,
        headers=kw.pop("headers", TEXT),
        body=body.encode(),
        hops=(Hop(url, "192.0.2.1", status),),
        address="192.0.2.1",
        **kw,
    )


def err(url: str, error: FetchError, *, answered: bool = False, address: str = "") -> FetchResult:
    hops = (Hop(url, "192.0.2.1", 301, "/next"),) if answered else ()
    return FetchResult(
        url=url,
        final_url=url,
        status=301 if answered else None,
        hops=hops,
        address=address or ("192.0.2.1" if error is not FetchError.NO_ADDRESS else ""),
        error=error,
        detail=f"{error} happened",
    )


class FakeFetch:
    """Answers per (url, verify); anything not written down has no address."""

    def __init__(self, answers: dict[tuple[str, bool] | str, FetchResult]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, bool]] = []

    async def __call__(self, ctx: CheckContext, url: str, **kwargs: Any) -> FetchResult:
        verify = kwargs.get("verify", True)
        self.asked.append((url, verify))
        found = self.answers.get((url, verify)) or self.answers.get(url)
        return found or err(url, FetchError.NO_ADDRESS)


@pytest.fixture
def ctx() -> CheckContext:
    """Only settings and the clock are used: the fake fetch resolves and connects nothing."""
    return CheckContext(
        settings=Settings(database="sqlite://"),
        dns=None,  # type: ignore[arg-type]
        limits=Limits(2),
        memo=RunMemo(),
        now=NOW,
    )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFetch]:
    holder = FakeFetch({})
    monkeypatch.setattr(check_module, "fetch", holder)
    yield holder


async def run(ctx: CheckContext, fake: FakeFetch, answers: dict) -> list:
    fake.answers = answers
    target = ScanTarget("c1", TargetKind.DOMAIN, "example.test")
    return list(await SecurityTxtCheck().run(target, ctx))


def only(observations: list) -> Any:
    assert len(observations) == 1, observations
    return observations[0]


async def test_no_address_anywhere_is_nothing_to_report(ctx, fake):
    assert await run(ctx, fake, {}) == []
    assert [url for url, _ in fake.asked] == [APEX, WWW]


@pytest.mark.parametrize("error", [FetchError.REFUSED, FetchError.TLS, FetchError.PROTOCOL])
async def test_no_https_site_is_missing_and_www_is_tried(ctx, fake, error):
    answers = {APEX: err(APEX, error), WWW: err(WWW, error)}
    finding = only(await run(ctx, fake, answers))
    assert finding.check_id == "securitytxt.missing"
    assert finding.evidence["reason"] == "no_https_site"
    assert finding.evidence["hints"] == []
    assert (HTTP, True) in fake.asked and (HTTP_WWW, True) in fake.asked


async def test_no_https_but_a_file_over_http_is_a_hint(ctx, fake):
    answers = {APEX: err(APEX, FetchError.REFUSED), HTTP: ok(HTTP)}
    finding = only(await run(ctx, fake, answers))
    assert finding.evidence["reason"] == "no_https_site"
    assert finding.evidence["hints"] == ["http_only"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (FetchError.TIMEOUT, FailureReason.TIMEOUT),
        (FetchError.DNS, FailureReason.DNS_ERROR),
        (FetchError.RESET, FailureReason.PROTOCOL),
        (FetchError.UNREACHABLE, FailureReason.UNREACHABLE),
        (FetchError.OUT_OF_SCOPE, FailureReason.OUT_OF_SCOPE),
    ],
)
async def test_could_not_test_on_the_apex_stops_there(ctx, fake, error, reason):
    failure = only(await run(ctx, fake, {APEX: err(APEX, error)}))
    assert isinstance(failure, CheckFailure)
    assert failure.reason is reason
    assert failure.subject == "example.test"
    assert [url for url, _ in fake.asked] == [APEX]  # www is not a way around a time-out


async def test_could_not_test_on_www_after_no_apex_site(ctx, fake):
    failure = only(await run(ctx, fake, {WWW: err(WWW, FetchError.TIMEOUT)}))
    assert isinstance(failure, CheckFailure) and failure.reason is FailureReason.TIMEOUT


async def test_an_answer_on_the_apex_speaks_for_the_domain(ctx, fake):
    answers = {APEX: ok(APEX, "<h1>nee</h1>", status=404), WWW: ok(WWW)}
    finding = only(await run(ctx, fake, answers))
    assert finding.evidence["reason"] == "not_found" and finding.evidence["host"] == "example.test"
    assert (WWW, True) not in fake.asked


async def test_www_fallback_when_the_apex_has_no_address(ctx, fake):
    assert await run(ctx, fake, {WWW: ok(WWW)}) == []
    finding = only(await run(ctx, fake, {WWW: ok(WWW, status=404, body="")}))
    assert finding.evidence["host"] == "www.example.test"


async def test_a_www_domain_is_not_given_a_second_www(ctx, fake):
    fake.answers = {}
    target = ScanTarget("c1", TargetKind.DOMAIN, "www.example.test")
    assert await SecurityTxtCheck().run(target, ctx) == []
    assert [url for url, _ in fake.asked] == [WWW]


@pytest.mark.parametrize("error", [FetchError.CERTIFICATE, FetchError.TLS])
async def test_a_tls_problem_is_judged_without_verification(ctx, fake, error):
    answers = {(APEX, True): err(APEX, error), (APEX, False): ok(APEX)}
    finding = only(await run(ctx, fake, answers))
    assert finding.check_id == "securitytxt.invalid"
    assert finding.evidence["errors"] == ["invalid_cert"]
    assert finding.evidence["certificate_valid"] is False
    assert finding.evidence["tls_problem"] == f"{error} happened"


async def test_tls_that_never_works_is_no_site(ctx, fake):
    answers = {(APEX, True): err(APEX, FetchError.TLS), (APEX, False): err(APEX, FetchError.TLS)}
    finding = only(await run(ctx, fake, answers))
    assert finding.evidence["reason"] == "no_https_site"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (FetchError.INSECURE_REDIRECT, "redirect_to_http"),
        (FetchError.OUT_OF_SCOPE, "redirect_private"),
        (FetchError.TOO_MANY_REDIRECTS, "too_many_redirects"),
        (FetchError.BAD_REDIRECT, "redirect_failed"),
        (FetchError.NO_ADDRESS, "redirect_failed"),
        (FetchError.REFUSED, "redirect_failed"),
    ],
)
async def test_a_broken_redirect_chain_is_missing(ctx, fake, error, reason):
    finding = only(await run(ctx, fake, {APEX: err(APEX, error, answered=True)}))
    assert finding.check_id == "securitytxt.missing"
    assert finding.evidence["reason"] == reason
    assert finding.evidence["redirects"] == ["/next"]


@pytest.mark.parametrize("error", [FetchError.TIMEOUT, FetchError.RESET, FetchError.DNS])
async def test_a_redirect_chain_that_could_not_be_followed_is_could_not_test(ctx, fake, error):
    failure = only(await run(ctx, fake, {APEX: err(APEX, error, answered=True)}))
    assert isinstance(failure, CheckFailure)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (404, "not_found"),
        (410, "not_found"),
        (401, "status"),
        (403, "status"),
        (204, "status"),
        (300, "status"),
        (429, FailureReason.RATE_LIMITED),
        (500, FailureReason.PROTOCOL),
        (503, FailureReason.PROTOCOL),
    ],
)
async def test_statuses(ctx, fake, status, outcome):
    observation = only(await run(ctx, fake, {APEX: ok(APEX, status=status)}))
    if isinstance(outcome, FailureReason):
        assert isinstance(observation, CheckFailure) and observation.reason is outcome
        assert str(status) in observation.message
    else:
        assert observation.evidence["reason"] == outcome
        assert observation.evidence["status"] == status


@pytest.mark.parametrize(
    ("body", "content_type", "outcome"),
    [
        (GOOD, "text/plain", None),
        ("", "text/plain", "empty"),
        ("  \r\n", "text/plain", "empty"),
        ("<!doctype html><title>x</title>", "text/html", "html_page"),
        ("<!doctype html><title>x</title>", "text/plain", "html_page"),
        ("OK\n", "text/plain", "not_security_txt"),
        ('{"contact": "mailto:x@example.test"}', "application/json", "not_security_txt"),
        (GOOD, "text/html", "invalid_media"),
        (GOOD.replace("mailto:", ""), "text/plain", "no_uri"),
    ],
)
async def test_what_a_200_holds(ctx, fake, body, content_type, outcome):
    answer = ok(APEX, body, headers=(("Content-Type", content_type),))
    observations = await run(ctx, fake, {APEX: answer})
    if outcome is None:
        assert observations == []
    elif outcome in ("invalid_media", "no_uri"):
        assert only(observations).evidence["errors"] == [outcome]
    else:
        assert only(observations).evidence["reason"] == outcome


async def test_legacy_file_is_a_hint_for_a_missing_one(ctx, fake):
    answers = {APEX: ok(APEX, status=404, body=""), LEGACY: ok(LEGACY)}
    finding = only(await run(ctx, fake, answers))
    assert finding.evidence["hints"] == ["legacy_location"]
    assert (LEGACY, True) in fake.asked


async def test_legacy_hint_is_fetched_the_way_the_file_was(ctx, fake):
    answers = {
        (APEX, True): err(APEX, FetchError.CERTIFICATE),
        (APEX, False): ok(APEX, status=404, body=""),
        (LEGACY, False): ok(LEGACY),
    }
    finding = only(await run(ctx, fake, answers))
    assert finding.evidence["hints"] == ["legacy_location"]


async def test_a_legacy_html_page_is_no_hint(ctx, fake):
    answers = {
        APEX: ok(APEX, status=404, body=""),
        LEGACY: ok(LEGACY, "<html><body>hoi</body></html>"),
    }
    assert only(await run(ctx, fake, answers)).evidence["hints"] == []


async def test_canonical_matches_the_final_url_of_a_redirect(ctx, fake):
    body = "Contact: mailto:a@example.test\nExpires: 2026-09-01T00:00:00Z\nCanonical: " + WWW + "\n"
    answer = ok(APEX, body, final_url=WWW)
    assert await run(ctx, fake, {APEX: answer}) == []
    answer = ok(
        APEX, body.replace(WWW, "https://other.test/.well-known/security.txt"), final_url=WWW
    )
    assert only(await run(ctx, fake, {APEX: answer})).evidence["errors"] == ["no_canonical_match"]


async def test_every_reason_and_hint_has_words(ctx, fake):
    """The check's own codes are in its metadata, so reports can explain them."""
    meta = SecurityTxtCheck.meta
    reasons = {"not_found", "status", "empty", "html_page", "not_security_txt", "no_https_site"}
    reasons |= set(check_module._BROKEN_CHAIN.values()) | {"legacy_location", "http_only"}
    for code in reasons:
        words = meta.code_text(code)
        assert words is not None, code
        assert isinstance(words.text, Text) and words.text.complete() and words.fix.complete()


async def test_evidence_is_small_json(ctx, fake):
    import json

    many = "".join(f"Contact: mailto:c{i}@example.test\n" for i in range(100))
    body = many + "Expires: 2020-01-01T00:00:00Z\n" + "rommel\n" * 500
    (expired, invalid) = await run(ctx, fake, {APEX: ok(APEX, body)})
    for finding in (expired, invalid):
        assert isinstance(finding, FindingCandidate)
        text = json.dumps(finding.evidence)
        assert len(text) < 8_000, len(text)
    assert len(invalid.evidence["contacts"]) == 20
    assert invalid.evidence["emails"][0] == "c0@example.test"


async def test_no_hints_when_the_check_is_out_of_time(fake):
    """The verdict is kept; the optional hints are skipped rather than risk the time-out."""
    short = CheckContext(
        settings=Settings(database="sqlite://", check_timeout=0.5),
        dns=None,  # type: ignore[arg-type]
        limits=Limits(2),
        memo=RunMemo(),
        now=NOW,
    )
    finding = only(await run(short, fake, {APEX: ok(APEX, status=404, body="")}))
    assert finding.evidence["reason"] == "not_found" and finding.evidence["hints"] == []
    assert [url for url, _ in fake.asked] == [APEX]


async def test_hints_are_bounded_by_one_connect_and_read_time_out(ctx, fake, monkeypatch):
    deadlines: list[float | None] = []

    async def spy(ctx: CheckContext, url: str, **kwargs: Any) -> FetchResult:
        deadlines.append(kwargs.get("deadline"))
        return await fake(ctx, url, **kwargs)

    monkeypatch.setattr(check_module, "fetch", spy)
    await run(ctx, fake, {APEX: ok(APEX, status=404, body="")})
    settings = ctx.settings
    assert deadlines[0] is None  # the file itself: fetch's own deadline
    assert deadlines[1:] == [settings.connect_timeout + settings.read_timeout] * 2
