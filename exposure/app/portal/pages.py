"""The portal's pages: the shared report templates plus a few small pages of its own.

Everything goes through the shared autoescaping environment of `reports.render`; a value from
a member or a scanned server is text wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.responses import HTMLResponse

from reports import render, words


@dataclass(frozen=True, slots=True)
class PortalView:
    """What the report page needs to act as a portal page (navigation and forms)."""

    csrf: str
    links: tuple[tuple[str, str], ...]
    logout_url: str = "/logout"
    accept_url: str = ""
    notice: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    head: tuple[str, ...]
    # a cell is text, or (text, url) for a link
    rows: Sequence[Sequence[str | tuple[str, str]]] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class LoginForm:
    action: str
    csrf: str


def contact(meldpunt: render.Meldpunt) -> str:
    parts = [p for p in (meldpunt.phone, meldpunt.email) if p]
    return f" ({', '.join(parts)})" if parts else ""


def page(
    language: str,
    meldpunt: render.Meldpunt,
    *,
    title: str,
    heading: str,
    lines: Sequence[str] = (),
    status: int = 200,
    portal: PortalView | None = None,
    table: Table | None = None,
    login: LoginForm | None = None,
) -> HTMLResponse:
    html = render.render(
        "portal_page.html.j2",
        language,
        title=title,
        heading=heading,
        lines=list(lines),
        portal=portal,
        table=table,
        login=login,
        forms=True,
        meldpunt=meldpunt,
        contact=contact(meldpunt),
    )
    return HTMLResponse(html, status_code=status)


def message(
    language: str, meldpunt: render.Meldpunt, key: str, status: int, **values: object
) -> HTMLResponse:
    """A polite one-line page (an expired link, an error), with whom to call."""
    text = words.ui(key, language, **values)
    return page(language, meldpunt, title=meldpunt.name, heading=text, status=status)
