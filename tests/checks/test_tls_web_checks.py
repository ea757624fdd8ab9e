"""The `tls` and `web` families end to end: testbed sites of every defect, the real orchestrator
and a real SQLite store, asserted in both directions (each id on exactly the hosts with that
defect, nothing on the correct hosts), plus could-not-test, handshake counts and politeness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from exposure.app.harness import Lab, ScanOutcome
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import (
    HSTS_SHORT,
    Area,
    CompanySpec,
    DomainSpec,
    HttpMode,
    SiteSpec,
)

SHARED = "shared-hosting"

# host -> (site, on the shared IP?)
SITES: dict[str, tuple[SiteSpec, bool]] = {
    "good.test": (SiteSpec(), False),
    "good-shared.test": (SiteSpec(), True),
    "ec.test": (SiteSpec(cert="ec"), True),
    "tls13.test": (SiteSpec(tls="1.3"), False),
    "expired.test": (SiteSpec(cert="expired"), True),
    "notyet.test": (SiteSpec(cert="not_yet_valid"), False),
    "expiring.test": (SiteSpec(cert="expiring:5"), True),
    "wronghost.test": (SiteSpec(cert="wrong_host"), True),
    "selfsigned.test": (SiteSpec(cert="self_signed"), False),
    "unknownca.test": (SiteSpec(cert="unknown_ca"), False),
    "nointermediate.test": (SiteSpec(cert="missing_intermediate"), True),
    "weakkey.test": (SiteSpec(cert="weak_key"), False),
    "sha1.test": (SiteSpec(cert="sha1"), True),
    "legacy.test": (SiteSpec(tls="1.0-1.1"), False),
    "legacy-shared.test": (SiteSpec(tls="1.0-1.1"), True),
    "mixed.test": (SiteSpec(tls="1.0-1.3"), True),
    "nohttps.test": (SiteSpec(https=False, http=HttpMode.PLAIN, hsts=None), False),
    "plain.test": (SiteSpec(http=HttpMode.PLAIN), False),
    "other.test": (SiteSpec(http=HttpMode.REDIRECT_OTHER), True),
    "hsts-short.test": (SiteSpec(hsts=HSTS_SHORT), False),
    "hsts-none.test": (SiteSpec(hsts=None), True),
    "absent80.test": (SiteSpec(http=HttpMode.ABSENT), False),
    "hang.test": (SiteSpec(hang=True), False),
    "reset.test": (SiteSpec(reset=True), False),
}

# what each apex host must get (www.<apex> gets the same unless WWW says otherwise)
EXPECTED: dict[str, set[str]] = {
    "good.test": set(),
    "good-shared.test": set(),
    "ec.test": set(),
    "tls13.test": set(),
    "expired.test": {"tls.cert.expired"},
    "notyet.test": {"tls.cert.not_yet_valid"},
    "expiring.test": {"tls.cert.expiring"},
    "wronghost.test": {"tls.cert.hostname_mismatch"},
    "selfsigned.test": {"tls.cert.untrusted"},
    "unknownca.test": {"tls.cert.untrusted"},
    "nointermediate.test": {"tls.cert.untrusted"},
    "weakkey.test": {"tls.cert.weak_key"},
    "sha1.test": {"tls.cert.weak_signature"},
    # TLS 1.0-1.1 only: no browser opens it; "switch off 1.0/1.1" would leave nothing
    "legacy.test": {"tls.protocol.obsolete_only"},
    "legacy-shared.test": {"tls.protocol.obsolete_only"},
    "mixed.test": {"tls.protocol.legacy"},
    "nohttps.test": {"web.https.missing"},
    "plain.test": {"web.https.no_redirect"},
    "other.test": {"web.https.no_redirect"},  # first hop: http://www.other.test/
    "hsts-short.test": {"web.hsts.missing"},
    "hsts-none.test": {"web.hsts.missing"},
    "absent80.test": set(),  # nothing on port 80 (own address): nothing to redirect
    "hang.test": set(),
    "reset.test": set(),
}
WWW: dict[str, set[str]] = {
    "www.other.test": set(),  # www redirects to https on itself
}
FAMILY_IDS = {
    "tls.cert.expired",
    "tls.cert.expiring",
    "tls.cert.not_yet_valid",
    "tls.cert.hostname_mismatch",
    "tls.cert.untrusted",
    "tls.cert.weak_key",
    "tls.cert.weak_signature",
    "tls.protocol.legacy",
    "tls.protocol.obsolete_only",
    "web.https.missing",
    "web.https.no_redirect",
    "web.hsts.missing",
}


def area() -> Area:
    companies = []
    for index, (name, (site, shared)) in enumerate(SITES.items()):
        a = [SHARED] if shared else "auto"
        domain = DomainSpec(name, a=a, site=site)
        companies.append(
            CompanySpec(f"{9000 + index}", f"Company {name}", f"info@{name}", domains=[domain])
        )
    return Area(companies=companies)


def expected_by_subject() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for apex, ids in EXPECTED.items():
        result[apex] = set(ids)
        result[f"www.{apex}"] = set(WWW.get(f"www.{apex}", ids))
    return result


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def testbed() -> AsyncIterator[Testbed]:
    async with Testbed(area(), shodan=False) as tb:
        yield tb


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scanned(
    testbed: Testbed, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Lab, ScanOutcome]]:
    lab = Lab(testbed, Path(tmp_path_factory.mktemp("lab")))
    testbed.reset_counters()
    outcome = await lab.scan(
        checks=["tls", "web"], connect_timeout=1.0, read_timeout=1.0, dns_timeout=1.0
    )
    yield lab, outcome
    lab.close()


pytestmark = pytest.mark.asyncio(loop_scope="module")


def _ids(outcome: ScanOutcome) -> dict[str, set[str]]:
    found = {subject: set() for subject in expected_by_subject()}
    for subject, ids in outcome.ids_by_subject().items():
        found.setdefault(subject, set()).update(ids & FAMILY_IDS)
    return found


async def test_each_id_on_exactly_the_hosts_with_that_defect(scanned):
    _, outcome = scanned
    assert outcome.summary.status == "complete"
    assert _ids(outcome) == expected_by_subject()


@pytest.mark.parametrize("finding_id", sorted(FAMILY_IDS))
async def test_both_directions_per_id(scanned, finding_id: str):
    """Per id: reported for these hosts and for no other (the correct hosts included)."""
    _, outcome = scanned
    expected = {s for s, ids in expected_by_subject().items() if finding_id in ids}
    assert expected, f"the testbed has no host with {finding_id}"
    assert outcome.subjects_with(finding_id) == expected


async def test_hang_and_reset_are_could_not_test(scanned):
    _, outcome = scanned
    errors = {(e.target, e.check_id, e.reason) for e in outcome.errors}
    for host in ("hang.test", "www.hang.test"):
        assert (host, "tls", "timeout") in errors
        assert (host, "web", "timeout") in errors
    for host in ("reset.test", "www.reset.test"):
        assert (host, "tls", "protocol_error") in errors
        assert any(t == host and c == "web" for t, c, _ in errors)
    failing = {"hang.test", "www.hang.test", "reset.test", "www.reset.test"}
    assert {e.target for e in outcome.errors} == failing
    for error in outcome.errors:
        if error.check_id == "tls":
            assert set(error.finding_ids) >= {
                "tls.cert.expired",
                "tls.protocol.legacy",
                "tls.protocol.obsolete_only",
            }


async def test_handshakes_per_host_are_minimal(scanned):
    """One completed handshake per host, two where legacy TLS is also accepted (the testbed
    counts completed handshakes by SNI; the refused legacy ClientHello completes nothing)."""
    lab, _ = scanned
    counts = lab.testbed.counters().tls_handshakes
    tls = scanned[1].summary.tls
    assert tls["repeated"] == 0 and tls["handshakes_per_name"] <= 2
    # apex and www of every site, except nohttps.test whose port 443 refuses TCP (no ClientHello),
    # and one name of hang.test: once one handshake of the site hung, its address is not asked
    # again for that site within the run (`exposure.net.politeness.SilentAddresses`)
    assert tls["names"] == 2 * (len(SITES) - 1) - 1
    for apex, (site, _) in SITES.items():
        if site.hang or site.reset or not site.https:
            assert counts.get(apex, 0) == 0
            continue
        both = site.tls_versions.legacy and site.tls_versions.maximum.name >= "TLSv1_2"
        for host in (apex, f"www.{apex}"):
            assert counts.get(host, 0) == (2 if both else 1), host


async def test_evidence_a_person_can_act_on(scanned):
    _, outcome = scanned
    rows = {(r.target, r.check_id): r for r in outcome.findings}
    expired = rows[("expired.test", "tls.cert.expired")].evidence
    cert = expired["certificate"]
    assert cert["days_left"] < 0 and cert["not_after"].endswith("Z")
    assert cert["san"] == ["expired.test", "www.expired.test"]
    assert cert["key"] == "RSA-2048" and cert["signature_algorithm"] == "sha256WithRSAEncryption"
    assert expired["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert expired["verification"] == {"trusted": True, "path": expired["verification"]["path"]}
    assert expired["url"].startswith("https://expired.test")
    assert expired["addresses"] == [lab_ip(scanned, "expired.test")]

    missing = rows[("nointermediate.test", "tls.cert.untrusted")].evidence
    assert missing["verification"]["problem"] == missing["reason"] == "issuer_not_found"
    assert "intermediate" in missing["verification"]["reason"]
    selfsigned = rows[("selfsigned.test", "tls.cert.untrusted")].evidence
    assert selfsigned["verification"]["problem"] == "self_signed"

    weak = rows[("weakkey.test", "tls.cert.weak_key")].evidence
    assert weak["weak"] == [
        {"certificate": "leaf", "subject": weak["certificate"]["subject"], "key": "RSA-1024"}
    ]
    sha1 = rows[("sha1.test", "tls.cert.weak_signature")].evidence
    assert sha1["weak"][0]["signature_algorithm"] == "sha1WithRSAEncryption"

    mismatch = rows[("wronghost.test", "tls.cert.hostname_mismatch")].evidence
    assert mismatch["certificate"]["san"] == ["shared-hosting.example"]

    legacy = rows[("legacy.test", "tls.protocol.obsolete_only")].evidence
    assert legacy["legacy_version"] == "TLSv1.1"
    assert legacy["best_version"].startswith("none")
    assert ("legacy.test", "tls.protocol.legacy") not in rows
    mixed = rows[("mixed.test", "tls.protocol.legacy")].evidence
    assert mixed["best_version"] == "TLSv1.3"

    other = rows[("other.test", "web.https.no_redirect")].evidence
    assert other["reason"] == "redirect_to_http" and "www.other.test" in other["location"]
    plain = rows[("plain.test", "web.https.no_redirect")].evidence
    assert plain["reason"] == "no_redirect" and plain["status"] == 200

    short = rows[("hsts-short.test", "web.hsts.missing")].evidence
    assert short["max_age"] == 300 and short["header"] == HSTS_SHORT
    assert short["reason"] == "short_max_age"
    none = rows[("hsts-none.test", "web.hsts.missing")].evidence
    assert none["header"] is None and none["reason"] == "no_header"

    nohttps = rows[("nohttps.test", "web.https.missing")].evidence
    assert nohttps["http_status"] == 200 and nohttps["https"]["failure"] == "refused"


def lab_ip(scanned, host: str) -> str:
    lab, _ = scanned
    found = lab.testbed.layout.host_site(host)
    return found.ip


async def test_a_second_run_sees_the_same_and_a_fix_resolves(scanned, testbed: Testbed):
    lab, first = scanned
    await testbed.web.set_site("expired.test", SiteSpec())
    await testbed.web.set_site("www.expired.test", SiteSpec())
    again = await lab.scan(
        checks=["tls", "web"], connect_timeout=1.0, read_timeout=1.0, dns_timeout=1.0
    )
    assert again.subjects_with("tls.cert.expired") == set()
    assert again.summary.stats.resolved == 2
    assert again.summary.stats.new == 0
    others = {k: v for k, v in _ids(again).items() if "expired" not in k}
    assert others == {k: v for k, v in expected_by_subject().items() if "expired" not in k}
    del first


async def test_every_evidence_code_has_words(scanned):
    """Reports explain `reason` codes through the registry (`CheckMeta.codes`)."""
    from exposure.registry import load

    registry = load()
    _, outcome = scanned
    for row in outcome.findings:
        code = row.evidence.get("reason")
        if code and row.check_id in FAMILY_IDS:
            words = registry.code_text(row.check_id, code)
            assert words is not None and words.text.complete(), (row.check_id, code)
