"""Certainty follows evidence: a finding that rests on an open port alone says "waarschijnlijk".

DESIGN.md ("What a verdict may claim"): a port number is what a service usually is, not what it
is. A check marks such evidence `certainty: "probable"` (and names the service it inferred and
the port); a banner, product, CPE, screenshot or tag makes it certain. Reports then say
"waarschijnlijk", name exactly what was seen ("RDP op poort 3389", not "RDP, VNC of Telnet"), and
ask the IT supplier to confirm. Plain values in, plain text out; the templates escape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reports import words

PROBABLE = "probable"


def is_probable(evidence: Mapping[str, Any]) -> bool:
    return evidence.get("certainty") == PROBABLE


def all_probable(evidences: Iterable[Mapping[str, Any]]) -> bool:
    """A problem is only "probable" when every host of it rests on a port alone."""
    seen = list(evidences)
    return bool(seen) and all(is_probable(e) for e in seen)


def seen_line(evidence: Mapping[str, Any], target: str, language: str) -> str:
    """`RDP op poort 3389 (192.0.2.44)`: what was actually seen, in a few words."""
    service = str(evidence.get("service") or "").strip()
    port = evidence.get("port")
    ports = evidence.get("ports")
    if port is None and isinstance(ports, list) and ports:
        port = ", ".join(str(p) for p in ports)
    if service and port is not None:
        return words.ui("seen_service_port", language, service=service, port=port, where=target)
    if port is not None:
        return words.ui("seen_port", language, port=port, where=target)
    return target


def probable_title(title: str, language: str) -> str:
    """`Waarschijnlijk: extern bureaublad is bereikbaar`."""
    if not title:
        return title
    return f"{words.ui('probably', language)}: {title[0].lower()}{title[1:]}"
