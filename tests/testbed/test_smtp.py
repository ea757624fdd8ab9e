"""The testbed's mail hosts behave as declared, proven with real clients (smtplib and raw asyncio)."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import ssl
import time
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trustme

from exposure.testbed.smtp import (
    MAX_LINE,
    Behaviour,
    MailHostSpec,
    SmtpServer,
    server_context,
    spec_context,
)

MX = "mx1.havenbedrijf.nl"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def pem(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cert = ca.issue_cert(MX)
    folder = tmp_path_factory.mktemp("mx")
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    cert.private_key_pem.write_to_path(str(keyfile))
    for blob in cert.cert_chain_pems:
        blob.write_to_path(str(certfile), append=True)
    return certfile, keyfile


def client_context(
    ca: trustme.CA,
    minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
    seclevel0: bool = False,
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(ctx)
    # smtplib checks the name against the IP it dialled; the chain is still verified.
    ctx.check_hostname = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
    if seclevel0:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


@pytest.fixture
async def serve(pem: tuple[Path, Path]) -> AsyncIterator[Callable[..., asyncio.Future[SmtpServer]]]:
    """Start mail hosts from specs; every one is closed at the end of the test."""
    servers: list[SmtpServer] = []

    async def start(spec: MailHostSpec, host: str = "127.0.0.1") -> SmtpServer:
        server = SmtpServer(spec, certfile=pem[0], keyfile=pem[1])
        await server.start(host, 0)
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        await server.close()


async def eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    """The server counts in its own task; give it a moment after the client returns."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def smtp_probe(port: int, ctx: ssl.SSLContext | None, host: str = "127.0.0.1") -> dict[str, object]:
    """What a passive scanner does: banner, EHLO, STARTTLS, EHLO again, QUIT."""
    with smtplib.SMTP(host, port, local_hostname="scanner.test", timeout=5) as client:
        code, _ = client.ehlo()
        result: dict[str, object] = {"ehlo": code, "offered": client.has_extn("starttls")}
        if ctx is not None and client.has_extn("starttls"):
            client.starttls(context=ctx)
            result["version"] = client.sock.version()  # type: ignore[union-attr]
            client.ehlo()
            result["offered_after_tls"] = client.has_extn("starttls")
        client.quit()
    return result


# --- STARTTLS ---------------------------------------------------------------------------------


async def test_starttls_offered_and_upgrade_works(serve, ca: trustme.CA) -> None:
    server = await serve(MailHostSpec(MX))
    result = await asyncio.to_thread(smtp_probe, server.port, client_context(ca))
    assert result == {
        "ehlo": 250,
        "offered": True,
        "version": "TLSv1.3",
        "offered_after_tls": False,
    }
    await eventually(lambda: server.counters.commands["QUIT"] == 1)
    c = server.counters
    assert (c.sessions, c.starttls_upgrades, c.tls_handshakes, c.tls_failures) == (1, 1, 1, 0)
    assert c.tls_versions == ["TLSv1.3"]
    assert c.ehlo_names == ["scanner.test", "scanner.test"]
    assert server.mail_from_seen == 0


async def test_tls_range_is_honoured(serve, ca: trustme.CA) -> None:
    spec = MailHostSpec(MX, tls_max=ssl.TLSVersion.TLSv1_2)
    server = await serve(spec)
    result = await asyncio.to_thread(smtp_probe, server.port, client_context(ca))
    assert result["version"] == "TLSv1.2"


async def test_no_starttls_offered(serve, ca: trustme.CA) -> None:
    server = await serve(MailHostSpec(MX, starttls=False))
    result = await asyncio.to_thread(smtp_probe, server.port, client_context(ca))
    assert result == {"ehlo": 250, "offered": False}
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await reader.readline()
    writer.write(b"EHLO scanner.test\r\nSTARTTLS\r\nQUIT\r\n")
    replies = (await reader.read()).decode()
    assert "STARTTLS" not in replies
    assert "\r\n502 " in replies
    writer.close()
    assert server.counters.starttls_upgrades == 0


async def test_starttls_advertised_but_refused(serve) -> None:
    server = await serve(MailHostSpec(MX, starttls_refused=True))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await reader.readline()
    writer.write(b"EHLO scanner.test\r\nSTARTTLS\r\nQUIT\r\n")
    replies = (await reader.read()).decode()
    assert "250-STARTTLS" in replies and "\r\n454 4.7.0" in replies
    writer.close()


async def test_legacy_host_accepts_tls10_from_a_seclevel0_client(serve, ca: trustme.CA) -> None:
    server = await serve(MailHostSpec.legacy(MX))
    old_client = client_context(ca, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1, seclevel0=True)
    result = await asyncio.to_thread(smtp_probe, server.port, old_client)
    assert result["version"] == "TLSv1"
    await eventually(lambda: server.counters.tls_handshakes == 1)
    assert server.counters.tls_versions == ["TLSv1"]


async def test_legacy_host_refuses_a_tls12_minimum_client(serve, ca: trustme.CA) -> None:
    server = await serve(MailHostSpec.legacy(MX))
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await asyncio.to_thread(smtp_probe, server.port, client_context(ca))
    await eventually(lambda: server.counters.tls_failures == 1)
    assert server.counters.starttls_upgrades == 1
    assert server.counters.tls_handshakes == 0


