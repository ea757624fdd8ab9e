"""A warning names a host discovery found as such (issue #22), in the text and the HTML part,
so the owner sees it was not on the member list; other hosts read as before."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace

from reports.delivery import message_bytes
from reports.discovered import found_via
from reports.recipients import valid_address
from reports.warning import History, WarningPolicy, plan_company
from reports.warning_message import build_message, compose, where
from tests.reports.test_warning_message import NOW, SENDER, SPECS, company, finding


def test_where_names_the_discovered_host() -> None:
    label = found_via("vpn.bakkerij.test", ["ct"], "nl")
    on_name = replace(finding("a", target="vpn.bakkerij.test"), target_id=7)
    on_address = replace(finding("b", target="192.0.2.9"), target_id=7)
    listed = replace(finding("c", target="bakkerij.test"), target_id=1)
    assert where(on_name, {7: label}) == "gevonden via certificaatregistratie: vpn.bakkerij.test"
    assert where(on_address, {7: label}) == (
        "192.0.2.9 (gevonden via certificaatregistratie: vpn.bakkerij.test)"
    )
    assert where(listed, {7: label}) == "bakkerij.test"


def test_the_message_says_where_the_host_was_found() -> None:
    row = company()
    hit = replace(
        finding("fp1", check_id="mail.dmarc.missing", target="vpn.bakkerij.test"), target_id=7
    )
    plan = plan_company(row, [hit], History({}), WarningPolicy(), NOW)
    assert plan is not None
    plan = replace(plan, discovered={7: found_via("vpn.bakkerij.test", ["ct", "dns"], "nl")})
    content = compose(plan, SPECS, SENDER, "MP-2026-000043", NOW)
    message = build_message(
        content,
        sender=SENDER,
        recipients=[valid_address(row.email)],
        company_name=row.name,
        reference="MP-2026-000043",
        language=plan.language,
        now=NOW,
        msgid="<MP-2026-000043.abc@meldpunt-ijmuiden.test>",
    )
    parsed = email.message_from_bytes(message_bytes(message), policy=email.policy.default)
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    phrase = "gevonden via uw eigen DNS-gegevens en certificaatregistratie: vpn.bakkerij.test"
    assert phrase in " ".join(text.split())
    assert phrase in html
