"""Reports say "waarschijnlijk" where a finding rests on an open port alone, and name what was
seen; a certain finding never gets the word. Dutch and English, report and e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exposure.store.db import session as session_scope
from reports import company
from tests.reports.page import parse
from tests.reports.sample import SPECS, T0, SampleArea, Seen
from tests.reports.test_warning_message import company as member
from tests.reports.test_warning_message import finding, part, render

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PORT_ONLY = {"certainty": "probable", "service": "RDP", "port": 3389, "source": "internetdb"}
BANNER = {"certainty": "certain", "service": "RDP", "port": 3389, "product": "Remote Desktop"}
WORD = {"nl": "Waarschijnlijk", "en": "Probably"}
SEEN = {"nl": "RDP op poort 3389", "en": "RDP on port 3389"}


def _problem_page(area: SampleArea, evidence: dict, language: str) -> str:
    area.company("58120020", "Garage Poort", "automotive", "garage-poort.test")
    area.scan(
        {"58120020": [Seen("exposure.remote_access", "192.0.2.44", evidence=evidence)]},
        T0 + timedelta(days=9),
    )
    with session_scope(area.engine) as session:
        report = company.build(session, "58120020", SPECS, language)
    return company.render_html(report)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_port_alone_reads_probably_and_names_what_was_seen(
    area: SampleArea, language: str
) -> None:
    doc = parse(_problem_page(area, PORT_ONLY, language))
    article = doc.find("article", data_check="exposure.remote_access")
    assert article.find("h4").text.startswith(WORD[language])
    note = article.find(data_certainty="probable")
    assert SEEN[language] in note.text and "192.0.2.44" in note.text
    action = doc.find("li", data_check="exposure.remote_access")
    assert action.find(cls="action-title").text.startswith(WORD[language])


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_banner_is_stated_as_certain(area: SampleArea, language: str) -> None:
    doc = parse(_problem_page(area, BANNER, language))
    article = doc.find("article", data_check="exposure.remote_access")
    assert WORD[language] not in article.text
    assert not article.find_all(data_certainty="probable")


def test_the_warning_says_probably_for_a_port_alone_only() -> None:
    rdp = finding("fp1", "exposure.remote_access", "high", "192.0.2.44", evidence=PORT_ONLY)
    text = part(render(member(), rdp), "plain")
    assert "Waarschijnlijk" in text and "RDP op poort 3389 (192.0.2.44)" in text
    sure = finding("fp2", "exposure.remote_access", "high", "192.0.2.44", evidence=BANNER)
    assert "Waarschijnlijk" not in part(render(member(), sure), "plain")
