"""Applying member lists to the store: plans, idempotence, updates, prune, and findings history."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import Session, select

from exposure.contract import TargetKind
from exposure.models import CheckError, Company, Finding, FindingEvent, ScanRun, Target
from targets.csv import parse_members
from targets.members import Member
from targets.normalise import TargetSpec
from targets.sync import (
    REMOVAL_NOTE,
    CompanyDiff,
    FieldChange,
    ImportPlan,
    PruneRefusedError,
    TargetRow,
    apply_import,
    describe_plan,
    list_targets,
    plan_import,
    summarise,
)

T0 = datetime(2025, 1, 1, 3, 0)
T1 = datetime(2025, 2, 1, 3, 0)
T2 = datetime(2025, 3, 1, 3, 0)

HEADER = "id,name,email,domains,ips,sector\n"
FIRST = (
    HEADER
    + "1,Bakkerij De Haven,info@dehaven.nl,dehaven.nl;Bakkerij-Dé-Haven.nl,192.0.2.10,retail\n"
    + "2,Stuwadoors BV,ict@stuwadoors.nl,stuwadoors.nl,198.51.100.0/24;10.0.0.5,logistics\n"
)


def members(text: str) -> tuple[Member, ...]:
    return parse_members(text, source="members.csv")


def run_import(
    session: Session, text: str, *, prune: bool = False, now: datetime = T0
) -> ImportPlan:
    plan = plan_import(session, members(text), prune=prune)
    apply_import(session, plan, now=now)
    session.commit()
    return plan


def stored_targets(session: Session, company_id: str) -> list[tuple[str, str, str]]:
    rows = session.exec(select(Target).where(Target.company_id == company_id))
    return sorted((t.kind, t.value, t.display) for t in rows)


def add_finding(session: Session, target: Target, status: str, fingerprint: str) -> Finding:
    finding = Finding(
        fingerprint=fingerprint,
        company_id=target.company_id,
        target_id=target.id,
        check_id="web.https.missing",
        family="web",
        severity="high",
        target=target.value,
        status=status,
        resolved_at=T0 if status == "resolved" else None,
    )
    session.add(finding)
    session.commit()
    return finding


def target(session: Session, company_id: str, value: str) -> Target:
    return session.exec(
        select(Target).where(Target.company_id == company_id, Target.value == value)
    ).one()


# --- first import ----------------------------------------------------------------------------


def test_first_import_adds_everything(session: Session) -> None:
    plan = plan_import(session, members(FIRST), prune=False)
    assert [d.company_id for d in plan.added] == ["1", "2"]
    assert plan.added[0].targets_added == (
        TargetSpec(TargetKind.DOMAIN, "dehaven.nl"),
        TargetSpec(TargetKind.DOMAIN, "xn--bakkerij-d-haven-kqb.nl", "bakkerij-dé-haven.nl"),
        TargetSpec(TargetKind.IP, "192.0.2.10"),
    )
    assert not plan.is_empty
    assert summarise(plan) == (
        "2 companies added, 0 updated, 0 removed, 0 unchanged; 6 targets added, 0 removed"
    )
    assert session.exec(select(Company)).all() == []  # planning writes nothing

    apply_import(session, plan, now=T0)
    session.commit()

    company = session.get(Company, "1")
    assert company is not None
    assert (company.name, company.email, company.sector, company.language, company.active) == (
        "Bakkerij De Haven",
        "info@dehaven.nl",
        "retail",
        "",
        True,
    )
    assert company.created_at == company.updated_at == T0
    assert stored_targets(session, "1") == [
        ("domain", "dehaven.nl", ""),
        ("domain", "xn--bakkerij-d-haven-kqb.nl", "bakkerij-dé-haven.nl"),
        ("ip", "192.0.2.10", ""),
    ]
    assert stored_targets(session, "2") == [
        ("domain", "stuwadoors.nl", ""),
        ("ip", "10.0.0.5", ""),
        ("network", "198.51.100.0/24", ""),
    ]


def test_apply_leaves_the_commit_to_the_caller(session: Session) -> None:
    apply_import(session, plan_import(session, members(FIRST), prune=False), now=T0)
    session.rollback()
    assert session.exec(select(Company)).all() == []
    assert session.exec(select(Target)).all() == []


# --- idempotence and updates -----------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(session: Session) -> None:
    run_import(session, FIRST, now=T0)
    plan = plan_import(session, members(FIRST), prune=True)
    assert plan.is_empty
    assert plan.unchanged == ("1", "2")
    assert summarise(plan) == (
        "0 companies added, 0 updated, 0 removed, 2 unchanged; 0 targets added, 0 removed"
    )
    assert describe_plan(plan) == []
    apply_import(session, plan, now=T1)
    session.commit()
    assert {c.id: c.updated_at for c in session.exec(select(Company))} == {"1": T0, "2": T0}


def test_reimporting_an_equivalent_file_changes_nothing(session: Session) -> None:
    """Other spelling, same meaning: BOM, CRLF, case, URLs, order of columns and entries."""
    run_import(session, FIRST, now=T0)
    same = (
        "\ufeffSECTOR,ips,domains,email,name,id\r\n"
        ' retail ,192.0.2.10/32,"https://xn--bakkerij-d-haven-kqb.nl/;DEHAVEN.NL.",info@DeHaven.nl,'
        "Bakkerij  De Haven,1\r\n"
        "logistics,10.0.0.5;198.51.100.0/24,stuwadoors.nl,ict@stuwadoors.nl,Stuwadoors BV,2\r\n"
    )
    assert plan_import(session, members(same), prune=True).is_empty


def test_changed_file_updates_fields_and_targets(session: Session) -> None:
    run_import(session, FIRST, now=T0)
    changed = (
        HEADER
        + "1,Bakkerij De Haven,bakker@dehaven.nl,dehaven.nl;Bakkerij-Dé-Haven.nl;www.dehaven.nl,,retail\n"
        + "2,Stuwadoors BV,ict@stuwadoors.nl,stuwadoors.nl,198.51.100.0/24;10.0.0.5,logistics\n"
        + "3,Nieuw BV,info@nieuw.nl,nieuw.nl,,\n"
    )
    plan = plan_import(session, members(changed), prune=False)
    assert [d.company_id for d in plan.added] == ["3"]
    assert plan.unchanged == ("2",)
    (diff,) = plan.updated
    assert diff.changes == (FieldChange("email", "info@dehaven.nl", "bakker@dehaven.nl"),)
    assert diff.targets_added == (TargetSpec(TargetKind.DOMAIN, "www.dehaven.nl"),)
    assert diff.targets_removed == (TargetSpec(TargetKind.IP, "192.0.2.10"),)
    assert summarise(plan) == (
        "1 company added, 1 updated (email, targets), 0 removed, 1 unchanged; "
        "2 targets added, 1 removed"
    )
    assert describe_plan(plan) == [
        "+ 3 Nieuw BV: +domain nieuw.nl",
        "~ 1 Bakkerij De Haven: email 'info@dehaven.nl' -> 'bakker@dehaven.nl'; "
        "+domain www.dehaven.nl, -ip 192.0.2.10",
    ]

    apply_import(session, plan, now=T1)
    session.commit()
    company = session.get(Company, "1")
    assert company is not None
    assert company.email == "bakker@dehaven.nl"
    assert (company.created_at, company.updated_at) == (T0, T1)
    untouched = session.get(Company, "2")
    assert untouched is not None and untouched.updated_at == T0
    assert stored_targets(session, "1") == [
        ("domain", "dehaven.nl", ""),
        ("domain", "www.dehaven.nl", ""),
        ("domain", "xn--bakkerij-d-haven-kqb.nl", "bakkerij-dé-haven.nl"),
    ]
    assert plan_import(session, members(changed), prune=False).is_empty


def test_language_column_absent_keeps_the_stored_language(session: Session) -> None:
    with_language = "id,name,email,domains,ips,sector,language\n1,A,a@a.nl,a.nl,,,en\n"
    run_import(session, with_language)
    assert plan_import(session, members(HEADER + "1,A,a@a.nl,a.nl,,\n"), prune=False).is_empty
    plan = plan_import(session, members(with_language.replace(",en", ",nl")), prune=False)
    assert plan.updated[0].changes == (FieldChange("language", "en", "nl"),)


def test_phone_is_stored_changed_and_kept_when_the_column_is_absent(session: Session) -> None:
    with_phone = "id,name,email,domains,ips,sector,phone\n1,A,a@a.nl,a.nl,,,0255 51 20 01\n"
    run_import(session, with_phone)
    company = session.get(Company, "1")
    assert company is not None and company.phone == "0255 51 20 01"
    assert plan_import(session, members(HEADER + "1,A,a@a.nl,a.nl,,\n"), prune=False).is_empty
    plan = plan_import(session, members(with_phone.replace("01\n", "02\n")), prune=False)
    assert plan.updated[0].changes == (FieldChange("phone", "0255 51 20 01", "0255 51 20 02"),)


# --- companies that are not in the file ------------------------------------------------------


def test_without_prune_absent_companies_are_kept(session: Session) -> None:
    run_import(session, FIRST)
    only_one = (
        HEADER
        + "1,Bakkerij De Haven,info@dehaven.nl,dehaven.nl;Bakkerij-Dé-Haven.nl,192.0.2.10,retail\n"
    )
    plan = plan_import(session, members(only_one), prune=False)
    assert plan.is_empty
    assert plan.kept == (CompanyDiff("2", "Stuwadoors BV"),)
    assert summarise(plan) == (
        "0 companies added, 0 updated, 0 removed, 1 unchanged; 0 targets added, 0 removed; "
        "1 not in file, kept (--prune deactivates them)"
    )
    assert describe_plan(plan) == ["= 2 Stuwadoors BV: not in file, kept"]
    apply_import(session, plan, now=T1)
    session.commit()
    company = session.get(Company, "2")
    assert company is not None and company.active
    assert len(stored_targets(session, "2")) == 3


def test_prune_deactivates_and_removes_targets(session: Session) -> None:
    run_import(session, FIRST, now=T0)
    network = target(session, "2", "198.51.100.0/24")
    finding = add_finding(session, network, "open", "f-open")
    only_one = (
        HEADER
        + "1,Bakkerij De Haven,info@dehaven.nl,dehaven.nl;Bakkerij-Dé-Haven.nl,192.0.2.10,retail\n"
    )

    plan = plan_import(session, members(only_one), prune=True)
    (removed,) = plan.removed
    assert removed.company_id == "2"
    assert removed.changes == (FieldChange("active", True, False),)
    assert removed.targets_removed == (
        TargetSpec(TargetKind.DOMAIN, "stuwadoors.nl"),
        TargetSpec(TargetKind.IP, "10.0.0.5"),
        TargetSpec(TargetKind.NETWORK, "198.51.100.0/24"),
    )
    assert removed.findings_resolved == 1
    assert summarise(plan) == (
        "0 companies added, 0 updated, 1 removed, 1 unchanged; 0 targets added, 3 removed; "
        "1 finding resolved"
    )
    assert describe_plan(plan) == [
        "- 2 Stuwadoors BV: deactivated; -domain stuwadoors.nl, -ip 10.0.0.5, "
        "-network 198.51.100.0/24 (1 finding resolved)"
    ]

    apply_import(session, plan, now=T1)
    session.commit()
    company = session.get(Company, "2")
    assert company is not None  # the row stays: findings, warnings and runs refer to it
    assert (company.active, company.updated_at) == (False, T1)
    assert stored_targets(session, "2") == []
    session.refresh(finding)
    assert (finding.status, finding.resolved_at, finding.target_id) == ("resolved", T1, None)

    # pruned once, it is not reported again
    again = plan_import(session, members(only_one), prune=True)
    assert again.is_empty and again.removed == () and again.kept == ()


def test_a_company_that_comes_back_is_active_again(session: Session) -> None:
    run_import(session, FIRST, now=T0)
    only_one = (
        HEADER
        + "1,Bakkerij De Haven,info@dehaven.nl,dehaven.nl;Bakkerij-Dé-Haven.nl,192.0.2.10,retail\n"
    )
    run_import(session, only_one, prune=True, now=T1)

    plan = plan_import(session, members(FIRST), prune=True)
    (diff,) = plan.updated
    assert diff.company_id == "2"
    assert diff.changes == (FieldChange("active", False, True),)
    assert len(diff.targets_added) == 3
    assert summarise(plan).startswith("0 companies added, 1 updated (active, targets),")
    assert describe_plan(plan)[0].startswith("~ 2 Stuwadoors BV: active again; +domain")

    apply_import(session, plan, now=T2)
    session.commit()
    company = session.get(Company, "2")
    assert company is not None and company.active and company.updated_at == T2
    assert len(stored_targets(session, "2")) == 3
    assert plan_import(session, members(FIRST), prune=True).is_empty


def test_prune_with_an_empty_list_is_refused(session: Session) -> None:
    run_import(session, FIRST)
    with pytest.raises(PruneRefusedError, match="the member list is empty"):
        plan_import(session, (), prune=True)
    assert plan_import(session, (), prune=False).kept != ()


# --- removing targets keeps the history ------------------------------------------------------


def test_removed_target_resolves_and_detaches_its_findings(session: Session) -> None:
    run_import(session, FIRST, now=T0)
    old = target(session, "1", "192.0.2.10")
    kept = target(session, "1", "dehaven.nl")
    open_ = add_finding(session, old, "open", "f-open")
    accepted = add_finding(session, old, "accepted", "f-accepted")
    resolved = add_finding(session, old, "resolved", "f-resolved")
    elsewhere = add_finding(session, kept, "open", "f-elsewhere")
    run = ScanRun()
    session.add(run)
    session.commit()
    assert run.id is not None
    error = CheckError(
        run_id=run.id, company_id="1", target_id=old.id, check_id="tls", reason="timeout"
    )
    session.add(error)
    session.commit()

    without_ip = FIRST.replace(",192.0.2.10,retail", ",,retail")
    plan = plan_import(session, members(without_ip), prune=False)
    assert plan.updated[0].targets_removed == (TargetSpec(TargetKind.IP, "192.0.2.10"),)
    assert plan.findings_resolved == 2  # open and accepted; the resolved one already is
    apply_import(session, plan, now=T1)
    session.commit()

    assert session.get(Target, old.id) is None
    for finding in (open_, accepted, resolved, elsewhere):
        session.refresh(finding)
    assert (open_.status, open_.resolved_at, open_.target_id) == ("resolved", T1, None)
    assert (accepted.status, accepted.resolved_at, accepted.target_id) == ("resolved", T1, None)
    assert (resolved.status, resolved.resolved_at, resolved.target_id) == ("resolved", T0, None)
    assert (elsewhere.status, elsewhere.target_id) == ("open", kept.id)
    events = session.exec(select(FindingEvent)).all()
    assert sorted((e.finding_id, e.event, e.note, e.at, e.run_id) for e in events) == sorted(
        (f.id, "resolved", REMOVAL_NOTE, T1, None) for f in (open_, accepted)
    )
    session.refresh(error)
    assert error.target_id is None


def test_a_target_that_moves_between_kinds(session: Session) -> None:
    """`192.0.2.0/24` narrowed to one address is a different target: one removed, one added."""
    run_import(session, HEADER + "1,A,a@a.nl,,192.0.2.0/24,\n")
    plan = plan_import(session, members(HEADER + "1,A,a@a.nl,,192.0.2.7,\n"), prune=False)
    assert plan.updated[0].targets_added == (TargetSpec(TargetKind.IP, "192.0.2.7"),)
    assert plan.updated[0].targets_removed == (TargetSpec(TargetKind.NETWORK, "192.0.2.0/24"),)
    assert summarise(plan).startswith("0 companies added, 1 updated (targets),")


# --- listing ---------------------------------------------------------------------------------


def test_list_targets(session: Session) -> None:
    run_import(
        session,
        FIRST + "0,Lab,lab@example.nl,haven.test,127.0.0.10;192.0.2.2;192.0.2.10,\n",
    )
    rows = list_targets(session)
    assert [(r.company_id, r.kind, r.display, r.private) for r in rows] == [
        ("0", "domain", "haven.test", True),
        ("0", "ip", "127.0.0.10", True),
        ("0", "ip", "192.0.2.2", True),  # documentation range: not globally routable
        ("0", "ip", "192.0.2.10", True),
        ("1", "domain", "bakkerij-dé-haven.nl", False),
        ("1", "domain", "dehaven.nl", False),
        ("1", "ip", "192.0.2.10", True),
        ("2", "domain", "stuwadoors.nl", False),
        ("2", "ip", "10.0.0.5", True),
        ("2", "network", "198.51.100.0/24", True),
    ]
    assert list_targets(session, "1")[0] == TargetRow(
        company_id="1",
        name="Bakkerij De Haven",
        kind="domain",
        value="xn--bakkerij-d-haven-kqb.nl",
        display="bakkerij-dé-haven.nl",
        private=False,
        active=True,
    )
    assert list_targets(session, "nope") == []


def test_reimport_keeps_discovered_targets(session: Session) -> None:
    """A confirmed discovered host (issue #22) is not in the member list and must survive it."""
    run_import(session, FIRST, now=T0)
    session.add(Target(company_id="1", kind="host", value="vpn.dehaven.nl", origin="discovered"))
    session.commit()
    plan = plan_import(session, members(FIRST), prune=False)
    assert plan.is_empty
    run_import(session, FIRST, now=T1)
    assert ("host", "vpn.dehaven.nl", "") in stored_targets(session, "1")
