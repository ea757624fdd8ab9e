"""Shared hosting: an address a domain points to that is not the company's own.

A bakery's website on a hoster's server shares one address with hundreds of other sites. What
Shodan sees there (the hoster's SSH, control panel, mail, database ports, the CVEs of its web
server) is the hoster's to fix, not the bakery's, and reporting it to every tenant would be
noise. So an address reached through a *domain* is skipped when Shodan's host names for it
span at least `SHARED_HOSTING_DOMAINS` registrable domains other than the target's own, or when
Shodan tags it `cdn`. Addresses and networks a company lists itself are never skipped: it says
they are its own.

Why 5: a company's own line typically carries its domain, `www`, `mail`, and the access
provider's reverse-DNS name (`1-2-3-4.ip.provider.nl`): one to three registrable domains. A
small hoster's server carries dozens. Five other domains leaves room for a company with a few
brand domains on its own server, and is far below any shared server.
"""

from __future__ import annotations

from collections.abc import Iterable

from exposure.sources.shodan import HostView

SHARED_HOSTING_DOMAINS = 5

# Second-level labels under which registrations sit one level deeper (`bakkerij.co.uk`).
# Not a public suffix list: enough to count domains, which is all this module does.
_SECOND_LEVEL = frozenset(
    {"co", "com", "net", "org", "ac", "gov", "edu", "or", "ne", "go", "gv", "ltd", "plc"}
)


def registrable(name: str) -> str:
    """`www.bakkerij.nl` -> `bakkerij.nl`; `shop.bakkerij.co.uk` -> `bakkerij.co.uk`."""
    labels = [label for label in name.strip().rstrip(".").lower().split(".") if label]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def other_domains(names: Iterable[str], own: str) -> set[str]:
    mine = registrable(own)
    return {registrable(n) for n in names if "." in n} - {mine}


def shared_hosting(view: HostView, own_domain: str) -> str | None:
    """Why `view`'s address is someone else's (a sentence), or None when it may be the company's."""
    tags = {str(t).lower() for t in view.doc.get("tags", ())}
    if "cdn" in tags:
        return f"{view.ip} is a CDN address (Shodan tag 'cdn')"
    names = [str(n) for key in ("hostnames", "domains") for n in view.doc.get(key, ())]
    others = other_domains(names, own_domain)
    if len(others) >= SHARED_HOSTING_DOMAINS:
        sample = ", ".join(sorted(others)[:3])
        return (
            f"{view.ip} is shared hosting: Shodan lists {len(others)} other domains on it "
            f"(e.g. {sample})"
        )
    return None
