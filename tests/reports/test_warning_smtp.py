"""Real SMTP delivery to an aiosmtpd server: STARTTLS and AUTH, implicit TLS, a refused recipient
(recorded as failed, the others delivered, retried on the next run), a wrong password, a server
that is not there, and the safety rules of `smtp_url`.

The server runs in a thread (aiosmtpd's Controller) with a certificate from a throw-away trustme
CA; the client trusts that CA through `smtp_ca_bundle`, exactly as an operator would configure
a private mail relay.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlmodel import col, select

from exposure.app.harness import Lab
from exposure.models import WarningRecord
from exposure.net.smtp_url import SmtpUrlError, parse_smtp_url
from exposure.store.db import session as session_scope
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec
from reports.warning_run import WarnOptions, WarnReport, run_warnings
from tests.reports.lab_checks import lab_registry

USER, PASSWORD = "meldpunt", "zeer-geheim"

AREA = Area(
    companies=[
        CompanySpec(
            f"10{i:02d}",
            name,
            address,
            domains=[DomainSpec(f"{slug}.test", site=None, txt=["v=spf1 -all"])],
        )
        for i, (name, address, slug) in enumerate(
            [
                ("Bakkerij De Haven", "info@bakkerij.test", "bakkerij"),
                ("Scheepswerf Van der Made", "weg@scheepswerf.test", "scheepswerf"),
                ("Koelhuis Noord", "beheer@koelhuis.test", "koelhuis"),
            ],
            start=1,
        )
    ]
)
REFUSED = "weg@scheepswerf.test"  # the shipyard's address no longer exists


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Accepts mail, refuses the addresses in `refuse`, remembers what it got."""

    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    tls_seen: list[bool] = field(default_factory=list)
    auth_seen: list[bool] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert envelope.mail_from is not None and isinstance(envelope.content, bytes)
        assert server.transport is not None
        self.tls_seen.append(server.transport.get_extra_info("ssl_object") is not None)
        self.auth_seen.append(bool(session.authenticated))
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 2.0.0 Ok: queued"


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MailServer:
    handler: Handler
    port: int
    bundle: Path


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def bundle(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def starttls_server(ca: trustme.CA, bundle: Path) -> Iterator[MailServer]:
    """Submission with STARTTLS required and AUTH only after TLS (port 587 style)."""
    handler = Handler(refuse={REFUSED})
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(ca),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield MailServer(handler, port, bundle)
    finally:
        controller.stop()


@pytest.fixture
def implicit_tls_server(ca: trustme.CA, bundle: Path) -> Iterator[MailServer]:
    """Submission over implicit TLS (port 465 style)."""
    handler = Handler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        ssl_context=_server_context(ca),
        authenticator=authenticator,
        auth_required=True,
        # aiosmtpd counts only STARTTLS as TLS for this rule; the whole session is TLS here
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield MailServer(handler, port, bundle)
    finally:
        controller.stop()


SENDER = {
    "meldpunt_name": "Meldpunt Cybersecurity IJmuiden",
    "meldpunt_email": "meldpunt@meldpunt-ijmuiden.test",
    "meldpunt_phone": "0255 123 456",
    "meldpunt_url": "www.meldpunt-ijmuiden.test",
}


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    async with Testbed(AREA, shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        try:
            await lab.scan(registry=lab_registry(), dns_timeout=0.5, dns_tries=1)
            yield lab
        finally:
            lab.close()


def send(lab: Lab, smtp_url: str, bundle: Path | None, **options: Any) -> WarnReport:
    settings = lab.settings(**SENDER, smtp_url=smtp_url, smtp_ca_bundle=bundle, smtp_timeout=5.0)
    return run_warnings(
        lab.engine,
        settings,
        lab_registry().specs(),
        WarnOptions(send=True, **options),
        now=options.pop("now", None) or datetime.now(UTC).replace(tzinfo=None),
    )


def records(lab: Lab) -> list[WarningRecord]:
    with session_scope(lab.engine) as session:
        return list(session.exec(select(WarningRecord).order_by(col(WarningRecord.id))))


async def test_starttls_auth_delivery_a_refused_recipient_and_the_retry(
    lab: Lab, starttls_server: MailServer
) -> None:
    url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{starttls_server.port}?starttls=1"
    report = send(lab, url, starttls_server.bundle)

    outcome = {m.company_id: m for m in report.messages}
    assert {k: m.status for k, m in outcome.items()} == {
        "1001": "sent",
        "1002": "failed",  # its only address was refused...
        "1003": "sent",  # ...and the others were delivered all the same
    }
    assert report.exit_code == 3
    assert "550" in outcome["1002"].result and REFUSED in outcome["1002"].result
    assert "STARTTLS" in outcome["1001"].result and PASSWORD not in outcome["1001"].result

    got = starttls_server.handler.received
    assert [r.rcpt_tos for r in got] == [["info@bakkerij.test"], ["beheer@koelhuis.test"]]
    assert all(r.mail_from == "meldpunt@meldpunt-ijmuiden.test" for r in got)
    assert starttls_server.handler.tls_seen == [True, True]
    assert starttls_server.handler.auth_seen == [True, True]
    bakery = got[0].message
    assert bakery["X-Meldpunt-Reference"] == outcome["1001"].reference
    assert [p.get_content_type() for p in bakery.iter_parts()] == ["text/plain", "text/html"]

    rows = {r.company_id: r for r in records(lab)}
    assert {k: (r.status, r.channel) for k, r in rows.items()} == {
        "1001": ("sent", "smtp"),
        "1002": ("failed", "smtp"),
        "1003": ("sent", "smtp"),
    }
    assert rows["1002"].recipients == [REFUSED]

    # the next run tries the failed one again (with a new reference), and only that one
    starttls_server.handler.refuse.clear()
    retry = send(lab, url, starttls_server.bundle)
    assert [(m.company_id, m.status) for m in retry.messages] == [("1002", "sent")]
    assert retry.exit_code == 0
    assert retry.messages[0].reference != outcome["1002"].reference
    assert starttls_server.handler.received[-1].rcpt_tos == [REFUSED]
    assert [r.status for r in records(lab) if r.company_id == "1002"] == ["failed", "sent"]
    # and a run after that is quiet
    assert send(lab, url, starttls_server.bundle).messages == ()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls(lab: Lab, implicit_tls_server: MailServer) -> None:
    url = f"smtps://{USER}:{PASSWORD}@127.0.0.1:{implicit_tls_server.port}"
    report = send(lab, url, implicit_tls_server.bundle)
    assert {m.status for m in report.messages} == {"sent"}
    assert len(implicit_tls_server.handler.received) == 3
    assert implicit_tls_server.handler.tls_seen == [True, True, True]


async def test_a_wrong_password_fails_every_message_and_all_are_retried(
    lab: Lab, starttls_server: MailServer
) -> None:
    url = f"smtp://{USER}:wrong@127.0.0.1:{starttls_server.port}"
    report = send(lab, url, starttls_server.bundle)
    assert [m.status for m in report.messages] == ["failed"] * 3
    assert "login refused" in report.messages[0].result
    assert "not attempted" in report.messages[1].result  # no time-out per message
    assert "wrong" not in " ".join(m.result for m in report.messages)
    assert starttls_server.handler.received == []
    good = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{starttls_server.port}"
    starttls_server.handler.refuse.clear()
    assert [m.status for m in send(lab, good, starttls_server.bundle).messages] == ["sent"] * 3


async def test_an_untrusted_server_certificate_is_refused(
    lab: Lab, starttls_server: MailServer
) -> None:
    url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{starttls_server.port}"
    report = send(lab, url, None)  # the system store does not know the test CA
    assert [m.status for m in report.messages] == ["failed"] * 3
    assert "CERTIFICATE_VERIFY_FAILED" in report.messages[0].result
    assert starttls_server.handler.received == []


async def test_a_server_that_is_not_there(lab: Lab) -> None:
    url = f"smtp://127.0.0.1:{free_port()}?starttls=0"
    report = send(lab, url, None)
    assert [m.status for m in report.messages] == ["failed"] * 3
    assert "cannot connect" in report.messages[0].result
    assert {r.status for r in records(lab)} == {"failed"}


async def test_a_server_without_starttls_is_not_used_in_the_clear(
    lab: Lab, ca: trustme.CA, bundle: Path
) -> None:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)  # no TLS at all
    controller.start()
    try:
        report = send(lab, f"smtp://127.0.0.1:{port}", bundle)
    finally:
        controller.stop()
    assert [m.status for m in report.messages] == ["failed"] * 3
    assert "does not offer STARTTLS" in report.messages[0].result
    assert handler.received == []


async def test_outbox_and_send_together(
    lab: Lab, starttls_server: MailServer, tmp_path: Path
) -> None:
    url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{starttls_server.port}"
    report = send(lab, url, starttls_server.bundle, outbox=tmp_path / "outbox")
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3
    assert {m.company_id: m.status for m in report.messages}["1002"] == "failed"
    assert all("written to" in m.result for m in report.messages)


async def test_securitytxt_contacts_only_on_the_companys_own_domain(
    lab: Lab, starttls_server: MailServer
) -> None:
    from exposure.models import Finding

    with session_scope(lab.engine) as session:
        finding = session.exec(select(Finding).where(Finding.company_id == "1001")).one()
        session.add(
            Finding(
                fingerprint="sectxt-1001",
                company_id="1001",
                check_id="securitytxt.expired",
                family="securitytxt",
                severity="low",
                target="bakkerij.test",
                evidence={
                    "contacts": [
                        "mailto:security@bakkerij.test",
                        "mailto:abuse@hoster.example",  # the hosting company's file
                        "https://bakkerij.test/contact",
                        "mailto:evil@bakkerij.test%0d%0aBcc:x@evil.example",
                    ]
                },
                target_id=finding.target_id,
            )
        )
    url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{starttls_server.port}"
    report = send(lab, url, starttls_server.bundle, company_ids=("1001",))
    assert report.messages[0].recipients == ("info@bakkerij.test",)  # setting off by default
    with session_scope(lab.engine) as session:
        for row in session.exec(select(WarningRecord)):
            session.delete(row)
    settings = lab.settings(
        **SENDER,
        smtp_url=url,
        smtp_ca_bundle=starttls_server.bundle,
        warn_securitytxt_contacts=True,
    )
    report = run_warnings(
        lab.engine,
        settings,
        lab_registry().specs(),
        WarnOptions(send=True, company_ids=("1001",)),
        now=datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1),
    )
    assert report.messages[0].recipients == ("info@bakkerij.test", "security@bakkerij.test")
    assert starttls_server.handler.received[-1].rcpt_tos == [
        "info@bakkerij.test",
        "security@bakkerij.test",
    ]
    assert any("not on one of the company's own domains" in n for n in report.notes)
    assert any("line break" in n for n in report.notes)


