"""The Meldpunt's discovery page (issue #22): the proposed hosts of every member, each with
where it was found and two buttons, confirm (it becomes a target) and reject (never again).
The same decisions as `exposure discovery confirm|reject`, recorded with the Meldpunt user."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from exposure.app.portal.app import checked_form, portal_of, redirect
from exposure.app.portal.company_routes import company_links, own_company
from exposure.app.portal.guards import Access
from exposure.app.portal.meldpunt_routes import BASE, meldpunt_links, meldpunt_only
from exposure.app.portal.pages import PortalView, contact
from exposure.models import DiscoveredHost
from exposure.store.discovery import (
    DiscoveryError,
    DiscoveryState,
    confirm,
    dispute,
    list_hosts,
    reject,
)
from reports import discovered, render


@dataclass(frozen=True, slots=True)
class HostView:
    id: int
    company_id: str
    value: str
    found: str
    proof: str


def _view(row: DiscoveredHost, language: str) -> HostView:
    proof = discovered.proof(row.evidence)
    if row.dispute_note:
        proof = f"{proof} · “{row.dispute_note}”"
    return HostView(
        row.id or 0,
        row.company_id,
        row.value,
        discovered.found_via(row.value, row.sources, language).split(":", 1)[0],
        proof,
    )


@meldpunt_only
async def discovery_page(request: Request, access: Access) -> Response:
    portal = portal_of(request)
    language = portal.language

    def load(session: Session) -> tuple[list[HostView], list[HostView]]:
        proposed = list_hosts(session, states=[DiscoveryState.PROPOSED.value])
        confirmed = list_hosts(session, states=[DiscoveryState.CONFIRMED.value])
        return (
            [_view(r, language) for r in proposed],
            [_view(r, language) for r in confirmed if r.disputed_at is not None],
        )

    hosts, disputed = await portal.db(load)
    notice = request.query_params.get("done", "")
    words = discovered.page_words(language)
    html = render.render(
        "portal_discovery.html.j2",
        language,
        w=words,
        hosts=hosts,
        disputed=disputed,
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
    done = words["confirmed" if action == "confirm" else "rejected"].format(host=host)
    return redirect(f"{BASE}/discovery?done={quote(done)}")


# --- the company's side: its discovered hosts, and "this is not ours" ----------------------------

COMPANY_BASE = "/report/hosts"


@own_company
async def own_hosts(request: Request, access: Access) -> Response:
    portal = portal_of(request)
    language = portal.language
    cid = access.company_id

    def load(session: Session) -> list[dict[str, object]]:
        rows = list_hosts(session, cid, [DiscoveryState.CONFIRMED.value])
        return [
            {
                "id": r.id,
                "value": r.value,
                "found": discovered.found_via(r.value, r.sources, language).split(":", 1)[0],
                "disputed": r.disputed_at is not None,
            }
            for r in rows
        ]

    hosts = await portal.db(load)
    words = dict(discovered.page_words(language))
    done = request.query_params.get("done") == "disputed"
    page_words = {
        **words,
        "title": words["hosts_title"],
        "intro": words["hosts_intro"],
        "none": words["hosts_none"],
        "disputed": words["disputed_mark"],
    }
    html = render.render(
        "portal_hosts.html.j2",
        language,
        w=page_words,
        hosts=hosts,
        action=COMPANY_BASE,
        portal=PortalView(
            csrf=access.who.csrf,
            links=company_links("/report", language),
            notice=words["disputed_done"] if done else "",
        ),
        meldpunt=portal.meldpunt,
        contact=contact(portal.meldpunt),
    )
    return HTMLResponse(html)


@own_company
async def own_not_ours(request: Request, access: Access) -> Response:
    portal = portal_of(request)
    form = await checked_form(request, access.who.csrf)
    note = form.get("note")
    host_id = int(request.path_params["host_id"])
    cid = access.company_id

    def apply(session: Session) -> None:
        dispute(session, cid, host_id, note=note if isinstance(note, str) else "")

    try:
        await portal.db(apply)
    except DiscoveryError:
        raise HTTPException(404) from None
    return redirect(f"{COMPANY_BASE}?done=disputed")


ROUTES = [
    Route(COMPANY_BASE, own_hosts, methods=["GET"]),
    Route(f"{COMPANY_BASE}/{{host_id:int}}/not-ours", own_not_ours, methods=["POST"]),
    Route(f"{BASE}/discovery", discovery_page, methods=["GET"]),
    Route(f"{BASE}/discovery/{{host_id:int}}/{{action}}", decide, methods=["POST"]),
]
