"""The warnings point at the portal when `portal_url` is set: as an address to type, never a
link (a warning has no links to click, and never a personal token)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from exposure.settings import Settings
from reports.warning_message import Sender
from tests.reports import test_warning_message as messages


def test_the_warning_names_the_portal_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    with_portal = replace(messages.SENDER, portal="portaal.meldpunt-ijmuiden.test")
    monkeypatch.setattr(messages, "SENDER", with_portal)
    message = messages.render(messages.company("Bakkerij"), messages.finding("fp1"))
    text = messages.part(message, "plain")
    html = messages.part(message, "html")
    assert "portaal.meldpunt-ijmuiden.test" in " ".join(text.split())
    assert "portaal.meldpunt-ijmuiden.test" in html
    assert 'href="http' not in html.lower()  # only the phone number is a link (tel:)
    assert "/t/" not in text and "/t/" not in html


def test_without_portal_url_there_is_no_portal_line() -> None:
    message = messages.render(messages.company("Bakkerij"), messages.finding("fp1"))
    assert "portaal" not in messages.part(message, "plain")


def test_sender_reads_portal_url_from_settings() -> None:
    settings = Settings(portal_url="https://portaal.example.test")
    # shown as text, defanged like every address in a warning
    assert "portaal.example.test" in Sender.from_settings(settings).portal
