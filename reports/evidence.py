"""Evidence as a readable table for the IT supplier: Dutch (or English) labels, real values.

The IT supplier needs the facts to act on: the record text, the protocol versions, the full SAN
list, the issuer and validity, the port, product and CVEs. A JSON dump with internal field names,
half English and cut mid-word, is neither readable nor copyable. So each evidence key gets a
label in the reader's language (unknown keys keep their own name), nested values become their
own rows (`Certificaat · Uitgever`), lists are written out whole, up to `MAX_ITEMS` items and
then "en nog N" (never cut inside a value), booleans read "ja"/"nee", empty values are left out,
and the Meldpunt's own internals (`reports.hosts.INTERNAL_EVIDENCE`) never appear.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from exposure.text import Text
from reports.hosts import public_evidence

MAX_ITEMS = 40  # list items shown before "and N more"
T = Text

LABELS: Mapping[str, Text] = {
    "url": T("Adres", "URL"),
    "host": T("Host", "Host"),
    "hosts": T("Hosts", "Hosts"),
    "ip": T("IP-adres", "IP address"),
    "addresses": T("IP-adressen", "IP addresses"),
    "port": T("Poort", "Port"),
    "ports": T("Poorten", "Ports"),
    "transport": T("Transport", "Transport"),
    "product": T("Product", "Product"),
    "version": T("Versie", "Version"),
    "service": T("Dienst", "Service"),
    "module": T("Shodan-module", "Shodan module"),
    "cves": T("CVE's", "CVEs"),
    "max_cvss": T("Hoogste CVSS", "Highest CVSS"),
    "verified": T("Door Shodan bevestigd", "Verified by Shodan"),
    "seen": T("Gezien door Shodan", "Seen by Shodan"),
    "stale": T("Mogelijk verouderd", "Possibly out of date"),
    "source": T("Bron", "Source"),
    "signals": T("Waaraan herkend", "Recognised by"),
    "certainty": T("Zekerheid", "Certainty"),
    "vendor": T("Merk", "Vendor"),
    "live_view": T("Live beeld open", "Live view open"),
    "authentication": T("Inloggen vereist", "Authentication"),
    "record": T("Record", "Record"),
    "records": T("Records", "Records"),
    "certificate": T("Certificaat", "Certificate"),
    "subject": T("Onderwerp", "Subject"),
    "issuer": T("Uitgever", "Issuer"),
    "san": T("Namen in het certificaat (SAN)", "Names in the certificate (SAN)"),
    "not_before": T("Geldig vanaf", "Valid from"),
    "not_after": T("Geldig tot", "Valid until"),
    "days_left": T("Dagen geldig", "Days left"),
    "key": T("Sleutel", "Key"),
    "signature_algorithm": T("Handtekening", "Signature algorithm"),
    "verification": T("Controle", "Verification"),
    "trusted": T("Uitgever vertrouwd", "Issuer trusted"),
    "path": T("Keten", "Chain"),
    "problem": T("Probleem", "Problem"),
    "reason": T("Reden", "Reason"),
    "tls_version": T("TLS-versie", "TLS version"),
    "legacy_version": T("Oude versie geaccepteerd", "Old version accepted"),
    "legacy_cipher": T("Versleuteling (oud)", "Cipher (old)"),
    "best_version": T("Beste versie", "Best version"),
    "accepted": T("Geaccepteerd", "Accepted"),
    "status": T("HTTP-status", "HTTP status"),
    "location": T("Doorgestuurd naar", "Redirects to"),
    "header": T("Kop", "Header"),
    "max_age": T("max-age", "max-age"),
    "errors": T("Fouten", "Errors"),
    "hints": T("Aanwijzingen", "Hints"),
    "mx": T("Mailservers (MX)", "Mail servers (MX)"),
    "domain": T("Domein", "Domain"),
    "policy": T("Beleid", "Policy"),
    "weak": T("Zwakke schakel", "Weak link"),
    "expires": T("Verloopt", "Expires"),
    "starttls_reply": T("Antwoord op STARTTLS", "STARTTLS reply"),
}

_YES = T("ja", "yes")
_NO = T("nee", "no")


def label(key: str, language: str) -> str:
    words = LABELS.get(key)
    return words.get(language) if words is not None else key


def _value(value: Any, language: str) -> str | None:
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return (_YES if value else _NO).get(language)
    if isinstance(value, list):
        items = [
            v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
            for v in value[:MAX_ITEMS]
        ]
        text = ", ".join(items)
        rest = len(value) - MAX_ITEMS
        if rest > 0:
            text += " " + ("en nog {n}" if language == "nl" else "and {n} more").format(n=rest)
        return text
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return str(value)


def rows(evidence: Mapping[str, Any], language: str) -> list[tuple[str, str]]:
    """(label, value) rows; a nested object's fields become rows of their own."""
    result: list[tuple[str, str]] = []
    for key in sorted(public_evidence(evidence), key=str):
        value = evidence[key]
        if isinstance(value, dict) and value:
            for sub in sorted(value, key=str):
                shown = _value(value[sub], language)
                if shown is not None:
                    result.append(
                        (f"{label(str(key), language)} · {label(str(sub), language)}", shown)
                    )
            continue
        shown = _value(value, language)
        if shown is not None:
            result.append((label(str(key), language), shown))
    return result
