"""Fictional port areas: the demo's dozen companies, and synthetic areas for benchmarks.

Every name is fictional and every domain ends in `.test` (RFC 2606): nothing here may ever point
at a real business. The demo mixes good and bad hygiene the way a real port area does: a
shipyard that has everything in order, a bakery on shared hosting with an expired certificate,
a cold store still on TLS 1.0 with a Modbus controller on the internet, and so on. `EXPECTED`
lists, per company, the catalogue ids a complete scan should raise at least, so that the demo
and the end-to-end tests can check themselves.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from exposure.testbed.area_discovery import (
    discovery_certificates,
    discovery_companies,
    discovery_records,
)
from exposure.testbed.ca import CertDefect, CertSpec
from exposure.testbed.providers import MAIL_PROVIDER, MX_PROVIDER, PROVIDER_RECORDS
from exposure.testbed.scenario import (
    ANY_IP,
    HSTS_SHORT,
    SECURITY_TXT_PATH,
    Area,
    CompanySpec,
    DeviceSpec,
    DomainSpec,
    HttpMode,
    IpSpec,
    Record,
    Route,
    SiteSpec,
    security_txt,
)
from exposure.testbed.shodan_devices import Device
from exposure.testbed.smtp import Behaviour, CertKind, MailHostSpec

#: A name only certificate transparency remembers (see `demo_area`).
OLD_WEBSHOP = "webshop.garage-brouwer.test"
HOSTING = "haven-hosting-1"  # one shared hosting server for several small sites
HOSTING_2 = "haven-hosting-2"

_DKIM_KEY = (
    "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtestbedtestbedtestbedtestbed"
)
_DNSKEY = "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
_DS = "2371 13 2 " + "1F987CC6583E92DF0890718C42A1B3A4E9B0C2A8A6E7F8D9C0B1A2D3E4F5A6B7"

SPF_PROVIDER = "v=spf1 include:_spf.havenmail.test -all"
#: The SaaS senders (web shop, newsletter, invoicing, ...) a ship supplier added one by one to its
#: SPF record, until the record needed 11 DNS look-ups (the limit is 10).
SAAS_SPF_RECORDS = tuple(
    Record(f"{letter}.spf.test.", "TXT", f"v=spf1 ip4:127.0.{index}.0/24 -all")
    for index, letter in enumerate("abcdefghi", 1)
)


def _secure_domain_records(domain: str, mx_host: str) -> tuple[Record, ...]:
    """What a well-kept mail domain publishes: DKIM, MTA-STS, TLS-RPT, DANE, CAA.

    Not DNSSEC: a validating chain needs a signed parent and a trust anchor for `.test`, which
    the testbed does not have (see the offshore supplier for a zone with keys but no signatures).
    """
    return (
        Record("selector1._domainkey", "TXT", _DKIM_KEY),
        Record("_mta-sts", "TXT", "v=STSv1; id=20240101T000000"),
        Record("_smtp._tls", "TXT", f"v=TLSRPTv1; rua=mailto:tlsrpt@{domain}"),
        Record(f"_25._tcp.{mx_host}.", "TLSA", "3 1 1 " + "ab" * 32),
        Record("@", "CAA", '0 issue "testbed-ca.test"'),
    )


def _mta_sts_policy(mx: str) -> Route:
    return Route.text(f"version: STSv1\nmode: enforce\nmx: {mx}\nmax_age: 604800\n")


def demo_area() -> Area:
    """A dozen fictional companies of a Dutch port area, with a realistic mix of defects."""
    sec_txt = {SECURITY_TXT_PATH: Route.text(security_txt())}
    companies = [
        CompanySpec(
            "58120001",
            "Bakkerij Dé Haven",
            "info@bakkerij-dé-haven.test",
            "food",
            phone="0255 51 20 01",
            domains=[
                DomainSpec(
                    "bakkerij-dé-haven.test",
                    a=[HOSTING],
                    mx=MX_PROVIDER,
                    txt=[SPF_PROVIDER],
                    dmarc="v=DMARC1; p=none",
                    site=SiteSpec(cert="expired", hsts=None),
                )
            ],
        ),
        CompanySpec(
            "58120002",
            "Scheepswerf Van der Made B.V.",
            "ict@scheepswerf-vandermade.test",
            "maritime",
            phone="0255 51 20 02",
            domains=[
                DomainSpec(
                    "scheepswerf-vandermade.test",
                    mx=["10 mail.scheepswerf-vandermade.test"],
                    txt=["v=spf1 mx -all"],
                    dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@scheepswerf-vandermade.test",
                    records=_secure_domain_records(
                        "scheepswerf-vandermade.test", "mail.scheepswerf-vandermade.test"
                    ),
                    dnssec="signed",
                    site=SiteSpec(routes=sec_txt),
                    subsites={
                        "mta-sts": SiteSpec(
                            routes={
                                "/.well-known/mta-sts.txt": _mta_sts_policy(
                                    "mail.scheepswerf-vandermade.test"
                                )
                            }
                        )
                    },
                )
            ],
            mail_hosts=[MailHostSpec("mail.scheepswerf-vandermade.test")],
        ),
        CompanySpec(
            "58120003",
            "Koelhuis Maasvlakte",
            "beheer@koelhuis-maasvlakte.test",
            "logistics",
            phone="0255 51 20 03",
            domains=[
                DomainSpec(
                    "koelhuis-maasvlakte.test",
                    a=["koelhuis-wan"],
                    mx=MX_PROVIDER,
                    txt=["v=spf1 include:_spf.havenmail.test ?all"],
                    dmarc="v=DMARC1; p=quarantine; rua=mailto:dmarc@koelhuis-maasvlakte.test",
                    site=SiteSpec(cert="sha1", tls="1.0-1.1", http=HttpMode.PLAIN, hsts=None),
                )
            ],
            ips=["koelhuis-wan"],
            devices=[DeviceSpec("koelhuis-wan", Device.ics("modbus", ANY_IP))],
        ),
        CompanySpec(
            "58120004",
            "Visgroothandel Zeebries",
            "verkoop@visgroothandel-zeebries.test",
            "food",
            phone="0255 51 20 04",
            domains=[
                DomainSpec(
                    "visgroothandel-zeebries.test",
                    a=[HOSTING],
                    mx=["10 mail.visgroothandel-zeebries.test"],
                    site=SiteSpec(cert="wrong_host", http=HttpMode.PLAIN, hsts=None),
                )
            ],
            ips=["zeebries-wan"],
            mail_hosts=[MailHostSpec("mail.visgroothandel-zeebries.test", starttls=False)],
            devices=[DeviceSpec("zeebries-wan", Device.camera("hikvision", ANY_IP))],
        ),
        CompanySpec(
            "58120005",
            "Autogarage Brouwer",
            "garage@garage-brouwer.test",
            "automotive",
            phone="0255 51 20 05",
            domains=[
                DomainSpec(
                    "garage-brouwer.test",
                    a=[HOSTING],
                    mx=MX_PROVIDER,
                    txt=["v=spf1 +all"],
                    site=SiteSpec(cert="self_signed", http=HttpMode.PLAIN, hsts=None),
                )
            ],
            ips=[IpSpec("garage-wan", SiteSpec(cert="self_signed", http=HttpMode.ABSENT))],
            devices=[DeviceSpec("garage-wan", Device.vnc(ANY_IP, auth=False))],
        ),
        CompanySpec(
            "58120006",
            "Noordzee Offshore Supply",
            "it@noordzee-offshore.test",
            "offshore",
            phone="0255 51 20 06",
            domains=[
                DomainSpec(
                    "noordzee-offshore.test",
                    mx=["10 mx.noordzee-offshore.test"],
                    txt=["v=spf1 mx -all"],
                    records=[
                        ("_dmarc", "TXT", "v=DMARC1; p=reject"),
                        ("_dmarc", "TXT", "v=DMARC1; p=none"),
                        ("@", "DNSKEY", _DNSKEY),  # keys published, nothing signed
                        ("@", "DS", _DS),
                    ],
                    site=SiteSpec(
                        cert="ec",
                        tls="1.0-1.3",  # an old load balancer: TLS 1.0 still on next to 1.3
                        hsts=HSTS_SHORT,
                        routes={SECURITY_TXT_PATH: Route.text(security_txt(expires="past"))},
                    ),
                )
            ],
            ips=["offshore-office"],
            mail_hosts=[MailHostSpec.legacy("mx.noordzee-offshore.test")],
            devices=[DeviceSpec("offshore-office", Device.rdp(ANY_IP))],
        ),
        CompanySpec(
            "58120007",
            "Scheepsbevoorrading De Kaap",
            "kantoor@scheepsbevoorrading-dekaap.test",
            "maritime",
            phone="0255 51 20 07",
            domains=[
                DomainSpec(
                    "scheepsbevoorrading-dekaap.test",
                    a=[HOSTING_2],
                    mx=["10 mail.scheepsbevoorrading-dekaap.test"],
                    txt=[
                        "v=spf1 include:_spf.havenmail.test include:a.spf.test include:b.spf.test "
                        "include:c.spf.test include:d.spf.test include:e.spf.test "
                        "include:f.spf.test include:g.spf.test include:h.spf.test "
                        "include:i.spf.test -all"
                    ],
                    dmarc="v=DMARC1; p=none; rua=mailto:dmarc@scheepsbevoorrading-dekaap.test",
                    site=SiteSpec(
                        cert="missing_intermediate",
                        http=HttpMode.REDIRECT_OTHER,
                        routes={
                            SECURITY_TXT_PATH: Route(
                                body=security_txt(), content_type="text/html; charset=utf-8"
                            )
                        },
                    ),
                )
            ],
            mail_hosts=[
                MailHostSpec("mail.scheepsbevoorrading-dekaap.test", cert=CertKind.EXPIRED)
            ],
        ),
        CompanySpec(
            "58120008",
            "Stuwadoorsbedrijf Kade 7",
            "planning@stuwadoor-kade7.test",
            "logistics",
            phone="0255 51 20 08",
            domains=[
                DomainSpec(
                    "stuwadoor-kade7.test",
                    a=[HOSTING_2],
                    mx=MX_PROVIDER,
                    txt=["v=spf1 include:_spf.havenmail.test -all", "v=spf1 mx -all"],
                    dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@stuwadoor-kade7.test",
                    site=SiteSpec(cert="not_yet_valid", catch_all=True),
                )
            ],
            ips=["kade7-server"],
            devices=[DeviceSpec("kade7-server", Device.database("mongodb", ANY_IP, auth=False))],
        ),
        CompanySpec(
            "58120009",
            "Havenlogistiek Rijnmond",
            "info@havenlogistiek-rijnmond.test",
            "logistics",
            phone="0255 51 20 09",
            domains=[
                DomainSpec("havenlogistiek.test", nxdomain=True),
                DomainSpec(
                    "havenlogistiek-rijnmond.test",
                    mx=MX_PROVIDER,
                    txt=[SPF_PROVIDER],
                    dmarc="v=DMARC1; p=quarantine; rua=mailto:dmarc@havenlogistiek-rijnmond.test",
                    site=SiteSpec(
                        cert=CertSpec(CertDefect.EXPIRING, days=5),
                        routes={SECURITY_TXT_PATH: Route.stream(60 * 1024 * 1024)},
                    ),
                ),
            ],
        ),
        CompanySpec(
            "58120010",
            "Sleepdienst Kuipers",
            "info@sleepdienst-kuipers.test",
            "maritime",
            phone="0255 51 20 10",
            domains=[
                DomainSpec(
                    "sleepdienst-kuipers.test",
                    mx=["10 mail.sleepdienst-kuipers.test"],
                    txt=["v=spf1 mx -all"],
                    dmarc="v=DMARC1; p=none",
                    site=SiteSpec(hang=True),
                )
            ],
            mail_hosts=[MailHostSpec("mail.sleepdienst-kuipers.test", behaviour=Behaviour.REFUSE)],
        ),
        CompanySpec(
            "58120011",
            "Machinefabriek De Schroef",
            "werkplaats@machinefabriek-deschroef.test",
            "industry",
            phone="0255 51 20 11",
            domains=[
                DomainSpec(
                    "machinefabriek-deschroef.test",
                    mx=["0 ."],
                    txt=["v=spf1 -all"],
                    dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@machinefabriek-deschroef.test",
                    # publishes a security.txt, but only over plain http: it does not count
                    site=SiteSpec(https=False, http=HttpMode.PLAIN, hsts=None, routes=sec_txt),
                )
            ],
            ips=["schroef-plc"],
            devices=[DeviceSpec("schroef-plc", Device.ics("s7", ANY_IP))],
        ),
        CompanySpec(
            "58120012",
            "Expeditie Westhaven",
            "douane@expeditie-westhaven.test",
            "logistics",
            phone="0255 51 20 12",
            domains=[
                DomainSpec(
                    "expeditie-westhaven.test",
                    a=[HOSTING],
                    mx=MX_PROVIDER,
                    txt=[SPF_PROVIDER],
                    dmarc="v=DMARC1; p=quarantine; rua=mailto:dmarc@expeditie-westhaven.test",
                    records=[("selector1._domainkey", "TXT", _DKIM_KEY)],
                    site=SiteSpec(
                        cert="weak_key",
                        routes={
                            SECURITY_TXT_PATH: Route.redirect("{origin}/security.txt"),
                            "/security.txt": Route.text(security_txt(contact=None)),
                        },
                    ),
                )
            ],
            ips=["westhaven-fw"],
            devices=[DeviceSpec("westhaven-fw", Device.compromised(ANY_IP))],
        ),
        CompanySpec(
            "58120013",
            "Jachthaven De Punt",
            "havenmeester@jachthaven-depunt.test",
            "leisure",
            phone="0255 51 20 13",
            ips=["jachthaven-wan"],
            devices=[
                DeviceSpec("jachthaven-wan", Device.ftp(ANY_IP, anonymous=True)),
                DeviceSpec("jachthaven-wan", Device.smb(ANY_IP)),
            ],
        ),
    ]
    return Area(
        companies=[*companies, *discovery_companies()],
        mail_hosts=MAIL_PROVIDER,
        records=(*PROVIDER_RECORDS, *SAAS_SPF_RECORDS, *discovery_records()),
        # Autogarage Brouwer's old web shop, long moved to its supplier's platform: CT still
        # remembers the certificate, and the garage says "not ours" (the demo's rejection).
        certificates=[*discovery_certificates(), (OLD_WEBSHOP,)],
        name="Haven demo",
    )


#: Catalogue ids each demo company should at least get from a complete scan (with Shodan).
EXPECTED: Mapping[str, frozenset[str]] = {
    "58120001": frozenset(
        {
            "tls.cert.expired",
            "web.hsts.missing",
            "mail.dmarc.policy_none",
            "mail.dmarc.no_reports",
            "securitytxt.missing",
        }
    ),
    "58120002": frozenset(),  # signed zone, SPF, DMARC, DKIM, MTA-STS, TLS-RPT, DANE: nothing
    "58120003": frozenset(
        {
            "tls.cert.weak_signature",
            "tls.protocol.obsolete_only",
            "web.https.no_redirect",
            "web.hsts.missing",
            "securitytxt.missing",
            "mail.spf.permissive",
            "exposure.ics",
        }
    ),
    "58120004": frozenset(
        {
            "tls.cert.hostname_mismatch",
            "web.https.no_redirect",
            "web.hsts.missing",
            "securitytxt.missing",
            "mail.spf.missing",
            "mail.dmarc.missing",
            "mail.starttls.missing",
            "exposure.camera",
        }
    ),
    "58120005": frozenset(
        {
            "tls.cert.untrusted",
            "web.https.no_redirect",
            "web.hsts.missing",
            "securitytxt.missing",
            "mail.spf.permissive",
            "mail.dmarc.missing",
            "exposure.remote_access",
        }
    ),
    "58120006": frozenset(
        {
            "web.hsts.missing",
            "tls.protocol.legacy",
            "securitytxt.expired",
            "mail.dmarc.invalid",
            "mail.starttls.legacy",
            "dns.dnssec.invalid",  # DNSKEY and DS published, nothing signed
            "exposure.remote_access",
        }
    ),
    "58120007": frozenset(
        {
            "tls.cert.untrusted",
            "web.https.no_redirect",
            "securitytxt.invalid",
            "mail.spf.invalid",
            "mail.starttls.cert_invalid",
        }
    ),
    "58120008": frozenset(
        {"tls.cert.not_yet_valid", "securitytxt.missing", "mail.spf.invalid", "exposure.database"}
    ),
    "58120009": frozenset(
        # security.txt: a 60 MB answer, cut at 100 KiB, that is not a security.txt;
        # havenlogistiek.test does not exist (NXDOMAIN): `target.unresolvable`, not `web.site.none`
        {"target.unresolvable", "tls.cert.expiring", "securitytxt.missing"}
    ),
    "58120010": frozenset({"mail.mx.unreachable", "mail.dmarc.policy_none"}),
    "58120011": frozenset(
        # security.txt only over plain http: missing, with the hint http_only
        {"web.https.missing", "securitytxt.missing", "exposure.ics"}
    ),
    "58120012": frozenset({"tls.cert.weak_key", "securitytxt.invalid", "exposure.compromised"}),
    "58120013": frozenset({"exposure.file_share"}),
    # the discovery companies: on their listed domains only mail and security.txt stories; what
    # matters about them is what discovery finds (`DISCOVERY`, `EXPECTED_DISCOVERED`)
    "59220001": frozenset({"securitytxt.missing", "mail.dmarc.no_reports"}),
    "59220002": frozenset({"securitytxt.missing", "mail.dmarc.policy_none"}),
    "59220003": frozenset({"securitytxt.missing", "mail.spf.missing"}),
}


#: What discovery proposes in the demo (its own DNS and certificate transparency; the demo has
#: no Shodan key, so no Shodan search), and what the demo's Meldpunt decides about each: the VPN
#: gateway and the camera behind the SPF record are the members' (confirm), the garage's old
#: web shop is its supplier's now (reject: never proposed again), and the mail servers and the
#: MTA-STS name wait for the Meldpunt. Addresses are symbols (`Testbed.address`); nothing else may
#: be proposed: not the shared hosting server, the CDN edge or the wildcard zone's names.
CONFIRM, REJECT, WAIT = "confirm", "reject", "wait"
DISCOVERY: Mapping[tuple[str, str, str], str] = {
    ("59220001", "domain", "vpn.noorderhaven-sleep.test"): CONFIRM,
    ("59220002", "ip", "kade-office"): CONFIRM,
    ("58120005", "domain", OLD_WEBSHOP): REJECT,
    ("58120002", "domain", "mail.scheepswerf-vandermade.test"): WAIT,
    ("58120002", "domain", "mta-sts.scheepswerf-vandermade.test"): WAIT,
    ("58120004", "domain", "mail.visgroothandel-zeebries.test"): WAIT,
    ("58120006", "domain", "mx.noordzee-offshore.test"): WAIT,
    ("58120007", "domain", "mail.scheepsbevoorrading-dekaap.test"): WAIT,
    ("58120010", "domain", "mail.sleepdienst-kuipers.test"): WAIT,
}
#: Catalogue ids the confirmed hosts add to their companies in the scan after the decision.
EXPECTED_DISCOVERED: Mapping[str, frozenset[str]] = {
    "59220001": frozenset({"exposure.exploited"}),  # the VPN gateway's known-exploited flaw
    "59220002": frozenset({"exposure.camera"}),  # the camera only the SPF record points at
}


def discovery_decisions(address: Callable[[str], str]) -> dict[tuple[str, str, str], str]:
    """`DISCOVERY` with each address symbol replaced by the address the testbed gave it."""
    return {
        (company, kind, address(value) if kind == "ip" else value): decision
        for (company, kind, value), decision in DISCOVERY.items()
    }


# --- synthetic areas for benchmarks ----------------------------------------------------------------

_WORDS = [
    "haven",
    "kade",
    "dok",
    "sluis",
    "boei",
    "anker",
    "kaap",
    "meeuw",
    "golf",
    "ebbe",
    "vloed",
    "stroom",
    "wad",
    "duin",
    "zilt",
    "zeil",
    "mast",
    "roer",
    "kiel",
    "boeg",
    "steiger",
    "loods",
    "werf",
    "kraan",
    "vracht",
    "koel",
    "vis",
    "bakker",
    "smid",
]
_SECTORS = ("maritime", "logistics", "food", "industry", "automotive", "offshore", "retail")


def synthetic_area(n: int, seed: int = 1) -> Area:
    """`n` companies for benchmarks: shared hosting IPs (about 20 sites each), shared MX hosts
    with SPF include chains, 5% of sites that hang, 5% NXDOMAIN domains, a spread of defects.

    Deterministic for a given (n, seed).
    """
    rng = random.Random(seed)
    providers = 4
    mail_hosts = [
        MailHostSpec(f"mx{i}.mailprovider{p}.test", ip=f"mailprovider-{p}-{i}")
        for p in range(providers)
        for i in (1, 2)
    ]
    records: list[Record] = []
    for p in range(providers):
        records += [
            Record(
                f"_spf.mailprovider{p}.test.",
                "TXT",
                f"v=spf1 include:_spf1.mailprovider{p}.test -all",
            ),
            Record(
                f"_spf1.mailprovider{p}.test.",
                "TXT",
                f"v=spf1 include:_spf2.mailprovider{p}.test -all",
            ),
            Record(f"_spf2.mailprovider{p}.test.", "TXT", "v=spf1 ip4:127.0.0.0/8 -all"),
        ]
    hostings = max(1, n // 20)
    certs = ["valid"] * 10 + ["expired", "expiring:7", "wrong_host", "self_signed", "ec"]
    tls = ["1.2+"] * 8 + ["1.0-1.3", "1.0-1.1"]
    https_modes = [HttpMode.REDIRECT] * 6 + [HttpMode.PLAIN, HttpMode.REDIRECT_OTHER]
    hsts = [None, "max-age=31536000", "max-age=31536000", "max-age=300"]
    spf = ["-all", "~all", "?all", "+all", None]
    dmarc = [None, "v=DMARC1; p=none", "v=DMARC1; p=reject; rua=mailto:d@{d}"]
    companies = []
    for i in range(n):
        word = rng.choice(_WORDS)
        name = f"{word}-{i}.test"
        roll = rng.random()
        p = rng.randrange(providers)
        if roll < 0.05:
            domain = DomainSpec(name, nxdomain=True)
        else:
            site_hang = roll > 0.95
            sec = rng.random()
            routes: dict[str, Route] = {}
            if sec < 0.3:
                routes[SECURITY_TXT_PATH] = Route.text(security_txt())
            elif sec < 0.35:
                routes[SECURITY_TXT_PATH] = Route.text(security_txt(expires="past"))
            site = SiteSpec(
                cert=rng.choice(certs),
                tls=rng.choice(tls),
                http=rng.choice(https_modes),
                hsts=rng.choice(hsts),
                routes=routes,
                catch_all=rng.random() < 0.05,
                hang=site_hang,
            )
            all_term = rng.choice(spf)
            txt = [f"v=spf1 include:_spf.mailprovider{p}.test {all_term}"] if all_term else []
            dm = rng.choice(dmarc)
            domain = DomainSpec(
                name,
                a="auto" if site_hang else [f"hosting-{rng.randrange(hostings)}"],
                mx=[f"10 mx1.mailprovider{p}.test", f"20 mx2.mailprovider{p}.test"],
                txt=txt,
                dmarc=dm.replace("{d}", name) if dm else None,
                site=site,
            )
        devices = []
        ips: list[str] = []
        if rng.random() < 0.1:
            wan = f"wan-{i}"
            ips.append(wan)
            kind = rng.choice(
                [
                    Device.rdp(ANY_IP),
                    Device.camera("hikvision", ANY_IP),
                    Device.database("redis", ANY_IP, auth=False),
                    Device.ics("modbus", ANY_IP),
                ]
            )
            devices.append(DeviceSpec(wan, kind))
        companies.append(
            CompanySpec(
                f"9{i:07d}",
                f"{word.capitalize()} {i} B.V.",
                f"info@{name}",
                rng.choice(_SECTORS),
                domains=[domain],
                ips=ips,
                devices=devices,
            )
        )
    return Area(companies=companies, mail_hosts=mail_hosts, records=records, name=f"synthetic {n}")


def area_by_name(spec: str) -> Area:
    """`demo` or `synthetic:N[:SEED]` (the `--area` option of `python -m exposure.testbed`)."""
    if spec == "demo":
        return demo_area()
    kind, _, rest = spec.partition(":")
    if kind == "synthetic" and rest:
        count, _, seed = rest.partition(":")
        return synthetic_area(int(count), int(seed) if seed else 1)
    raise ValueError(f"unknown area {spec!r}: use demo or synthetic:N[:SEED]")
