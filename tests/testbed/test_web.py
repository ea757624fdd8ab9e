"""Web sites of the testbed over real sockets: SNI dispatch, TLS versions, redirects, misbehaviour."""

from __future__ import annotations

import asyncio
import ssl
import time
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from cryptography import x509

from exposure.testbed.ca import WRONG_HOST_NAME
from exposure.testbed.httpd import (
    BlackholeServer,
    HttpServer,
    Request,
    Response,
    client_hello_sni,
)
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import (
    HSTS_GOOD,
    SECURITY_TXT_PATH,
    Area,
    CompanySpec,
    DomainSpec,
    HttpMode,
    Route,
    SiteSpec,
    security_txt,
)

SHARED = "shared-hosting"


def area() -> Area:
    def dom(name: str, site: SiteSpec, a: str | list[str] = "auto", **kw: object) -> DomainSpec:
        return DomainSpec(name, a=a, site=site, **kw)  # type: ignore[arg-type]

    sec = {SECURITY_TXT_PATH: Route.text(security_txt())}
    domains = [
        dom("modern.test", SiteSpec(routes=sec), [SHARED]),
        dom("legacy.test", SiteSpec(tls="1.0-1.1", http=HttpMode.PLAIN, hsts=None), [SHARED]),
        dom("other.test", SiteSpec(http=HttpMode.REDIRECT_OTHER), [SHARED]),
        dom("selfsigned.test", SiteSpec(cert="self_signed"), [SHARED]),
        dom("hang-shared.test", SiteSpec(hang=True), [SHARED], www=False),
        dom("absent.test", SiteSpec(http=HttpMode.ABSENT)),
        dom("nohttps.test", SiteSpec(https=False, http=HttpMode.PLAIN)),
        dom("hang.test", SiteSpec(hang=True)),
        dom("reset.test", SiteSpec(reset=True)),
        dom(
            "catchall.test",
            SiteSpec(catch_all=True, routes={"/big": Route.stream(60 * 1024 * 1024)}),
        ),
    ]
    return Area(companies=[CompanySpec("1", "Web BV", "web@modern.test", domains=domains)])


@pytest.fixture
async def tb() -> AsyncIterator[Testbed]:
    async with Testbed(area(), shodan=False) as bed:
        yield bed


def ip_of(tb: Testbed, host: str) -> str:
    assert tb.layout is not None
    found = tb.layout.host_site(host)
    assert found is not None
    return found.ip


