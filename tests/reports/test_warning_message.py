"""The warning e-mail as hostile input meets it: a company name with CR/LF and `<script>`, hosts
and evidence from scanned servers, addresses that try to smuggle a header. No header injection,
everything escaped in the HTML, nothing that becomes a link, addresses checked.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage

import pytest

from exposure.contract import FindingSpec
from exposure.store.queries import CompanyRow, FindingRow, TargetRow
from reports.delivery import message_bytes
from reports.recipients import (
    AddressError,
    mailto_addresses,
    recipients_for,
    securitytxt_contacts,
    valid_address,
)
from reports.warning import History, WarningPolicy, plan_company
from reports.warning_message import Sender, build_message, compose, eml_name, plain
from tests.reports.lab_checks import lab_registry

NOW = datetime(2026, 3, 3, 7, 30)
SENDER = Sender(
    name="Meldpunt Cybersecurity IJmuiden",
    email="meldpunt@meldpunt-ijmuiden.test",
    phone="0255 123 456",
    url="www.meldpunt-ijmuiden.test",
)
HOSTILE_NAME = 'Bakkerij\r\nBcc: victim@evil.example\r\n\r\n<script>alert("x")</script> & Zn'
SPECS: dict[str, FindingSpec] = lab_registry().specs()


def part(message: EmailMessage, subtype: str) -> str:
    """The text of the message's text/plain or text/html part."""
    body = message.get_body((subtype,))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def company(
    name: str = "Bakkerij De Haven", email_address: str = "info@bakkerij.test"
) -> CompanyRow:
    return CompanyRow(
        id="1001",
        name=name,
        email=email_address,
        sector="food",
        language="",
        active=True,
        targets=(TargetRow(1, "domain", "bakkerij.test", ""),),
        open_findings=1,
    )


def finding(
    fp: str,
    check_id: str = "mail.dmarc.missing",
    severity: str = "high",
    target: str = "bakkerij.test",
    detail: str = "",
    evidence: dict | None = None,
    title: str = "",
) -> FindingRow:
    return FindingRow(
        id=1,
        fingerprint=fp,
        company_id="1001",
        company_name="x",
        target_id=1,
        check_id=check_id,
        family="mail",
        severity=severity,
        target=target,
        discriminator="",
        title=title,
        detail=detail,
        evidence=evidence or {},
        status="open",
        first_seen=NOW,
        last_seen=NOW,
        resolved_at=None,
        first_run_id=1,
        last_run_id=1,
        reopened_count=0,
        accepted_reason="",
        accepted_until=None,
    )


