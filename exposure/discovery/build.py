"""The discoverers a run uses, made from the settings: one place that knows every source."""

from __future__ import annotations

from exposure.discovery.ct import CtDiscoverer
from exposure.discovery.dns import DnsDiscoverer
from exposure.discovery.fetch import FetchConfig, JsonFetcher
from exposure.discovery.hosting import SharedAddresses
from exposure.discovery.run import CompanyDiscoverer, SourceSlot
from exposure.discovery.shodan_search import CreditBudget, ShodanSearchDiscoverer
from exposure.net.dns import Resolver
from exposure.settings import Settings
from exposure.sources.cache import AnswerCache
from exposure.sources.shodan import KeyGate, Pacer


def build(
    settings: Settings,
    resolver: Resolver,
    cache: AnswerCache | None,
    gate: KeyGate | None = None,
) -> tuple[CompanyDiscoverer, list[str]]:
    """The company discoverer, and a line per configured source that cannot be used.

    `gate`: the Shodan key's turn shared with other processes (`store.source_pace.key_gate`):
    the searches spend the same key's one request a second as the workers' host look-ups, so
    they take the same turns, or a worker scanning beside them gets 429s."""
    notes: list[str] = []
    slots: list[SourceSlot] = []
    days = settings.discovery_cache_days
    for name in settings.discovery_sources:
        if name == "dns":
            slots.append(SourceSlot(DnsDiscoverer(resolver), settings.discovery_dns_timeout))
        elif name == "ct":
            fetcher = JsonFetcher(
                "discovery.ct",
                FetchConfig(settings.discovery_ct_timeout, settings.discovery_ct_interval, days),
                cache,
            )
            # The slot's time-out covers a pace turn, the request and one 429 wait.
            timeout = 3 * settings.discovery_ct_timeout + 2 * settings.discovery_ct_interval
            slots.append(SourceSlot(CtDiscoverer(settings.discovery_ct_url, fetcher), timeout))
        elif name == "shodan":
            key = settings.shodan_key
            if not key:
                notes.append("shodan: no shodan_api_key, Shodan search skipped")
                continue
            if settings.discovery_shodan_credits == 0:
                notes.append("shodan: discovery_shodan_credits is 0, Shodan search skipped")
                continue
            interval = settings.shodan_request_interval
            fetcher = JsonFetcher(
                "discovery.shodan",
                FetchConfig(settings.discovery_shodan_timeout, interval, days),
                cache,
                pace=Pacer(interval, gate=gate),
            )
            timeout = 6 * settings.discovery_shodan_timeout + 4 * interval
            budget = CreditBudget(
                settings.discovery_shodan_credits, settings.discovery_shodan_reserve
            )
            search = ShodanSearchDiscoverer(settings.shodan_api_url, key, fetcher, budget)
            # one more request than the searches: the run's first paid search asks /api-info
            slots.append(SourceSlot(search, timeout + settings.discovery_shodan_timeout + interval))
    internetdb = JsonFetcher(
        "discovery.internetdb", FetchConfig(settings.read_timeout, 0.0, days), cache
    )
    shared = SharedAddresses(
        settings.discovery_shared_networks, internetdb, settings.internetdb_url
    )
    discoverer = CompanyDiscoverer(
        slots,
        shared,
        resolver,
        allow_private=settings.allow_private,
        auto_confirm=settings.discovery_auto_confirm,
    )
    return discoverer, notes
