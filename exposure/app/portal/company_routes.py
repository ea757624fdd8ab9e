"""A company's own pages: open a link, the live report, its history, its exports, accept a risk.

No route here takes a company id: the company is the one of the session, always.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from exposure.app.portal import auth
from exposure.app.portal.app import (
    Portal,
    checked_form,
    client_address,
    parse_until,
    portal_of,
    redirect,
)
from exposure.app.portal.guards import Access, guarded
from exposure.app.portal.pages import PortalView, Table, page
from exposure.models import Company, Finding, FindingEvent, utcnow
from exposure.store.acceptance import AcceptError, UnknownFindingError, accept_finding
from reports import company, export, render, words
from reports.publish import safe_name
from reports.specs import Specs


def language_of(session: Session, portal: Portal, company_id: str) -> str:
    row = session.get(Company, company_id)
    return render.language_for(None, row.language if row else None, portal.language)


# --- opening a link -------------------------------------------------------------------------------


async def open_link(request: Request) -> Response:
    portal = portal_of(request)
    # Only failed openings count: clients that share an address (a proxy that sends no
    # X-Forwarded-For) are not locked out by each other's valid links.
    address = client_address(request)
    refused = portal.too_many(portal.token_limiter.peek(address))
    if refused is not None:
        return refused
    token = str(request.path_params.get("token", ""))

    def exchange(session: Session) -> tuple[auth.LinkState, str | None, str]:
        now = utcnow()
        row = auth.find_link(session, token)
        state = auth.effective_state(session, row, now)
        if state is not auth.LinkState.VALID or row is None:
            language = language_of(session, portal, row.company_id) if row else portal.language
            return state, None, language
        cookie = auth.start_session(
            session,
            auth.COMPANY,
            portal.session_lifetime(),
            company_id=row.company_id,
            token=row,
            now=now,
        )
        return state, cookie, language_of(session, portal, row.company_id)

    state, cookie, language = await portal.db(exchange)
    if cookie is None:
        portal.token_limiter.hit(address)
        key = {
            auth.LinkState.EXPIRED: ("portal_link_expired", 410),
            auth.LinkState.REVOKED: ("portal_link_revoked", 410),
        }.get(state, ("portal_link_unknown", 404))
        return portal.message(key[0], key[1], language)
    response = redirect("/report")
    portal.set_cookie(
        response, portal.cookie, cookie, int(portal.session_lifetime().total_seconds())
    )
    return response


async def home(request: Request) -> Response:
    portal = portal_of(request)
    who = await portal.identity(request)
    if who is not None:
        return redirect("/meldpunt" if who.is_meldpunt else "/report")
    key = "portal_logged_out" if request.query_params.get("bye") else "portal_welcome"
    return portal.message(key, 200)


async def logout(request: Request) -> Response:
    portal = portal_of(request)
    who = await portal.identity(request)
    if who is None:
        return redirect("/")
    await checked_form(request, who.csrf)
    await portal.db(auth.end_session, who.session_id)
    response = redirect("/?bye=1")
    portal.clear_cookie(response, portal.cookie)
    return response


# --- the company's own pages ----------------------------------------------------------------------


async def company_access(request: Request) -> Access | Response:
    """The company session of this request, or the page that says how to get one."""
    portal = portal_of(request)
    who = await portal.identity(request)
    if who is None:
        return portal.message("portal_welcome", 401)
    if who.is_meldpunt or who.company_id is None:
        return redirect("/meldpunt")
    return Access(who, who.company_id)


own_company = guarded(company_access)


def company_links(base: str, language: str) -> tuple[tuple[str, str], ...]:
    links: tuple[tuple[str, str], ...] = (
        (words.ui("portal_report", language), f"{base}"),
        (words.ui("portal_history", language), f"{base}/history"),
        (words.ui("portal_export_json", language), f"{base}/export.json"),
        (words.ui("portal_export_csv", language), f"{base}/export.csv"),
    )
    if base == "/report":  # the company's own: the hosts discovery found, "not ours" (#22)
        from reports.discovered import page_words

        links += ((page_words(language)["hosts_title"], "/report/hosts"),)
    return links


def notice(request: Request, language: str) -> str:
    done = request.query_params.get("done")
    return words.ui("portal_accepted_done", language) if done == "accepted" else ""


async def report_page(
    request: Request,
    company_id: str,
    base: str,
    csrf: str,
    extra_links: tuple[tuple[str, str], ...] = (),
) -> Response:
    """The live report of `company_id` with the portal's navigation and accept forms."""
    portal = portal_of(request)

    def build(session: Session) -> company.CompanyReport:
        return company.build(
            session,
            company_id,
            portal.specs,
            language_of(session, portal, company_id),
            meldpunt=portal.meldpunt,
        )

    report = await portal.db(build)
    view = PortalView(
        csrf=csrf,
        links=extra_links + company_links(base, report.language),
        accept_url=f"{base}/accept",
        notice=notice(request, report.language),
    )
    return HTMLResponse(company.render_html(report, portal=view))


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    event: str
    title: str
    target: str
    note: str


