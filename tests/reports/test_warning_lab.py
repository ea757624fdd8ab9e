"""`exposure warn` over a sequence of real scans of the testbed: a defect appears, persists,
is recalled, is fixed, comes back, gets worse; each company gets exactly the messages the rules
say, and the audit trail shows them.

The scans go through the real path (member list, orchestrator, store) with a small DMARC check
(`lab_checks`), so the findings, their fingerprints, episodes and severities are the store's
own. The warnings are written to an outbox and parsed back with the `email` package.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from exposure.app.harness import Lab
from exposure.models import WarningRecord
from exposure.severity import Severity
from exposure.store.db import session as session_scope
from exposure.store.warnings import list_warnings
from exposure.testbed.runner import Testbed
from exposure.testbed.scenario import Area, CompanySpec, DomainSpec
from reports.warning_run import WarnOptions, WarnReport, WarnSetupError, run_warnings
from tests.reports.lab_checks import lab_registry

SPF = "v=spf1 -all"
GOOD_DMARC = "v=DMARC1; p=reject; rua=mailto:dmarc@{d}"

AREA = Area(
    companies=[
        CompanySpec(
            "1001",
            "Bakkerij De Haven",
            "info@bakkerij-dehaven.test",
            "food",
            domains=[DomainSpec("bakkerij-dehaven.test", site=None, txt=[SPF])],
        ),
        CompanySpec(
            "1002",
            "Scheepswerf Van der Made",
            "ict@scheepswerf.test",
            "maritime",
            domains=[
                DomainSpec(
                    "scheepswerf.test",
                    site=None,
                    txt=[SPF],
                    dmarc="v=DMARC1; p=none; rua=mailto:dmarc@scheepswerf.test",
                )
            ],
        ),
        CompanySpec(
            "1003",
            "Koelhuis Noord",
            "beheer@koelhuis.test",
            "logistics",
            domains=[DomainSpec("koelhuis.test", site=None, txt=[SPF], dmarc="v=DMARC1; p=reject")],
        ),
        CompanySpec(
            "1004",
            "Garage Oost",
            "garage@garage-oost.test",
            "automotive",
            domains=[
                DomainSpec(
                    "garage-oost.test",
                    site=None,
                    txt=[SPF],
                    dmarc=GOOD_DMARC.format(d="garage-oost.test"),
                )
            ],
        ),
        CompanySpec(
            "1005",
            "Zeebries Fish Trading",
            "sales@zeebries.test",
            "food",
            domains=[DomainSpec("zeebries.test", site=None, txt=[SPF])],
            language="en",
        ),
    ]
)

SENDER = {
    "meldpunt_name": "Meldpunt Cybersecurity IJmuiden",
    "meldpunt_email": "meldpunt@meldpunt-ijmuiden.test",
    "meldpunt_phone": "0255 123 456",
    "meldpunt_url": "www.meldpunt-ijmuiden.test",
}


class WarnLab:
    """A Lab that scans with the lab check and warns with an injected clock."""

    def __init__(self, lab: Lab, outbox: Path) -> None:
        self.lab = lab
        self.outbox = outbox
        self.registry = lab_registry()
        self.start = datetime.now(UTC).replace(tzinfo=None)

    async def scan(self) -> Any:
        return await self.lab.scan(registry=self.registry, dns_timeout=0.5, dns_tries=1)

    def warn(self, days: float = 0, **options: Any) -> WarnReport:
        settings = self.lab.settings(**SENDER, **options.pop("settings", {}))
        options.setdefault("outbox", self.outbox)
        return run_warnings(
            self.lab.engine,
            settings,
            self.registry.specs(),
            WarnOptions(**options),
            now=self.start + timedelta(days=days),
        )

    @property
    def records(self) -> list[WarningRecord]:
        with session_scope(self.lab.engine) as session:
            return list(session.exec(select(WarningRecord).order_by(col(WarningRecord.id))))

    def dns(self, name: str, *values: str, rdtype: str = "TXT") -> None:
        self.lab.testbed.records.set(name, rdtype, *values)


@pytest.fixture
async def wl(tmp_path: Path, database_url: str) -> AsyncIterator[WarnLab]:
    """On SQLite, and on PostgreSQL where EXPOSURE_TEST_POSTGRES_URL names a server."""
    async with Testbed(AREA, shodan=False) as tb:
        lab = Lab(tb, tmp_path, database_url)
        try:
            yield WarnLab(lab, tmp_path / "outbox")
        finally:
            lab.close()


def part(message: EmailMessage, subtype: str) -> str:
    """The text of the message's text/plain or text/html part."""
    body = message.get_body((subtype,))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def sent(report: WarnReport) -> dict[str, tuple[str, dict[str, int]]]:
    """Company id -> (kind, reasons) of the messages of a run."""
    return {m.company_id: (m.kind, dict(m.reasons)) for m in report.messages}


def parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_a_defect_over_its_whole_life(wl: WarnLab) -> None:
    await wl.scan()

    # appears: one message per company with something serious, nothing for the others
    first = wl.warn()
    assert sent(first) == {
        "1001": ("new", {"new": 1}),  # no DMARC: high
        "1002": ("new", {"new": 1}),  # p=none: medium
        "1005": ("new", {"new": 1}),
    }
    assert first.exit_code == 0 and not first.failed
    assert all(m.status == "written" and m.path and m.path.exists() for m in first.messages)

    # a second run with nothing new sends nothing; so does a scan that finds the same again
    assert wl.warn().messages == ()
    await wl.scan()
    assert wl.warn(days=1).messages == ()

    # still open after the interval: high ones are recalled, the medium one is not
    assert wl.warn(days=13.9).messages == ()
    assert sent(wl.warn(days=14)) == {
        "1001": ("reminder", {"reminder": 1}),
        "1005": ("reminder", {"reminder": 1}),
    }
    assert wl.warn(days=20).messages == ()
    assert sent(wl.warn(days=28)) == {
        "1001": ("reminder", {"reminder": 1}),
        "1005": ("reminder", {"reminder": 1}),
    }
    assert wl.warn(days=60).messages == ()  # at most two reminders

    # fixed: nothing to say
    wl.dns("_dmarc.bakkerij-dehaven.test", GOOD_DMARC.format(d="bakkerij-dehaven.test"))
    outcome = await wl.scan()
    assert outcome.summary.stats.resolved == 1
    assert wl.warn(days=61).messages == ()

    # comes back: a new message, because it came back (whatever the clocks say)
    wl.dns("_dmarc.bakkerij-dehaven.test")
    outcome = await wl.scan()
    assert outcome.summary.stats.reopened == 1
    back = wl.warn(days=62)
    assert sent(back) == {"1001": ("new", {"reopened": 1})}
    assert wl.warn(days=63).messages == ()
    # ... and the reminders start again for the new episode
    assert sent(wl.warn(days=76)) == {"1001": ("reminder", {"reminder": 1})}

    # the audit trail of the bakery, newest first
    with session_scope(wl.lab.engine) as session:
        trail = list_warnings(session, company_id="1001")
    assert [(r.kind, dict(r.reasons), r.status) for r in trail] == [
        ("reminder", {"reminder": 1}, "written"),
        ("new", {"reopened": 1}, "written"),
        ("reminder", {"reminder": 1}, "written"),
        ("reminder", {"reminder": 1}, "written"),
        ("new", {"new": 1}, "written"),
    ]
    assert all(r.recipients == ("info@bakkerij-dehaven.test",) for r in trail)
    assert len({r.reference for r in trail}) == 5
    assert len({r.fingerprints for r in trail}) == 1  # always the same finding
    assert len(list(wl.outbox.glob("*.eml"))) == len(wl.records) == 3 + 2 + 2 + 1 + 1


async def test_a_severity_raised_since_the_last_message_is_told(wl: WarnLab) -> None:
    await wl.scan()
    wl.warn()
    wl.dns("scheepswerf.test")  # the shipyard loses its SPF: p=none now counts as high
    outcome = await wl.scan()
    assert outcome.summary.stats.severity_changed == 1
    report = wl.warn(days=1)
    assert sent(report) == {"1002": ("new", {"raised": 1})}
    text = report.messages[0].text
    assert "eerder middel, nu hoog" in text
    assert wl.records[-1].severities == {wl.records[-1].fingerprints[0]: "high"}
    # lowering it again is not news
    wl.dns("scheepswerf.test", SPF)
    await wl.scan()
    assert wl.warn(days=2).messages == ()


