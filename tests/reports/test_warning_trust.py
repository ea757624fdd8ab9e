"""E-mails a baker trusts and acts on: each rule fails its test when broken.

Unicode domains as people write them (the A-label only in the technical part), urgency and the
reference in the subject, a first line that says what was found, the Meldpunt's phone for help
today in an emergency, how to change or stop the messages, and no Meldpunt-internal state.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.reports.test_warning_message import SENDER, company, finding, part, render

A_LABEL = "xn--bakkerij-d-haven-kqb.test"
U_LABEL = "bakkerij-dé-haven.test"
IT_PART = {"nl": "VOOR UW IT-LEVERANCIER", "en": "FOR YOUR IT SUPPLIER"}


def _member(language: str = "nl"):  # type: ignore[no-untyped-def]
    return replace(company(), language=language)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_punycode_never_reaches_the_owners_text(language: str) -> None:
    message = render(_member(language), finding("fp1", target=A_LABEL))
    text = part(message, "plain")
    owner, technical = text.split(IT_PART[language], 1)
    assert U_LABEL in owner and "xn--" not in owner
    assert "xn--" not in message["Subject"]
    assert f"{U_LABEL} ({A_LABEL})" in technical  # the supplier gets both, copyable
    html = part(message, "html")
    assert U_LABEL in html


def test_the_subject_carries_urgency_and_reference() -> None:
    critical = render(_member(), finding("fp1", "exposure.camera", "critical", "192.0.2.7"))
    medium = render(_member(), finding("fp2", "mail.dmarc.policy_none", "medium"))
    subject_critical = " ".join(critical["Subject"].split())
    subject_medium = " ".join(medium["Subject"].split())
    assert subject_critical.startswith("Dringend, vandaag regelen:")
    assert subject_medium.startswith("Graag regelen:")
    for subject in (subject_critical, subject_medium):
        assert "(MP-2026-000042)" in subject and "1 probleem" in subject


@pytest.mark.parametrize(
    ("language", "first"), [("nl", "Wat we vonden: "), ("en", "What we found: ")]
)
def test_the_first_line_says_what_was_found(language: str, first: str) -> None:
    message = render(_member(language), finding("fp1", "exposure.camera", "critical", "192.0.2.7"))
    text = part(message, "plain").replace("\r\n", "\n")
    opening = text.split("\n\n", 2)[1]  # after the greeting
    assert opening.startswith(first) and "192.0.2.7" in opening


@pytest.mark.parametrize("language", ["nl", "en"])
def test_an_emergency_gives_the_meldpunts_phone_for_today(language: str) -> None:
    critical = part(
        render(_member(language), finding("fp1", "exposure.camera", "critical")), "plain"
    )
    high = part(render(_member(language), finding("fp2", "mail.dmarc.missing", "high")), "plain")
    owner_critical = critical.split(IT_PART[language], 1)[0]
    today = {"nl": "vandaag", "en": "today"}[language]
    head = owner_critical.split("DOE DIT EERST" if language == "nl" else "DO THESE FIRST", 1)[0]
    assert SENDER.phone in head and today in " ".join(head.split())
    high_head = high.split("DOE DIT EERST" if language == "nl" else "DO THESE FIRST", 1)[0]
    assert SENDER.phone not in high_head


def test_it_says_how_to_change_or_stop_the_messages() -> None:
    text = " ".join(part(render(_member(), finding("fp1")), "plain").split())
    assert "ander e-mailadres" in text and "niet meer" in text
    html = part(render(_member(), finding("fp1")), "html")
    assert 'id="change-address"' in html


def test_no_meldpunt_internal_state_is_mailed() -> None:
    row = finding(
        "fp1",
        "exposure.remote_access",
        "high",
        "192.0.2.44",
        evidence={"degraded": "no Shodan API key", "port": 3389, "service": "RDP"},
    )
    message = render(_member(), row)
    for body in (part(message, "plain"), part(message, "html")):
        assert "degraded" not in body and "API key" not in body