def history_lines(
    session: Session, company_id: str, specs: Specs, language: str
) -> list[HistoryLine]:
    query = (
        select(FindingEvent, Finding)
        .join(Finding, col(Finding.id) == col(FindingEvent.finding_id))
        .where(Finding.company_id == company_id)
        .order_by(col(FindingEvent.at).desc(), col(FindingEvent.id).desc())
        .limit(500)
    )
    return [
        HistoryLine(
            event.at,
            event.event,
            specs.title(finding.check_id, language, finding.title),
            company.display_host(finding.target),
            event.note,
        )
        for event, finding in session.exec(query)
    ]


async def history_page(
    request: Request,
    company_id: str,
    base: str,
    csrf: str,
    extra_links: tuple[tuple[str, str], ...] = (),
) -> Response:
    portal = portal_of(request)

    def load(session: Session) -> tuple[str, str, list[HistoryLine]]:
        row = session.get(Company, company_id)
        if row is None:
            raise company.UnknownCompanyError(company_id)
        language = language_of(session, portal, company_id)
        return language, row.name, history_lines(session, company_id, portal.specs, language)

    language, name, lines = await portal.db(load)
    table = Table(
        head=tuple(
            words.ui(k, language)
            for k in ("portal_when", "portal_event", "check", "target", "portal_note")
        ),
        rows=[
            (
                render.format_date(h.at, language) + f" {h.at:%H:%M}",
                h.event,
                h.title,
                h.target,
                h.note,
            )
            for h in lines
        ],
    )
    return page(
        language,
        portal.meldpunt,
        title=words.ui("portal_history", language),
        heading=f"{words.ui('portal_history', language)} – {name}",
        lines=() if lines else (words.ui("portal_no_history", language),),
        portal=PortalView(csrf=csrf, links=extra_links + company_links(base, language)),
        table=table if lines else None,
    )


async def export_file(request: Request, company_id: str, fmt: str) -> Response:
    portal = portal_of(request)
    if fmt not in ("json", "csv"):
        raise HTTPException(404)

    def make(session: Session) -> str:
        language = language_of(session, portal, company_id)
        if fmt == "json":
            return export.to_json(
                export.company_document(session, company_id, portal.specs, language)
            )
        return export.company_csv(session, company_id, portal.specs, language)

    body = await portal.db(make)
    media = "application/json" if fmt == "json" else "text/csv; charset=utf-8"
    name = f"{safe_name(company_id)}.{fmt}"
    return Response(
        body.encode("utf-8"),
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def accept(request: Request, company_id: str, csrf: str, by: str, base: str) -> Response:
    """POST: accept one finding of `company_id` (fingerprint, reason, until)."""
    portal = portal_of(request)
    form = await checked_form(request, csrf)
    fingerprint = form.get("fingerprint")
    reason = form.get("reason")
    if not isinstance(fingerprint, str) or not isinstance(reason, str):
        return portal.message("portal_forbidden", 400)
    now = utcnow()
    try:
        until = parse_until(form.get("until"), now)
    except ValueError:
        return _not_saved(portal, "not a date (YYYY-MM-DD)")

    def store(session: Session) -> str:
        accept_finding(session, company_id, fingerprint, reason, until, by=by, now=now)
        return "ok"

    try:
        await portal.db(store)
    except UnknownFindingError:
        return portal.message("portal_not_found", 404)
    except AcceptError as exc:
        return _not_saved(portal, str(exc))
    return redirect(f"{base}?done=accepted#accepted")


def _not_saved(portal: Portal, reason: str) -> Response:
    from exposure.app.portal.pages import message

    return message(portal.language, portal.meldpunt, "portal_accept_failed", 400, reason=reason)


# --- the routes -----------------------------------------------------------------------------------


@own_company
async def own_report(request: Request, access: Access) -> Response:
    return await report_page(request, access.company_id, "/report", access.who.csrf)


@own_company
async def own_history(request: Request, access: Access) -> Response:
    return await history_page(request, access.company_id, "/report", access.who.csrf)


@own_company
async def own_export(request: Request, access: Access) -> Response:
    return await export_file(request, access.company_id, str(request.path_params["fmt"]))


@own_company
async def own_accept(request: Request, access: Access) -> Response:
    cid = access.company_id
    return await accept(request, cid, access.who.csrf, f"company {cid}", "/report")


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/t/{token}", open_link, methods=["GET"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/report", own_report, methods=["GET"]),
    Route("/report/history", own_history, methods=["GET"]),
    Route("/report/export.{fmt:str}", own_export, methods=["GET"]),
    Route("/report/accept", own_accept, methods=["POST"]),
]
