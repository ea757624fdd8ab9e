"""A port area with one domain per mail and DNSSEC verdict, and exactly what each deserves.

Every domain starts from a "well-kept" base (SPF ending in -all through a provider include,
DMARC p=reject with reports, a DKIM selector, an MTA-STS record and a policy that covers its MX,
TLS-RPT, an MX host with STARTTLS, a valid certificate and TLSA records, a signed zone) and
changes one thing. `MAIL_EXPECTED` maps each domain to the exact set of `mail.*`/`dns.*` ids a
scan must report for it: not one more, not one less. Each domain belongs to a company of its
own, so the ids can be told apart per domain in the store.

`shared_mx_area(n)` is the other end: `n` domains spread over three MX hosts of one provider, for
"one SMTP session per MX host per run".

All names end in `.test` (RFC 2606); every address is on loopback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from exposure.testbed.dns import txt
from exposure.testbed.dnssec import published_keys
from exposure.testbed.scenario import (
    Area,
    CompanySpec,
    DomainSpec,
    Record,
    RecordLike,
    Route,
    SiteSpec,
)
from exposure.testbed.smtp import Behaviour, CertKind, MailHostSpec

HOSTING = "mailzones-hosting"  # the MTA-STS policy hosts share one web server
POLICY_PATH = "/.well-known/mta-sts.txt"
DKIM = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtestbed"
GOOD_MX = "mx.goedemail.test"
NO_TLSA_MX = "mx-notlsa.goedemail.test"
SPF_GOOD = "v=spf1 include:_spf.goedemail.test -all"


def _bad(name: str) -> str:
    return f"{name}.slechtmail.test"


#: name -> spec. Every host but NO_TLSA_MX publishes TLSA, so DANE is judged on its own.
MAIL_HOSTS: tuple[MailHostSpec, ...] = (
    MailHostSpec(GOOD_MX),
    MailHostSpec(NO_TLSA_MX),
    MailHostSpec(_bad("mx-nostarttls"), starttls=False),
    MailHostSpec.legacy(_bad("mx-legacy")),
    MailHostSpec(_bad("mx-expired"), cert=CertKind.EXPIRED),
    MailHostSpec(_bad("mx-wronghost"), cert=CertKind.WRONG_HOST),
    MailHostSpec(_bad("mx-selfsigned"), cert=CertKind.SELF_SIGNED),
    MailHostSpec(_bad("mx-untrusted"), cert=CertKind.UNTRUSTED),
    MailHostSpec(_bad("mx-notyetvalid"), cert=CertKind.NOT_YET_VALID),
    MailHostSpec(_bad("mx-refuse"), behaviour=Behaviour.REFUSE),
    MailHostSpec(_bad("mx-hang"), behaviour=Behaviour.HANG),
    MailHostSpec(_bad("mx-reset"), behaviour=Behaviour.RESET),
    MailHostSpec(_bad("mx-454"), starttls_refused=True),
    MailHostSpec(_bad("mx-slow"), behaviour=Behaviour.SLOW_BANNER, banner_delay=0.3),
)
_TLSA = "3 1 1 " + "ab" * 32

PROVIDER_RECORDS: tuple[Record, ...] = (
    Record("_spf.goedemail.test.", "TXT", "v=spf1 include:_spf2.goedemail.test -all"),
    Record("_spf2.goedemail.test.", "TXT", "v=spf1 ip4:127.0.0.0/8 -all"),
    Record("open.spf-diensten.test.", "TXT", "v=spf1 +all"),
    Record("neutral.spf-diensten.test.", "TXT", "v=spf1 ?all"),
    Record("nospf.spf-diensten.test.", "TXT", "site-verification=abc"),
    Record("loop-b.spf-diensten.test.", "TXT", "v=spf1 include:spf-loop.test -all"),
    # a SPF host with its own address, for `a:`-style terms that are not void
    Record("smtp.spf-diensten.test.", "A", "127.0.0.1"),
    *(
        Record(f"s{i}.spf-diensten.test.", "TXT", f"v=spf1 ip4:127.0.{i}.0/24 -all")
        for i in range(12)
    ),
    *(
        Record(f"_25._tcp.{host.name}.", "TLSA", _TLSA)
        for host in MAIL_HOSTS
        if host.name != NO_TLSA_MX
    ),
    Record(f"_25._tcp.{_bad('gone')}.", "TLSA", _TLSA),  # an MX name without an address
)


def sts_policy(*mx: str, mode: str = "enforce") -> Route:
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), "max_age: 604800"]
    return Route.text("\r\n".join(lines) + "\r\n")


@dataclass(frozen=True)
class Zone:
    """One domain of the area: the base, with the changes it is about."""

    name: str
    expected: frozenset[str]
    mx: Sequence[str] = (GOOD_MX,)
    spf: Sequence[str] | None = None  # None: SPF_GOOD
    dmarc: str | None = ""  # "": the good default; None: no record
    dkim: bool = True
    sts_record: str | None = "v=STSv1; id=20250101T000000"
    sts_route: Route | None = None  # None: a policy covering `mx`
    sts_site: bool = True
    tlsrpt: str | None = ""  # "": the good default; None: no record
    dnssec: str = "signed"
    records: Sequence[RecordLike] = ()
    dns: str = "ok"
    note: str = ""

    def spec(self) -> DomainSpec:
        name = self.name
        mail = [m for m in self.mx if m != "0 ."]
        records: list[RecordLike] = list(self.records)
        if self.dkim and mail:
            records.append(("selector1._domainkey", "TXT", DKIM))
        if self.sts_record is not None and mail:
            records.append(("_mta-sts", "TXT", self.sts_record))
        if self.tlsrpt is not None and mail:
            records.append(
                ("_smtp._tls", "TXT", self.tlsrpt or f"v=TLSRPTv1; rua=mailto:tls@{name}")
            )
        subsites: dict[str, SiteSpec] = {}
        if self.sts_site and mail:
            route = self.sts_route or sts_policy(*mail)
            subsites["mta-sts"] = SiteSpec(routes={POLICY_PATH: route})
        return DomainSpec(
            name,
            a=[HOSTING],
            mx=[f"{10 * (i + 1)} {m}" if m != "0 ." else m for i, m in enumerate(self.mx)],
            txt=[SPF_GOOD] if self.spf is None else list(self.spf),
            dmarc=(
                f"v=DMARC1; p=reject; rua=mailto:dmarc@{name}" if self.dmarc == "" else self.dmarc
            ),
            records=records,
            site=None,
            www=False,
            subsites=subsites,
            dnssec=self.dnssec,  # type: ignore[arg-type]
            dns=self.dns,  # type: ignore[arg-type]
        )


S = "mail.spf"
M = "mail.dmarc"
_SPF_INVALID = frozenset({f"{S}.invalid"})
_SPF_PERMISSIVE = frozenset({f"{S}.permissive"})
_NOTHING: frozenset[str] = frozenset()


def _ids(*ids: str) -> frozenset[str]:
    return frozenset(ids)


def _includes(n: int) -> str:
    return "v=spf1 " + " ".join(f"include:s{i}.spf-diensten.test" for i in range(n)) + " -all"


ZONES: tuple[Zone, ...] = (
    Zone("goed.test", _NOTHING, note="everything in order"),
    # --- SPF -----------------------------------------------------------------------------------
    Zone("spf-softfail.test", _NOTHING, spf=["v=spf1 include:_spf.goedemail.test ~all"]),
    Zone("spf-missing.test", _ids(f"{S}.missing"), spf=["google-site-verification=abc"]),
    Zone("spf-multiple.test", _SPF_INVALID, spf=[SPF_GOOD, "v=spf1 mx -all"]),
    Zone("spf-syntax.test", _SPF_INVALID, spf=["v=spf1 ip4:127.0.0.300 -all"]),
    Zone("spf-at-limit.test", _NOTHING, spf=[_includes(10)], note="10 look-ups"),
    Zone("spf-over-limit.test", _SPF_INVALID, spf=[_includes(11)], note="11 look-ups"),
    Zone(
        "spf-nested-over-limit.test",
        _SPF_INVALID,
        spf=[
            "v=spf1 "
            + " ".join(f"include:s{i}.spf-diensten.test" for i in range(9))
            + " include:_spf.goedemail.test -all"
        ],
        note="9 + the provider's include, which includes another = 11",
    ),
    Zone(
        "spf-two-void.test",
        _NOTHING,
        spf=["v=spf1 a:nx1.spf-diensten.test mx:nx2.spf-diensten.test -all"],
    ),
    Zone(
        "spf-void.test",
        _SPF_INVALID,
        spf=[
            "v=spf1 a:nx1.spf-diensten.test mx:nx2.spf-diensten.test a:nx3.spf-diensten.test -all"
        ],
        note="3 void look-ups",
    ),
    Zone("spf-loop.test", _SPF_INVALID, spf=["v=spf1 include:loop-b.spf-diensten.test -all"]),
    Zone(
        "spf-split.test",
        _NOTHING,
        spf=[txt("v=spf1 ip4:127.0.0.1 ", "include:_spf.goedemail.test -all")],
        note="one record in two character-strings, joined without a space",
    ),
    Zone(
        "spf-split-nospace.test",
        _SPF_INVALID,
        spf=[txt("v=spf1 ip4:127.0.0.0/8", "include:_spf.goedemail.test -all")],
        note="the strings join into '/8include:...': the split needed a space",
    ),
    Zone("spf-redirect.test", _NOTHING, spf=["v=spf1 redirect=_spf.goedemail.test"]),
    Zone(
        "spf-redirect-neutral.test",
        _SPF_PERMISSIVE,
        spf=["v=spf1 redirect=neutral.spf-diensten.test"],
    ),
    Zone("spf-plus-all.test", _SPF_PERMISSIVE, spf=["v=spf1 include:_spf.goedemail.test +all"]),
    Zone("spf-neutral.test", _SPF_PERMISSIVE, spf=["v=spf1 include:_spf.goedemail.test ?all"]),
    Zone("spf-no-all.test", _SPF_PERMISSIVE, spf=["v=spf1 a:smtp.spf-diensten.test"]),
    Zone(
        "spf-include-open.test",
        _SPF_PERMISSIVE,
        spf=["v=spf1 include:open.spf-diensten.test -all"],
        note="the include passes every sender",
    ),
    Zone(
        "spf-include-nospf.test",
        _SPF_INVALID,
        spf=["v=spf1 include:nospf.spf-diensten.test -all"],
    ),
    Zone(
        "spf-macro.test",
        _NOTHING,
        spf=["v=spf1 include:_spf.goedemail.test exists:%{i}._spf.%{d} -all"],
    ),
    Zone("spf-ptr.test", _NOTHING, spf=["v=spf1 ptr:spf-diensten.test -all"]),
    # --- DMARC ---------------------------------------------------------------------------------
    Zone("dmarc-missing.test", _ids(f"{M}.missing"), dmarc=None),
    Zone(
        "dmarc-none.test",
        _ids(f"{M}.policy_none"),
        dmarc="v=DMARC1; p=none; rua=mailto:d@dmarc-none.test",
    ),
    Zone("dmarc-norua.test", _ids(f"{M}.no_reports"), dmarc="v=DMARC1; p=reject"),
    Zone(
        "dmarc-none-norua.test",
        _ids(f"{M}.policy_none", f"{M}.no_reports"),
        dmarc="v=DMARC1; p=none",
    ),
    Zone(
        "dmarc-testing.test",
        _ids(f"{M}.policy_none"),
        dmarc="v=DMARC1; p=quarantine; t=y; rua=mailto:d@dmarc-testing.test",
    ),
    Zone(
        "dmarc-testing-reject.test",
        _NOTHING,
        dmarc="v=DMARC1; p=reject; t=y; rua=mailto:d@dmarc-testing-reject.test",
        note="t=y lowers reject to quarantine: not none",
    ),
    Zone(
        "dmarc-pct0.test",
        _ids(f"{M}.policy_none"),
        dmarc="v=DMARC1; p=quarantine; pct=0; rua=mailto:d@dmarc-pct0.test",
    ),
    Zone("dmarc-syntax.test", _ids(f"{M}.invalid"), dmarc="v=DMARC1; p=rejectt"),
    Zone(
        "dmarc-duplicate-tag.test",
        _ids(f"{M}.invalid"),
        dmarc="v=DMARC1; p=reject; p=none; rua=mailto:d@dmarc-duplicate-tag.test",
    ),
    Zone(
        "dmarc-multiple.test",
        _ids(f"{M}.invalid"),
        dmarc=None,
        records=[
            ("_dmarc", "TXT", "v=DMARC1; p=reject"),
            ("_dmarc", "TXT", "v=DMARC1; p=none"),
        ],
    ),
    Zone(
        "dmarc-org.test",
        _NOTHING,
        dmarc="v=DMARC1; p=reject; sp=none; rua=mailto:d@dmarc-org.test",
        note="sp=none does not apply to the organisational domain itself",
    ),
    Zone(
        "winkel.dmarc-org.test",
        _ids(f"{M}.policy_none"),
        dmarc=None,
        note="no record of its own: the organisational domain's sp=none applies",
    ),
    Zone("dmarc-org-strict.test", _NOTHING),
    Zone("winkel.dmarc-org-strict.test", _NOTHING, dmarc=None, note="falls back to p=reject"),
    # --- MX and STARTTLS -----------------------------------------------------------------------
    Zone(
        "null-mx.test",
        _NOTHING,
        mx=["0 ."],
        spf=["v=spf1 -all"],
        note="a null MX: no DKIM, STARTTLS, MTA-STS, TLS-RPT or DANE questions",
    ),
    Zone("no-mx.test", _NOTHING, mx=[], spf=["v=spf1 -all"]),
    Zone("mx-nostarttls.test", _ids("mail.starttls.missing"), mx=[_bad("mx-nostarttls")]),
    Zone("mx-454.test", _ids("mail.starttls.missing"), mx=[_bad("mx-454")]),
    Zone("mx-legacy.test", _ids("mail.starttls.legacy"), mx=[_bad("mx-legacy")]),
    Zone("mx-expired.test", _ids("mail.starttls.cert_invalid"), mx=[_bad("mx-expired")]),
    Zone("mx-wronghost.test", _ids("mail.starttls.cert_invalid"), mx=[_bad("mx-wronghost")]),
    Zone("mx-selfsigned.test", _ids("mail.starttls.cert_invalid"), mx=[_bad("mx-selfsigned")]),
    Zone("mx-untrusted.test", _ids("mail.starttls.cert_invalid"), mx=[_bad("mx-untrusted")]),
    Zone("mx-notyetvalid.test", _ids("mail.starttls.cert_invalid"), mx=[_bad("mx-notyetvalid")]),
    Zone("mx-refused.test", _ids("mail.mx.unreachable"), mx=[_bad("mx-refuse")]),
    Zone("mx-hang.test", _ids("mail.mx.unreachable"), mx=[_bad("mx-hang")]),
    Zone("mx-reset.test", _ids("mail.mx.unreachable"), mx=[_bad("mx-reset")]),
    Zone("mx-noaddress.test", _ids("mail.mx.unreachable"), mx=[_bad("gone")]),
    Zone("mx-slow.test", _NOTHING, mx=[_bad("mx-slow")], note="a slow banner is not a defect"),
    Zone(
        "mx-two.test",
        _ids("mail.starttls.missing"),
        mx=[GOOD_MX, _bad("mx-nostarttls")],
        note="one good and one bad MX: the finding sits on the bad host only",
    ),
    # --- DKIM, MTA-STS, TLS-RPT, DANE ----------------------------------------------------------
    Zone("dkim-missing.test", _ids("mail.dkim.missing"), dkim=False),
    Zone("sts-missing.test", _ids("mail.mta_sts.missing"), sts_record=None, sts_site=False),
    Zone(
        "sts-none.test",
        _ids("mail.mta_sts.missing"),
        sts_route=sts_policy(mode="none"),
        note="mode none: the policy is withdrawn",
    ),
    Zone(
        "sts-testing.test",
        _NOTHING,
        sts_route=sts_policy(GOOD_MX, mode="testing"),
    ),
    Zone("sts-wildcard.test", _NOTHING, sts_route=sts_policy("*.goedemail.test")),
    Zone(
        "sts-uncovered.test",
        _ids("mail.mta_sts.invalid"),
        sts_route=sts_policy("mx.elders.test"),
        note="the policy does not cover the MX host",
    ),
    Zone(
        "sts-wildcard-deep.test",
        _ids("mail.mta_sts.invalid"),
        sts_route=sts_policy("*.test"),
        note="*.test covers one label only: not mx.goedemail.test",
    ),
    Zone("sts-nohost.test", _ids("mail.mta_sts.invalid"), sts_site=False),
    Zone(
        "sts-html.test",
        _ids("mail.mta_sts.invalid"),
        sts_route=Route.html("<p>version: STSv1</p>"),
    ),
    Zone(
        "sts-redirect.test",
        _ids("mail.mta_sts.invalid"),
        sts_route=Route.redirect("{origin}/mta-sts.txt"),
    ),
    Zone(
        "sts-404.test",
        _ids("mail.mta_sts.invalid"),
        sts_route=Route.html("<h1>Not Found</h1>", status=404),
    ),
    Zone(
        "sts-badpolicy.test",
        _ids("mail.mta_sts.invalid"),
        sts_route=Route.text("version: STSv1\nmode: enforce\nmx: mx.goedemail.test\n"),
        note="no max_age",
    ),
    Zone("sts-badrecord.test", _ids("mail.mta_sts.invalid"), sts_record="v=STSv1; id="),
    Zone("tlsrpt-missing.test", _ids("mail.tlsrpt.missing"), tlsrpt=None),
    Zone("tlsrpt-invalid.test", _ids("mail.tlsrpt.missing"), tlsrpt="v=TLSRPTv1;"),
    Zone("dane-missing.test", _ids("mail.dane.missing"), mx=[NO_TLSA_MX]),
    # --- DNSSEC --------------------------------------------------------------------------------
    Zone("dnssec-unsigned.test", _ids("dns.dnssec.missing"), dnssec="none"),
    Zone("dnssec-island.test", _ids("dns.dnssec.missing"), dnssec="no_ds"),
    Zone("dnssec-expired.test", _ids("dns.dnssec.invalid"), dnssec="expired"),
    Zone("dnssec-dsmismatch.test", _ids("dns.dnssec.invalid"), dnssec="ds_mismatch"),
    Zone(
        "dnssec-nosigs.test",
        _ids("dns.dnssec.invalid"),
        dnssec="none",
        records=[("@", rtype, value) for rtype, value in published_keys("dnssec-nosigs.test")],
        note="DS and DNSKEY match, but nothing is signed",
    ),
    # --- DNS that does not answer: no verdict at all -------------------------------------------
    Zone("dns-timeout.test", _NOTHING, dns="timeout"),
    Zone("dns-servfail.test", _NOTHING, dns="servfail"),
    Zone(
        "trage-dienst.test",
        _NOTHING,
        dns="timeout",
        records=[("_spf", "TXT", "v=spf1 ip4:127.0.0.1 -all")],
        note="a provider whose DNS does not answer",
    ),
    Zone(
        "spf-include-timeout.test",
        _NOTHING,
        spf=["v=spf1 include:_spf.trage-dienst.test -all"],
        note="SPF validity is undecided, the rest is judged",
    ),
)

#: domain -> the exact `mail.*` and `dns.*` ids a complete scan reports for it.
MAIL_EXPECTED: Mapping[str, frozenset[str]] = {z.name: z.expected for z in ZONES}


def company_id(index: int) -> str:
    return f"7{index:07d}"


def mail_area() -> Area:
    companies = [
        CompanySpec(
            company_id(i), f"Mailzone {zone.name}", f"it@{zone.name}", "test", [zone.spec()]
        )
        for i, zone in enumerate(ZONES)
    ]
    return Area(companies, MAIL_HOSTS, PROVIDER_RECORDS, name="mail zones")


def shared_mx_area(n: int, hosts: int = 3) -> Area:
    """`n` domains of `n` companies, spread over `hosts` MX hosts of one provider."""
    mx = [MailHostSpec(f"mx{i}.gedeeld.test") for i in range(hosts)]
    companies = [
        CompanySpec(
            company_id(i),
            f"Gedeeld {i}",
            f"info@gedeeld-{i}.test",
            "test",
            [
                DomainSpec(
                    f"gedeeld-{i}.test",
                    a=(),
                    mx=[f"10 {mx[i % hosts].name}", f"20 {mx[(i + 1) % hosts].name}"],
                    txt=["v=spf1 mx -all"],
                    dmarc=f"v=DMARC1; p=reject; rua=mailto:d@gedeeld-{i}.test",
                    site=None,
                    www=False,
                )
            ],
        )
        for i in range(n)
    ]
    return Area(companies, mx, name=f"{n} domains on {hosts} MX hosts")
