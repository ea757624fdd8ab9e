"""Severity by harm: the rubric next to the catalogue, and "Doe dit eerst" harm first, then effort.

Each test fails when its rule is broken: a severity outside its harm's band, a catalogue change
of DESIGN.md undone, a hostname mismatch ranked above an open camera, one problem on apex and
www counted twice, a TLS 1.1-only site told to switch off TLS 1.0 and 1.1.
"""

from __future__ import annotations

import pytest

from exposure.catalogue import CATALOGUE, RUBRIC, Harm, harm_of
from exposure.contract import Effort
from exposure.severity import Severity
from reports import scoring
from reports.scoring import Item

H, C, M = Severity.HIGH, Severity.CRITICAL, Severity.MEDIUM


def test_every_catalogue_severity_sits_in_the_band_of_its_harm() -> None:
    for entry in CATALOGUE.values():
        assert entry.severity in RUBRIC[entry.harm], entry.id


@pytest.mark.parametrize(
    ("finding_id", "severity", "harm"),
    [
        ("tls.cert.weak_key", H, Harm.OUTAGE),  # browsers refuse RSA-1024
        ("tls.cert.weak_signature", H, Harm.OUTAGE),  # and SHA-1
        ("tls.protocol.obsolete_only", H, Harm.OUTAGE),  # no current browser opens the site
        ("tls.protocol.legacy", M, Harm.EAVESDROP),
        ("dns.dnssec.invalid", C, Harm.OUTAGE),  # the whole domain is gone for validators
        ("exposure.exploited", C, Harm.INTRUSION),
        ("exposure.camera", H, Harm.INTRUSION),
    ],
)
def test_the_catalogue_changes_of_design_md(
    finding_id: str, severity: Severity, harm: Harm
) -> None:
    assert CATALOGUE[finding_id].severity is severity
    assert harm_of(finding_id) is harm


def _ranked(items: list[Item], effort: dict[str, Effort] | None = None) -> list[str]:
    return [a.check_id for a in scoring.rank_actions(items, effort)]


def test_an_open_camera_goes_before_a_hostname_mismatch_even_when_the_fix_is_harder() -> None:
    items = [
        Item("tls.cert.hostname_mismatch", H, "open", False, "bakker.test"),
        Item("tls.cert.hostname_mismatch", H, "open", False, "www.bakker.test"),
        Item("exposure.camera", H, "open", False, "203.0.113.5"),
    ]
    effort = {"tls.cert.hostname_mismatch": Effort.LOW, "exposure.camera": Effort.HIGH}
    assert _ranked(items, effort) == ["exposure.camera", "tls.cert.hostname_mismatch"]


def test_broken_dnssec_goes_before_broken_dmarc() -> None:
    items = [
        Item("mail.dmarc.invalid", H, "open", False, "bakker.test"),
        Item("dns.dnssec.invalid", C, "open", False, "bakker.test"),
    ]
    assert _ranked(items) == ["dns.dnssec.invalid", "mail.dmarc.invalid"]


def test_same_harm_and_severity_then_quick_wins_first() -> None:
    items = [
        Item("mail.dmarc.missing", H, "open", False, "a.test"),
        Item("mail.spf.missing", H, "open", False, "a.test"),
    ]
    effort = {"mail.dmarc.missing": Effort.MEDIUM, "mail.spf.missing": Effort.LOW}
    assert _ranked(items, effort) == ["mail.spf.missing", "mail.dmarc.missing"]


def test_one_problem_on_apex_and_www_counts_once() -> None:
    apex = [Item("tls.cert.expired", H, "open", False, "bakker.test")]
    both = [*apex, Item("tls.cert.expired", H, "open", False, "www.bakker.test")]
    two_sites = [*apex, Item("tls.cert.expired", H, "open", False, "shop.bakker.test")]
    assert scoring.score(both).points == scoring.score(apex).points
    assert scoring.score(two_sites).points < scoring.score(apex).points
    assert scoring.rank_actions(both)[0].points == scoring.rank_actions(apex)[0].points
