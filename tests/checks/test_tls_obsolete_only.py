"""A site that speaks only TLS 1.1 or older is `tls.protocol.obsolete_only` (high): no current
browser opens it, and the legacy advice ("switch off 1.0 and 1.1") would leave it no protocol."""

from __future__ import annotations

from typing import cast

import pytest

from checks._site.website import HttpsVisit
from checks.tls.protocol import LEGACY, OBSOLETE_ONLY, judge_protocol
from exposure.net.tls import TlsResult
from exposure.severity import Severity


class _Shake:
    def __init__(self, accepted: bool, version: str | None) -> None:
        self.accepted = accepted
        self.version = version
        self.cipher = "ECDHE-RSA-AES128-SHA"


def _visit(best: str | None) -> HttpsVisit:
    """A visit whose modern handshake gave `best` (None: refused) and whose legacy one TLS 1.1."""
    return HttpsVisit(
        host="oud.test",
        address="192.0.2.10",
        port=443,
        url="https://oud.test/",
        modern=cast(TlsResult, _Shake(best is not None, best)),
        legacy=cast(TlsResult, _Shake(True, "TLSv1.1")),
    )


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_tls_1_1_only_site_is_high_and_not_told_to_switch_everything_off(language: str) -> None:
    only = judge_protocol(_visit(None))
    assert [f.spec.id for f in only] == ["tls.protocol.obsolete_only"]
    assert OBSOLETE_ONLY.severity is Severity.HIGH
    fix = OBSOLETE_ONLY.remediation.get(language).lower()
    assert "1.2" in fix and fix.index("1.2") < fix.index("1.0")  # switch on before switching off
    both = judge_protocol(_visit("TLSv1.3"))
    assert [f.spec.id for f in both] == [LEGACY.id]