# --- smtp_url -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://u:s3cr3t@mail.example.nl:587?starttls=1",
            ("mail.example.nl", 587, "starttls", "u"),
        ),
        ("smtp://u:s3cr3t@mail.example.nl", ("mail.example.nl", 587, "starttls", "u")),
        ("smtps://u:s3cr3t@mail.example.nl", ("mail.example.nl", 465, "tls", "u")),
        ("smtp://localhost:25?starttls=0", ("localhost", 25, "none", "")),
        ("smtp://u:s3cr3t@127.0.0.1:25?starttls=0", ("127.0.0.1", 25, "none", "u")),
        (
            "smtp://user%40x.nl:s3cr3t@mail.example.nl",
            ("mail.example.nl", 587, "starttls", "user@x.nl"),
        ),
    ],
)
def test_smtp_urls(url: str, expected: tuple[str, int, str, str]) -> None:
    config = parse_smtp_url(url)
    assert (config.host, config.port, config.security, config.username) == expected
    assert "s3cr3t" not in repr(config) and "s3cr3t" not in config.describe()
    assert config.password == ("s3cr3t" if config.username else "")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.nl", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://u:s3cr3t@mail.example.nl?starttls=0", "unencrypted"),
        ("smtp://mail.example.nl?starttls=maybe", "1 or 0"),
        ("smtps://mail.example.nl?starttls=1", "implicit TLS"),
        ("smtp://mail.example.nl?tls=1", "unknown option"),
        ("smtp://mail.example.nl/path", "path"),
        ("smtp://mail.example.nl:99999", "not a valid URL"),
    ],
)
def test_bad_smtp_urls(url: str, message: str) -> None:
    with pytest.raises(SmtpUrlError, match=message) as info:
        parse_smtp_url(url)
    assert "s3cr3t" not in str(info.value)
