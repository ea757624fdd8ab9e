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


def named(shown: str, subject: str, label: str | None) -> str:
    """A finding's host as a person reads it, with how discovery found its target: the label
    alone when the finding sits on the discovered name itself (`gevonden via …: vpn.bedrijf.nl`),
    else `127.0.0.5 (gevonden via …: vpn.bedrijf.nl)`. `shown` is the subject as displayed."""
    if not label:
        return shown
    host = label.rsplit(": ", 1)[-1]
    return label if host == subject else f"{shown} ({label})"


def labels_by_target(session: Session, company_id: str, language: str) -> dict[int, str]:
    """Target id -> how a warning names it, for the company's discovered targets."""
    from sqlmodel import select

    from exposure.models import Target

    found = labels(session, company_id, language)
    rows = session.exec(
        select(Target).where(Target.company_id == company_id, Target.origin == "discovered")
    )
    return {t.id: found[t.value] for t in rows if t.id is not None and t.value in found}


def labels(session: Session, company_id: str, language: str) -> dict[str, str]:
    """Target value -> how the report names it, for the company's confirmed discovered hosts."""
    return {
        value: found_via(value, row.sources, language)
        for value, row in discovered_targets(session, company_id).items()
    }


#: The words of the Meldpunt's discovery page (`/meldpunt/discovery`).
PAGE: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Gevonden hosts",
        "intro": "Deze hosts vonden we bij leden buiten hun ledenlijst. Niets hiervan wordt gescand "
        "of gemeld voordat u bevestigt dat het van het lid is. Een afgewezen host komt nooit terug.",
        "none": "Er wacht niets op een besluit.",
        "company": "Lid",
        "host": "Host",
        "found": "Gevonden via",
        "decide": "Besluit",
        "confirm": "Van het lid: scannen",
        "reject": "Niet van het lid",
        "confirmed": "Bevestigd: {host} wordt vanaf de volgende scan gescand.",
        "rejected": "Afgewezen: {host} wordt nooit meer voorgesteld.",
        "disputes": "Het lid zegt: niet van ons",
        "kept": "Toch van het lid",
        "hosts_title": "Gevonden bij uw bedrijf",
        "hosts_intro": "Deze adressen stonden niet op de ledenlijst. We vonden ze via openbare "
        "bronnen en het Meldpunt heeft bevestigd dat ze van uw bedrijf zijn; daarom controleren we "
        "ze mee. Klopt dat niet? Laat het ons weten, dan kijkt het Meldpunt ernaar.",
        "hosts_none": "We controleren alleen de adressen van de ledenlijst.",
        "why": "Waarom niet? (mag leeg blijven)",
        "not_ours": "Dit is niet van ons",
        "disputed_mark": "Doorgegeven aan het Meldpunt",
        "disputed_done": "Doorgegeven: het Meldpunt kijkt ernaar en neemt zo nodig contact op.",
        "call": "Vragen? Bel",
    },
    "en": {
        "title": "Discovered hosts",
        "intro": "We found these hosts of members outside their member list. None of them is "
        "scanned or warned about until you confirm it is the member's. A rejected host never "
        "comes back.",
        "none": "Nothing is waiting for a decision.",
        "company": "Member",
        "host": "Host",
        "found": "Found through",
        "decide": "Decision",
        "confirm": "The member's: scan it",
        "reject": "Not the member's",
        "confirmed": "Confirmed: {host} is scanned from the next scan on.",
        "rejected": "Rejected: {host} is never proposed again.",
        "disputes": "The member says: not ours",
        "kept": "The member's after all",
        "hosts_title": "Found for your company",
        "hosts_intro": "These addresses were not on the member list. We found them in public "
        "sources and the Meldpunt confirmed they are your company's, so we check them too. Not "
        "right? Tell us, and the Meldpunt will look into it.",
        "hosts_none": "We check only the addresses on the member list.",
        "why": "Why not? (may stay empty)",
        "not_ours": "This is not ours",
        "disputed_mark": "Passed on to the Meldpunt",
        "disputed_done": "Passed on: the Meldpunt will look into it and call you if needed.",
        "call": "Questions? Call",
    },
}


def page_words(language: str) -> dict[str, str]:
    return PAGE.get(language, PAGE["nl"])


def proof(evidence: dict[str, object]) -> str:
    """One short line of what each source showed (the SPF term, the certificate, the ports)."""
    parts: list[str] = []
    for source, seen in sorted(evidence.items()):
        if not isinstance(seen, dict):
            continue
        if "spf" in seen:
            parts.append(f"SPF {seen['spf']}")
        elif "mx" in seen:
            parts.append("MX")
        elif "addresses" in seen:
            parts.append(", ".join(str(a) for a in seen["addresses"]))
        elif "certificates" in seen:
            certs = seen["certificates"]
            parts.append(f"crt.sh #{certs[0].get('crt_id')}" if certs else "CT")
        elif "ports" in seen:
            parts.append("ports " + ",".join(str(p) for p in seen["ports"]))
        else:
            parts.append(source)
    return "; ".join(parts)
