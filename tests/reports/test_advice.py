"""Advice that fits the evidence: security.txt codes each with a one-line fix in report and
e-mail, no contradicting mail advice, the real data-breach rule, every accepted redirect code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checks.securitytxt.messages import MESSAGES, Kind
from exposure.net.http import REDIRECT_STATUSES
from exposure.registry import load
from exposure.store.db import session as session_scope
from reports import codes, company
from reports.specs import Specs
from tests.reports.page import parse
from tests.reports.sample import T0, SampleArea, Seen
from tests.reports.test_warning_message import company as member
from tests.reports.test_warning_message import finding

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REGISTRY = load()
SPECS = Specs.from_registry(REGISTRY)
INVALID = {"errors": ["invalid_cert", "no_contact"], "url": "https://bakker.test/.well-known/"}


def test_every_security_txt_error_code_has_a_one_line_fix_in_both_languages() -> None:
    book = codes.code_book(REGISTRY)["securitytxt.invalid"]
    for code in (m.code for m in MESSAGES if m.kind is Kind.ERROR):
        words = book[code]
        for language in ("nl", "en"):
            fix = words.fix.get(language)
            assert fix and "\n" not in fix, (code, language)
    assert {m.code for m in MESSAGES} <= set(book)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_report_explains_each_code_with_its_fix(area: SampleArea, language: str) -> None:
    area.company("58120030", "Bakker Code", "food", "bakker-code.test")
    area.scan(
        {"58120030": [Seen("securitytxt.invalid", "bakker-code.test", evidence=INVALID)]},
        T0 + timedelta(days=9),
    )
    with session_scope(area.engine) as session:
        report = company.build(session, "58120030", SPECS, language)
    doc = parse(company.render_html(report))
    article = doc.find("article", data_check="securitytxt.invalid")
    book = codes.code_book(REGISTRY)["securitytxt.invalid"]
    for code in ("invalid_cert", "no_contact"):
        item = article.find("li", data_code=code)
        assert book[code].fix.get(language) in item.text
    assert "invalid_cert" not in article.text  # the code itself is not what the owner reads


def test_the_warning_explains_each_code_with_its_fix() -> None:
    from reports.warning import History, WarningPolicy, plan_company
    from reports.warning_message import compose
    from tests.reports.test_warning_message import NOW, SENDER

    row = finding("fp1", "securitytxt.invalid", "medium", evidence=INVALID)
    plan = plan_company(member(), [row], History({}), WarningPolicy(), NOW)
    assert plan is not None
    content = compose(plan, REGISTRY.specs(), SENDER, "MP-2026-000001", NOW, SPECS.codes)
    book = codes.code_book(REGISTRY)["securitytxt.invalid"]
    text = " ".join(content.text.split())
    for code in ("invalid_cert", "no_contact"):
        assert " ".join(book[code].fix.nl.split()) in text
    assert "Oplossing:" in text


@pytest.mark.parametrize("language", ["nl", "en"])
def test_mail_advice_does_not_contradict_itself(language: str) -> None:
    spf = SPECS.remediation("mail.spf.missing", language)
    permissive = SPECS.remediation("mail.spf.permissive", language)
    dmarc = SPECS.remediation("mail.dmarc.missing", language)
    for text in (spf, permissive, dmarc):
        assert text.index("p=none") < text.index("p=reject")  # start at none, both say so
    policy_none = SPECS.remediation("mail.dmarc.policy_none", language)
    assert "rua" in policy_none  # no reports to read unless there is an address for them


@pytest.mark.parametrize("finding_id", ["exposure.database", "exposure.compromised"])
def test_the_data_breach_text_states_the_real_rule(finding_id: str) -> None:
    nl = SPECS.risk(finding_id, "nl") + " " + SPECS.remediation(finding_id, "nl")
    en = SPECS.risk(finding_id, "en") + " " + SPECS.remediation(finding_id, "en")
    assert "72 uur na ontdekking" in nl and "waarschijnlijk persoonsgegevens" in nl
    assert "within 72 hours of discovering" in en and "probably accessed" in en


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_redirect_text_names_every_accepted_code(language: str) -> None:
    technical = SPECS.technical("web.https.no_redirect", language)
    for status in REDIRECT_STATUSES:
        assert str(status) in technical