def render(row: CompanyRow, *findings: FindingRow) -> EmailMessage:
    plan = plan_company(row, findings, History({}), WarningPolicy(), NOW)
    assert plan is not None
    content = compose(plan, SPECS, SENDER, "MP-2026-000042", NOW)
    message = build_message(
        content,
        sender=SENDER,
        recipients=[valid_address(row.email)],
        company_name=row.name,
        reference="MP-2026-000042",
        language=plan.language,
        now=NOW,
        msgid="<MP-2026-000042.abc@meldpunt-ijmuiden.test>",
    )
    # what goes over the wire, parsed back as a mail client would
    parsed = email.message_from_bytes(message_bytes(message), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_hostile_company_name_injects_no_header() -> None:
    message = render(company(HOSTILE_NAME), finding("fp1"))
    names = [name.lower() for name in message.keys()]  # noqa: SIM118 (headers, in order)
    assert "bcc" not in names
    assert names.count("subject") == 1 and names.count("to") == 1
    assert not message.defects
    subject = message["Subject"].strip()
    assert "\r" not in subject and "\n" not in subject
    assert subject.startswith("Belangrijk: 1 probleem bij Bakkerij")
    assert subject.endswith("– Meldpunt Cybersecurity IJmuiden (MP-2026-000042)")
    to = message["To"]
    assert len(to.addresses) == 1
    assert to.addresses[0].addr_spec == "info@bakkerij.test"
    assert "\n" not in to.addresses[0].display_name
    # the envelope of the message is only ever the checked addresses
    raw = message_bytes(message)
    assert b"\r\nBcc:" not in raw and b"\nBcc:" not in raw


def test_a_hostile_company_name_is_escaped_in_html_and_one_line_in_text() -> None:
    message = render(company(HOSTILE_NAME), finding("fp1"))
    html = part(message, "html")
    text = part(message, "plain")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Zn" in html
    assert (
        'Beste Bakkerij Bcc: victim@evil.example <script>alert("x")</script> & Zn,'
        in text.splitlines()
    )
    assert not any(line.startswith("Bcc:") for line in text.splitlines())


def test_hostile_hosts_and_evidence_are_escaped_and_never_links() -> None:
    message = render(
        company(),
        finding(
            "fp1",
            target="bakkerij.test<img src=x onerror=alert(1)>",
            detail="see https://evil.example/login?user=you\r\nCall 0900-FAKE",
            evidence={
                "banner": "<iframe src=//evil.example>",
                "url": "http://evil.example/reset-password",
                "rtl": "abc\u202egnp.exe",
                "zero\u200bwidth": "x",
            },
        ),
    )
    html = part(message, "html")
    text = part(message, "plain")
    for forbidden in ("<img", "<iframe", "https://evil", "http://evil", "\u202e", "\u200b"):
        assert forbidden not in html
    for forbidden in ("https://evil", "http://evil", "\u202e", "\u200b"):
        assert forbidden not in text  # markup in the text part is only text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "https[:]//evil.example/login" in text and "http[:]//evil.example" in html
    assert "0900-FAKE" in text and "\nCall 0900-FAKE" not in text  # not a line of its own
    assert html.count("<a ") == 1  # the Meldpunt's phone number only


def test_a_finding_without_installed_words_still_reads_and_is_safe() -> None:
    message = render(
        company(),
        finding("fp9", check_id="exposure.camera", title="Camera <b>open</b>", severity="critical"),
    )
    html = part(message, "html")
    text = part(message, "plain")
    assert "Camera <b>open</b>" in text
    assert "Camera &lt;b&gt;open&lt;/b&gt;" in html
    assert "Vraag uw IT-leverancier om dit te bekijken" in text
    assert "[exposure.camera]" in text


def test_top_actions_are_the_reports_ranking_at_most_three() -> None:
    message = render(
        company(),
        finding("a", "mail.dmarc.no_reports", "medium"),
        finding("b", "mail.dmarc.policy_none", "medium"),
        finding("c", "mail.dmarc.missing", "high", target="bakkerij.test"),
        finding("d", "mail.dmarc.missing", "high", target="www.bakkerij.test"),
        finding("e", "exposure.camera", "critical", target="192.0.2.7"),
    )
    text = part(message, "plain")
    first = text.split("DOE DIT EERST", 1)[1].split("WAT WE VONDEN", 1)[0]
    numbered = [line for line in first.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")]
    assert [line[:2] for line in numbered] == ["1.", "2.", "3."]
    assert "(kritiek)" in numbered[0]
    assert "Iedereen kan e-mail sturen uit uw naam (hoog)" in numbered[1]
    assert "En nog 1 ander probleem" in first
    # urgency of the worst problem first, the count in problems, the reference
    assert " ".join(message["Subject"].split()) == (
        "Dringend, vandaag regelen: 4 problemen bij Bakkerij De Haven – "
        "Meldpunt Cybersecurity IJmuiden (MP-2026-000042)"
    )
    # one action for the same problem on two hosts
    found = text.split("WAT WE VONDEN", 1)[1]
    assert "Waar: bakkerij.test, www.bakkerij.test" in found


def test_english_when_the_company_asks_for_it() -> None:
    message = render(replace(company(), language="en"), finding("fp1"))
    text = part(message, "plain")
    assert message["Subject"].strip() == (
        "Important: 1 problem at Bakkerij De Haven – Meldpunt Cybersecurity IJmuiden "
        "(MP-2026-000042)"
    )
    assert "Dear Bakkerij De Haven," in text
    assert "Anyone can send e-mail in your name (high)" in text
    assert "We never ask for a password" in text
    flat = " ".join(text.split())
    assert "Call us on 0255 123 456 and mention reference number MP-2026-000042" in flat


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("line\r\nbreak", "line break"),
        ("  many   spaces\t", "many spaces"),
        ("visit https://x.example/a", "visit https[:]//x.example/a"),
        ("FTP://X", "FTP[:]//X"),
        ("a\u2028b\u2029c\u0085d", "a b c d"),
        ("left\u202eright\u2066", "left right"),
        ("x" * 20, "x" * 9 + "…"),
    ],
)
def test_plain_makes_one_harmless_line(raw: str, expected: str) -> None:
    assert plain(raw, 10 if raw == "x" * 20 else 500) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("info@bakkerij.test", "info@bakkerij.test"),
        ("Info.Verkoop+warn@Bakkerij.TEST", "Info.Verkoop+warn@bakkerij.test"),
        ("info@bakkerij-dé-haven.test", "info@xn--bakkerij-d-haven-kqb.test"),
        (" info@bakkerij.test ", "info@bakkerij.test"),
    ],
)
def test_addresses_are_normalised(raw: str, expected: str) -> None:
    assert valid_address(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not an address",
        "info@bakkerij.test\r\nBcc: x@evil.example",
        "info@bakkerij.test,x@evil.example",
        "Bakkerij <info@bakkerij.test>",
        "info@@bakkerij.test",
        "info@localhost",
        "info@192.0.2.1",
        "inf\u00f6@bakkerij.test",
        ".info@bakkerij.test",
        "info@-bakkerij.test",
        "a" * 65 + "@bakkerij.test",
        '"quoted"@bakkerij.test',
    ],
)
def test_bad_addresses_are_refused(raw: str) -> None:
    with pytest.raises(AddressError):
        valid_address(raw)


