"""The demo port area: the mail and dns families raise exactly these ids per company.

The demo's `EXPECTED` lists the ids that tell each company's story (at least); this table is the
complete mail/dns picture, so a change in what the demo shows is a deliberate one. The well-kept
shipyard (58120002: signed zone, SPF -all, DMARC reject, DKIM, MTA-STS, TLS-RPT, DANE) gets
nothing; the machine shop with a null MX (58120011) gets no mail-server questions at all; the
lapsed second domain of 58120009 (NXDOMAIN) gets nothing from these families.
"""

from __future__ import annotations

from pathlib import Path

from exposure.app.harness import Lab
from exposure.testbed.area_demo import EXPECTED, demo_area
from exposure.testbed.runner import Testbed

FAMILIES = ("mail.", "dns.")
#: What every domain on the mail provider without DKIM, MTA-STS, TLS-RPT, DANE or DNSSEC gets.
PLAIN = {
    "dns.dnssec.missing",
    "mail.dane.missing",
    "mail.dkim.missing",
    "mail.mta_sts.missing",
    "mail.tlsrpt.missing",
}
MAIL_DNS: dict[str, set[str]] = {
    "58120001": PLAIN | {"mail.dmarc.no_reports", "mail.dmarc.policy_none"},
    "58120002": set(),
    "58120003": PLAIN | {"mail.spf.permissive"},
    "58120004": PLAIN | {"mail.dmarc.missing", "mail.spf.missing", "mail.starttls.missing"},
    "58120005": PLAIN | {"mail.dmarc.missing", "mail.spf.permissive"},
    "58120006": (PLAIN - {"dns.dnssec.missing"})
    | {"dns.dnssec.invalid", "mail.dmarc.invalid", "mail.starttls.legacy"},
    "58120007": PLAIN
    | {"mail.dmarc.policy_none", "mail.spf.invalid", "mail.starttls.cert_invalid"},
    "58120008": PLAIN | {"mail.spf.invalid"},
    "58120009": PLAIN,
    "58120010": PLAIN | {"mail.dmarc.no_reports", "mail.dmarc.policy_none", "mail.mx.unreachable"},
    "58120011": {"dns.dnssec.missing"},
    "58120012": PLAIN - {"mail.dkim.missing"},
    "58120013": set(),
    # the discovery companies (area_discovery); the wildcard zone answers every DKIM selector
    # name (NODATA, not NXDOMAIN), so no "DKIM missing" is claimed for it
    "59220001": PLAIN | {"mail.dmarc.no_reports"},
    "59220002": PLAIN | {"mail.dmarc.no_reports", "mail.dmarc.policy_none"},
    "59220003": (PLAIN - {"mail.dkim.missing"}) | {"mail.dmarc.no_reports", "mail.spf.missing"},
}


def test_the_table_agrees_with_the_demo_expectations():
    assert set(MAIL_DNS) == set(EXPECTED)
    for company_id, expected in EXPECTED.items():
        assert {i for i in expected if i.startswith(FAMILIES)} <= MAIL_DNS[company_id], company_id


async def test_demo_companies_get_exactly_their_mail_and_dns_findings(tmp_path: Path):
    async with Testbed(demo_area(), shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        outcome = await lab.scan(
            checks=["mail", "dns"], connect_timeout=1.0, read_timeout=1.0, dns_timeout=1.0
        )
        lab.close()
        assert all(s.counters.mail_from_seen == 0 for s in tb.mail.values())
    found = outcome.ids_by_company()
    for company_id, expected in MAIL_DNS.items():
        assert found.get(company_id, set()) == expected, company_id
    # the refusing mail host of Sleepdienst Kuipers: info finding plus "could not test"
    assert [(e.company_id, e.reason) for e in outcome.errors] == [("58120010", "unreachable")]
