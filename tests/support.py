"""Helpers shared by tests that talk to a running testbed through a real `CheckContext`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from exposure.contract import CheckContext
from exposure.memo import RunMemo
from exposure.net.dns import AiodnsResolver, CachingResolver
from exposure.scan.limits import Limits
from exposure.settings import Settings
from exposure.testbed.runner import Testbed


def scan_settings(tb: Testbed, **overrides: Any) -> Settings:
    """Settings that point the scanner at `tb` (no exposure.toml, no environment)."""
    values: dict[str, Any] = {
        **tb.settings_overrides(),
        "database": "sqlite://",
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "dns_timeout": 1.0,
        "dns_tries": 1,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def scan_context(
    tb: Testbed,
    *,
    now: datetime | None = None,
    wants: frozenset[str] = frozenset(),
    **overrides: Any,
) -> AsyncIterator[CheckContext]:
    """A run's check context on the testbed, as the orchestrator builds it (`wants`: what the
    run's checks want from shared work, `exposure.contract.wants_of`; it lets a site visit fetch
    security.txt for the security.txt check)."""
    settings = scan_settings(tb, **overrides)
    inner = AiodnsResolver(
        settings.resolver_addresses(), timeout=settings.dns_timeout, tries=settings.dns_tries
    )
    try:
        yield CheckContext(
            settings=settings,
            dns=CachingResolver(inner),
            limits=Limits(settings.per_ip_concurrency),
            memo=RunMemo(),
            now=now or datetime.now(UTC),
            wants=wants,
        )
    finally:
        await inner.close()
