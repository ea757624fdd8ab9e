"""The areas and fault triggers the run-health tests share (embedded and distributed).

`tests/exposure/scan/test_run_health.py` and `tests/exposure/distributed/test_distributed_health.py`
put the same faults into the same kind of area; only the names differ, so that the two suites'
companies never collide in a shared store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import ANY_IP, Area, CompanySpec, DeviceSpec, DomainSpec
from exposure.testbed.shodan_devices import Device
from exposure.testbed.smtp import MailHostSpec

N = 24


def mail_area(first: int, label: str, stem: str, n: int = N) -> Area:
    """`n` companies `<stem><i>.test`, each with one plain (no STARTTLS) mail host; every sixth
    domain does not exist (NXDOMAIN)."""
    return Area(
        companies=[
            CompanySpec(
                f"{first + i}",
                f"{label} {i}",
                f"info@{stem}{i}.test",
                domains=[
                    DomainSpec(
                        f"{stem}{i}.test",
                        site=None,
                        nxdomain=i % 6 == 0,
                        a=() if i % 6 == 0 else ("hosting-1",),
                        mx=() if i % 6 == 0 else (f"mx.{stem}{i}.test",),
                        txt=("v=spf1 mx -all",),
                        dmarc=f"v=DMARC1; p=reject; rua=mailto:d@{stem}.test",
                    )
                ],
                mail_hosts=()
                if i % 6 == 0
                else (MailHostSpec(f"mx.{stem}{i}.test", starttls=False),),
            )
            for i in range(n)
        ]
    )


def shodan_area(first: int, n: int = N) -> Area:
    """`n` companies with one IP each; every fourth has a camera in Shodan's view."""
    return Area(
        companies=[
            CompanySpec(
                f"{first + i}",
                f"Loods {i}",
                f"info@loods{i}.test",
                ips=[f"dev{i}"],
                devices=[DeviceSpec(f"dev{i}", Device.camera("hikvision", ANY_IP))]
                if i % 4 == 0
                else [],
            )
            for i in range(n)
        ]
    )


async def when_sessions(tb: Testbed, count: int, then: Callable[[], object]) -> None:
    """Put the fault in once the mail hosts have served `count` sessions (mid-run)."""
    while sum(s.counters.sessions for s in tb.mail.values()) < count:  # noqa: ASYNC110 (a counter)
        await asyncio.sleep(0.005)
    then()