async def test_modern_host_refuses_a_legacy_only_client(serve, ca: trustme.CA) -> None:
    server = await serve(MailHostSpec(MX))
    old_client = client_context(ca, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, seclevel0=True)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await asyncio.to_thread(smtp_probe, server.port, old_client)
    await eventually(lambda: server.counters.tls_failures == 1)


async def test_ready_ssl_context_is_used(ca: trustme.CA, pem: tuple[Path, Path]) -> None:
    spec = MailHostSpec(MX)
    server = SmtpServer(spec, ssl_context=spec_context(spec, *pem))
    await server.start("127.0.0.1", 0)
    try:
        result = await asyncio.to_thread(smtp_probe, server.port, client_context(ca))
        assert result["version"] == "TLSv1.3"
    finally:
        await server.close()


def test_starttls_needs_a_certificate() -> None:
    with pytest.raises(ValueError, match="ssl_context or certfile"):
        SmtpServer(MailHostSpec(MX))
    SmtpServer(MailHostSpec(MX, starttls=False))  # fine without


def test_legacy_context_allows_tls10(pem: tuple[Path, Path]) -> None:
    ctx = server_context(*pem, tls_min=ssl.TLSVersion.TLSv1, tls_max=ssl.TLSVersion.TLSv1_1)
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1
    assert ctx.maximum_version == ssl.TLSVersion.TLSv1_1
    assert MailHostSpec.legacy(MX).legacy_tls and not MailHostSpec(MX).legacy_tls


# --- behaviours -------------------------------------------------------------------------------


async def test_hang_never_sends_a_banner(serve) -> None:
    server = await serve(MailHostSpec(MX, behaviour=Behaviour.HANG))
    with pytest.raises((TimeoutError, OSError)):
        await asyncio.to_thread(smtplib.SMTP, "127.0.0.1", server.port, timeout=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readline(), 0.3)
    writer.close()
    await eventually(lambda: server.sessions == 2)


async def test_reset_closes_at_once(serve) -> None:
    server = await serve(MailHostSpec(MX, behaviour=Behaviour.RESET))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        data = await asyncio.wait_for(reader.read(), 2)
    except ConnectionResetError:
        data = b""
    assert data == b""
    writer.close()
    assert server.sessions == 1


async def test_refuse_has_no_listener(serve) -> None:
    server = await serve(MailHostSpec(MX, behaviour=Behaviour.REFUSE))
    assert server.port > 0
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", server.port)
    assert server.sessions == 0


async def test_slow_banner(serve) -> None:
    server = await serve(MailHostSpec(MX, behaviour=Behaviour.SLOW_BANNER, banner_delay=0.3))
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    banner = await asyncio.wait_for(reader.readline(), 3)
    assert time.monotonic() - started >= 0.25
    assert banner == f"220 {MX} ESMTP Postfix\r\n".encode()
    writer.close()


async def test_close_ends_hanging_sessions(pem: tuple[Path, Path]) -> None:
    server = SmtpServer(MailHostSpec(MX, behaviour=Behaviour.HANG), certfile=pem[0], keyfile=pem[1])
    await server.start("127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await eventually(lambda: server.sessions == 1)
    await asyncio.wait_for(server.close(), 2)
    with contextlib.suppress(ConnectionResetError):
        assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()


# --- counting and caps ------------------------------------------------------------------------


async def test_sessions_and_mail_transactions_are_counted(serve) -> None:
    server = await serve(MailHostSpec(MX, starttls=False), host="127.0.10.1")
    for _ in range(3):
        await asyncio.to_thread(smtp_probe, server.port, None, "127.0.10.1")
    reader, writer = await asyncio.open_connection("127.0.10.1", server.port)
    await reader.readline()
    writer.write(
        b"HELO old.client\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
        b"RSET\r\nNOOP\r\nVRFY postmaster\r\nFOO\r\nQUIT\r\n"
    )
    replies = (await reader.read()).decode().splitlines()
    writer.close()
    assert [r[:3] for r in replies] == [
        "250",
        "250",
        "250",
        "554",
        "250",
        "250",
        "252",
        "502",
        "221",
    ]
    c = server.counters
    assert c.sessions == 4
    assert (c.mail_from_seen, c.rcpt_to_seen, c.data_seen) == (1, 1, 1)
    assert c.ehlo_names == ["scanner.test"] * 3 + ["old.client"]


async def test_ehlo_without_name_is_refused(serve) -> None:
    server = await serve(MailHostSpec(MX))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await reader.readline()
    writer.write(b"EHLO\r\nQUIT\r\n")
    replies = (await reader.read()).decode().splitlines()
    writer.close()
    assert replies[0].startswith("501 ")
    assert server.counters.ehlo_names == []


async def test_line_length_is_capped(serve) -> None:
    server = await serve(MailHostSpec(MX))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await reader.readline()
    writer.write(b"EHLO " + b"x" * (MAX_LINE * 4) + b"\r\n")
    reply = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    assert reply.startswith(b"500 ")
    assert server.counters.ehlo_names == []


async def test_binds_loopback_only(pem: tuple[Path, Path]) -> None:
    for host in ("0.0.0.0", "10.0.0.1", "::1", "localhost"):
        with pytest.raises(ValueError, match=r"127\.0\.0\.0/8|loopback"):
            await SmtpServer(MailHostSpec(MX), certfile=pem[0], keyfile=pem[1]).start(host, 0)
