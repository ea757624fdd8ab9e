"""Helpers for the Shodan family's tests: a port area of devices, scanned as a user would.

Every test goes through the testbed's Shodan and InternetDB look-alikes (loopback only) and, for
the end-to-end ones, the real orchestrator and a real SQLite store (`exposure.app.harness`).
The look-alike enforces its rate limit; tests run it at `FAST` seconds per request and tell the
scanner the same interval (`shodan_request_interval`), except the one test at the real 1 s.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checks.shodan.check import ShodanCheck
from exposure.app.harness import Lab, ScanOutcome
from exposure.registry import Registry
from exposure.scan.orchestrator import Orchestrator
from exposure.store.db import session as session_scope
from exposure.store.queries import list_findings, run_errors
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DeviceSpec, DomainSpec
from exposure.testbed.shodan import ShodanLookalike
from exposure.testbed.shodan_devices import Device

FAST = 0.05  # seconds between REST requests, for the look-alike and the scanner alike
SEVERITIES = ("info", "low", "medium", "high", "critical")
REGISTRY = Registry((ShodanCheck(),))


def company_id(n: int) -> str:
    return f"7{n:07d}"


def device_area(devices: Mapping[str, Device | Iterable[Device]], **extra: Any) -> Area:
    """One company per entry, its IP the symbol `name`, carrying the device(s)."""
    companies = []
    for n, (name, value) in enumerate(devices.items()):
        group = [value] if isinstance(value, Device) else list(value)
        companies.append(
            CompanySpec(
                company_id(n),
                f"Bedrijf {name}",
                f"info@{n}.test",
                ips=[name],
                devices=[DeviceSpec(name, d) for d in group],
            )
        )
    return Area(companies=[*companies, *extra.get("companies", ())])


def domain_company(
    n: int, domain: str, address: str, *devices: Device, ips: Iterable[str] = ()
) -> CompanySpec:
    """A company whose domain points at `address` (a symbol), where `devices` sit."""
    return CompanySpec(
        company_id(n),
        f"Bedrijf {domain}",
        f"info@{domain}",
        domains=[DomainSpec(domain, a=[address], site=None)],
        ips=list(ips),
        devices=[DeviceSpec(address, d) for d in devices],
    )


@contextlib.asynccontextmanager
async def shodan_lab(
    area: Area, workdir: Path, *, rate_interval: float = FAST
) -> AsyncIterator[Lab]:
    """A running testbed with its Shodan look-alikes limited to one request per
    `rate_interval`, and a store with the area's members imported."""
    async with Testbed(area) as tb:
        assert tb.shodan is not None
        tb.shodan.rate_interval = rate_interval
        tb.shodan.rate_slack = min(0.01, rate_interval / 5)
        lab = Lab(tb, workdir)
        try:
            yield lab
        finally:
            lab.close()


def lookalike(lab: Lab) -> ShodanLookalike:
    assert lab.testbed.shodan is not None
    return lab.testbed.shodan


def overrides(lab: Lab, *, key: bool | str = True, interval: float = FAST, **more: Any) -> dict:
    values: dict[str, Any] = {"shodan_request_interval": interval}
    if key:
        values["shodan_api_key"] = key if isinstance(key, str) else lab.testbed.shodan_api_key
    values.update(more)
    return values


async def scan(
    lab: Lab,
    *,
    key: bool | str = True,
    interval: float = FAST,
    registry: Registry = REGISTRY,
    now: datetime | None = None,
    **more: Any,
) -> ScanOutcome:
    """One run of `registry`'s checks (default: the Shodan family only) on the lab.

    The look-alike remembers the key's last request across runs; runs back to back stay
    within the rate because each source waits one interval before its first request."""
    settings = lab.settings(**overrides(lab, key=key, interval=interval, **more))
    orchestrator = Orchestrator(
        settings, registry, lab.engine, clock=(lambda: now) if now is not None else None
    )
    summary = await orchestrator.scan()
    with session_scope(lab.engine) as session:
        rows = list_findings(session, status="open")
        errors = run_errors(session, summary.run_id)
    return ScanOutcome(summary, tuple(rows), tuple(errors))


def found_by_ip(outcome: ScanOutcome) -> dict[str, dict[str, str]]:
    """IP -> {finding id: highest severity} of the open `exposure.*` findings."""
    result: dict[str, dict[str, str]] = {}
    for row in outcome.findings:
        if not row.check_id.startswith("exposure."):
            continue
        ids = result.setdefault(row.target, {})
        ids[row.check_id] = max(ids.get(row.check_id, "info"), row.severity, key=SEVERITIES.index)
    return result


def expected_by_ip(lab: Lab) -> dict[str, dict[str, str]]:
    """IP -> {finding id: severity} from the testbed catalogue (`Device.expected()`)."""
    result: dict[str, dict[str, str]] = {}
    assert lab.testbed.layout is not None
    for device in lab.testbed.layout.devices:
        ids = result.setdefault(device.ip, {})
        for finding, severity in device.expected():
            ids[finding] = max(ids.get(finding, "info"), severity, key=SEVERITIES.index)
    return result


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
