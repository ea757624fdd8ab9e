"""The warning says what the latest scan could not test, with the reason, never as a pass, and
never as a reason to write (DESIGN.md, "What a verdict may claim"; issue 19).

Sleepboot Traag has a real mail problem, and its website, certificate and security.txt tests
timed out: its message names the problem and says, in one line, what could not be tested and
why. Bunkerstation Donker could test nothing and has no finding: it gets no message at all.
"""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from exposure.catalogue import Theme
from exposure.settings import load_settings
from reports.coverage import NotTested
from reports.warning_message import untested_line
from reports.warning_run import WarnOptions, WarnReport, run_warnings
from tests.reports.sample import BAKERY, SPECS, T0, SampleArea
from tests.reports.test_coverage import DARK, SLOW, build_lab

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SENDER = {
    "meldpunt_name": "Meldpunt Cybersecurity IJmuiden",
    "meldpunt_email": "meldpunt@meldpunt-ijmuiden.test",
    "meldpunt_phone": "0255 123 456",
    "meldpunt_url": "www.meldpunt-ijmuiden.test",
}
LINE = {"nl": "Niet getest bij de laatste controle:", "en": "Not tested in our latest check:"}
TIMEOUT = {"nl": "geen antwoord binnen de tijd", "en": "no answer in time"}
WEBSITE = {"nl": "Website en certificaten op", "en": "Website and certificates on"}
NOT_FINE = {"nl": "betekent niet dat het daar in orde is", "en": "does not mean it is fine"}


def _warn(area: SampleArea, tmp_path: Path, language: str, *ids: str) -> WarnReport:
    settings = load_settings(database=str(area.engine.url), language=language, **SENDER)
    return run_warnings(
        area.engine,
        settings,
        SPECS.by_id,
        WarnOptions(outbox=tmp_path, company_ids=ids),
        now=T0 + timedelta(days=9),
        topics=SPECS,
    )


def _message(report: WarnReport, company_id: str) -> EmailMessage:
    (outcome,) = [m for m in report.messages if m.company_id == company_id]
    assert outcome.path is not None
    parsed = email.message_from_bytes(outcome.path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    assert body is not None
    return " ".join(str(body.get_content()).split())


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_warning_says_what_could_not_be_tested_and_why(
    area: SampleArea, tmp_path: Path, language: str
) -> None:
    build_lab(area)
    report = _warn(area, tmp_path, language, SLOW, DARK)
    assert report.planned_companies == (SLOW,)  # could-not-test alone grounds no warning
    message = _message(report, SLOW)
    text = _part(message, "plain")
    owner = text.split("IT-LEVERANCIER" if language == "nl" else "IT SUPPLIER", 1)[0]
    assert LINE[language] in owner
    line = owner.split(LINE[language], 1)[1]
    assert f"{WEBSITE[language]} sleepboot-traag.test ({TIMEOUT[language]})" in line
    assert NOT_FINE[language] in line
    assert text.count(LINE[language]) == 1  # one line, not one per target
    html = _part(message, "html")
    assert 'id="untested"' in html and TIMEOUT[language] in html
    # the count of problems is unchanged: a test that did not run is not a problem
    assert "1 probleem" in message["Subject"] or "1 problem" in message["Subject"]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_untested_line_when_every_test_ran(
    area: SampleArea, tmp_path: Path, language: str
) -> None:
    report = _warn(area, tmp_path, language, BAKERY)
    text = _part(_message(report, BAKERY), "plain")
    assert LINE[language] not in text
    assert 'id="untested"' not in _part(_message(report, BAKERY), "html")


def test_the_line_names_the_host_as_people_write_it_and_counts_the_rest() -> None:
    web, mail = Theme.WEBSITE, Theme.EMAIL
    line = untested_line([NotTested(mail, "xn--bakkerij-d-haven-kqb.test", "refused")], "nl")
    assert "bakkerij-dé-haven.test (verbinding geweigerd)" in line and "xn--" not in line
    many = [NotTested(web, f"h{i}.test", "timeout") for i in range(8)]
    assert "en nog 2 andere" in untested_line(many, "nl")
    assert "and 2 more" in untested_line(many, "en")
    assert untested_line([], "nl") == ""