def insecure(
    low: ssl.TLSVersion | None = None, high: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    """A client that accepts any certificate, at security level 0 (to see every defect)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = low or ssl.TLSVersion.TLSv1
        if high is not None:
            ctx.maximum_version = high
    return ctx


async def handshake(
    ip: str, port: int, sni: str | None, ctx: ssl.SSLContext | None = None, limit: float = 2.0
) -> tuple[x509.Certificate, str]:
    """The certificate the server presents for `sni`, and the negotiated protocol version."""
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(ip, port, ssl=ctx or insecure(), server_hostname=sni),
        limit,
    )
    try:
        obj = writer.get_extra_info("ssl_object")
        der = obj.getpeercert(binary_form=True)
        return x509.load_der_x509_certificate(der), obj.version()
    finally:
        writer.close()


def san(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value.get_values_for_type(x509.DNSName)


async def get(
    tb: Testbed, host: str, path: str = "/", scheme: str = "https", limit: float = 3.0
) -> httpx.Response:
    port = tb.ports[scheme]
    ip = ip_of(tb, host)
    async with httpx.AsyncClient(verify=insecure(), timeout=limit) as client:
        return await client.get(
            f"{scheme}://{ip}:{port}{path}",
            headers={"Host": host},
            extensions={"sni_hostname": host} if scheme == "https" else {},
        )


async def test_sni_dispatch_on_a_shared_ip(tb: Testbed) -> None:
    ip = ip_of(tb, "modern.test")
    assert ip_of(tb, "selfsigned.test") == ip
    port = tb.ports["https"]
    modern, _ = await handshake(ip, port, "modern.test")
    assert san(modern) == ["modern.test", "www.modern.test"]
    assert modern.issuer != modern.subject
    www, _ = await handshake(ip, port, "www.modern.test")
    assert www.serial_number == modern.serial_number  # one certificate for apex and www
    self_signed, _ = await handshake(ip, port, "selfsigned.test")
    assert self_signed.issuer == self_signed.subject
    assert san(self_signed) == ["selfsigned.test", "www.selfsigned.test"]
    assert tb.counters().tls_handshakes["modern.test"] == 1


async def test_no_or_unknown_sni_gets_the_default(tb: Testbed) -> None:
    port = tb.ports["https"]
    shared = ip_of(tb, "modern.test")
    for sni in (None, "unknown.test"):
        panel, _ = await handshake(shared, port, sni)
        assert san(panel) == [WRONG_HOST_NAME]
    dedicated, _ = await handshake(ip_of(tb, "catchall.test"), port, None)
    assert "catchall.test" in san(dedicated)  # a single-site IP serves its own site


async def test_legacy_host_accepts_tls10_and_refuses_tls12_on_a_shared_ip(tb: Testbed) -> None:
    port = tb.ports["https"]
    ip = ip_of(tb, "legacy.test")
    tls10 = insecure(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1)
    modern_only = insecure(ssl.TLSVersion.TLSv1_2)
    _, version = await handshake(ip, port, "legacy.test", tls10)
    assert version == "TLSv1"
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await handshake(ip, port, "legacy.test", modern_only)
    # the modern host on the same IP does the opposite
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await handshake(ip, port, "modern.test", tls10)
    _, version = await handshake(ip, port, "modern.test", modern_only)
    assert version == "TLSv1.3"


async def test_port_80_behaviours(tb: Testbed) -> None:
    http, https = tb.ports["http"], tb.ports["https"]
    redirect = await get(tb, "modern.test", "/a?b=1", "http")
    assert redirect.status_code == 301
    assert redirect.headers["location"] == f"https://modern.test:{https}/a?b=1"
    first = await get(tb, "other.test", "/", "http")
    assert first.headers["location"] == f"http://www.other.test:{http}/"
    second = await get(tb, "www.other.test", "/", "http")
    assert second.headers["location"] == f"https://www.other.test:{https}/"
    plain = await get(tb, "legacy.test", "/", "http")
    assert plain.status_code == 200 and "legacy.test" in plain.text
    with pytest.raises(httpx.ConnectError):
        await get(tb, "absent.test", "/", "http")  # a dedicated IP: nothing listens on 80


async def test_https_missing(tb: Testbed) -> None:
    assert (await get(tb, "nohttps.test", "/", "http")).status_code == 200
    with pytest.raises(httpx.ConnectError):
        await get(tb, "nohttps.test", "/", "https")


async def test_hsts_and_routes(tb: Testbed) -> None:
    home = await get(tb, "modern.test")
    assert home.headers["strict-transport-security"] == HSTS_GOOD
    assert home.headers["server"] == "nginx"
    assert "strict-transport-security" not in (await get(tb, "legacy.test")).headers
    sec = await get(tb, "modern.test", SECURITY_TXT_PATH)
    assert sec.status_code == 200
    assert sec.headers["content-type"].startswith("text/plain")
    port = tb.ports["https"]
    assert f"Canonical: https://modern.test:{port}/.well-known/security.txt" in sec.text
    assert (await get(tb, "modern.test", "/nope")).status_code == 404
    soft = await get(tb, "catchall.test", SECURITY_TXT_PATH)
    assert soft.status_code == 200 and soft.headers["content-type"].startswith("text/html")


async def test_huge_body_is_streamed(tb: Testbed) -> None:
    ip, port = ip_of(tb, "catchall.test"), tb.ports["https"]
    start = time.monotonic()
    async with (
        httpx.AsyncClient(verify=insecure(), timeout=3) as client,
        client.stream(
            "GET",
            f"https://{ip}:{port}/big",
            headers={"Host": "catchall.test"},
            extensions={"sni_hostname": "catchall.test"},
        ) as response,
    ):
        assert response.headers["content-length"] == str(60 * 1024 * 1024)
        seen = 0
        async for chunk in response.aiter_raw():
            seen += len(chunk)
            if seen >= 1024 * 1024:
                break  # a careful client stops early
    assert seen >= 1024 * 1024
    assert time.monotonic() - start < 2.0


async def test_hang_costs_the_client_its_timeout(tb: Testbed) -> None:
    port = tb.ports["https"]
    for host in ("hang.test", "hang-shared.test"):
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            await handshake(ip_of(tb, host), port, host, limit=0.3)
        assert 0.3 <= time.monotonic() - start < 1.0
    start = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await get(tb, "hang.test", "/", "http", limit=0.3)
    assert time.monotonic() - start < 1.0
    # the shared IP keeps serving its other hosts meanwhile
    assert (await get(tb, "modern.test")).status_code == 200


async def test_reset_mid_handshake(tb: Testbed) -> None:
    with pytest.raises((ConnectionResetError, ssl.SSLError)):
        await handshake(ip_of(tb, "reset.test"), tb.ports["https"], "reset.test")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        await get(tb, "reset.test", "/", "http")


async def test_site_can_change_between_scans(tb: Testbed) -> None:
    assert tb.web is not None
    ip, port = ip_of(tb, "modern.test"), tb.ports["https"]
    before, _ = await handshake(ip, port, "modern.test")
    await tb.web.set_site("modern.test", SiteSpec(cert="expired", hsts=None))
    after, _ = await handshake(ip, port, "modern.test")
    assert before.not_valid_after_utc > datetime.now(UTC)
    assert after.not_valid_after_utc < datetime.now(UTC)
    assert "strict-transport-security" not in (await get(tb, "modern.test")).headers


async def test_request_counters(tb: Testbed) -> None:
    await get(tb, "modern.test")
    await get(tb, "modern.test", "/", "http")
    counters = tb.counters()
    assert counters.http_requests["modern.test"] == 2
    assert counters.tls_handshakes["modern.test"] == 1


# --- the HTTP server itself ------------------------------------------------------------------------


async def test_http_server_caps_and_keepalive() -> None:
    async def handler(request: Request) -> Response:
        return Response.text(f"{request.method} {request.path} {request.query}")

    server = HttpServer()
    await server.start("127.0.55.1", 0, handler)
    try:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        for _ in range(2):  # two requests on one connection
            writer.write(b"GET /x?a=1 HTTP/1.1\r\nHost: h\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            assert b"200 OK" in head and b"keep-alive" in head
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            assert await reader.readexactly(length) == b"GET /x {'a': '1'}"
        writer.write(b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n")
        answer = await reader.read()
        assert answer.startswith(b"HTTP/1.1 414")
        writer.close()
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n")
        assert (await reader.read()).startswith(b"HTTP/1.1 431")
        writer.close()
        assert server.requests == 4
    finally:
        await server.close()


async def test_close_ends_open_connections() -> None:
    async def handler(request: Request) -> Response:
        return Response(hang=True)

    server = HttpServer()
    await server.start("127.0.55.1", 0, handler)
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    await asyncio.sleep(0.05)
    await server.close()
    assert await asyncio.wait_for(reader.read(), 1) == b""  # the server hung up
    writer.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(server.host, server.port)


def test_client_hello_sni_parser() -> None:
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="xn--bakkerij-d-haven-kqb.test")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    assert client_hello_sni(outgoing.read()) == "xn--bakkerij-d-haven-kqb.test"
    assert client_hello_sni(b"GET / HTTP/1.1\r\n") is None


@pytest.mark.parametrize("behaviour", ["hang", "reset"])
async def test_blackhole_server(behaviour: str) -> None:
    server = BlackholeServer(behaviour)  # type: ignore[arg-type]
    await server.start("127.0.55.2", 0)
    try:
        start = time.monotonic()
        if behaviour == "hang":
            with pytest.raises(TimeoutError):
                await handshake(server.host, server.port, "x.test", limit=0.3)
            assert time.monotonic() - start >= 0.3
        else:
            with pytest.raises((ConnectionResetError, ssl.SSLError)):
                await handshake(server.host, server.port, "x.test")
        assert server.connections == 1
    finally:
        await server.close()
