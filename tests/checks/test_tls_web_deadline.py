"""A host that hangs costs its own time-outs and never delays other companies beyond them.

Thirty correct companies, twenty on addresses of their own and ten on a shared hosting address,
scanned together with a company whose site hangs on its own address and one whose site hangs on
the shared address (TCP accepted, TLS ClientHello and HTTP request never answered). The finish
time of every company is recorded through the orchestrator's progress sink.
"""

from __future__ import annotations

import time
from pathlib import Path

from exposure.app.harness import Lab
from exposure.registry import load
from exposure.scan.orchestrator import Orchestrator
from exposure.store.db import session as session_scope
from exposure.store.queries import list_findings, run_errors
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec, SiteSpec

T = 3.0  # connect (and handshake) and read time-out: large against the normal work, so that
# "did not wait for the hanging host" is clear even on a busy machine
SHARED = "shared-hosting"


def _area() -> Area:
    companies = []
    for i in range(30):
        a = [SHARED] if i < 10 else "auto"
        name = f"good{i}.test"
        companies.append(
            CompanySpec(f"g{i:02d}", name, f"info@{name}", domains=[DomainSpec(name, a=a)])
        )
    for cid, a in (("hang-own", "auto"), ("hang-shared", [SHARED])):
        name = f"{cid}.test"
        site = SiteSpec(hang=True)
        companies.append(
            CompanySpec(cid, name, f"info@{name}", domains=[DomainSpec(name, a=a, site=site)])
        )
    return Area(companies=companies)


class Clock:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.done: dict[str, float] = {}

    def start(self, total: int, resumed: int = 0) -> None:
        self.started = time.perf_counter()

    def advance(self, company_id: str) -> None:
        self.done[company_id] = time.perf_counter() - self.started

    def note(self, line: str) -> None:
        pass

    def close(self) -> None:
        pass


async def _scan(lab: Lab, companies: list[str] | None) -> tuple[Clock, object, list, list]:
    clock = Clock()
    settings = lab.settings(connect_timeout=T, read_timeout=T, dns_timeout=1.0)
    orchestrator = Orchestrator(settings, load(), lab.engine, progress=clock)
    summary = await orchestrator.scan(companies, ["tls", "web"])
    with session_scope(lab.engine) as session:
        findings = list_findings(session, status="open")
        errors = run_errors(session, summary.run_id)
    return clock, summary, findings, errors


async def test_a_hanging_host_costs_only_its_timeouts(tmp_path: Path):
    async with Testbed(_area(), shodan=False) as tb:
        lab = Lab(tb, tmp_path)
        good = [f"g{i:02d}" for i in range(30)]
        baseline, _, _, _ = await _scan(lab, good)  # the same companies without the hangs
        clock, summary, findings, errors = await _scan(lab, None)
        lab.close()

    def times(run: Clock, shared: bool) -> list[float]:
        return [t for cid, t in run.done.items() if cid in good and (int(cid[1:]) < 10) is shared]

    own, shared = times(clock, False), times(clock, True)
    assert len(own) == 20 and len(shared) == 10
    # companies on their own addresses never wait for the hanging ones
    assert max(own) < T, sorted(own)
    # companies sharing an address with a hanging site are delayed by at most its time-outs:
    # its hung handshake (the www one is not tried: the address is silent for the site, see
    # `exposure.net.politeness.SilentAddresses`) and its hung HTTP request hold the address;
    # their own work on it comes after, as it would anyway
    delay = max(shared) - max(times(baseline, True))
    assert delay < 2 * T + 0.5, (sorted(shared), sorted(times(baseline, True)))
    # the hanging companies cost their time-outs (the apex's handshake and HTTP request; www is
    # not asked again), not more; on the shared address after its neighbours' work at worst
    assert clock.done["hang-own"] < 2 * T + 0.5 + max(own)
    assert clock.done["hang-shared"] < 2 * T + 1.0 + max(times(baseline, True))
    last = max(clock.done.values())
    assert summary.duration < last + 1.0  # type: ignore[attr-defined]
    # and they are "could not test", never a finding, never a pass
    assert findings == []
    assert {e.target for e in errors} == {
        "hang-own.test",
        "www.hang-own.test",
        "hang-shared.test",
        "www.hang-shared.test",
    }
    assert {e.reason for e in errors} == {"timeout"}
