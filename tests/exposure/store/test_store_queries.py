"""Read queries for the CLI and reports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from exposure.contract import FailureReason
from exposure.models import WarningRecord
from exposure.severity import Severity
from exposure.store.db import session
from exposure.store.queries import (
    FindingRow,
    finding_history,
    latest_run,
    list_companies,
    list_findings,
    open_by_severity,
    recent_runs,
    run_errors,
    warned_fingerprints,
)
from exposure.store.runs import finish_run
from tests.conftest import T0, StoreWorld

MAIL = {"mail.spf.missing", "mail.dmarc.missing", "mail.dmarc.no_reports"}
WEB = {"web.https.missing", "web.hsts.missing"}


@pytest.fixture
def world(store_world: StoreWorld) -> StoreWorld:
    """Two companies after two nights: c1 fixed SPF on night 2, c2's web check timed out."""
    w = store_world
    w.add_company("c1", "haven.nl", name="Haven BV")
    w.add_company("c2", "kade.nl", "192.0.2.7", name="Kade & Zn")
    w.add_company("c3", name="Zonder Doelen")
    run1 = w.new_run(["c1", "c2"], {"n": 1})
    w.apply(
        w.result(
            run1,
            "c1",
            w.outcome(
                "haven.nl",
                "mail",
                MAIL,
                w.candidate("mail.spf.missing", "haven.nl", "high"),
                w.candidate("mail.dmarc.no_reports", "haven.nl", "low"),
            ),
        )
    )
    w.apply(
        w.result(
            run1,
            "c2",
            w.outcome("kade.nl", "web", WEB, w.candidate("web.hsts.missing", "kade.nl", "low")),
            w.outcome(
                "192.0.2.7",
                "shodan",
                {"exposure.ics"},
                w.candidate("exposure.ics", "192.0.2.7", "critical", "502"),
            ),
        )
    )
    run2 = w.new_run(["c1", "c2"], {"n": 2})
    night2 = T0 + timedelta(days=1)
    w.apply(
        w.result(
            run2,
            "c1",
            w.outcome(
                "haven.nl", "mail", MAIL, w.candidate("mail.dmarc.no_reports", "haven.nl", "low")
            ),
        ),
        now=night2,
    )
    w.apply(
        w.result(
            run2,
            "c2",
            w.outcome("kade.nl", "web", WEB, w.failure(FailureReason.TIMEOUT, "no answer in 10 s")),
        ),
        now=night2,
    )
    return w


def keys(rows: list[FindingRow]) -> list[tuple[str, str, str]]:
    return [(r.severity, r.company_id, r.check_id) for r in rows]


def test_open_findings_by_severity_then_company(world: StoreWorld) -> None:
    with session(world.engine) as db:
        rows = list_findings(db)
    assert keys(rows) == [
        ("critical", "c2", "exposure.ics"),
        ("low", "c1", "mail.dmarc.no_reports"),
        ("low", "c2", "web.hsts.missing"),
    ]
    assert rows[0].company_name == "Kade & Zn"
    assert rows[0].discriminator == "502"


def test_findings_by_status_company_and_severity(world: StoreWorld) -> None:
    with session(world.engine) as db:
        resolved = list_findings(db, status="resolved")
        everything = list_findings(db, status="all")
        c1 = list_findings(db, company_id="c1", status="all")
        serious = list_findings(db, min_severity="HIGH", status="all")
        medium_up = list_findings(db, min_severity=Severity.MEDIUM)
    assert keys(resolved) == [("high", "c1", "mail.spf.missing")]
    assert resolved[0].resolved_at == T0 + timedelta(days=1)
    assert len(everything) == 4
    assert {r.company_id for r in c1} == {"c1"} and len(c1) == 2
    assert keys(serious) == [("critical", "c2", "exposure.ics"), ("high", "c1", "mail.spf.missing")]
    assert keys(medium_up) == [("critical", "c2", "exposure.ics")]


def test_bad_filters_are_refused_with_a_readable_message(world: StoreWorld) -> None:
    with session(world.engine) as db:
        with pytest.raises(ValueError, match="unknown status 'closed'"):
            list_findings(db, status="closed")
        with pytest.raises(ValueError, match="unknown severity"):
            list_findings(db, min_severity="severe")


def test_finding_rows_serialise_to_json(world: StoreWorld) -> None:
    with session(world.engine) as db:
        rows = list_findings(db, status="all")
    data = json.loads(json.dumps([r.to_dict() for r in rows]))
    required = {"company_id", "check_id", "severity", "target", "title", "status",
                "first_seen", "last_seen", "evidence"}  # fmt: skip
    assert all(required <= set(item) for item in data)
    assert data[0]["first_seen"] == "2026-03-02T02:00:00Z"


def test_companies_with_targets_and_open_counts(world: StoreWorld) -> None:
    with session(world.engine) as db:
        companies = list_companies(db)
    assert [(c.id, c.name, c.open_findings) for c in companies] == [
        ("c1", "Haven BV", 1),
        ("c2", "Kade & Zn", 2),
        ("c3", "Zonder Doelen", 0),
    ]
    assert [(t.kind, t.value) for t in companies[1].targets] == [
        ("domain", "kade.nl"),
        ("ip", "192.0.2.7"),
    ]
    assert companies[2].targets == ()


def test_runs_errors_and_history(world: StoreWorld) -> None:
    with session(world.engine) as db:
        run = latest_run(db)
        assert run is not None and run.id is not None and run.scope == {"n": 2}
        assert latest_run(db, status="complete") is None
        finish_run(db, run.id, "complete", {})
        complete = latest_run(db, status="complete")
        assert complete is not None and complete.id == run.id

        [error] = run_errors(db, run.id)
        assert (error.company_id, error.check_id, error.reason) == ("c2", "web", "timeout")
        assert error.message == "no answer in 10 s"

        spf = list_findings(db, status="resolved")[0]
        assert [e.event for e in finding_history(db, spf.id)] == ["opened", "resolved"]


def test_warned_fingerprints(world: StoreWorld) -> None:
    with session(world.engine) as db:
        db.add(WarningRecord(reference="W-1", company_id="c2", fingerprints=["a", "b"]))
        db.add(WarningRecord(reference="W-2", company_id="c2", fingerprints=["c"], status="sent"))
        db.add(WarningRecord(reference="W-3", company_id="c1", fingerprints=["d"], status="failed"))
    with session(world.engine) as db:
        assert warned_fingerprints(db) == {"c2": {"a", "b", "c"}}
        assert warned_fingerprints(db, ["c1"]) == {}


def test_open_counts_and_recent_runs(world: StoreWorld) -> None:
    with session(world.engine) as db:
        assert open_by_severity(db) == {"critical": 1, "low": 2}
        assert list(open_by_severity(db)) == ["critical", "low"]  # highest first
        assert open_by_severity(db, company_id="c1") == {"low": 1}
        runs = recent_runs(db, limit=5)
        assert [r.scope for r in runs] == [{"n": 2}, {"n": 1}]
        assert len(recent_runs(db, limit=1)) == 1
