"""A c-ares channel (through aiodns) without c-ares' own query cache.

Since 1.23, c-ares keeps every answer in a query cache for as long as its TTL allows (up to an
hour). A scan asks tens of thousands of distinct questions within minutes, so that cache only
grows: ≈1 KB of native memory per question, ≈50 MB per 10,000 companies, never given back during
the run (measured: `benchmarks/README.md`, "Memory flat in N"). The scan has its own bounded
cache in front of the resolver (`exposure.net.dns.CachingResolver`), so c-ares' copy buys
nothing; c-ares switches it off with `qcache_max_ttl = 0`.

pycares (5.2) does not expose that option. Its `Channel` fills a `struct ares_options` and calls
`ares_init_options`; while aiodns builds the channel, the call is routed through a wrapper that
adds the option. If a future pycares changes that shape, the resolver is built as before, with
the cache on, a warning is logged once, and `make_resolver` says so (the test asks it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiodns
import pycares

#: `ARES_OPT_QUERY_CACHE` in ares.h (c-ares >= 1.23); pycares does not export the constant.
ARES_OPT_QUERY_CACHE = 1 << 21

_lock = threading.Lock()
_warned = False

log = logging.getLogger(__name__)


class _WithoutQueryCache:
    """Stands in for pycares' cffi `lib` while a channel is built: everything is passed through,
    `ares_init_options` gets the query cache switched off."""

    def __init__(self, lib: Any) -> None:
        self._lib = lib
        self.applied = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, name)

    def ares_init_options(self, channel: Any, options: Any, optmask: int) -> Any:
        options.qcache_max_ttl = 0
        self.applied = True
        return self._lib.ares_init_options(channel, options, optmask | ARES_OPT_QUERY_CACHE)


def _supported() -> bool:
    lib = getattr(pycares, "_lib", None)
    ffi = getattr(pycares, "_ffi", None)
    if lib is None or ffi is None or not hasattr(lib, "ares_init_options"):
        return False
    try:
        return "qcache_max_ttl" in dir(ffi.new("struct ares_options *"))
    except Exception:  # an ffi without that struct: the option cannot be set
        return False


@contextmanager
def _channels_without_query_cache() -> Iterator[_WithoutQueryCache | None]:
    if not _supported():
        yield None
        return
    with _lock:
        real = pycares._lib
        wrapper = _WithoutQueryCache(real)
        pycares._lib = wrapper
        try:
            yield wrapper
        finally:
            pycares._lib = real


def make_resolver(
    nameservers: list[str] | None, *, timeout: float, tries: int
) -> tuple[aiodns.DNSResolver, bool]:
    """An aiodns resolver whose c-ares channel keeps no query cache, and whether that worked."""
    with _channels_without_query_cache() as wrapper:
        resolver = aiodns.DNSResolver(nameservers=nameservers, timeout=timeout, tries=tries)
    applied = bool(wrapper is not None and wrapper.applied)
    global _warned
    if not applied and not _warned:
        _warned = True
        log.warning(
            "c-ares' query cache could not be switched off (pycares %s): the scan's memory "
            "grows by about 1 KB per DNS question",
            getattr(pycares, "__version__", "?"),
        )
    return resolver, applied