async def test_the_threshold_decides_who_is_warned(wl: WarnLab) -> None:
    await wl.scan()
    high_only = wl.warn(min_severity=Severity.HIGH)
    assert set(sent(high_only)) == {"1001", "1005"}
    # the medium finding was never told, so a lower threshold still reaches the shipyard,
    # and the cold store's missing DMARC reports (low) only with --min-severity low
    assert set(sent(wl.warn(min_severity=Severity.MEDIUM))) == {"1002"}
    assert set(sent(wl.warn(min_severity=Severity.LOW))) == {"1003"}
    assert wl.warn(min_severity=Severity.LOW).messages == ()


async def test_one_company_only_and_an_unknown_company(wl: WarnLab) -> None:
    await wl.scan()
    assert set(sent(wl.warn(company_ids=("1002",)))) == {"1002"}
    assert set(sent(wl.warn())) == {"1001", "1005"}
    with pytest.raises(WarnSetupError, match="unknown or inactive company: 9999"):
        wl.warn(company_ids=("9999",))


async def test_dry_run_shows_and_records_nothing(wl: WarnLab) -> None:
    await wl.scan()
    preview = wl.warn(dry_run=True)
    assert set(sent(preview)) == {"1001", "1002", "1005"}
    assert all(m.status == "dry-run" and m.path is None for m in preview.messages)
    assert preview.messages[0].reference.endswith("-000001")
    assert "Doe dit eerst".upper() in preview.messages[0].text
    assert wl.records == []
    assert not wl.outbox.exists()
    # dry run needs no sender settings (it shows what is missing by not failing)
    real = wl.warn()
    assert [m.reference for m in real.messages] == [m.reference for m in preview.messages]
    assert wl.warn(dry_run=True).messages == ()


