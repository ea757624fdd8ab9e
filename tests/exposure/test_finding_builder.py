"""`FindingSpec.candidate`: the one way a check says "this problem is there"."""

from __future__ import annotations

from exposure.contract import DETAIL_MAX, Effort, FindingSpec
from exposure.severity import Severity
from exposure.text import Text

T = Text(nl="x", en="x")
SPEC = FindingSpec("web.https.missing", Severity.HIGH, T, T, T, T, Effort.LOW)


def test_id_and_severity_come_from_the_spec():
    found = SPEC.candidate("bakkerij.nl", {"port": 443}, detail="no answer on 443")
    assert (found.check_id, found.severity, found.subject) == (
        "web.https.missing",
        Severity.HIGH,
        "bakkerij.nl",
    )
    assert dict(found.evidence) == {"port": 443}
    assert (found.detail, found.discriminator) == ("no answer on 443", "")


def test_an_escalation_is_explicit_and_the_evidence_is_a_copy():
    evidence = {"live": True}
    found = SPEC.candidate("192.0.2.7", evidence, severity=Severity.CRITICAL, discriminator="554")
    evidence["live"] = False
    assert found.severity is Severity.CRITICAL
    assert found.discriminator == "554"
    assert dict(found.evidence) == {"live": True}


def test_a_servers_long_words_are_capped():
    found = SPEC.candidate("x.nl", detail="A" * (DETAIL_MAX + 100))
    assert len(found.detail) == DETAIL_MAX
    assert dict(SPEC.candidate("x.nl").evidence) == {}
