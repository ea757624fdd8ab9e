"""Host names as people write them, and evidence without the Meldpunt's own internals.

Findings store the canonical A-label (DESIGN.md), so `xn--bakkerij-d-haven-kqb.test` is what the
store holds for `bakkerij-dé-haven.test`. An owner who reads the A-label in a warning sees
exactly what phishing looks like; so every text an owner reads shows the U-label, and only the
technical part for the IT supplier adds the A-label next to it.

Evidence goes to the IT supplier, but some keys describe the Meldpunt's own set-up (that it runs
without a Shodan API key, say), not the member's systems: they are left out of what is mailed
or printed (`INTERNAL_EVIDENCE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import idna

#: Evidence keys about the scanner's own situation, never shown to a member.
INTERNAL_EVIDENCE: frozenset[str] = frozenset({"degraded"})


def display_host(value: str) -> str:
    """`xn--bakkerij-d-haven-kqb.test` as `bakkerij-dé-haven.test`; anything else unchanged."""
    if "xn--" not in value.lower():
        return value
    host, sep, rest = value.partition(":")
    try:
        return idna.decode(host) + sep + rest
    except (idna.IDNAError, UnicodeError, ValueError):
        return value


def public_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence without the keys that describe the Meldpunt's own set-up."""
    return {k: v for k, v in evidence.items() if str(k) not in INTERNAL_EVIDENCE}