def test_recipients_member_contact_and_securitytxt_rules() -> None:
    row = company()
    assert recipients_for(row).addresses == ("info@bakkerij.test",)
    contacts = securitytxt_contacts(
        [
            {"contacts": ["mailto:security@bakkerij.test", "mailto:x@hoster.example"]},
            {"contacts": ["mailto:SECURITY@bakkerij.test?subject=hi", "https://bakkerij.test/"]},
            {"contacts": "not a list"},
            {"other": 1},
        ]
    )
    assert contacts == [
        "security@bakkerij.test",
        "x@hoster.example",
        "SECURITY@bakkerij.test",
    ]
    off = recipients_for(row, contacts, include_securitytxt=False)
    assert off.addresses == ("info@bakkerij.test",) and off.problems == ()
    on = recipients_for(row, contacts, include_securitytxt=True)
    # the same mailbox in another case is not a second recipient
    assert on.addresses == ("info@bakkerij.test", "security@bakkerij.test")
    assert on.problems == (
        "security.txt contact not used: not on one of the company's own domains",
    )
    sub = recipients_for(row, ["it@mail.bakkerij.test", "x@notbakkerij.test"], True)
    assert sub.addresses == ("info@bakkerij.test", "it@mail.bakkerij.test")
    broken = recipients_for(company(email_address="nobody"), [], False)
    assert broken.to == () and broken.problems[0].startswith("member contact not used")
    assert mailto_addresses(["MAILTO:a%40b@x.test", 5, "tel:+31"]) == ["a@b@x.test"]
    assert mailto_addresses(["mailto:a@x.test,b@x.test?subject=x"]) == ["a@x.test", "b@x.test"]


def test_outbox_file_names_are_safe() -> None:
    assert eml_name("MP-2026-000001", "58120001") == "MP-2026-000001-58120001.eml"
    assert eml_name("MP-2026-000001", "../../etc/passwd") == "MP-2026-000001-______etc_passwd.eml"


def test_sender_settings_that_are_missing_are_named() -> None:
    assert Sender("Meldpunt", "", "", "").missing() == [
        "meldpunt_email",
        "meldpunt_phone",
        "meldpunt_url",
    ]
    assert SENDER.missing() == []


def test_a_problem_on_many_hosts_stays_readable() -> None:
    hosts = [f"host{i:02d}.bakkerij.test" for i in range(13)]
    message = render(company(), *(finding(f"fp{i}", target=host) for i, host in enumerate(hosts)))
    text = part(message, "plain")
    assert "host09.bakkerij.test" in text and "host10.bakkerij.test" not in text
    assert text.count("en nog 3") == 2  # in the owner's part and in the technical part
    assert message["Subject"].strip().startswith("Belangrijk: 1 probleem bij Bakkerij De Haven")
