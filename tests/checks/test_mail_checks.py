"""The mail and dns families end to end: testbed zones, member list, orchestrator, SQLite store.

`exposure.testbed.area_mail` holds one domain per verdict and the exact ids each deserves; the
tests here prove both directions (every id on exactly the domains with that defect, none on a
correct one), that "could not test" stays apart from findings, and that an MX host shared by
many domains costs one SMTP session per run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from checks.dns.check import DnsCheck
from checks.mail.check import MailCheck
from exposure.app.harness import Lab, ScanOutcome
from exposure.testbed.area_mail import (
    GOOD_MX,
    MAIL_EXPECTED,
    ZONES,
    company_id,
    mail_area,
    shared_mx_area,
)
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area

FAMILY_IDS = MailCheck.meta.finding_ids | DnsCheck.meta.finding_ids
COMPANY = {zone.name: company_id(i) for i, zone in enumerate(ZONES)}
DOMAIN = {cid: name for name, cid in COMPANY.items()}
FAST = {"connect_timeout": 1.0, "read_timeout": 1.0, "dns_timeout": 0.5, "dns_tries": 3}

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def testbed() -> AsyncIterator[Testbed]:
    async with Testbed(mail_area(), shodan=False) as tb:
        yield tb


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scanned(
    testbed: Testbed, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Lab, ScanOutcome]]:
    lab = Lab(testbed, Path(tmp_path_factory.mktemp("mail-lab")))
    testbed.reset_counters()
    for server in testbed.mail.values():
        server.counters.sessions = 0
    outcome = await lab.scan(checks=["mail", "dns"], **FAST)
    yield lab, outcome
    lab.close()


def _by_domain(outcome: ScanOutcome) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {name: set() for name in MAIL_EXPECTED}
    for cid, ids in outcome.ids_by_company().items():
        found[DOMAIN[cid]] |= ids & FAMILY_IDS
    return found


async def test_each_id_on_exactly_the_domains_with_that_defect(scanned):
    _, outcome = scanned
    assert outcome.summary.status == "complete"
    assert _by_domain(outcome) == {k: set(v) for k, v in MAIL_EXPECTED.items()}


@pytest.mark.parametrize("finding_id", sorted(FAMILY_IDS))
async def test_both_directions_per_id(scanned, finding_id: str):
    """Per id: reported for these domains and no other; the correct domains included."""
    _, outcome = scanned
    expected = {name for name, ids in MAIL_EXPECTED.items() if finding_id in ids}
    assert expected, f"the testbed has no domain with {finding_id}"
    found = {name for name, ids in _by_domain(outcome).items() if finding_id in ids}
    assert found == expected


async def test_host_findings_sit_on_the_mx_host(scanned):
    _, outcome = scanned
    rows = [r for r in outcome.findings if r.check_id.startswith(("mail.starttls", "mail.mx"))]
    assert rows
    for row in rows:
        assert row.target.endswith(".slechtmail.test"), row
    two = [r for r in outcome.findings if r.company_id == COMPANY["mx-two.test"]]
    assert [(r.check_id, r.target) for r in two] == [
        ("mail.starttls.missing", "mx-nostarttls.slechtmail.test")
    ]
    dane = [r for r in outcome.findings if r.check_id == "mail.dane.missing"]
    assert [r.target for r in dane] == ["mx-notlsa.goedemail.test"]


async def test_one_smtp_session_per_mx_host_and_never_mail_from(scanned):
    lab, _ = scanned
    for name, server in lab.testbed.mail.items():
        counters = server.counters
        assert counters.mail_from_seen == 0, name
        assert counters.rcpt_to_seen == 0 and counters.data_seen == 0, name
        assert set(counters.commands) <= {"EHLO", "HELO", "STARTTLS", "QUIT"}, name
        # one session per host and run, however many domains use it (nothing listens on the
        # refusing host, so it counts no session at all)
        assert counters.sessions == (0 if name.startswith("mx-refuse") else 1), name
    good = lab.testbed.mail[GOOD_MX].counters
    assert good.tls_handshakes == 1 and good.tls_versions == ["TLSv1.3"]
    # EHLO announces a real name: the configured one, this host's FQDN, or an address literal
    assert good.ehlo_names and all(n.startswith("[") or "." in n for n in good.ehlo_names)


async def test_unreachable_mx_is_info_and_leaves_starttls_undecided(scanned):
    _, outcome = scanned
    starttls = {"mail.starttls.missing", "mail.starttls.legacy", "mail.starttls.cert_invalid"}
    errors = {
        e.target: e
        for e in outcome.errors
        if e.check_id == "mail" and "mail.starttls.missing" in e.finding_ids
    }
    for host, reason in [
        ("mx-refuse.slechtmail.test", "unreachable"),
        ("mx-hang.slechtmail.test", "unreachable"),
        ("mx-reset.slechtmail.test", "unreachable"),
        ("gone.slechtmail.test", "unreachable"),
    ]:
        assert host in errors, host
        assert errors[host].reason == reason
        assert set(errors[host].finding_ids) == starttls
    unreachable = [r for r in outcome.findings if r.check_id == "mail.mx.unreachable"]
    assert {r.severity for r in unreachable} == {"info"}


async def test_dns_that_does_not_answer_is_could_not_test_never_a_finding(scanned):
    _, outcome = scanned
    for name in ("dns-timeout.test", "dns-servfail.test", "trage-dienst.test"):
        cid = COMPANY[name]
        assert not [r for r in outcome.findings if r.company_id == cid]
        errors = [e for e in outcome.errors if e.company_id == cid]
        assert {e.check_id for e in errors} == {"mail", "dns"}, name
        assert {e.reason for e in errors} == {"dns_error"}
    # an SPF include that times out: SPF validity undecided, the rest judged
    cid = COMPANY["spf-include-timeout.test"]
    errors = [e for e in outcome.errors if e.company_id == cid]
    assert [set(e.finding_ids) for e in errors] == [{"mail.spf.invalid", "mail.spf.permissive"}]


async def test_evidence_a_supplier_can_act_on(scanned):
    _, outcome = scanned
    rows = {(DOMAIN[r.company_id], r.check_id): r for r in outcome.findings}
    spf = rows[("spf-over-limit.test", "mail.spf.invalid")].evidence
    assert (spf["error"], spf["lookups"]) == ("too_many_lookups", 11)
    assert spf["record"].startswith("v=spf1 include:s0.spf-diensten.test")
    nested = rows[("spf-nested-over-limit.test", "mail.spf.invalid")].evidence
    assert nested["lookups"] == 11
    # the 11th term is the provider's own nested include, named with where it sits
    assert nested["tree"][-1]["domain"] == "_spf.goedemail.test"
    assert "include:_spf2.goedemail.test in _spf.goedemail.test" in nested["message"]
    void = rows[("spf-void.test", "mail.spf.invalid")].evidence
    assert (void["error"], void["void_lookups"]) == ("too_many_void_lookups", 3)
    split = rows[("spf-split-nospace.test", "mail.spf.invalid")].evidence
    assert "/8include:" in split["record"]
    dmarc = rows[("winkel.dmarc-org.test", "mail.dmarc.policy_none")].evidence
    assert (dmarc["location"], dmarc["organisational_domain"], dmarc["policy"]) == (
        "_dmarc.dmarc-org.test",
        "dmarc-org.test",
        "none",
    )
    legacy = rows[("mx-legacy.test", "mail.starttls.legacy")].evidence
    assert legacy["tls_version"] == "TLSv1.1"
    assert legacy["banner"].startswith("220 mx-legacy.slechtmail.test")
    assert "STARTTLS" in legacy["ehlo"]
    cert = rows[("mx-expired.test", "mail.starttls.cert_invalid")].evidence
    assert cert["certificate"]["days_left"] < 0
    sts = rows[("sts-uncovered.test", "mail.mta_sts.invalid")].evidence
    assert sts["mx_not_covered"] == [GOOD_MX]
    assert sts["policy"]["mx"] == ["mx.elders.test"]
    dnssec = rows[("dnssec-expired.test", "dns.dnssec.invalid")]
    assert "expired" in dnssec.detail


async def test_the_dns_queries_of_a_well_kept_domain(tmp_path):
    """What the mail and dns families ask DNS for one domain, counted by the testbed's server:
    mail 13 (apex TXT and MX, _dmarc, _domainkey, _smtp._tls, _mta-sts, the provider's two SPF
    includes, the MX host's A/AAAA and TLSA, the mta-sts host's A/AAAA), dns 3 (SOA, DS,
    DNSKEY). The benchmark reports the same figure for a synthetic area."""
    async with Testbed(_part("goed.test"), shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        tb.reset_counters()
        await lab.scan(checks=["mail"], **FAST)
        mail = tb.counters().dns_by_type
        tb.reset_counters()
        await lab.scan(checks=["dns"], **FAST)
        dnssec = tb.counters().dns_by_type
        lab.close()
    assert mail == {"TXT": 7, "MX": 1, "A": 2, "AAAA": 2, "TLSA": 1}, mail
    assert dnssec == {"SOA": 1, "DS": 1, "DNSKEY": 1}, dnssec


# --- shared MX hosts -------------------------------------------------------------------------------


async def test_200_domains_on_3_mx_hosts_cost_exactly_3_smtp_sessions(tmp_path):
    async with Testbed(shared_mx_area(200), shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        outcome = await lab.scan(checks=["mail"], **FAST)
        lab.close()
        assert outcome.summary.companies_scanned == 200
        sessions = {name: s.counters.sessions for name, s in tb.mail.items()}
        assert sessions == {f"mx{i}.gedeeld.test": 1 for i in range(3)}
        assert all(s.counters.mail_from_seen == 0 for s in tb.mail.values())
        assert all(s.counters.tls_handshakes == 1 for s in tb.mail.values())
        # each company gets its own finding on the shared host (no TLSA there)
        dane = [r for r in outcome.findings if r.check_id == "mail.dane.missing"]
        assert len({r.company_id for r in dane}) == 200
        assert {r.target for r in dane} == {f"mx{i}.gedeeld.test" for i in range(3)}


# --- the store's view over time --------------------------------------------------------------------


def _part(*names: str) -> Area:
    """The companies of some zones of the mail area (with all its hosts and records)."""
    full = mail_area()
    companies = [c for c in full.companies if c.domains[0].name in names]
    assert len(companies) == len(names)
    return Area(companies, full.mail_hosts, full.records)


async def test_time_outs_keep_findings_open_and_a_fix_resolves_them(tmp_path):
    area = _part("spf-missing.test", "mx-nostarttls.test")
    async with Testbed(area, shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        first = await lab.scan(checks=["mail"], **FAST)
        assert {r.check_id for r in first.findings} >= {"mail.spf.missing", "mail.starttls.missing"}

        tb.dns.time_out("spf-missing.test")  # SPF look-ups stop answering
        second = await lab.scan(checks=["mail"], **FAST)
        assert second.summary.stats.resolved == 0
        assert {r.check_id for r in second.findings} >= {"mail.spf.missing"}

        tb.dns.timeouts.clear()
        tb.records.set("spf-missing.test", "TXT", "v=spf1 -all")
        third = await lab.scan(checks=["mail"], **FAST)
        assert "mail.spf.missing" not in {r.check_id for r in third.findings}
        assert third.summary.stats.resolved == 1
        lab.close()


async def test_an_mx_that_stops_answering_keeps_its_findings_open(tmp_path):
    """Unreachable is "could not test": the STARTTLS finding of the host stays open (with an info
    finding beside it); when the domain moves to a good host, both are resolved."""
    area = _part("mx-nostarttls.test")
    host = "mx-nostarttls.slechtmail.test"
    async with Testbed(area, shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        first = await lab.scan(checks=["mail"], **FAST)
        assert {(r.check_id, r.target) for r in first.findings} == {("mail.starttls.missing", host)}

        await tb.mail[host].close()  # nothing listens any more: connection refused
        second = await lab.scan(checks=["mail"], **FAST)
        assert second.summary.stats.resolved == 0
        assert {(r.check_id, r.target) for r in second.findings} == {
            ("mail.starttls.missing", host),
            ("mail.mx.unreachable", host),
        }
        assert [set(e.finding_ids) for e in second.errors] == [
            {"mail.starttls.missing", "mail.starttls.legacy", "mail.starttls.cert_invalid"}
        ]

        tb.records.set("mx-nostarttls.test", "MX", f"10 {GOOD_MX}.")
        tb.records.set("mta-sts.mx-nostarttls.test", "A")  # keep MTA-STS out of the picture
        tb.records.remove("_mta-sts.mx-nostarttls.test")
        third = await lab.scan(checks=["mail"], **FAST)
        lab.close()
    assert {r.check_id for r in third.findings} == {"mail.mta_sts.missing"}
    assert third.summary.stats.resolved == 2


# --- behind a validating resolver ------------------------------------------------------------------


async def test_dnssec_verdicts_are_the_same_behind_a_validating_resolver(tmp_path):
    area = _part(
        "goed.test",
        "dnssec-unsigned.test",
        "dnssec-island.test",
        "dnssec-expired.test",
        "dnssec-dsmismatch.test",
        "dnssec-nosigs.test",
    )
    async with Testbed(area, shodan=False, validating=True) as tb:
        lab = Lab(tb, tmp_path)
        outcome = await lab.scan(checks=["mail", "dns"], **FAST)
        lab.close()
    by_company = outcome.ids_by_company()
    for company in area.companies:
        name = company.domains[0].name
        dns_ids = {i for i in by_company.get(company.id, set()) if i.startswith("dns.")}
        assert dns_ids == {i for i in MAIL_EXPECTED[name] if i.startswith("dns.")}, name
        if name in ("dnssec-expired.test", "dnssec-dsmismatch.test", "dnssec-nosigs.test"):
            # the validating resolver answers SERVFAIL for a bogus zone: the mail check could
            # not test anything there, and says so instead of reporting "missing"
            assert not {i for i in by_company.get(company.id, set()) if i.startswith("mail.")}
            errors = [e for e in outcome.errors if e.company_id == company.id]
            assert {e.check_id for e in errors} == {"mail"}
