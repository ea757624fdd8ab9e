"""The findings lifecycle (DESIGN.md: Finding), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from exposure.contract import FailureReason, FindingCandidate, Observation, fingerprint
from exposure.models import Finding, RunCompany
from exposure.scan.results import CompanyResult
from exposure.store.db import session
from tests.conftest import T0, StoreWorld

MAIL_IDS = {"mail.spf.missing", "mail.dmarc.missing", "mail.dmarc.policy_none"}
TLS_IDS = {"tls.cert.expired", "tls.cert.expiring", "tls.protocol.legacy"}
NIGHT2 = T0 + timedelta(days=1)
NIGHT3 = T0 + timedelta(days=2)


@pytest.fixture
def world(store_world: StoreWorld) -> StoreWorld:
    store_world.add_company("c1", "haven.nl", "192.0.2.10")
    store_world.add_company("c2", "kade.nl")
    return store_world


def spf_missing(
    world: StoreWorld,
    severity: str = "high",
    evidence: dict[str, Any] | None = None,
    detail: str = "",
) -> FindingCandidate:
    return world.candidate(
        "mail.spf.missing", "haven.nl", severity, evidence=evidence, detail=detail
    )


def mail_result(
    world: StoreWorld, run_id: int, *observations: Observation, at: datetime = T0
) -> CompanyResult:
    outcome = world.outcome("haven.nl", "mail", MAIL_IDS, *observations)
    return world.result(run_id, "c1", outcome, at=at)


def test_a_new_candidate_opens_a_finding(world: StoreWorld) -> None:
    run = world.new_run()
    stats = world.apply(
        mail_result(world, run, spf_missing(world, evidence={"records": []}, detail="no v=spf1"))
    )

    finding = world.finding("mail.spf.missing")
    assert finding.fingerprint == fingerprint("mail.spf.missing", "c1", "haven.nl")
    assert (finding.status, finding.severity, finding.family) == ("open", "high", "mail")
    assert finding.first_seen == finding.last_seen == T0
    assert finding.first_run_id == finding.last_run_id == run
    assert finding.target_id == world.targets["haven.nl"].id
    assert finding.title == "Title of mail.spf.missing"
    assert finding.evidence == {"records": []}
    assert finding.detail == "no v=spf1"
    assert world.events(finding.id) == ["opened"]

    assert (stats.new, stats.seen, stats.companies) == (1, 0, 1)
    assert stats.new_by_severity == {"high": 1}
    scan = world.run(run)
    assert (scan.findings_new, scan.companies_done, scan.checks_run) == (1, 1, 1)
    with session(world.engine) as db:
        progress = db.get(RunCompany, (run, "c1"))
    assert progress is not None and progress.status == "done" and progress.finished_at == T0


def test_seen_again_only_moves_last_seen(world: StoreWorld) -> None:
    world.apply(mail_result(world, world.new_run(), spf_missing(world)))
    run2 = world.new_run()
    stats = world.apply(mail_result(world, run2, spf_missing(world), at=NIGHT2), now=NIGHT2)

    finding = world.finding("mail.spf.missing")
    assert finding.status == "open"
    assert finding.first_seen == T0
    assert finding.last_seen == NIGHT2
    assert finding.last_run_id == run2
    assert world.events(finding.id) == ["opened"]
    assert (stats.new, stats.seen, stats.reopened, stats.resolved) == (0, 1, 0, 0)
    assert world.run(run2).findings_new == 0


def test_a_raised_severity_is_recorded(world: StoreWorld) -> None:
    world.apply(mail_result(world, world.new_run(), spf_missing(world, "medium")))
    stats = world.apply(
        mail_result(world, world.new_run(), spf_missing(world, "critical")), now=NIGHT2
    )

    finding = world.finding("mail.spf.missing")
    assert finding.severity == "critical"
    assert world.events(finding.id) == ["opened", "severity"]
    assert stats.severity_changed == 1


def test_resolved_when_a_complete_run_no_longer_sees_it(world: StoreWorld) -> None:
    world.apply(
        mail_result(
            world,
            world.new_run(),
            spf_missing(world),
            world.candidate("mail.dmarc.missing", "haven.nl", "high"),
        )
    )
    run2 = world.new_run()
    stats = world.apply(
        mail_result(world, run2, world.candidate("mail.dmarc.missing", "haven.nl", "high")),
        now=NIGHT2,
    )

    spf = world.finding("mail.spf.missing")
    assert spf.status == "resolved"
    assert spf.resolved_at == NIGHT2
    assert spf.last_seen == T0
    assert world.events(spf.id) == ["opened", "resolved"]
    assert world.finding("mail.dmarc.missing").status == "open"
    assert stats.resolved == 1
    assert world.run(run2).findings_resolved == 1


def test_not_resolved_when_the_check_failed_for_the_target(world: StoreWorld) -> None:
    world.apply(mail_result(world, world.new_run(), spf_missing(world)))
    run2 = world.new_run()
    failure = world.failure(FailureReason.DNS_ERROR, "SERVFAIL from 192.0.2.53", "haven.nl")
    stats = world.apply(mail_result(world, run2, failure), now=NIGHT2)

    finding = world.finding("mail.spf.missing")
    assert finding.status == "open"
    assert finding.last_seen == T0  # not seen, not resolved: untouched
    assert world.events(finding.id) == ["opened"]
    assert (stats.resolved, stats.errors, stats.errors_by_reason) == (0, 1, {"dns_error": 1})

    [error] = world.errors(run2)
    assert (error.company_id, error.check_id, error.reason) == ("c1", "mail", "dns_error")
    assert error.target == "haven.nl"
    assert error.target_id == world.targets["haven.nl"].id
    assert error.message == "SERVFAIL from 192.0.2.53"
    assert error.finding_ids == []
    assert world.run(run2).errors == 1


def test_a_partial_failure_protects_only_the_ids_it_covers(world: StoreWorld) -> None:
    world.apply(
        mail_result(
            world,
            world.new_run(),
            spf_missing(world),
            world.candidate("mail.dmarc.missing", "haven.nl", "high"),
        )
    )
    run2 = world.new_run()
    failure = world.failure(finding_ids={"mail.dmarc.missing", "mail.dmarc.policy_none"})
    world.apply(mail_result(world, run2, failure), now=NIGHT2)

    assert world.finding("mail.dmarc.missing").status == "open"  # could not test
    assert world.finding("mail.spf.missing").status == "resolved"  # tested, gone
    [error] = world.errors(run2)
    assert error.finding_ids == ["mail.dmarc.missing", "mail.dmarc.policy_none"]


def test_only_the_target_and_check_that_ran_are_resolved(world: StoreWorld) -> None:
    run1 = world.new_run()
    world.apply(
        world.result(
            run1,
            "c1",
            world.outcome("haven.nl", "mail", MAIL_IDS, spf_missing(world)),
            world.outcome(
                "haven.nl", "tls", TLS_IDS, world.candidate("tls.cert.expired", "haven.nl", "high")
            ),
            world.outcome(
                "192.0.2.10",
                "tls",
                TLS_IDS,
                world.candidate("tls.protocol.legacy", "192.0.2.10:443", "medium"),
            ),
        )
    )
    # night 2: only tls on haven.nl ran (a `--check tls` scan, and the IP failed)
    world.apply(
        world.result(
            world.new_run(),
            "c1",
            world.outcome("haven.nl", "tls", TLS_IDS),
            world.outcome("192.0.2.10", "tls", TLS_IDS, world.failure(FailureReason.REFUSED)),
        ),
        now=NIGHT2,
    )

    assert world.finding("tls.cert.expired").status == "resolved"
    assert world.finding("tls.protocol.legacy").status == "open"  # its target failed
    assert world.finding("mail.spf.missing").status == "open"  # mail did not run


def test_a_failure_on_another_target_protects_nothing_here(world: StoreWorld) -> None:
    world.apply(mail_result(world, world.new_run(), spf_missing(world)))
    world.apply(
        world.result(
            world.new_run(),
            "c1",
            world.outcome("haven.nl", "mail", MAIL_IDS),
            world.outcome("192.0.2.10", "mail", MAIL_IDS, world.failure()),
        ),
        now=NIGHT2,
    )
    assert world.finding("mail.spf.missing").status == "resolved"


def test_a_finding_that_comes_back_is_reopened(world: StoreWorld) -> None:
    world.apply(mail_result(world, world.new_run(), spf_missing(world, "medium")))
    world.apply(mail_result(world, world.new_run()), now=NIGHT2)
    run3 = world.new_run()
    stats = world.apply(mail_result(world, run3, spf_missing(world, "high")), now=NIGHT3)

    finding = world.finding("mail.spf.missing")
    assert finding.status == "open"
    assert finding.resolved_at is None
    assert finding.reopened_count == 1
    assert finding.first_seen == T0
    assert finding.last_seen == NIGHT3
    assert finding.severity == "high"
    assert world.events(finding.id) == ["opened", "resolved", "reopened"]
    assert (stats.reopened, stats.new, stats.seen) == (1, 0, 0)
    assert world.run(run3).findings_reopened == 1
    assert len(world.findings()) == 1  # the same finding, its history kept


def _accept(world: StoreWorld, until: datetime | None = None) -> None:
    with session(world.engine) as db:
        finding = db.get(Finding, world.finding("mail.spf.missing").id)
        assert finding is not None
        finding.status = "accepted"
        finding.accepted_reason = "no mail on this domain, SPF handled by the host"
        finding.accepted_until = until


def test_an_accepted_finding_stays_accepted_while_seen(world: StoreWorld) -> None:
    world.apply(mail_result(world, world.new_run(), spf_missing(world)))
    _accept(world)
    stats = world.apply(mail_result(world, world.new_run(), spf_missing(world)), now=NIGHT2)

    finding = world.finding("mail.spf.missing")
    assert finding.status == "accepted"
    assert finding.last_seen == NIGHT2
    assert stats.seen == 1


def test_an_acceptance_that_ran_out_opens_the_finding_again(world: StoreWorld) -> None:
    world.apply(mail_result(world, world.new_run(), spf_missing(world)))
    _accept(world, until=T0 + timedelta(hours=12))
    world.apply(mail_result(world, world.new_run(), spf_missing(world)), now=NIGHT2)

    finding = world.finding("mail.spf.missing")
    assert finding.status == "open"
    assert world.events(finding.id) == ["opened", "unaccepted"]


def test_an_accepted_finding_that_is_gone_is_resolved(world: StoreWorld) -> None:
    world.apply(mail_result(world, world.new_run(), spf_missing(world)))
    _accept(world, until=NIGHT3)
    world.apply(mail_result(world, world.new_run()), now=NIGHT2)
    assert world.finding("mail.spf.missing").status == "resolved"


def test_one_problem_reported_twice_is_one_finding(world: StoreWorld) -> None:
    """The fingerprint has no target: the same subject via two targets is one finding."""
    stats = world.apply(
        world.result(
            world.new_run(),
            "c1",
            world.outcome("haven.nl", "mail", MAIL_IDS, spf_missing(world, "medium")),
            world.outcome("192.0.2.10", "mail", MAIL_IDS, spf_missing(world, "high")),
        )
    )
    assert stats.new == 1
    assert world.finding("mail.spf.missing").severity == "high"


def test_discriminators_separate_findings(world: StoreWorld) -> None:
    world.apply(
        world.result(
            world.new_run(),
            "c1",
            world.outcome(
                "192.0.2.10",
                "shodan",
                {"exposure.remote_access"},
                world.candidate("exposure.remote_access", "192.0.2.10", "high", "3389"),
                world.candidate("exposure.remote_access", "192.0.2.10", "critical", "5900"),
            ),
        )
    )
    assert sorted(f.discriminator for f in world.findings()) == ["3389", "5900"]


def test_companies_do_not_touch_each_other(world: StoreWorld) -> None:
    run = world.new_run()
    world.apply(mail_result(world, run, spf_missing(world)))
    world.apply(world.result(run, "c2", world.outcome("kade.nl", "mail", MAIL_IDS)))
    assert world.finding("mail.spf.missing").status == "open"
    assert world.run(run).companies_done == 2


def test_hostile_text_and_numbers_are_stored(world: StoreWorld) -> None:
    """NUL bytes (a banner) and NaN are not valid in PostgreSQL text/JSON; they must not cost
    the company its result."""
    evidence = {"banner": "220 mail\x00 ESMTP", "score": float("nan"), "ports": {25, 587}}
    run = world.new_run()
    world.apply(
        mail_result(
            world,
            run,
            spf_missing(world, evidence=evidence, detail="bad\x00detail"),
            world.failure(message="reset\x00by peer", finding_ids={"mail.dmarc.missing"}),
        )
    )
    finding = world.finding("mail.spf.missing")
    assert finding.evidence == {"banner": "220 mail ESMTP", "score": "nan", "ports": [25, 587]}
    assert finding.detail == "baddetail"
    assert world.errors(run)[0].message == "resetby peer"


def test_applying_a_result_twice_counts_the_company_once(world: StoreWorld) -> None:
    run = world.new_run()
    result = mail_result(world, run, spf_missing(world))
    world.apply(result)
    world.apply(result)
    scan = world.run(run)
    assert (scan.companies_done, scan.findings_new) == (1, 1)
    assert len(world.findings()) == 1


def test_existing_findings_are_loaded_in_one_query(world: StoreWorld) -> None:
    subjects = [f"host{i}.haven.nl" for i in range(30)]
    first = [world.candidate("tls.cert.expired", s, "high") for s in subjects]
    world.apply(
        world.result(world.new_run(), "c1", world.outcome("haven.nl", "tls", TLS_IDS, *first))
    )

    statements: list[str] = []

    def record(*args: Any) -> None:  # before_cursor_execute(conn, cursor, statement, ...)
        statements.append(args[2])

    # night 2: half are still there, half are gone, and 30 new ones appear
    second = first[:15] + [world.candidate("tls.cert.expiring", s, "medium") for s in subjects]
    result = world.result(world.new_run(), "c1", world.outcome("haven.nl", "tls", TLS_IDS, *second))
    event.listen(world.engine, "before_cursor_execute", record)
    try:
        stats = world.apply(result, now=NIGHT2)
    finally:
        event.remove(world.engine, "before_cursor_execute", record)

    assert (stats.new, stats.seen, stats.resolved) == (30, 15, 15)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    finding_selects = [s for s in selects if "FROM finding" in s]
    assert len(finding_selects) == 1, finding_selects
    assert len(selects) <= 2, selects  # the findings, and the company's RunCompany row
    if world.engine.dialect.name == "postgresql":
        # Batched writes, not one round trip per row. (SQLite's driver cannot return the ids of
        # a multi-row INSERT in order, so the ORM inserts new rows one by one there: in-process
        # calls inside one transaction, not round trips.)
        assert len(statements) <= 12, statements


def test_nothing_is_half_applied(world: StoreWorld) -> None:
    """A result that fails half-way leaves no trace: the caller's transaction rolls back."""
    run = world.new_run()
    bad = mail_result(world, run, spf_missing(world), world.candidate("x", "haven.nl", "bogus"))
    with pytest.raises(ValueError), session(world.engine) as db:
        from exposure.store.lifecycle import apply_company_result

        apply_company_result(db, bad, run, T0)
    assert world.findings() == []
    with session(world.engine) as db:
        assert db.exec(select(RunCompany.status).where(RunCompany.run_id == run)).all() == [
            "pending",
            "pending",
        ]


def test_a_batch_with_a_failed_result_writes_nothing(world: StoreWorld) -> None:
    """In a batch the writes wait for the end of the block: a result that fails half-way must
    not let the others be written without it, even if its exception was swallowed."""
    from exposure.store.lifecycle import apply_company_result, batched

    run = world.new_run()
    good = mail_result(world, run, spf_missing(world))
    bad = world.result(
        run,
        "c2",
        world.outcome("kade.nl", "mail", MAIL_IDS, world.candidate("x", "kade.nl", "bogus")),
    )
    refused = pytest.raises(RuntimeError, match="roll back")
    with refused, session(world.engine) as db, batched(db, [good, bad]):
        apply_company_result(db, good, run, T0)
        with pytest.raises(ValueError):
            apply_company_result(db, bad, run, T0)
    assert world.findings() == []
    assert world.run(run).companies_done == 0