async def test_the_eml_files_are_complete_messages(wl: WarnLab) -> None:
    await wl.scan()
    report = wl.warn()
    by_company = {m.company_id: m for m in report.messages}
    bakery = by_company["1001"]
    assert bakery.path is not None
    message = parse(bakery.path)
    assert message["Subject"].strip() == (
        "Belangrijk: 1 probleem bij Bakkerij De Haven – Meldpunt Cybersecurity IJmuiden "
        f"({bakery.reference})"
    )
    assert message["To"] == "Bakkerij De Haven <info@bakkerij-dehaven.test>"
    assert message["From"] == "Meldpunt Cybersecurity IJmuiden <meldpunt@meldpunt-ijmuiden.test>"
    assert message["X-Meldpunt-Reference"] == bakery.reference
    assert message["Message-ID"].startswith(f"<{bakery.reference}.")
    assert message["Message-ID"].endswith("@meldpunt-ijmuiden.test>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "nl"
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert list(message.iter_attachments()) == []
    assert not message.defects
    text = part(message, "plain")
    html = part(message, "html")
    for body in (text, html):
        assert bakery.reference in body
        assert "0255 123 456" in body
        assert "www.meldpunt-ijmuiden.test" in body
        assert "Iedereen kan e-mail sturen uit uw naam" in body  # the check's own words
        assert "bakkerij-dehaven.test" in body
    assert "DOE DIT EERST" in text and "VOOR UW IT-LEVERANCIER" in text
    assert "wachtwoord" in text  # we never ask for a password
    # no links except the phone number, no images, no scripts, nothing remote
    assert "<a " in html and html.count("<a ") == 1 and 'href="tel:' in html
    for forbidden in ("<img", "<script", "<form", "http://", "https://", "<link", "@import"):
        assert forbidden not in html.lower()
    # the message on disk is exactly what the store says went out
    record = next(r for r in wl.records if r.reference == bakery.reference)
    assert record.subject == message["Subject"].strip()
    assert record.message_id == message["Message-ID"]
    assert record.status == "written" and record.channel == "outbox"
    assert str(bakery.path) in record.result

    english = parse(by_company["1005"].path)  # type: ignore[arg-type]
    assert (
        english["Subject"]
        .strip()
        .endswith(
            "1 problem at Zeebries Fish Trading – Meldpunt Cybersecurity IJmuiden "
            f"({by_company['1005'].reference})"
        )
    )
    assert english["Content-Language"] == "en"
    assert "DO THESE FIRST" in part(english, "plain")


async def test_the_default_language_setting_applies_to_everyone_else(wl: WarnLab) -> None:
    await wl.scan()
    report = wl.warn(settings={"language": "en"})
    subjects = {m.company_id: m.subject for m in report.messages}
    assert "problemen" not in subjects["1001"] and "problem at" in subjects["1001"]


async def test_sender_settings_are_required_for_a_real_run(wl: WarnLab) -> None:
    await wl.scan()
    settings = wl.lab.settings(meldpunt_email="meldpunt@meldpunt-ijmuiden.test")
    with pytest.raises(WarnSetupError, match="meldpunt_phone, meldpunt_url"):
        run_warnings(wl.lab.engine, settings, {}, WarnOptions(outbox=wl.outbox))
    with pytest.raises(WarnSetupError, match="--outbox DIR, --send"):
        run_warnings(wl.lab.engine, settings, {}, WarnOptions())
    with pytest.raises(WarnSetupError, match="smtp_url"):
        wl.warn(send=True)
    assert wl.records == []


async def test_an_outbox_that_cannot_be_written_fails_and_is_retried(wl: WarnLab) -> None:
    await wl.scan()
    blocked = wl.outbox.parent / "not-a-folder"
    blocked.write_text("a file where the outbox should be")
    report = wl.warn(outbox=blocked)
    assert {m.status for m in report.messages} == {"failed"}
    assert report.exit_code == 3
    assert {r.status for r in wl.records} == {"failed"}
    retry = wl.warn()
    assert set(sent(retry)) == {"1001", "1002", "1005"}
    assert {m.status for m in retry.messages} == {"written"}


async def test_a_company_without_a_usable_address_is_reported_not_skipped_silently(
    wl: WarnLab,
) -> None:
    await wl.scan()
    from exposure.models import Company

    with session_scope(wl.lab.engine) as session:
        bakery = session.get(Company, "1001")
        assert bakery is not None
        bakery.email = "not an address"
        session.add(bakery)
    report = wl.warn()
    assert "1001" not in sent(report)
    assert [(s.company_id, s.reason) for s in report.skipped] == [
        ("1001", "no usable e-mail address")
    ]
    assert report.exit_code == 3
    assert all(r.company_id != "1001" for r in wl.records)


async def test_a_run_that_died_mid_delivery_is_visible_and_sent_again(wl: WarnLab) -> None:
    from exposure.store.warnings import NewWarning, reserve_warning

    outcome = await wl.scan()
    fingerprint = next(
        f.fingerprint
        for f in outcome.findings
        if f.company_id == "1001" and f.check_id == "mail.dmarc.missing"
    )
    with session_scope(wl.lab.engine) as session:
        reserve_warning(
            session,
            NewWarning(
                company_id="1001",
                kind="new",
                language="nl",
                recipients=("info@bakkerij-dehaven.test",),
                fingerprints=(fingerprint,),
                severities={fingerprint: "high"},
                episodes={fingerprint: 0},
                reasons={fingerprint: "new"},
                channel="smtp",
                subject="...",
                message_id="<x@y>",
            ),
            "MP-2026-000777",
            wl.start - timedelta(hours=3),
        )
    report = wl.warn()
    assert "1001" in sent(report)  # a pending row is not "warned"
    assert any("interrupted earlier run" in note for note in report.notes)
    died = next(r for r in wl.records if r.reference == "MP-2026-000777")
    assert died.status == "failed" and "may have gone out" in died.result
    # the next reference follows the highest one ever used, the dead one included
    assert report.messages[0].reference == f"MP-{wl.start.year}-000778"


async def test_the_audit_trail_filters_by_date(wl: WarnLab) -> None:
    await wl.scan()
    wl.warn()
    wl.warn(days=14)
    with session_scope(wl.lab.engine) as session:
        everything = list_warnings(session)
        recent = list_warnings(session, since=wl.start + timedelta(days=7))
        bakery = list_warnings(session, company_id="1001", since=wl.start + timedelta(days=7))
    assert len(everything) == 5  # 3 new + 2 reminders
    assert {r.kind for r in recent} == {"reminder"} and len(recent) == 2
    assert [r.company_id for r in bakery] == ["1001"]
