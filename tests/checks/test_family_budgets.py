"""Budgets per family: a web server that hangs after a completed (legacy) TLS handshake costs
the web family its time-outs, but the tls family, whose verdict needs the handshakes only, still
reaches its verdict within its own budget."""

from __future__ import annotations

from pathlib import Path

from exposure.app.harness import Lab
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec, Route, SiteSpec

HANG = Route(hang=True)
SITE = SiteSpec(
    tls="1.0-1.1",
    home=HANG,
    routes={"/.well-known/security.txt": HANG, "/security.txt": HANG},
)
AREA = Area(
    companies=[
        CompanySpec(
            "9200",
            "Oude Server BV",
            "info@oldhang.test",
            domains=[DomainSpec("oldhang.test", site=SITE)],
        )
    ]
)


async def test_a_hanging_web_server_with_legacy_tls_still_gets_its_tls_verdict(tmp_path: Path):
    async with Testbed(AREA, shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        try:
            # one HTTP answer (read time-out 2 s) takes longer than the check's budget (1.5 s)
            outcome = await lab.scan(
                checks=["tls", "web", "securitytxt"],
                connect_timeout=1.0,
                read_timeout=2.0,
                check_timeout=1.5,
                dns_timeout=1.0,
            )
        finally:
            lab.close()
    by_subject = outcome.ids_by_subject()
    for host in ("oldhang.test", "www.oldhang.test"):
        assert "tls.protocol.obsolete_only" in by_subject.get(host, set()) or (
            "tls.protocol.legacy" in by_subject.get(host, set())
        ), by_subject
    tls_errors = [(e.target, e.reason, e.message) for e in outcome.errors if e.check_id == "tls"]
    assert tls_errors == []
    # the web family paid for the hanging server: could not test, never a finding about HTTPS
    assert "web.https.missing" not in {row.check_id for row in outcome.findings}
