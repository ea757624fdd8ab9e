"""The Meldpunt's discovery page (issue #22): the proposed hosts of every member, each with
where it was found and two buttons, confirm (it becomes a target) and reject (never again).
The same decisions as `exposure discovery confirm|reject`, recorded with the Meldpunt user."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from exposure.app.portal.app import checked_form, portal_of, redirect
from exposure.app.portal.guards import Access
from exposure.app.portal.meldpunt_routes import BASE, meldpunt_links, meldpunt_only
from exposure.app.portal.pages import PortalView, contact
from exposure.store.discovery import DiscoveryError, DiscoveryState, confirm, list_hosts, reject
from reports import discovered, render


@dataclass(frozen=True, slots=True)
class HostView:
    id: int
    company_id: str
    value: str
    found: str
    proof: str


@meldpunt_only
async def discovery_page(request: Request, access: Access) -> Response:
    portal = portal_of(request)
    language = portal.language

    def load(session: Session) -> list[HostView]:
        rows = list_hosts(session, states=[DiscoveryState.PROPOSED.value])
        return [
            HostView(
                r.id or 0,
                r.company_id,
                r.value,
                discovered.found_via(r.value, r.sources, language).split(":", 1)[0],
                discovered.proof(r.evidence),
            )
            for r in rows
        ]

    hosts = await portal.db(load)
    notice = request.query_params.get("done", "")
    words = discovered.page_words(language)
    html = render.render(
        "portal_discovery.html.j2",
        language,
        w=words,
        hosts=hosts,
        base=BASE,
        portal=PortalView(
            csrf=access.who.csrf,
            links=(*meldpunt_links(language), (words["title"], f"{BASE}/discovery")),
            notice=notice[:300],
        ),
        meldpunt=portal.meldpunt,
        contact=contact(portal.meldpunt),
    )
    return HTMLResponse(html)


@meldpunt_only
async def decide(request: Request, access: Access) -> Response:
    portal = portal_of(request)
    await checked_form(request, access.who.csrf)
    action = str(request.path_params["action"])
    if action not in ("confirm", "reject"):
        raise HTTPException(404)
    host_id = int(request.path_params["host_id"])
    who = f"meldpunt {access.who.user}".strip()

    def apply(session: Session) -> str:
        decision = confirm if action == "confirm" else reject
        return decision(session, host_id, by=who).value

    try:
        host = await portal.db(apply)
    except DiscoveryError:
        raise HTTPException(404) from None
    words = discovered.page_words(portal.language)
    from urllib.parse import quote

    done = words["confirmed" if action == "confirm" else "rejected"].format(host=host)
    return redirect(f"{BASE}/discovery?done={quote(done)}")


ROUTES = [
    Route(f"{BASE}/discovery", discovery_page, methods=["GET"]),
    Route(f"{BASE}/discovery/{{host_id:int}}/{{action}}", decide, methods=["POST"]),
]
