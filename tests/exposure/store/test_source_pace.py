"""The Shodan key's pace across processes (`AdvisoryKeyGate`): two sources that share a key and
a PostgreSQL database behave as one, and the REST look-alike sees no 429."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from exposure.settings import load_settings
from exposure.sources.shodan import HostView, ShodanConfig, ShodanSource, ViewKind
from exposure.store.db import conninfo_of, make_engine
from exposure.store.source_pace import AdvisoryKeyGate, key_gate, key_lock
from exposure.testbed.shodan import ApiKey, ShodanLookalike
from exposure.testbed.shodan_devices import Device

INTERVAL = 0.15


def _source(la: ShodanLookalike, key: str, gate: AdvisoryKeyGate | None) -> ShodanSource:
    config = ShodanConfig(
        api_url=la.rest_url,
        internetdb_url=la.internetdb_url,
        api_key=key,
        request_interval=INTERVAL,
        batch_size=1,  # one request per address: the most turns
        max_retries=6,
    )
    return ShodanSource(config, gate=gate)


async def _two_workers(la: ShodanLookalike, key: str, gates: list[AdvisoryKeyGate | None]) -> None:
    sources = [_source(la, key, gate) for gate in gates]
    ips = la.add_devices(*(Device.rdp(f"127.31.{i}.{n}") for i in range(2) for n in range(1, 6)))
    try:
        results = await asyncio.gather(
            *(src.host_view(ip) for i, src in enumerate(sources) for ip in ips[i * 5 : i * 5 + 5])
        )
    finally:
        for src in sources:
            await src.aclose()
    assert all(isinstance(r, HostView) and r.kind is ViewKind.FULL for r in results)


@pytest.mark.postgres
async def test_two_processes_on_one_key_keep_to_its_pace(_postgres_database):
    key = uuid.uuid4().hex  # advisory locks are database-wide: a key of this test's own
    la = ShodanLookalike([ApiKey(key)], rate_interval=INTERVAL, rate_slack=0.02)
    await la.start()
    try:
        conninfo = conninfo_of(_postgres_database)
        gates = [AdvisoryKeyGate(conninfo, key), AdvisoryKeyGate(conninfo, key)]
        await _two_workers(la, key, list(gates))
        assert la.counters.rate_limited == 0
        assert sum(g.waits for g in gates) > 0  # they did meet at the key
        # the control: without the gate the two paced processes together exceed the rate
        la.counters.rate_limited = 0
        for ip in list(la.ips):
            la.remove_host(ip)
        await _two_workers(la, key, [None, None])
        assert la.counters.rate_limited > 0
    finally:
        await la.close()


@pytest.mark.postgres
def test_the_gate_is_used_on_postgresql_only(_postgres_database, tmp_path):
    pg = make_engine(_postgres_database.render_as_string(hide_password=False))
    lite = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    keyed = load_settings(shodan_api_key="k" * 32)
    assert isinstance(key_gate(keyed.shodan_key, pg), AdvisoryKeyGate)
    assert key_gate(keyed.shodan_key, lite) is None
    assert key_gate(load_settings(shodan_api_key=None).shodan_key, pg) is None
    pg.dispose()
    lite.dispose()


@pytest.mark.postgres
async def test_discovery_searches_take_the_keys_turns_beside_a_scanning_worker(
    _postgres_database,
):
    """Discovery's Shodan searches spend the same key as a worker's host look-ups (in docker
    both ran at once and the look-ups were "rate limited after 4 tries"): with the key's
    shared turn on both sides the look-alike sees no 429; the control without it does."""
    from exposure.discovery.fetch import FetchConfig, JsonFetcher
    from exposure.discovery.shodan_search import ShodanSearchDiscoverer
    from exposure.sources.shodan import Pacer

    key = uuid.uuid4().hex
    la = ShodanLookalike([ApiKey(key)], rate_interval=INTERVAL, rate_slack=0.02)
    await la.start()
    conninfo = conninfo_of(_postgres_database)

    async def both(shared: bool) -> None:
        gates = [AdvisoryKeyGate(conninfo, key) if shared else None for _ in range(2)]
        pace = Pacer(INTERVAL, gate=gates[0])
        fetcher = JsonFetcher("discovery.shodan", FetchConfig(5.0, INTERVAL, 7.0), pace=pace)
        search = ShodanSearchDiscoverer(la.rest_url, key, fetcher)
        domains = [f"lid{n}.test" for n in range(4)]
        try:
            await asyncio.gather(
                _two_workers(la, key, [gates[1], gates[1]]),
                *(search.discover(d) for d in domains),
            )
        finally:
            await search.aclose()
            for gate in gates:
                if gate is not None:
                    await gate.aclose()

    try:
        await both(shared=True)
        assert la.counters.rate_limited == 0
        la.counters.rate_limited = 0
        for ip in list(la.ips):
            la.remove_host(ip)
        await both(shared=False)
        assert la.counters.rate_limited > 0
    finally:
        await la.close()


def test_the_lock_key_is_not_the_api_key():
    assert key_lock("a" * 32) == key_lock("a" * 32) != key_lock("b" * 32)
    assert str(key_lock("secret")) not in "secret"


async def test_a_database_that_never_answers_costs_the_gate_wait_not_the_night() -> None:
    """A server that accepts and says nothing (no PostgreSQL needed): the turn fails within
    `wait`, which the source's pacer takes as "pace in this process only"."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the gate gives up and closes

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    gate = AdvisoryKeyGate(
        f"host=127.0.0.1 port={port} dbname=x user=x sslmode=disable", "k", wait=0.3
    )
    try:
        async with asyncio.timeout(5):
            with pytest.raises(TimeoutError):
                async with gate.turn():
                    pass
    finally:
        await gate.aclose()
        server.close()
