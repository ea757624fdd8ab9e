"""Proof that warnings work: per run serious problems open, new, fixed, fixed after a warning."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from exposure.models import Finding, WarningRecord
from exposure.store.acceptance import accept_finding
from exposure.store.db import session as session_scope
from reports import overview, warning_effect
from tests.reports import sample
from tests.reports.page import parse
from tests.reports.sample import SampleArea


def effect(engine: Engine) -> warning_effect.Effect:
    with session_scope(engine) as db:
        return warning_effect.build(db)


def warn(engine: Engine, company_id: str, check_id: str, at_days: float) -> None:
    with session_scope(engine) as db:
        prints = list(
            db.exec(
                select(Finding.fingerprint).where(
                    Finding.company_id == company_id, Finding.check_id == check_id
                )
            )
        )
        assert prints
        db.add(
            WarningRecord(
                reference=f"MP-2026-{len(prints) + int(at_days * 100):06d}",
                company_id=company_id,
                created_at=sample.T0 + timedelta(days=at_days),
                fingerprints=prints,
                status="written",
            )
        )


def test_without_warnings_fixes_are_fixes_but_not_after_a_warning(area: SampleArea) -> None:
    first, second = effect(area.engine).points
    assert (first.fixed, first.fixed_after_warning) == (0, 0)
    # the bakery's expired certificate and the forwarder's untrusted one went away
    assert second.fixed == 2 and second.fixed_after_warning == 0
    assert second.new == 1  # the garage's remote desktop
    assert first.new == first.open_serious
    assert second.open_serious == first.open_serious - 2 + 1
    assert second.median_days is None


def test_a_fix_six_days_after_the_warning_counts_within_14_and_30(area: SampleArea) -> None:
    warn(area.engine, sample.BAKERY, "tls.cert.expired", 1)
    result = effect(area.engine)
    second = result.points[-1]
    assert (second.fixed, second.fixed_after_warning) == (2, 1)
    assert (second.within_14, second.within_30, second.median_days) == (1, 1, 6.0)
    assert (result.fixed_after_warning, result.median_days) == (1, 6.0)


def test_a_warning_after_the_fix_is_not_what_fixed_it(area: SampleArea) -> None:
    warn(area.engine, sample.BAKERY, "tls.cert.expired", 8)
    assert effect(area.engine).points[-1].fixed_after_warning == 0


def test_twenty_days_is_within_30_not_within_14_and_acceptances_count(
    area: SampleArea,
) -> None:
    warn(area.engine, sample.FISH, "exposure.camera", 1)
    with session_scope(area.engine) as db:
        (spf,) = db.exec(
            select(Finding).where(
                Finding.company_id == sample.GARAGE, Finding.check_id == "mail.spf.permissive"
            )
        )
        accept_finding(
            db,
            sample.GARAGE,
            spf.fingerprint,
            "our mail provider needs it",
            by="test",
            now=sample.T0 + timedelta(days=10),
        )
    third = {
        sample.FISH: [],  # every problem of the fish wholesaler fixed
        sample.GARAGE: [
            sample.Seen("mail.spf.permissive", "garage-brouwer.test"),
            sample.Seen("mail.dmarc.missing", "garage-brouwer.test"),
        ],
    }
    area.scan(third, sample.T0 + timedelta(days=21))
    point = effect(area.engine).points[-1]
    assert point.fixed_after_warning == 6  # the six cameras, warned on day 1
    assert (point.within_14, point.within_30, point.median_days) == (0, 6, 20.0)
    # also the fish wholesaler's SPF, DMARC, STARTTLS and certificate, and the garage's RDP
    assert point.fixed == 6 + 4 + 1
    assert point.accepted_companies == 1


def test_the_overview_shows_one_row_per_run_with_date_and_time(area: SampleArea) -> None:
    warn(area.engine, sample.BAKERY, "tls.cert.expired", 1)
    area.scan({sample.TUG: []}, sample.T0 + timedelta(days=7, hours=6))  # same day, later
    with session_scope(area.engine) as db:
        view = overview.build(db, sample.SPECS, "nl")
    html = overview.render_html(view)
    section = parse(html).by_id("effect")
    rows = section.find_all("tr", where=lambda n: "data-run" in n.attrs)
    assert len(rows) == 3
    dates = [r.find("td").text for r in rows]
    assert dates[1] == "9 maart 2026 02:05" and dates[2] == "9 maart 2026 08:05"
    assert len(section.find_all("svg")) == 2
    assert "1 ernstige problemen opgelost na een waarschuwing" in section.text


def test_one_run_is_a_table_row_not_a_chart(sqlite_engine: Engine) -> None:
    sample.build_area(sqlite_engine, two_runs=False)
    with session_scope(sqlite_engine) as db:
        html = overview.render_html(overview.build(db, sample.SPECS, "nl"))
    section = parse(html).by_id("effect")
    assert not section.find_all("svg")
    assert len(section.find_all("tr", where=lambda n: "data-run" in n.attrs)) == 1
    assert "Nog geen ernstig probleem opgelost na een waarschuwing." in section.text
