"""`exposure serve` against slow and malformed clients, on 127.0.0.1: half-sent headers are cut
off, the connection cap makes room for new clients, and the server's own 400 answer has the
security headers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.exposure.app.portal.test_browser import serving
from tests.exposure.app.portal.test_hardening import assert_strict_headers
from tests.reports import sample

PARTIAL = b"GET / HTTP/1.1\r\nHost: portal\r\nX-Slow: "


def _serve(tmp_path: Path, header_timeout: str) -> Iterator[str]:
    env = {
        "EXPOSURE_PORTAL_HEADER_TIMEOUT": header_timeout,
        "EXPOSURE_PORTAL_KEEPALIVE_TIMEOUT": "1",
        "EXPOSURE_PORTAL_MAX_CONNECTIONS": "20",
    }
    with serving(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path, env) as (base, tokens):
        assert httpx.get(f"{base}/t/{tokens[sample.FISH]}").status_code == 303
        yield base


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Headers within 1 s, 20 connections at most."""
    yield from _serve(tmp_path_factory.mktemp("serve"), "1")


@pytest.fixture(scope="module")
def patient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """20 connections at most, and time enough that only the cap closes connections."""
    yield from _serve(tmp_path_factory.mktemp("serve"), "60")


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=5)
    return sock


def _closed(sock: socket.socket, within: float) -> bool:
    """Did the server close the connection within `within` seconds?"""
    sock.settimeout(within)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_half_sent_headers_are_cut_off(server: str) -> None:
    slow = [_connect(server) for _ in range(5)]
    for sock in slow:
        sock.sendall(PARTIAL)
    try:
        assert all(_closed(sock, 4) for sock in slow)
    finally:
        for sock in slow:
            sock.close()


def test_a_slow_but_timely_client_is_served(server: str) -> None:
    sock = _connect(server)
    try:
        sock.sendall(PARTIAL)
        time.sleep(0.3)
        sock.sendall(b"1\r\nConnection: close\r\n\r\n")
        sock.settimeout(5)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
    finally:
        sock.close()


def test_the_connection_cap_closes_the_oldest_stalled_ones(patient_server: str) -> None:
    stalled = []
    try:
        for _ in range(40):
            sock = _connect(patient_server)
            sock.sendall(PARTIAL)
            stalled.append(sock)
            time.sleep(0.005)
        # a real client gets in at once, although 40 stalled ones came first
        assert httpx.get(f"{patient_server}/", timeout=2).status_code == 200
        still_open = [sock for sock in stalled if not _closed(sock, 0.05)]
        assert len(still_open) <= 20
        assert stalled[-1] in still_open  # the newest are kept, the oldest went
    finally:
        for sock in stalled:
            sock.close()


def test_the_servers_own_400_has_the_security_headers(server: str) -> None:
    sock = _connect(server)
    try:
        sock.sendall(b"NONSENSE\r\n\r\n")
        sock.settimeout(5)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    finally:
        sock.close()
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    assert head[0].startswith("HTTP/1.1 400")
    headers = httpx.Headers([tuple(line.split(": ", 1)) for line in head[1:]])
    assert_strict_headers(headers, "the server's 400")


def test_a_kept_alive_idle_connection_is_closed(server: str) -> None:
    sock = _connect(server)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: portal\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert _closed(sock, 4)
    finally:
        sock.close()


def test_the_settings_reach_uvicorn(tmp_path: Path) -> None:
    from exposure.app.portal.server import PortalProtocol, server_options
    from exposure.settings import Settings

    options = server_options(Settings(portal_header_timeout=3, portal_max_connections=7))
    assert issubclass(options["http"], PortalProtocol)
    assert options["http"].header_timeout == 3 and options["http"].max_connections == 7
