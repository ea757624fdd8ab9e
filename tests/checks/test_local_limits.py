"""A local limit is never a verdict about the member: a site whose certificate is bigger than
what our TLS client takes by default (5,002 names, ~110 KB; OpenSSL stops at 100 KB)
is judged like any other; beyond our own (raised) limit it is "could not test", not
`web.https.missing`."""

from __future__ import annotations

from pathlib import Path

import pytest

from exposure.app.harness import Lab
from exposure.net import certlimit
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec, SiteSpec

AREA = Area(
    companies=[
        CompanySpec(
            "9100",
            "Grote Certificaten BV",
            "info@huge.test",
            domains=[DomainSpec("huge.test", site=SiteSpec(cert="huge"))],
        )
    ]
)
FAMILIES = ["tls", "web", "securitytxt"]


async def _scan(tmp_path: Path):
    async with Testbed(AREA, shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        try:
            return await lab.scan(
                checks=FAMILIES, connect_timeout=2.0, read_timeout=2.0, dns_timeout=1.0
            )
        finally:
            lab.close()


async def test_a_site_with_a_huge_certificate_is_judged_like_any_other(tmp_path):
    outcome = await _scan(tmp_path)
    ids = {row.check_id for row in outcome.findings}
    assert "web.https.missing" not in ids
    assert not {i for i in ids if i.startswith("tls.")}  # a valid certificate, modern TLS
    assert "securitytxt.missing" in ids  # the site has none: the visit got through
    assert not [e for e in outcome.errors if e.target.endswith("huge.test")], outcome.errors


async def test_beyond_our_own_limit_it_is_could_not_test(tmp_path, monkeypatch):
    monkeypatch.setattr(certlimit, "MAX_CERT_LIST", 64 * 1024)
    outcome = await _scan(tmp_path)
    ids = {row.check_id for row in outcome.findings}
    assert "web.https.missing" not in ids
    assert "securitytxt.missing" not in ids
    reasons = {e.reason for e in outcome.errors}
    assert reasons == {"local_limit"}, [(e.check_id, e.reason, e.message) for e in outcome.errors]


@pytest.mark.parametrize("limit", [0, -1])
def test_a_bad_limit_is_refused(limit):
    import ssl

    with pytest.raises(ValueError):
        certlimit.allow_certificates(ssl.create_default_context(), limit)
