"""Words for the states of the warnings audit trail on the Meldpunt's pages.

The store keeps short English codes (`new`, `reminder`, `outbox`, `smtp`, `written`, `sent`,
`failed`); a Meldpunt volunteer reads "herinnering · per e-mail · verstuurd". An unknown code
is shown as it is (text; templates escape), so a new state is never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping

from exposure.text import Text

T = Text

KIND: Mapping[str, Text] = {
    "new": T("nieuw", "new"),
    "reminder": T("herinnering", "reminder"),
}
CHANNEL: Mapping[str, Text] = {
    "outbox": T("als bestand klaargezet", "written to a file"),
    "smtp": T("per e-mail", "by e-mail"),
}
STATUS: Mapping[str, Text] = {
    "pending": T("bezig (nog niet bevestigd)", "in progress (not confirmed)"),
    "written": T("geschreven", "written"),
    "sent": T("verstuurd", "sent"),
    "failed": T("mislukt, gaat opnieuw", "failed, will be retried"),
}


#: Column names of the audit trail that the report words do not have.
HEAD: Mapping[str, Text] = {
    "reference": T("Referentie", "Reference"),
    "recipients": T("Aan", "To"),
    "subject": T("Onderwerp", "Subject"),
}


def head(key: str, language: str) -> str:
    return HEAD[key].get(language)


def _word(table: Mapping[str, Text], code: str, language: str) -> str:
    words = table.get(code)
    return words.get(language) if words else code


def warning_state(kind: str, channel: str, status: str, language: str) -> str:
    """`herinnering · per e-mail · verstuurd`: one warning's kind, channel and status."""
    return " · ".join(
        (
            _word(KIND, kind, language),
            _word(CHANNEL, channel, language),
            _word(STATUS, status, language),
        )
    )


__all__ = ["CHANNEL", "HEAD", "KIND", "STATUS", "head", "warning_state"]
