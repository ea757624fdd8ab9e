"""The security.txt check end to end: the real testbed, the real orchestrator, a real SQLite store.

One simulated port area holds a site for every variant the issue names (valid, signed, CRLF,
each error, expired, wrong content type, a catch-all HTML page, a 60 MB stream, a redirect to
another host, a site that only serves the file over plain http, …). One scan of all of it must
give each of `securitytxt.missing`, `.invalid` and `.expired` to exactly the companies that
deserve it, and nothing to the others. Separate tests cover what a scan cannot show by its
findings: memory stays flat on the 60 MB answer, a redirect into private space is not
followed, could-not-test is a failure and not a finding, a fixed file resolves the finding.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import select

from checks.securitytxt.check import MAX_BYTES, SecurityTxtCheck, emails_from_evidence
from exposure.contract import CheckFailure, FailureReason, FindingCandidate, ScanTarget, TargetKind
from exposure.models import CheckError, Company, Finding, Target
from exposure.registry import Registry
from exposure.scan.orchestrator import Orchestrator, RunSummary
from exposure.settings import load_settings
from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import (
    SECURITY_TXT_PATH,
    Area,
    CompanySpec,
    DomainSpec,
    HttpMode,
    Route,
    SiteSpec,
    security_txt,
)
from tests.checks.securitytxt_corpus import SIGNATURE_DATA
from tests.support import scan_context

pytestmark = pytest.mark.asyncio(loop_scope="module")

MISSING, INVALID, EXPIRED = "securitytxt.missing", "securitytxt.invalid", "securitytxt.expired"
WK = SECURITY_TXT_PATH
BIG = 60 * 1024 * 1024


def signed_security_txt(**kwargs: Any) -> str:
    """A cleartext-signed file around `security_txt()`. The signature block is a real signature
    packet (of other text): the check parses signatures but does not verify them."""
    return (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
        + security_txt(**kwargs)
        + "-----BEGIN PGP SIGNATURE-----\n\n"
        + SIGNATURE_DATA
        + "=L1wF\n-----END PGP SIGNATURE-----\n"
    )


def _file(body: str | bytes, content_type: str = "text/plain; charset=utf-8") -> dict[str, Route]:
    return {WK: Route(body=body, content_type=content_type)}


def _chain(hops: int) -> dict[str, Route]:
    """WK -> /hop1 -> ... -> /file: `hops` redirects in all."""
    paths = [WK, *(f"/hop{i}" for i in range(1, hops)), "/file"]
    return {paths[i]: Route.redirect("{origin}" + paths[i + 1]) for i in range(hops)}


@dataclass(frozen=True)
class Variant:
    """One company with one domain, and what a scan must report for it."""

    company: str
    domain: DomainSpec
    expected: frozenset[str] = frozenset()
    reason: str = ""  # the `reason` of securitytxt.missing
    errors: frozenset[str] = frozenset()  # the codes of securitytxt.invalid
    hints: tuple[str, ...] = ()
    failure: bool = False  # could not test: a CheckError, no finding


def _v(company: str, domain: DomainSpec, *expected: str, **kwargs: Any) -> Variant:
    errors = frozenset(kwargs.pop("errors", ()))
    return Variant(company, domain, frozenset(expected), errors=errors, **kwargs)


def _site(name: str, **site: Any) -> DomainSpec:
    return DomainSpec(name, site=SiteSpec(**site))


#: Time-outs that stay clear of a busy machine (a CI runner, other test processes): a slow DNS
#: answer must not turn a verdict into "could not test". The hanging site costs `connect_timeout`.
PATIENT: dict[str, Any] = {
    "connect_timeout": 2.0,
    "read_timeout": 3.0,
    "dns_timeout": 3.0,
    "dns_tries": 2,
}
LONG = datetime.now(UTC) + timedelta(days=400)
PADDING = ("# " + "opvulling " * 12 + "\n") * 2000  # 246 KB of comments: over the cap
VARIANTS: tuple[Variant, ...] = (
    # --- nothing to report ---------------------------------------------------------------------
    _v("ok-valid", _site("valid.test", routes=_file(security_txt()))),
    _v("ok-signed", _site("signed.test", routes=_file(signed_security_txt()))),
    _v("ok-crlf", _site("crlf.test", routes=_file(security_txt().replace("\n", "\r\n")))),
    _v(
        "ok-comments",
        _site("comments.test", routes=_file("# Meldpunt-lid\n" + security_txt() + "# einde\n")),
    ),
    _v("ok-long-expiry", _site("long.test", routes=_file(security_txt(expires=LONG)))),
    _v(
        "ok-redirect-other-host",
        _site(
            "redirect-other.test",
            routes={WK: Route.redirect("https://central-security.test/.well-known/security.txt")},
        ),
    ),
    _v("ok-central", _site("central-security.test", routes=_file(security_txt()))),
    _v(
        "ok-redirect-to-legacy-path",
        _site(
            "to-legacy.test",
            routes={
                WK: Route.redirect("{origin}/security.txt"),
                "/security.txt": Route.text(security_txt()),
            },
        ),
    ),
    _v(
        "ok-www-only",
        DomainSpec(
            "www-only.test", site=None, subsites={"www": SiteSpec(routes=_file(security_txt()))}
        ),
    ),
    _v(
        "ok-five-redirects",
        _site("five-hops.test", routes=_chain(5) | {"/file": Route.text(security_txt())}),
    ),
    _v("ok-no-site", DomainSpec("mail-only.test", site=None, mx=["10 mx.mail-only.test"])),
    _v("ok-nxdomain", DomainSpec("gone.test", nxdomain=True, site=None)),
    # --- missing -------------------------------------------------------------------------------
    _v("m-none", _site("none.test"), MISSING, reason="not_found"),
    _v("m-catch-all", _site("catchall.test", catch_all=True), MISSING, reason="html_page"),
    _v(
        "m-html-as-text",
        _site(
            "html-as-text.test",
            routes=_file("<!DOCTYPE html>\n<html><body><h1>Welkom</h1>Contact: 010-1234567</body>"),
        ),
        MISSING,
        reason="html_page",
    ),
    _v("m-empty", _site("empty.test", routes=_file("")), MISSING, reason="empty"),
    _v(
        "m-not-a-file",
        _site("junk.test", routes=_file("Deze pagina bestaat niet.\n")),
        MISSING,
        reason="not_security_txt",
    ),
    _v(
        "m-60mb",
        _site("big.test", routes={WK: Route.stream(BIG)}),
        MISSING,
        reason="not_security_txt",
    ),
    _v(
        "m-legacy-only",
        _site("legacy-only.test", routes={"/security.txt": Route.text(security_txt())}),
        MISSING,
        reason="not_found",
        hints=("legacy_location",),
    ),
    _v(
        "m-http-only",
        _site("http-only.test", https=False, http=HttpMode.PLAIN, routes=_file(security_txt())),
        MISSING,
        reason="no_https_site",
        hints=("http_only",),
    ),
    _v(
        "m-no-https-at-all",
        _site("plain-site.test", https=False, http=HttpMode.PLAIN),
        MISSING,
        reason="no_https_site",
    ),
    _v(
        "m-redirect-to-http",
        _site(
            "to-http.test",
            http=HttpMode.PLAIN,
            routes={
                WK: Route.redirect("http://{host}/security.txt"),
                "/security.txt": Route.text(security_txt()),
            },
        ),
        MISSING,
        reason="redirect_to_http",
    ),
    _v(
        "m-redirect-loop",
        _site("loop.test", routes={WK: Route.redirect("{origin}/.well-known/security.txt")}),
        MISSING,
        reason="too_many_redirects",
    ),
    _v(
        "m-redirect-dead",
        _site("dead-end.test", routes={WK: Route.redirect("https://nowhere.test/security.txt")}),
        MISSING,
        reason="redirect_failed",
    ),
    _v(
        "m-six-redirects",
        _site("six-hops.test", routes=_chain(6) | {"/file": Route.text(security_txt())}),
        MISSING,
        reason="too_many_redirects",
    ),
    _v(
        "m-gone",
        _site("gone-410.test", routes={WK: Route(status=410)}),
        MISSING,
        reason="not_found",
    ),
    _v(
        "m-forbidden",
        _site("forbidden.test", routes={WK: Route.html("<h1>403</h1>", status=403)}),
        MISSING,
        reason="status",
    ),
    _v(
        "m-www-fallback",
        DomainSpec("www-missing.test", site=None, subsites={"www": SiteSpec()}),
        MISSING,
        reason="not_found",
    ),
    # --- invalid -------------------------------------------------------------------------------
    _v(
        "i-html-content-type",
        _site("wrong-type.test", routes=_file(security_txt(), "text/html; charset=utf-8")),
        INVALID,
        errors={"invalid_media"},
    ),
    _v(
        "i-charset",
        _site("charset.test", routes=_file(security_txt(), "text/plain; charset=iso-8859-1")),
        INVALID,
        errors={"invalid_charset"},
    ),
    _v(
        "i-no-contact",
        _site("no-contact.test", routes=_file(security_txt(contact=None))),
        INVALID,
        errors={"no_contact"},
    ),
    _v(
        "i-no-expires",
        _site("no-expires.test", routes=_file(security_txt(expires="omit"))),
        INVALID,
        errors={"no_expire"},
    ),
    _v(
        "i-bom",
        _site(
            "bom.test",
            routes=_file(
                b"\xef\xbb\xbf" + security_txt("mailto:security@bom.test", canonical=None).encode()
            ),
        ),
        INVALID,
        errors={"bom_in_file"},
    ),
    _v(
        "i-canonical",
        _site(
            "canonical.test",
            routes=_file(security_txt(canonical="https://elders.test/.well-known/security.txt")),
        ),
        INVALID,
        errors={"no_canonical_match"},
    ),
    _v(
        "i-contact-without-mailto",
        _site("no-mailto.test", routes=_file(security_txt(contact="security@{host}"))),
        INVALID,
        errors={"no_uri"},
    ),
    _v(
        "i-self-signed",
        _site("self-signed.test", cert="self_signed", routes=_file(security_txt())),
        INVALID,
        errors={"invalid_cert"},
    ),
    _v(
        "i-legacy-tls-only",
        _site("tls10.test", tls="1.0-1.1", routes=_file(security_txt())),
        INVALID,
        errors={"invalid_cert"},
    ),
    _v(
        "i-signed-broken",
        _site(
            "signed-broken.test",
            routes=_file(signed_security_txt().replace("-----END PGP SIGNATURE-----\n", "")),
        ),
        INVALID,
        errors={"pgp_data_error"},
    ),
    _v(
        "i-too-large",
        _site("too-large.test", routes=_file(security_txt() + PADDING)),
        INVALID,
        errors={"too_large"},
    ),
    # --- expired -------------------------------------------------------------------------------
    _v("e-expired", _site("expired.test", routes=_file(security_txt(expires="past"))), EXPIRED),
    _v(
        "e-expired-and-invalid",
        _site("expired-bad.test", routes=_file(security_txt(contact=None, expires="past"))),
        EXPIRED,
        INVALID,
        errors={"no_contact"},
    ),
    _v(
        "e-expired-signed",
        _site("expired-signed.test", routes=_file(signed_security_txt(expires="past"))),
        EXPIRED,
    ),
    # --- could not test ------------------------------------------------------------------------
    _v("f-hang", _site("hang.test", hang=True), failure=True),
    _v("f-reset", _site("reset.test", reset=True), failure=True),
    _v(
        "f-rate-limited",
        _site("busy.test", routes={WK: Route(status=429, body="slow down")}),
        failure=True,
    ),
    _v(
        "f-server-error",
        _site("broken.test", routes={WK: Route(status=503, body="busy")}),
        failure=True,
    ),
)


def _area() -> Area:
    return Area(
        companies=[
            CompanySpec(v.company, f"{v.company} B.V.", f"info@{v.domain.name}", domains=[v.domain])
            for v in VARIANTS
        ]
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tb() -> AsyncIterator[Testbed]:
    async with Testbed(_area(), shodan=False) as bed:
        yield bed


def _settings(tb: Testbed, database: str, **extra: Any) -> Any:
    values: dict[str, Any] = {
        **tb.settings_overrides(),
        "database": database,
        **PATIENT,
        "check_timeout": 20.0,
    } | extra
    return load_settings(**values)


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with session_scope(engine) as session:
        for v in VARIANTS:
            session.add(Company(id=v.company, name=v.company, email="it@example.test"))
        session.flush()
        for v in VARIANTS:
            session.add(Target(company_id=v.company, kind="domain", value=v.domain.ascii))
    return engine


@dataclass
class Scan:
    engine: Engine
    summary: RunSummary
    database: str

    def findings(self) -> dict[str, dict[str, Finding]]:
        found: dict[str, dict[str, Finding]] = {v.company: {} for v in VARIANTS}
        with session_scope(self.engine) as session:
            for f in session.exec(select(Finding)).all():
                found[f.company_id][f.check_id] = f
        return found

    def errors(self) -> dict[str, list[CheckError]]:
        found: dict[str, list[CheckError]] = {}
        with session_scope(self.engine) as session:
            for e in session.exec(select(CheckError)).all():
                found.setdefault(e.company_id, []).append(e)
        return found


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scan(tb: Testbed, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scan]:
    path = tmp_path_factory.mktemp("securitytxt") / "exposure.db"
    engine = _engine(path)
    database = f"sqlite:///{path}"
    orchestrator = Orchestrator(_settings(tb, database), Registry((SecurityTxtCheck(),)), engine)
    summary = await orchestrator.scan()
    yield Scan(engine, summary, database)
    engine.dispose()


# --- one scan, every variant -----------------------------------------------------------------------


async def test_each_id_for_exactly_the_sites_that_deserve_it(scan: Scan):
    found = scan.findings()
    for variant in VARIANTS:
        assert set(found[variant.company]) == variant.expected, (
            variant.company,
            {k: (f.detail, f.evidence) for k, f in found[variant.company].items()},
        )
    assert scan.summary.status == "complete"


@pytest.mark.parametrize(
    "variant", [v for v in VARIANTS if MISSING in v.expected], ids=lambda v: v.company
)
async def test_missing_says_why(scan: Scan, variant: Variant):
    finding = scan.findings()[variant.company][MISSING]
    assert finding.evidence["reason"] == variant.reason, finding.evidence
    assert finding.evidence.get("hints", []) == list(variant.hints), finding.evidence
    assert finding.target == variant.domain.ascii


@pytest.mark.parametrize(
    "variant", [v for v in VARIANTS if INVALID in v.expected], ids=lambda v: v.company
)
async def test_invalid_lists_the_codes(scan: Scan, variant: Variant):
    finding = scan.findings()[variant.company][INVALID]
    assert set(finding.evidence["errors"]) == variant.errors, finding.evidence
    assert "expired" not in finding.evidence["errors"]
    assert finding.severity == "medium"


async def test_could_not_test_is_a_check_error_not_a_finding(scan: Scan):
    errors = scan.errors()
    failing = {v.company for v in VARIANTS if v.failure}
    assert set(errors) == failing, {k: [e.message for e in v] for k, v in errors.items()}
    reasons = {company: {e.reason for e in errs} for company, errs in errors.items()}
    assert reasons["f-hang"] == {"timeout"}
    assert reasons["f-server-error"] == {"protocol_error"}
    assert reasons["f-rate-limited"] == {"rate_limited"}


async def test_a_catch_all_page_is_not_mistaken_for_a_security_txt(scan: Scan):
    finding = scan.findings()["m-catch-all"][MISSING]
    assert finding.evidence["status"] == 200
    assert finding.evidence["content_type"].startswith("text/html")
    assert "errors" not in finding.evidence


async def test_the_60_mb_answer_is_cut_at_the_cap(scan: Scan):
    finding = scan.findings()["m-60mb"][MISSING]
    assert finding.evidence["truncated"] is True
    assert finding.evidence["bytes_read"] == MAX_BYTES


async def test_expired_evidence_keeps_the_contacts(scan: Scan):
    finding = scan.findings()["e-expired"][EXPIRED]
    evidence = finding.evidence
    assert evidence["errors"] == ["expired"]
    assert emails_from_evidence(evidence) == ("security@expired.test",)
    assert evidence["contacts"] == ["mailto:security@expired.test"]
    expires = datetime.fromisoformat(evidence["expires"])
    assert expires < datetime.now(UTC)
    assert "not_signed" in evidence["recommendations"]


async def test_expired_and_invalid_split_the_causes(scan: Scan):
    found = scan.findings()["e-expired-and-invalid"]
    assert found[EXPIRED].evidence["errors"] == ["expired"]
    assert [e["code"] for e in found[EXPIRED].evidence["error_lines"]] == ["expired"]
    assert found[INVALID].evidence["errors"] == ["no_contact"]
    assert [e["code"] for e in found[INVALID].evidence["error_lines"]] == ["no_contact"]


async def test_signed_expired_file_is_parsed_as_signed(scan: Scan):
    evidence = scan.findings()["e-expired-signed"][EXPIRED].evidence
    assert evidence["signed"] is True
    assert "not_signed" not in evidence["recommendations"]


async def test_redirect_to_another_host_is_followed_and_judged(tb: Testbed):
    async with scan_context(tb, **PATIENT) as ctx:
        target = ScanTarget("x", TargetKind.DOMAIN, "redirect-other.test")
        assert await SecurityTxtCheck().run(target, ctx) == []
        target = ScanTarget("x", TargetKind.DOMAIN, "canonical.test")
        (finding,) = await SecurityTxtCheck().run(target, ctx)
    assert isinstance(finding, FindingCandidate)
    assert finding.evidence["canonical"] == ["https://elders.test/.well-known/security.txt"]


# --- memory --------------------------------------------------------------------------------------


async def test_a_60_mb_answer_costs_100_kib_not_60_mb(tb: Testbed):
    target = ScanTarget("m-60mb", TargetKind.DOMAIN, "big.test")
    async with scan_context(tb, **PATIENT) as ctx:
        check = SecurityTxtCheck()
        await check.run(target, ctx)  # warm up: TLS contexts, DNS cache, imports
        gc.collect()
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            baseline, _ = tracemalloc.get_traced_memory()
            observations = await check.run(target, ctx)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    (finding,) = observations
    assert isinstance(finding, FindingCandidate)
    assert finding.evidence["bytes_read"] == MAX_BYTES
    # The body cap is 100 KiB; everything else (httpx, TLS, parsing) is small and bounded.
    assert peak - baseline < 3 * 1024 * 1024, f"peak {(peak - baseline) / 1024:.0f} KiB"


# --- scope: never into private space ---------------------------------------------------------------


def _ip(tb: Testbed, host: str) -> str:
    assert tb.layout is not None
    found = tb.layout.host_site(host)
    assert found is not None
    return found.ip


async def test_a_redirect_into_private_space_is_not_followed(tb: Testbed):
    private = _ip(tb, "central-security.test")  # stands for 10.0.0.1 in this test
    before = tb.counters().http_requests.get("central-security.test", 0)
    check = SecurityTxtCheck(allowed=lambda ip: ip != private)
    async with scan_context(tb, **PATIENT) as ctx:
        target = ScanTarget("x", TargetKind.DOMAIN, "redirect-other.test")
        (finding,) = await check.run(target, ctx)
    assert isinstance(finding, FindingCandidate)
    assert finding.check_id == MISSING
    assert finding.evidence["reason"] == "redirect_private"
    assert tb.counters().http_requests.get("central-security.test", 0) == before


async def test_a_domain_in_private_space_is_out_of_scope_not_missing(tb: Testbed):
    check = SecurityTxtCheck(allowed=lambda ip: False)
    async with scan_context(tb, **PATIENT) as ctx:
        target = ScanTarget("x", TargetKind.DOMAIN, "valid.test")
        (failure,) = await check.run(target, ctx)
    assert isinstance(failure, CheckFailure)
    assert failure.reason is FailureReason.OUT_OF_SCOPE


async def test_allow_private_off_keeps_the_lab_out_of_scope(tb: Testbed):
    async with scan_context(tb, allow_private=False, **PATIENT) as ctx:
        target = ScanTarget("x", TargetKind.DOMAIN, "valid.test")
        (failure,) = await SecurityTxtCheck().run(target, ctx)
    assert isinstance(failure, CheckFailure)
    assert failure.reason is FailureReason.OUT_OF_SCOPE


# --- the lifecycle: a fixed file resolves, a broken one reopens ---------------------------------------


async def test_fixing_the_file_resolves_the_finding(tb: Testbed, tmp_path: Path):
    engine = _engine(tmp_path / "lifecycle.db")
    database = f"sqlite:///{tmp_path / 'lifecycle.db'}"
    orchestrator = Orchestrator(_settings(tb, database), Registry((SecurityTxtCheck(),)), engine)
    assert tb.web is not None
    original = SiteSpec(routes=_file(security_txt(contact=None)))
    try:
        first = await orchestrator.scan(company_ids=["i-no-contact"])
        assert first.stats.new == 1
        await tb.web.set_site("no-contact.test", SiteSpec(routes=_file(security_txt())))
        second = await orchestrator.scan(company_ids=["i-no-contact"])
        assert (second.stats.new, second.stats.resolved) == (0, 1)
        await tb.web.set_site("no-contact.test", original)
        third = await orchestrator.scan(company_ids=["i-no-contact"])
        assert third.stats.reopened == 1
    finally:
        await tb.web.set_site("no-contact.test", original)
        engine.dispose()


# --- the demo area ---------------------------------------------------------------------------------


async def test_the_demo_area_gets_exactly_its_expected_securitytxt_ids(tmp_path: Path):
    """`exposure demo` checks itself against EXPECTED; for this family the match is exact."""
    from exposure.testbed.area_demo import EXPECTED, demo_area

    area = demo_area()
    async with Testbed(area, shodan=False) as demo:
        engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
        migrate(engine)
        with session_scope(engine) as session:
            for company in area.companies:
                session.add(Company(id=company.id, name=company.name, email="it@example.test"))
            session.flush()
            for company in area.companies:
                for domain in company.domains:
                    session.add(Target(company_id=company.id, kind="domain", value=domain.ascii))
        settings = _settings(demo, f"sqlite:///{tmp_path / 'demo.db'}")
        await Orchestrator(settings, Registry((SecurityTxtCheck(),)), engine).scan()
        with session_scope(engine) as session:
            rows = session.exec(select(Finding)).all()
            found: dict[str, set[str]] = {c.id: set() for c in area.companies}
            evidence = {}
            for row in rows:
                found[row.company_id].add(row.check_id)
                evidence[(row.company_id, row.check_id)] = row.evidence
        engine.dispose()
    expected = {
        company: {i for i in ids if i.startswith("securitytxt.")}
        for company, ids in EXPECTED.items()
    }
    assert found == expected
    assert evidence[("58120011", MISSING)]["hints"] == ["http_only"]
    assert evidence[("58120008", MISSING)]["reason"] == "html_page"
    assert set(evidence[("58120012", INVALID)]["errors"]) == {"invalid_cert", "no_contact"}
