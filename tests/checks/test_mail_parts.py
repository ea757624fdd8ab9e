"""The smaller parts of the mail family: MTA-STS parsing and matching, TLS-RPT, DKIM, DANE, MX,
the SMTP reply reader and dialogue (against scripted servers that misbehave in ways the testbed's
mail hosts do not), and the STARTTLS verdicts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from checks.mail import records
from checks.mail.mta_sts import (
    StsSyntaxError,
    is_sts_record,
    mx_matches,
    parse_policy,
    parse_record,
)
from checks.mail.mx import MAX_MX_HOSTS, MxStatus, mail_exchangers
from checks.mail.starttls import (
    CERT_INVALID,
    LEGACY,
    MISSING,
    STARTTLS_IDS,
    UNREACHABLE,
    SmtpProtocolError,
    SmtpSession,
    SmtpState,
    Transcript,
    _dialogue,
    judge,
    read_reply,
)
from exposure.contract import FailureReason
from exposure.net.certs import ChainVerdict, TrustProblem
from exposure.net.tls import Offer, Outcome, StartTlsUnavailable, TlsResult
from tests.checks.fakedns import FakeDns

# --- MTA-STS ---------------------------------------------------------------------------------------


def test_sts_record():
    assert parse_record("v=STSv1; id=20240101T000000").id == "20240101T000000"
    assert parse_record("v=STSv1;id=abc;").id == "abc"
    assert parse_record("v=STSv1; id=abc; ext=1").id == "abc"
    for bad in (
        "v=STSv1",
        "v=STSv1; id=",
        "v=STSv1; id=" + "a" * 33,
        "v=STSv1; id=2024-01-01",
        "v=STSv1; id=a; id=b",
        "v=STSv2; id=a",
        "v=STSv1; id a",
    ):
        with pytest.raises(StsSyntaxError):
            parse_record(bad)
    assert is_sts_record("v=STSv1; id=a")
    assert not is_sts_record("v=STSv10; id=a")
    assert not is_sts_record("v=spf1 -all")


def test_sts_policy():
    policy = parse_policy(
        "version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\nmx: *.example.net\r\n"
        "max_age: 604800\r\n"
    )
    assert (policy.mode, policy.mx, policy.max_age) == (
        "enforce",
        ("mail.example.test", "*.example.net"),
        604800,
    )
    assert parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n").mx == ()
    assert (
        parse_policy("version: STSv1\nmode: testing\nmx: a.example.test\nmax_age: 0").max_age == 0
    )
    for bad in (
        "mode: enforce\nmx: a.example.test\nmax_age: 1",  # no version
        "version: STSv1\nmode: strict\nmx: a.example.test\nmax_age: 1",
        "version: STSv1\nmode: enforce\nmx: a.example.test",  # no max_age
        "version: STSv1\nmode: enforce\nmx: a.example.test\nmax_age: 31557601",
        "version: STSv1\nmode: enforce\nmax_age: 1",  # enforce without mx
        "version: STSv1\nmode: enforce\nmx: a..example.test\nmax_age: 1",
        "version: STSv1\nmode: enforce\nmx: *a.example.test\nmax_age: 1",
        "<html><p>not a policy</p></html>",
    ):
        with pytest.raises(StsSyntaxError):
            parse_policy(bad)


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("mail.example.test", "mail.example.test", True),
        ("mail.example.test", "MAIL.example.test.", True),
        ("mail.example.test", "mx.example.test", False),
        ("*.example.test", "mail.example.test", True),
        ("*.example.test", "example.test", False),
        ("*.example.test", "a.mail.example.test", False),  # one label only
        ("*.test", "mail.example.test", False),
    ],
)
def test_sts_mx_matching(pattern, host, matches):
    assert mx_matches(pattern, host) is matches


# --- TLS-RPT, DKIM, DANE, MX ---------------------------------------------------------------------


def test_tlsrpt_record():
    assert records.parse_tlsrpt("v=TLSRPTv1; rua=mailto:tls@example.test") == (
        "mailto:tls@example.test",
    )
    assert records.parse_tlsrpt(
        "v=TLSRPTv1;rua=mailto:a@example.test,https://reports.example.test/tlsrpt"
    ) == ("mailto:a@example.test", "https://reports.example.test/tlsrpt")
    for bad in (
        "v=TLSRPTv1;",
        "v=TLSRPTv1; rua=tls@example.test",
        "v=TLSRPTv1; rua=http://reports.example.test",
        "v=TLSRPTv2; rua=mailto:a@example.test",
    ):
        with pytest.raises(ValueError):
            records.parse_tlsrpt(bad)


async def test_record_presence_keeps_no_and_could_not_ask_apart():
    dns = FakeDns()
    dns.txt("sel._domainkey.signed.test", "v=DKIM1; p=abc")
    dns.txt("_smtp._tls.rpt.test", "v=TLSRPTv1; rua=mailto:a@rpt.test")
    dns.txt(
        "_smtp._tls.two.test",
        "v=TLSRPTv1; rua=mailto:a@two.test",
        "v=TLSRPTv1; rua=mailto:b@two.test",
    )
    dns.set("_25._tcp.mx.dane.test", "TLSA", "3 1 1 abab")
    dns.timeout("_domainkey.slow.test")
    # an empty non-terminal above a selector is NODATA: DKIM is there
    assert (await records.dkim("signed.test", dns)).presence is records.Presence.PRESENT
    assert (await records.dkim("unsigned.test", dns)).presence is records.Presence.MISSING
    assert (await records.dkim("slow.test", dns)).presence is records.Presence.TEMPERROR
    assert (await records.tlsrpt("rpt.test", dns)).presence is records.Presence.PRESENT
    assert (await records.tlsrpt("two.test", dns)).presence is records.Presence.INVALID
    assert (await records.tlsrpt("none.test", dns)).presence is records.Presence.MISSING
    assert (await records.tlsa("mx.dane.test", dns)).presence is records.Presence.PRESENT
    assert (await records.tlsa("mx.nodane.test", dns)).presence is records.Presence.MISSING


async def test_mail_exchangers():
    dns = FakeDns().set("null.test", "MX", (0, "")).a("nomx.test")
    dns.set("many.test", "MX", *((i, f"mx{i:02d}.many.test") for i in reversed(range(12))))
    dns.set("dup.test", "MX", (20, "b.dup.test"), (10, "a.dup.test"), (30, "a.dup.test"))
    dns.timeout("slow.test")
    assert (await mail_exchangers("null.test", dns)).status is MxStatus.NULL
    assert (await mail_exchangers("nomx.test", dns)).status is MxStatus.NONE
    assert (await mail_exchangers("gone.test", dns)).status is MxStatus.NXDOMAIN
    assert (await mail_exchangers("slow.test", dns)).status is MxStatus.TEMPERROR
    many = await mail_exchangers("many.test", dns)
    assert many.hosts == tuple(f"mx{i:02d}.many.test" for i in range(MAX_MX_HOSTS))
    assert (await mail_exchangers("dup.test", dns)).hosts == ("a.dup.test", "b.dup.test")


# --- the SMTP dialogue ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def scripted(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], object],
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """A server running `handler`, and a client connection to it."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await handler(reader, writer)  # type: ignore[misc]
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


