"""A confirmed discovered name is a `host` target (issue #22): a machine, not a registered domain.

Only the checks that look at the host itself apply (tls, web, shodan); the mail, DNS and
security.txt families belong to the registered domain, and on `vpn.haven.test` they would report
"no SPF", "no DMARC", "no DNSSEC" about a VPN gateway. A host's website is its own name only
(no `www.vpn.haven.test`), and a host with no website at all, or whose name has gone, says so
(`web.site.none`) instead of passing a website nobody visited. Real testbed DNS, TLS and HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from exposure.app.harness import Lab
from exposure.contract import TargetKind
from exposure.models import Target
from exposure.registry import load
from exposure.store.db import session
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec, HostSpec, SiteSpec
from exposure.testbed.smtp import MailHostSpec

COMPANY = "2001"
VPN = "vpn.haven.test"  # a log-in page with an expired certificate and no HSTS
PORTAL = "portal.haven.test"  # a well-kept site
MAIL = "mail.haven.test"  # the mail server: nothing on the web ports
GONE = "old.haven.test"  # confirmed once, its name has gone from DNS since

AREA = Area(
    companies=[
        CompanySpec(
            COMPANY,
            "Sleepdienst Haven",
            "ict@haven.test",
            domains=[
                DomainSpec(
                    "haven.test",
                    mx=[f"10 {MAIL}"],
                    txt=["v=spf1 mx -all"],
                    dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@haven.test",
                    elsewhere=[
                        HostSpec("vpn", "office", site=SiteSpec(cert="expired", hsts=None)),
                        HostSpec("portal", "office-2", site=SiteSpec()),
                    ],
                )
            ],
            mail_hosts=[MailHostSpec(MAIL)],
        )
    ]
)
HOSTS = (VPN, PORTAL, MAIL, GONE)


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    async with Testbed(AREA) as tb:
        lab = Lab(tb, tmp_path)
        with session(lab.engine) as db:
            for name in HOSTS:
                db.add(Target(company_id=COMPANY, kind="host", value=name, origin="discovered"))
        yield lab
        lab.close()


def test_only_the_families_that_look_at_the_host_itself_apply() -> None:
    applying = {c.meta.id for c in load().checks if TargetKind.HOST in c.meta.target_kinds}
    assert applying == {"tls", "web", "shodan"}


async def test_a_host_gets_its_own_website_checks_and_nothing_of_a_domain(lab: Lab) -> None:
    outcome = await lab.scan(dns_timeout=0.5, dns_tries=1)
    by_subject = outcome.ids_by_subject()
    # the defects of the VPN's log-in page are found on the host's own name ...
    assert {"tls.cert.expired", "web.hsts.missing"} <= by_subject[VPN]
    # ... and no www. of a host is visited or judged
    assert not [s for s in by_subject if s.startswith("www.") and s != "www.haven.test"]
    # a well-kept host site passes: nothing on it
    assert PORTAL not in by_subject
    # no mail, DNS or security.txt verdict on a host target, and no could-not-test either (the
    # MX host's DANE finding belongs to the domain haven.test, whose mail it carries)
    with session(lab.engine) as db:
        host_ids = {t.id for t in db.exec(select(Target).where(Target.kind == "host"))}
    on_hosts = {f.check_id for f in outcome.findings if f.target_id in host_ids}
    assert on_hosts and all(i.startswith(("tls.", "web.", "exposure.")) for i in on_hosts)
    errors = [e for e in outcome.errors if e.target_id in host_ids]
    assert {e.check_id for e in errors} <= {"tls", "web", "shodan"}, errors
    # the registered domain still gets its mail and DNS checks
    assert any(i.startswith("dns.") for i in by_subject["haven.test"])


async def test_a_host_without_a_website_says_so_instead_of_passing(lab: Lab) -> None:
    outcome = await lab.scan(checks=["tls", "web"], dns_timeout=0.5, dns_tries=1)
    no_site = outcome.subjects_with("web.site.none")
    # nothing listens on the mail server's web ports; the old name has no address at all
    assert {MAIL, GONE} <= no_site
    # a host with a website, good or bad, is not "no website"
    assert not {VPN, PORTAL} & no_site
    rows = {f.target: f for f in outcome.findings if f.check_id == "web.site.none"}
    assert rows[MAIL].severity == "info"
    assert rows[MAIL].evidence["hosts"] == [MAIL] and rows[MAIL].evidence["addresses"]
    assert rows[GONE].evidence["hosts"] == [GONE] and "addresses" not in rows[GONE].evidence
    assert not [e for e in outcome.errors if e.target in (MAIL, GONE)]


async def test_a_host_that_has_gone_is_absent_in_every_topic_not_green(lab: Lab) -> None:
    """A confirmed name that no longer resolves has nothing to test: its website and devices
    are "absent", not "passed" (the Shodan look-up had no address to ask about). A host that
    resolves but has no website still has its devices tested."""
    from exposure.catalogue import Theme
    from reports import coverage
    from reports.specs import Specs

    await lab.scan(dns_timeout=0.5, dns_tries=1)
    with session(lab.engine) as db:
        covered = coverage.of_company(db, Specs.from_registry(load()), COMPANY)

    def state(theme: Theme, value: str) -> coverage.State:
        (row,) = [t for t in covered.theme(theme).targets if t.target == value]
        return row.state

    assert state(Theme.WEBSITE, GONE) is coverage.State.ABSENT
    assert state(Theme.DEVICES, GONE) is coverage.State.ABSENT
    assert state(Theme.WEBSITE, MAIL) is coverage.State.ABSENT
    assert state(Theme.DEVICES, MAIL) is not coverage.State.ABSENT
    assert state(Theme.WEBSITE, VPN) is coverage.State.FINDINGS
