"""Discovered hosts in the store (issue #22), on SQLite and PostgreSQL: proposals, decisions,
"rejected is never proposed again", retirement after 30 days, and the target a confirmation
makes (origin `discovered`) and a rejection or retirement takes away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from exposure.models import DiscoveredHost, Target
from exposure.store.db import session
from exposure.store.discovery import (
    DiscoveryError,
    Sighting,
    confirm,
    list_hosts,
    record_sightings,
    reject,
    retire_stale,
)
from tests.conftest import T0, StoreWorld

VPN = Sighting("c1", "domain", "vpn.haven.nl", "ct", {"cert_id": 7})


def _targets(world: StoreWorld) -> list[tuple[str, str, str]]:
    with session(world.engine) as db:
        return sorted((t.kind, t.value, t.origin) for t in db.exec(select(Target)))


def _host(world: StoreWorld, value: str) -> DiscoveredHost:
    with session(world.engine) as db:
        row = db.exec(select(DiscoveredHost).where(DiscoveredHost.value == value)).one()
        return row


def test_a_sighting_is_proposed_and_merges_sources(store_world: StoreWorld) -> None:
    store_world.add_company("c1", "haven.nl")
    with session(store_world.engine) as db:
        stats = record_sightings(
            db, [VPN, Sighting("c1", "domain", "vpn.haven.nl", "dns", {"a": 1})], T0
        )
    assert len(stats.proposed) == 1
    host = _host(store_world, "vpn.haven.nl")
    assert host.state == "proposed"
    assert host.sources == ["ct", "dns"]
    assert host.evidence == {"ct": {"cert_id": 7}, "dns": {"a": 1}}
    with session(store_world.engine) as db:
        stats = record_sightings(db, [VPN], T0 + timedelta(days=1))
    assert stats.proposed == [] and stats.seen_again == 1
    assert _host(store_world, "vpn.haven.nl").last_seen == T0 + timedelta(days=1)
    # a proposal is not a target: nothing is scanned before someone confirms
    assert _targets(store_world) == [("domain", "haven.nl", "listed")]


def test_a_listed_target_is_never_proposed(store_world: StoreWorld) -> None:
    store_world.add_company("c1", "haven.nl")
    with session(store_world.engine) as db:
        stats = record_sightings(db, [Sighting("c1", "domain", "haven.nl", "ct")], T0)
    assert stats.proposed == []
    with session(store_world.engine) as db:
        assert list_hosts(db) == []


def test_confirm_makes_a_discovered_target_and_reject_takes_it_away(
    store_world: StoreWorld,
) -> None:
    store_world.add_company("c1", "haven.nl")
    with session(store_world.engine) as db:
        (host_id,) = record_sightings(db, [VPN], T0).proposed
        confirm(db, host_id, by="meldpunt", now=T0)
    assert _targets(store_world) == [
        ("domain", "haven.nl", "listed"),
        ("host", "vpn.haven.nl", "discovered"),
    ]
    assert _host(store_world, "vpn.haven.nl").decided_by == "meldpunt"
    with session(store_world.engine) as db:
        reject(db, host_id, by="meldpunt", note="not ours", now=T0)
    assert _targets(store_world) == [("domain", "haven.nl", "listed")]
    host = _host(store_world, "vpn.haven.nl")
    assert (host.state, host.note) == ("rejected", "not ours")


def test_rejected_is_never_proposed_again_nor_retired(store_world: StoreWorld) -> None:
    store_world.add_company("c1", "haven.nl")
    with session(store_world.engine) as db:
        (host_id,) = record_sightings(db, [VPN], T0).proposed
        reject(db, host_id, by="meldpunt", now=T0)
    for day in (1, 40, 80):
        with session(store_world.engine) as db:
            stats = record_sightings(
                db,
                [VPN, Sighting("c1", "domain", "vpn.haven.nl", "shodan")],
                T0 + timedelta(days=day),
            )
            assert stats.proposed == [] and stats.rejected_ignored == 1
            assert retire_stale(db, T0 + timedelta(days=day + 31)) == []
    assert _host(store_world, "vpn.haven.nl").state == "rejected"


def test_hosts_unseen_for_30_days_retire_and_come_back_as_proposals(
    store_world: StoreWorld,
) -> None:
    store_world.add_company("c1", "haven.nl")
    cam = Sighting("c1", "ip", "192.0.2.10", "dns", {"spf": "ip4:192.0.2.10"})
    with session(store_world.engine) as db:
        record_sightings(db, [VPN], T0)
        (cam_id,) = record_sightings(db, [cam], T0).proposed
        confirm(db, cam_id, by="meldpunt", now=T0)
    with session(store_world.engine) as db:
        assert retire_stale(db, T0 + timedelta(days=29)) == []
        retired = retire_stale(db, T0 + timedelta(days=31))
    assert sorted(r.value for r in retired) == ["192.0.2.10", "vpn.haven.nl"]
    assert _targets(store_world) == [("domain", "haven.nl", "listed")]  # the camera's target went
    with session(store_world.engine) as db:
        stats = record_sightings(db, [cam], T0 + timedelta(days=40))
    assert stats.proposed == [cam_id]
    assert _host(store_world, "192.0.2.10").state == "proposed"


def test_reject_resolves_the_findings_of_the_discovered_target(store_world: StoreWorld) -> None:
    store_world.add_company("c1", "haven.nl")
    with session(store_world.engine) as db:
        (host_id,) = record_sightings(db, [VPN], T0).proposed
        confirm(db, host_id, by="meldpunt", now=T0)
        target = db.exec(select(Target).where(Target.value == "vpn.haven.nl")).one()
    store_world.targets["vpn.haven.nl"] = store_world.targets["haven.nl"].__class__(
        "c1", store_world.targets["haven.nl"].kind, "vpn.haven.nl", id=target.id
    )
    run = store_world.new_run(["c1"])
    store_world.apply(
        store_world.result(
            run,
            "c1",
            store_world.outcome(
                "vpn.haven.nl", "tls", {}, store_world.candidate("tls.cert.expired", "vpn.haven.nl")
            ),
        )
    )
    assert [f.status for f in store_world.findings("c1")] == ["open"]
    with session(store_world.engine) as db:
        reject(db, host_id, by="meldpunt", now=T0)
    (finding,) = store_world.findings("c1")
    assert (finding.status, finding.target_id) == ("resolved", None)


def test_unknown_host_is_one_clear_error(store_world: StoreWorld) -> None:
    with (
        session(store_world.engine) as db,
        pytest.raises(DiscoveryError, match="no discovered host #42"),
    ):
        confirm(db, 42, by="meldpunt")


def test_bad_kind_is_refused(store_world: StoreWorld) -> None:
    store_world.add_company("c1", "haven.nl")
    with session(store_world.engine) as db, pytest.raises(ValueError, match="unknown kind"):
        record_sightings(db, [Sighting("c1", "network", "192.0.2.0/24", "dns")])


def test_a_company_disputes_its_confirmed_host_and_the_meldpunt_answers(
    store_world: StoreWorld,
) -> None:
    from exposure.store.discovery import dispute

    store_world.add_company("c1", "haven.nl")
    store_world.add_company("c2", "other.nl")
    with session(store_world.engine) as db:
        (host_id,) = record_sightings(db, [VPN], T0).proposed
        with pytest.raises(DiscoveryError, match="not a confirmed host"):
            dispute(db, "c1", host_id)
        confirm(db, host_id, by="meldpunt", now=T0)
    with session(store_world.engine) as db, pytest.raises(DiscoveryError):
        dispute(db, "c2", host_id)  # not c2's to dispute
    with session(store_world.engine) as db:
        dispute(db, "c1", host_id, note="dat is van de buren", now=T0)
    host = _host(store_world, "vpn.haven.nl")
    assert (host.state, host.disputed_at, host.dispute_note) == (
        "confirmed",
        T0,
        "dat is van de buren",
    )
    assert ("host", "vpn.haven.nl", "discovered") in _targets(store_world)  # still scanned
    with session(store_world.engine) as db:
        confirm(db, host_id, by="meldpunt", now=T0)  # the Meldpunt keeps it
    assert _host(store_world, "vpn.haven.nl").disputed_at is None
