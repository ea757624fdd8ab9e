"""The Meldpunt's morning call list: whom to call first, about what, with which reference."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from exposure.models import Company, Finding, PortalSession, WarningRecord
from exposure.store.db import session as session_scope
from reports import calls, overview
from tests.reports import sample
from tests.reports.page import parse
from tests.reports.sample import SampleArea


def build(engine: Engine, language: str = "nl") -> calls.CallList:
    with session_scope(engine) as db:
        return calls.build(db, sample.SPECS, language, now=sample.T0 + timedelta(days=8))


def warn(engine: Engine, company_id: str, reference: str, days: int, but: str = "") -> None:
    """A delivered warning naming every open finding of the company (but one check id)."""
    with session_scope(engine) as db:
        prints = list(
            db.exec(
                select(Finding.fingerprint).where(
                    Finding.company_id == company_id,
                    Finding.status == "open",
                    Finding.check_id != but,
                )
            )
        )
        db.add(
            WarningRecord(
                reference=reference,
                company_id=company_id,
                created_at=sample.T0 + timedelta(days=days),
                fingerprints=prints,
                status="sent",
                channel="smtp",
            )
        )


def test_critical_first_then_new_then_longest_open_then_not_warned(area: SampleArea) -> None:
    warn(area.engine, sample.FISH, "MP-2026-000001", 1)
    order = [c.company_id for c in build(area.engine).calls]
    # cold store: critical (industrial control); garage: high and new in the last run;
    # hostile and fish: high since the first run, the hostile one never warned
    assert order == [sample.COLD_STORE, sample.GARAGE, sample.HOSTILE, sample.FISH]


def test_the_one_not_warned_goes_before_the_one_warned(area: SampleArea) -> None:
    warn(area.engine, sample.HOSTILE, "MP-2026-000001", 1)
    order = [c.company_id for c in build(area.engine).calls]
    assert order == [sample.COLD_STORE, sample.GARAGE, sample.FISH, sample.HOSTILE]


def test_what_since_when_warned_read_contact_and_what_to_say(area: SampleArea) -> None:
    warn(area.engine, sample.FISH, "MP-2026-000001", 1)
    with session_scope(area.engine) as db:
        fish = db.get(Company, sample.FISH)
        assert fish is not None
        fish.phone = "0255 51 20 04"
        db.add(fish)
        db.add(
            PortalSession(
                session_hash="x" * 64,
                kind="company",
                company_id=sample.FISH,
                csrf="c",
                created_at=sample.T0 + timedelta(days=2, hours=3),
                expires_at=sample.T0 + timedelta(days=30),
            )
        )
    view = build(area.engine)
    call = next(c for c in view.calls if c.company_id == sample.FISH)
    assert [p.check_id for p in call.problems] == [
        "exposure.camera",
        "mail.dmarc.missing",
        "mail.spf.missing",
        "mail.starttls.missing",
        "tls.cert.untrusted",
    ]
    assert call.since == sample.T0
    assert call.warned == calls.Warned("MP-2026-000001", sample.T0 + timedelta(days=1))
    assert call.unwarned == 0
    assert call.read_at == sample.T0 + timedelta(days=2, hours=3) and call.read_after_warning
    text = dict(calls.cells(call, "nl"))
    assert text["Gewaarschuwd"] == "3 maart 2026 02:00 (MP-2026-000001)"
    assert text["Rapport gelezen"] == "4 maart 2026 05:00"
    assert text["Contact"] == "0255 51 20 04 · info@visgroothandel-zeebries.test"
    assert "MP-2026-000001" in call.say and "203.0.113.1" in call.say
    hostile = next(c for c in view.calls if c.company_id == sample.HOSTILE)
    hostile_text = dict(calls.cells(hostile, "nl"))
    assert hostile_text["Gewaarschuwd"] == "nog niet gewaarschuwd"
    assert hostile_text["Rapport gelezen"] == "nog niet geopend"
    assert hostile_text["Contact"].startswith("geen telefoon bekend")
    assert "U krijgt van ons ook een e-mail" in hostile.say


def test_a_problem_found_after_the_warning_counts_as_not_warned(area: SampleArea) -> None:
    warn(area.engine, sample.GARAGE, "MP-2026-000002", 1, but="exposure.remote_access")
    garage = next(c for c in build(area.engine).calls if c.company_id == sample.GARAGE)
    rdp = next(p for p in garage.problems if p.check_id == "exposure.remote_access")
    assert rdp.new and rdp.warned is None and garage.unwarned == 1
    assert "1 nog niet gewaarschuwd" in dict(calls.cells(garage, "nl"))["Gewaarschuwd"]


def test_fixed_accepted_and_medium_problems_are_not_calls(area: SampleArea) -> None:
    with session_scope(area.engine) as db:
        for f in db.exec(select(Finding).where(Finding.company_id == sample.HOSTILE)):
            f.status = "accepted"
            db.add(f)
    ids = {c.company_id for c in build(area.engine).calls}
    assert sample.BAKERY not in ids  # fixed its expired certificate in the second run
    assert sample.FORWARDER not in ids  # only a medium problem left
    assert sample.TUG not in ids and sample.HOSTILE not in ids  # medium; accepted


def test_could_not_test_is_shown_with_the_reason_and_since_when(area: SampleArea) -> None:
    view = build(area.engine)
    cold = next(c for c in view.calls if c.company_id == sample.COLD_STORE)
    assert cold.untested is not None
    assert cold.untested.reasons == ("geen antwoord binnen de tijd",)
    assert cold.untested.runs == 1
    assert "Niet te testen" in calls.problem_text(cold, "nl")
    assert "op rij" not in calls.since_text(cold, "nl")


def test_a_company_that_could_not_be_tested_for_two_runs_is_called_too(
    area: SampleArea,
) -> None:
    from exposure.contract import FailureReason

    seen = {sample.TUG: [sample.Seen("mail.dmarc.policy_none", "sleepdienst-kuipers.test")]}
    failures = {sample.TUG: [("web", FailureReason.REFUSED, "refused")]}
    area.scan(seen, sample.T0 + timedelta(days=14), failures=failures)
    area.scan(seen, sample.T0 + timedelta(days=15), failures=failures)
    view = build(area.engine)
    tug = view.calls[-1]
    assert tug.company_id == sample.TUG and tug.severity is None
    assert tug.untested is not None and tug.untested.runs == 2
    assert tug.untested.since.date() == (sample.T0 + timedelta(days=14)).date()
    assert "verbinding geweigerd" in tug.say
    assert "(2 scans op rij)" in calls.since_text(tug, "nl")
    area.scan(seen, sample.T0 + timedelta(days=16))  # tested again: no call
    assert sample.TUG not in {c.company_id for c in build(area.engine).calls}


def test_a_failure_of_our_own_side_is_no_call(area: SampleArea) -> None:
    from exposure.contract import FailureReason

    seen = {sample.TUG: [sample.Seen("mail.dmarc.policy_none", "sleepdienst-kuipers.test")]}
    for reason in (FailureReason.UNAVAILABLE, FailureReason.LOCAL_LIMIT, FailureReason.BUG):
        failures = {sample.TUG: [("web", reason, "ours")]}
        area.scan(seen, sample.T0 + timedelta(days=14), failures=failures)
        assert sample.TUG not in {c.company_id for c in build(area.engine).calls}, reason


def test_json_and_csv_have_the_same_fields_and_neutralise_formulas(area: SampleArea) -> None:
    view = build(area.engine)
    document = json.loads(calls.to_json(view))
    assert [r["company_id"] for r in document["calls"]][:2] == [sample.COLD_STORE, sample.GARAGE]
    first = document["calls"][0]
    assert first["severity"] == "critical" and first["rank"] == 1
    assert first["could_not_test"] == ["geen antwoord binnen de tijd"]
    rows = list(csv.DictReader(io.StringIO(calls.to_csv(view))))
    assert tuple(rows[0]) == calls.FIELDS
    hostile = next(r for r in rows if r["company_id"] == sample.HOSTILE)
    assert hostile["company"].startswith("'=") or not hostile["company"].startswith("=")
    assert all(not v.startswith(("=", "+", "@")) for r in rows for v in r.values())


def test_the_text_table_names_every_company_in_order(area: SampleArea) -> None:
    text = calls.to_text(build(area.engine, "en"))
    assert text.startswith("Whom do we call today?")
    assert text.index("Koelhuis Maasvlakte") < text.index("Autogarage Brouwer")
    assert "What to say:" in text


def test_the_html_escapes_and_sits_at_the_top_of_the_named_overview(area: SampleArea) -> None:
    with session_scope(area.engine) as db:
        named = overview.build(db, sample.SPECS, "nl", named=True)
        anonymous = overview.build(db, sample.SPECS, "nl")
    html = overview.render_html(named)
    assert "<script>alert(1)</script>" not in html
    doc = parse(html)
    section = doc.by_id("calls")
    rows = section.find_all("li", where=lambda n: "data-company" in n.attrs)
    assert [r.attrs["data-company"] for r in rows][:2] == [sample.COLD_STORE, sample.GARAGE]
    assert any(sample.HOSTILE_NAME in r.text for r in rows)  # shown as text
    assert html.index('id="calls"') < html.index('id="grades"')
    assert 'id="calls"' not in overview.render_html(anonymous)  # no names without --named


def test_an_empty_store_has_nobody_to_call(sqlite_engine: Engine) -> None:
    view = build(sqlite_engine)
    assert view.calls == ()
    assert "Niemand om te bellen" in calls.render_html(view)


@pytest.mark.parametrize("key", sorted(calls.WORDS))
def test_every_phrase_in_both_languages(key: str) -> None:
    assert calls.WORDS[key].nl.strip() and calls.WORDS[key].en.strip()
