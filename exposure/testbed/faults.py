"""Faults of our own side, put in on loopback: a resolver that goes silent mid-run.

`SilencingProxy` sits in front of the testbed's DNS server (point `resolvers` at it) and passes
queries on until `silence()` is called, or until it has passed `answer_first` queries; from then
on it drops every query, as a resolver that died (or a firewall change) does. `speak()` brings it
back. The scanner cannot tell it from a real resolver dying: that is the point.
"""

from __future__ import annotations

import asyncio
import contextlib


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, proxy: SilencingProxy, client: tuple[str, int]) -> None:
        self.proxy = proxy
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.proxy.silent and self.proxy.transport is not None:
            self.proxy.transport.sendto(data, self.client)


class SilencingProxy(asyncio.DatagramProtocol):
    """A UDP DNS proxy that can go silent (see the module docstring)."""

    def __init__(self, upstream: tuple[str, int], *, answer_first: int | None = None) -> None:
        self.upstream = upstream
        self.answer_first = answer_first
        self.passed = 0
        self.dropped = 0
        self.silent = False
        self.transport: asyncio.DatagramTransport | None = None
        self._upstreams: dict[tuple[str, int], asyncio.DatagramTransport] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self.address = ""

    async def start(self, host: str = "127.0.0.1") -> SilencingProxy:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        self.transport = transport
        sockname = transport.get_extra_info("sockname")
        self.address = f"{sockname[0]}:{sockname[1]}"
        return self

    def silence(self) -> None:
        self.silent = True

    def speak(self) -> None:
        self.silent = False
        self.answer_first = None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.answer_first is not None and self.passed >= self.answer_first:
            self.silent = True
        if self.silent:
            self.dropped += 1
            return
        self.passed += 1
        task = asyncio.ensure_future(self._forward(data, addr))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _forward(self, data: bytes, client: tuple[str, int]) -> None:
        upstream = self._upstreams.get(client)
        if upstream is None:
            loop = asyncio.get_running_loop()
            upstream, _ = await loop.create_datagram_endpoint(
                lambda: _Upstream(self, client), remote_addr=self.upstream
            )
            self._upstreams[client] = upstream
        upstream.sendto(data)

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*self._pending, return_exceptions=True)
        for upstream in self._upstreams.values():
            upstream.close()
        self._upstreams.clear()
        if self.transport is not None:
            self.transport.close()
            self.transport = None
