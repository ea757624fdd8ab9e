"""The demo's discovery step: what the nightly run and the Meldpunt do with hosts the member list
does not name (issue #22), shown on the simulated port area.

1. discovery asks the passive sources (the members' own DNS, certificate transparency; Shodan
   search only with a key, which the demo has not) and stores proposals; shared hosting and
   CDN addresses and the names a wildcard zone would invent are left out;
2. the Meldpunt decides, here from the area's table (`area_demo.DISCOVERY`); in real life with
   `exposure discovery confirm|reject ID` or on `/meldpunt/discovery`. A confirmed host becomes
   a target, so the scan that follows looks at it; a rejected one is gone for good;
3. discovery looks again: nothing new, and the rejected host, seen again, stays out.

The step checks itself against the table: a proposal the area did not plant, or a planted one
discovery missed, fails the demo (exit 1), as a scan that is not complete does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine

from exposure.app.cli.common import plain_row
from exposure.discovery.run import DiscoveryOutcome
from exposure.discovery.service import run_discovery
from exposure.models import DiscoveredHost
from exposure.settings import Settings
from exposure.store.db import session as session_scope
from exposure.store.discovery import DiscoveryState, confirm, list_hosts, reject
from exposure.testbed.area_demo import CONFIRM, REJECT, discovery_decisions
from reports.discovered import SOURCE_WORDS

#: Who decided, in the store's audit fields.
DEMO_MELDPUNT = "meldpunt (demo)"
REJECT_NOTE = "the member says: not ours (an old web shop, now the supplier's)"


@dataclass(frozen=True, slots=True)
class DemoDiscovery:
    """What the step did, for the demo's last lines and its exit code."""

    proposed: int
    confirmed: int
    rejected: int
    unexpected: tuple[str, ...]  # proposals the area did not plant
    missed: tuple[str, ...]  # planted hosts discovery did not propose

    @property
    def as_planted(self) -> bool:
        return not self.unexpected and not self.missed


async def discover_and_decide(
    settings: Settings,
    engine: Engine,
    address: Callable[[str], str],
    console: Console,
) -> DemoDiscovery:
    """Run discovery, decide as the demo's Meldpunt, run discovery again; print each step."""
    first = await run_discovery(settings, engine)
    _print_outcome(first.outcome, first.seconds, console)
    planned = discovery_decisions(address)
    with session_scope(engine) as db:
        hosts = list_hosts(db, states=[DiscoveryState.PROPOSED.value])
        found = {(h.company_id, h.kind, h.value): h for h in hosts}
        _print_proposals(found, console)
        decided = {CONFIRM: 0, REJECT: 0}
        for key, decision in planned.items():
            host = found.get(key)
            if host is None or host.id is None or decision not in decided:
                continue
            if decision == CONFIRM:
                confirm(db, host.id, by=DEMO_MELDPUNT)
            else:
                reject(db, host.id, by=DEMO_MELDPUNT, note=REJECT_NOTE)
            decided[decision] += 1
            verb = "confirmed" if decision == CONFIRM else "rejected "
            console.print(
                f"  {verb}  {host.company_id}  {host.value}", markup=False, highlight=False
            )
    console.print(
        "  (the Meldpunt decides; in real life: `exposure discovery confirm|reject ID` or "
        "/meldpunt/discovery; the other proposals wait for it)",
        markup=False,
        highlight=False,
    )
    again = await run_discovery(settings, engine)
    console.print(
        f"discovery again: {again.outcome.proposed} new proposals, "
        f"{again.outcome.rejected_ignored} rejected host seen again and left out",
        markup=False,
        highlight=False,
    )
    unexpected = tuple(sorted(" ".join(k) for k in set(found) - set(planned)))
    missed = tuple(sorted(" ".join(k) for k in set(planned) - set(found)))
    # host names come from DNS and certificate logs: text, never rich markup
    for line in unexpected:
        console.print(f"[red]not planted but proposed[/]: {escape(line)}", highlight=False)
    for line in missed:
        console.print(f"[red]planted but not proposed[/]: {escape(line)}", highlight=False)
    return DemoDiscovery(len(found), decided[CONFIRM], decided[REJECT], unexpected, missed)


def _print_outcome(outcome: DiscoveryOutcome, seconds: float, console: Console) -> None:
    failures = f", {len(outcome.failures)} could not test" if outcome.failures else ""
    console.print(
        f"\n[bold]discovery[/] (passive: the members' own DNS, certificate transparency): "
        f"{outcome.proposed} hosts proposed for {outcome.companies} companies, "
        f"{outcome.dropped} addresses left out (shared hosting, CDN){failures}, "
        f"{seconds:.1f} s",
        highlight=False,
    )


def _print_proposals(
    found: Mapping[tuple[str, str, str], DiscoveredHost], console: Console
) -> None:
    table = Table(box=None, pad_edge=False)
    for name in ("company", "host", "found via"):
        table.add_column(name)
    for (company, _kind, value), host in sorted(found.items()):
        via = ", ".join(SOURCE_WORDS.get(s, {}).get("en", s) for s in host.sources)
        plain_row(table, company, value, via)
    console.print(table)