def lines(*replies: str, then: Callable[..., object] | None = None):
    """A handler that sends `replies[0]`, then one reply per line it reads."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(replies[0].encode() + b"\r\n")
        for reply in replies[1:]:
            await reader.readline()
            writer.write(reply.encode() + b"\r\n")
            await writer.drain()
        await reader.read()

    return handler


async def test_read_reply_multiline_and_caps():
    async with scripted(lines("250-mx.example.test\r\n250-PIPELINING\r\n250 STARTTLS")) as (r, _):
        assert await read_reply(r) == (250, ["mx.example.test", "PIPELINING", "STARTTLS"])
    async with scripted(lines("250 " + "x" * 5000)) as (r, _):
        with pytest.raises(SmtpProtocolError):
            await read_reply(r)
    async with scripted(lines("\r\n".join(["250-x"] * 100) + "\r\n250 end")) as (r, _):
        with pytest.raises(SmtpProtocolError, match="more than"):
            await read_reply(r)
    async with scripted(lines("HTTP/1.1 400 Bad Request")) as (r, _):
        with pytest.raises(SmtpProtocolError, match="not an SMTP reply"):
            await read_reply(r)


async def _run_dialogue(*replies: str) -> tuple[Transcript, BaseException | None]:
    transcript = Transcript()
    async with scripted(lines(*replies)) as (reader, writer):
        try:
            await _dialogue(reader, writer, transcript, "scanner.example.test")
        except Exception as exc:
            return transcript, exc
    return transcript, None


async def test_dialogue_reaches_starttls():
    t, error = await _run_dialogue("220 mx ESMTP", "250-mx\r\n250 STARTTLS", "220 Go ahead")
    assert error is None
    assert (t.banner_code, t.extensions, t.ehlo_name) == (220, ["STARTTLS"], "scanner.example.test")


async def test_dialogue_without_starttls():
    t, error = await _run_dialogue("220 mx ESMTP", "250-mx\r\n250 8BITMIME", "221 Bye")
    assert isinstance(error, StartTlsUnavailable)
    assert t.extensions == ["8BITMIME"]


async def test_dialogue_starttls_refused():
    t, error = await _run_dialogue(
        "220 mx", "250-mx\r\n250 STARTTLS", "454 4.7.0 TLS not available"
    )
    assert isinstance(error, StartTlsUnavailable)
    assert t.starttls_reply.startswith("454")


async def test_dialogue_ehlo_refused_helo_accepted():
    t, error = await _run_dialogue("220 mx", "502 EHLO not implemented", "250 mx", "221 Bye")
    assert isinstance(error, StartTlsUnavailable) and t.helo


async def test_dialogue_banner_not_220():
    t, error = await _run_dialogue("554 5.7.1 No SMTP service here", "221 Bye")
    assert error is not None and not isinstance(error, StartTlsUnavailable)
    assert t.banner_code == 554


# --- verdicts ---------------------------------------------------------------------------------------

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def certs() -> dict[str, x509.Certificate]:
    ca = trustme.CA()
    good = ca.issue_cert("mx.example.test")
    expired = ca.issue_cert("mx.example.test", not_after=datetime.now(UTC) - timedelta(days=2))
    other = ca.issue_cert("www.example.test")

    def load(issued: trustme.LeafCert) -> x509.Certificate:
        return x509.load_pem_x509_certificate(issued.cert_chain_pems[0].bytes())

    return {"good": load(good), "expired": load(expired), "other": load(other)}


def session(state: SmtpState, tls: TlsResult | None = None, **kw: object) -> SmtpSession:
    return SmtpSession("mx.example.test", state, address="192.0.2.25", tls=tls, **kw)  # type: ignore[arg-type]


def tls_result(cert: x509.Certificate, version: str = "TLSv1.3", trusted: bool = True) -> TlsResult:
    trust = ChainVerdict(True) if trusted else ChainVerdict(False, TrustProblem.SELF_SIGNED, "x")
    return TlsResult(
        "192.0.2.25",
        25,
        "mx.example.test",
        Offer.ANY,
        Outcome.ACCEPTED,
        version=version,
        chain_der=(cert.public_bytes(Encoding.DER),),
        trust=trust,
    )


def test_judge_good_tls(certs):
    assert judge(session(SmtpState.TLS, tls_result(certs["good"])), NOW).findings == {}


def test_judge_each_defect(certs):
    assert set(judge(session(SmtpState.NO_STARTTLS), NOW).findings) == {MISSING}
    assert set(judge(session(SmtpState.STARTTLS_REFUSED), NOW).findings) == {MISSING}
    legacy = judge(session(SmtpState.TLS, tls_result(certs["good"], "TLSv1")), NOW)
    assert set(legacy.findings) == {LEGACY}
    for cert, trusted in ((certs["expired"], True), (certs["other"], True), (certs["good"], False)):
        verdict = judge(session(SmtpState.TLS, tls_result(cert, trusted=trusted)), NOW)
        assert set(verdict.findings) == {CERT_INVALID}
        assert not verdict.undecided


@pytest.mark.parametrize(
    ("state", "finding", "reason"),
    [
        (SmtpState.UNREACHABLE, {UNREACHABLE}, FailureReason.UNREACHABLE),
        (SmtpState.NO_ADDRESS, {UNREACHABLE}, FailureReason.UNREACHABLE),
        (SmtpState.DNS_FAILED, set(), FailureReason.DNS_ERROR),
        (SmtpState.OUT_OF_SCOPE, set(), FailureReason.OUT_OF_SCOPE),
        (SmtpState.NO_SERVICE, set(), FailureReason.REFUSED),
        (SmtpState.BROKEN, set(), FailureReason.PROTOCOL),
        (SmtpState.TLS_FAILED, set(), FailureReason.PROTOCOL),
    ],
)
def test_judge_could_not_test(state, finding, reason):
    verdict = judge(session(state, detail="why"), NOW)
    assert set(verdict.findings) == finding
    assert verdict.reason is reason
    # the STARTTLS ids are never decided without a session that got that far
    assert verdict.undecided >= STARTTLS_IDS
    assert (UNREACHABLE in verdict.undecided) is (not finding)


# --- the family check without a network -------------------------------------------------------------


def _ctx(dns: FakeDns):
    from exposure.contract import CheckContext
    from exposure.memo import RunMemo
    from exposure.scan.limits import Limits
    from exposure.settings import load_settings

    return CheckContext(
        settings=load_settings(resolvers="127.0.0.1:9"),
        dns=dns,
        limits=Limits(2),
        memo=RunMemo(),
        now=NOW,
    )


def _target(domain: str):
    from exposure.contract import ScanTarget, TargetKind

    return ScanTarget("c1", TargetKind.DOMAIN, domain)


async def test_a_domain_that_does_not_exist_gets_nothing():
    from checks.mail.check import MailCheck

    dns = FakeDns().timeout("gone.test", "MX")  # even if the MX look-up times out
    assert await MailCheck().run(_target("gone.test"), _ctx(dns)) == []


async def test_an_mx_time_out_leaves_exactly_the_mail_domain_ids_undecided():
    from checks.mail.check import MX_IDS, MailCheck
    from exposure.contract import CheckFailure, FindingCandidate

    dns = FakeDns().txt("slowmx.test", "v=spf1 ?all").timeout("slowmx.test", "MX")
    dns.txt("_dmarc.slowmx.test", "v=DMARC1; p=reject; rua=mailto:d@slowmx.test")
    observations = await MailCheck().run(_target("slowmx.test"), _ctx(dns))
    findings = [o.check_id for o in observations if isinstance(o, FindingCandidate)]
    failures = [o for o in observations if isinstance(o, CheckFailure)]
    assert findings == ["mail.spf.permissive"]
    assert [f.finding_ids for f in failures] == [MX_IDS]
    assert failures[0].reason is FailureReason.DNS_ERROR
