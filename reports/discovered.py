"""How a report names a host that discovery found (issue #22): "gevonden via
certificaatregistratie: vpn.bedrijf.nl", so that an owner sees it was not on the member list
and can say "not ours". Kept apart from `words` so the report texts stay one table there."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from exposure.store.discovery import discovered_targets

#: What each source is called for a shop owner, in the order a person finds most convincing.
SOURCE_WORDS: dict[str, dict[str, str]] = {
    "dns": {"nl": "uw eigen DNS-gegevens", "en": "your own DNS records"},
    "ct": {"nl": "certificaatregistratie", "en": "certificate transparency"},
    "shodan": {"nl": "Shodan", "en": "Shodan"},
}
_PREFIX = {"nl": "gevonden via {via}: {host}", "en": "found through {via}: {host}"}
_AND = {"nl": " en ", "en": " and "}


def found_via(host: str, sources: Sequence[str], language: str) -> str:
    """`gevonden via certificaatregistratie en Shodan: vpn.bedrijf.nl`."""
    lang = language if language in _PREFIX else "nl"
    names = [SOURCE_WORDS[s][lang] for s in SOURCE_WORDS if s in sources]
    names += [s for s in sources if s not in SOURCE_WORDS]
    via = _AND[lang].join(names) if names else SOURCE_WORDS["dns"][lang]
    return _PREFIX[lang].format(via=via, host=host)


def labels(session: Session, company_id: str, language: str) -> dict[str, str]:
    """Target value -> how the report names it, for the company's confirmed discovered hosts."""
    return {
        value: found_via(value, row.sources, language)
        for value, row in discovered_targets(session, company_id).items()
    }
