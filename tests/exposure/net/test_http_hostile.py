"""Hostile HTTP servers against the fetch client and the visit's `StreamClient`: every read is
capped, every wait bounded, no redirect is followed into private space, and failures are
classified by what happened (type and stream state), not by the words of a message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from exposure.contract import CheckContext
from exposure.memo import RunMemo
from exposure.net.http import FetchError, StreamClient, fetch
from exposure.scan.limits import Limits
from exposure.settings import Settings

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _request(reader: asyncio.StreamReader) -> str:
    head = await reader.readuntil(b"\r\n\r\n")
    return head.split(b" ", 2)[1].decode()


class Hostile:
    """A server on 127.0.0.1 that misbehaves by path; counts the connections it accepted."""

    def __init__(self) -> None:
        self.connections = 0
        self.sent_header_bytes = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                path = await _request(reader)
                if not await getattr(self, "_" + path.strip("/").replace("-", "_"))(writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()

    async def _endless_header(self, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nX-Junk: ")
        for _ in range(1000):  # up to 16 MB of one header line, if the client kept reading
            writer.write(b"a" * 16384)
            self.sent_header_bytes += 16384
            await writer.drain()
        return False

    async def _garbage(self, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(5)  # keeps the connection open: not a close, a non-HTTP answer
        return False

    async def _close_mid_body(self, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
        await writer.drain()
        writer.close()
        return False

    async def _close_before_answer(self, writer: asyncio.StreamWriter) -> bool:
        writer.close()
        return False

    async def _slow_headers(self, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(100):  # one short header every 0.2 s: every read is in time
            writer.write(b"X-%d: x\r\n" % i)
            await writer.drain()
            await asyncio.sleep(0.2)
        return False

    async def _to_metadata(self, writer: asyncio.StreamWriter) -> bool:
        return await self._redirect(writer, "http://169.254.169.254/latest/meta-data/")

    async def _to_private(self, writer: asyncio.StreamWriter) -> bool:
        return await self._redirect(writer, f"http://127.0.0.2:{self.port}/ok")

    async def _ok(self, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        return True  # keep-alive

    async def _redirect(self, writer: asyncio.StreamWriter, location: str) -> bool:
        writer.write(
            f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        await writer.drain()
        return False


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def hostile() -> AsyncIterator[Hostile]:
    server_state = Hostile()
    server = await asyncio.start_server(server_state.handle, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield server_state


class _NoDns:
    async def resolve(self, name: str, rdtype: str) -> Any:
        raise AssertionError(f"no DNS expected here ({name} {rdtype})")


@pytest.fixture
def ctx() -> CheckContext:
    settings = Settings(
        database="sqlite://", connect_timeout=1.0, read_timeout=1.0, allow_private=True
    )
    fields: dict[str, Any] = {
        "settings": settings,
        "dns": _NoDns(),
        "limits": Limits(settings.per_ip_concurrency),
        "memo": RunMemo(),
        "now": datetime.now(UTC),
    }
    return CheckContext(**fields)


def only_127_0_0_1(ip: str) -> bool:
    return ip == "127.0.0.1"


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_an_endless_header_line_is_cut_off_not_buffered(hostile: Hostile, ctx):
    started = time.perf_counter()
    result = await fetch(ctx, f"http://127.0.0.1:{hostile.port}/endless-header")
    assert result.error is FetchError.PROTOCOL, result
    assert time.perf_counter() - started < 2.0
    # the client stopped reading at its header cap (≈64-100 KiB), the server could not send
    # its 16 MB: what it got out is what fits in the socket buffers on top of that
    await asyncio.sleep(0.1)
    assert hostile.sent_header_bytes < 8 * 1024 * 1024


async def test_an_answer_that_is_not_http_is_a_protocol_error(hostile: Hostile, ctx):
    started = time.perf_counter()
    result = await fetch(ctx, f"http://127.0.0.1:{hostile.port}/garbage")
    assert result.error is FetchError.PROTOCOL, result
    assert time.perf_counter() - started < 1.0  # judged at once, not after the read time-out


async def test_a_close_is_a_reset_before_and_during_the_answer(hostile: Hostile, ctx):
    before = await fetch(ctx, f"http://127.0.0.1:{hostile.port}/close-before-answer")
    assert before.error is FetchError.RESET and not before.answered, before
    during = await fetch(ctx, f"http://127.0.0.1:{hostile.port}/close-mid-body")
    assert during.error is FetchError.RESET, during
    assert during.status == 200 and during.body == b"0123456789"  # what arrived is kept


async def test_headers_that_trickle_in_are_bounded_by_the_deadline(hostile: Hostile, ctx):
    started = time.perf_counter()
    result = await fetch(ctx, f"http://127.0.0.1:{hostile.port}/slow-headers", deadline=1.0)
    assert result.error is FetchError.TIMEOUT, result
    assert time.perf_counter() - started < 1.6  # 100 headers at 0.2 s would take 20 s


async def test_no_redirect_into_private_or_link_local_space(hostile: Hostile, ctx):
    base = f"http://127.0.0.1:{hostile.port}"
    connections = hostile.connections
    metadata = await fetch(ctx, f"{base}/to-metadata", allowed=only_127_0_0_1)
    assert metadata.error is FetchError.OUT_OF_SCOPE and "169.254.169.254" in metadata.detail
    private = await fetch(ctx, f"{base}/to-private", allowed=only_127_0_0_1)
    assert private.error is FetchError.OUT_OF_SCOPE and "127.0.0.2" in private.detail
    assert [h.status for h in private.hops] == [302]
    assert hostile.connections == connections + 2  # the redirects' targets were not contacted


async def test_the_visit_stream_client_is_bounded_and_classified(hostile: Hostile):
    async def client() -> StreamClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", hostile.port)
        return StreamClient(reader, writer, address="127.0.0.1", read_timeout=1.0)

    base = f"http://127.0.0.1:{hostile.port}"
    stream = await client()
    first = await stream.get(f"{base}/ok", keep_alive=True)
    assert first.ok and first.body == b"ok" and stream.reusable
    cut = await stream.get(f"{base}/close-mid-body", keep_alive=True)
    assert cut.error is FetchError.RESET and cut.status == 200 and not stream.reusable
    garbage = await (await client()).get(f"{base}/garbage")
    assert garbage.error is FetchError.PROTOCOL
    started = time.perf_counter()
    endless = await (await client()).get(f"{base}/endless-header")
    assert endless.error is FetchError.PROTOCOL and time.perf_counter() - started < 2.0
    started = time.perf_counter()
    slow = await (await client()).get(f"{base}/slow-headers")  # each read in time: still ends
    assert slow.error is FetchError.TIMEOUT and time.perf_counter() - started < 1.6
