"""The IT supplier's part: a readable table of the real values, in the reader's language, whole
(no value cut mid-word, a long SAN list written out), with no Meldpunt internals."""

from __future__ import annotations

import pytest

from reports import evidence
from tests.reports.test_warning_message import company, finding, part, render

SANS = [f"winkel{i:02d}.bakkerij.test" for i in range(30)]
CERT = {
    "certificate": {
        "san": SANS,
        "issuer": "CN=R3, O=Let's Encrypt",
        "not_after": "2026-01-31T23:59:59Z",
        "key": "RSA-2048",
    },
    "verification": {"trusted": True},
    "degraded": "no Shodan API key",
    "tls_version": "TLSv1.3",
}


@pytest.mark.parametrize(
    ("language", "san", "until", "yes"),
    [
        ("nl", "Certificaat · Namen in het certificaat (SAN)", "Certificaat · Geldig tot", "ja"),
        ("en", "Certificate · Names in the certificate (SAN)", "Certificate · Valid until", "yes"),
    ],
)
def test_rows_are_labelled_whole_and_without_internals(
    language: str, san: str, until: str, yes: str
) -> None:
    table = dict(evidence.rows(CERT, language))
    assert table[san] == ", ".join(SANS)  # every name, none cut
    assert table[until] == "2026-01-31T23:59:59Z"
    assert yes in table.values()
    assert not any("degraded" in k or "API key" in v for k, v in table.items())


def test_a_list_longer_than_the_limit_says_how_many_more() -> None:
    many = {"ports": list(range(evidence.MAX_ITEMS + 5))}
    [(_, value)] = evidence.rows(many, "nl")
    assert value.endswith(f"{evidence.MAX_ITEMS - 1} en nog 5")


def test_the_warning_shows_the_table_in_dutch() -> None:
    row = finding("fp1", "tls.cert.expired", "high", "bakkerij.test", evidence=CERT)
    message = render(company(), row)
    text = " ".join(part(message, "plain").split())
    technical = text.split("VOOR UW IT-LEVERANCIER", 1)[1]
    assert "Certificaat · Namen in het certificaat (SAN): " + ", ".join(SANS) in technical
    assert "Certificaat · Uitgever: CN=R3, O=Let's Encrypt" in technical
    assert "degraded" not in text and "san:" not in technical
    html = part(message, "html")
    assert 'class="evidence"' in html and SANS[-1] in html
