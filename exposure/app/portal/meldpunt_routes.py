"""The Meldpunt's pages: log-in, every company, the area overview, the warnings audit trail.

Behind a log-in: the password is checked against an argon2 hash from the settings, or a
reverse proxy that authenticated the user passes the name in `portal_auth_header`.
"""

from __future__ import annotations

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from exposure.app.portal import auth, company_routes, logins
from exposure.app.portal.app import checked_form, portal_of, redirect
from exposure.app.portal.guards import Access, guarded
from exposure.app.portal.pages import LoginForm, PortalView, Table, page
from exposure.app.portal.proxies import proxied_user
from exposure.models import Company
from exposure.store.warnings import list_warnings
from reports import benchmark, overview, render, words

BASE = "/meldpunt"
#: The key of the per-account log-in limit: there is one Meldpunt account.
ACCOUNT = "meldpunt"


def meldpunt_links(language: str) -> tuple[tuple[str, str], ...]:
    return (
        (words.ui("portal_companies", language), BASE),
        (words.ui("portal_overview", language), f"{BASE}/overview"),
        (words.ui("portal_warnings", language), f"{BASE}/warnings"),
    )


async def meldpunt_access(request: Request) -> Access | Response:
    """The Meldpunt's session, or its log-in page; a company's session is refused."""
    portal = portal_of(request)
    who = await portal.identity(request)
    if who is None:
        return redirect(f"{BASE}/login")
    if not who.is_meldpunt:
        return portal.message("portal_forbidden", 403)
    return Access(who)


async def member_access(request: Request) -> Access | Response:
    """The Meldpunt's session on the page of one member, which must exist (404 otherwise)."""
    access = await meldpunt_access(request)
    if isinstance(access, Response):
        return access
    company_id = str(request.path_params["company_id"])
    exists = await portal_of(request).db(lambda s: s.get(Company, company_id) is not None)
    if not exists:
        raise HTTPException(404)
    return Access(access.who, company_id)


meldpunt_only = guarded(meldpunt_access)
member_page = guarded(member_access)


async def _start(request: Request, user: str) -> Response:
    portal = portal_of(request)

    def start(session: Session) -> str:
        return auth.start_session(session, auth.MELDPUNT, portal.session_lifetime(), user=user)

    cookie = await portal.db(start)
    response = redirect(BASE)
    portal.set_cookie(
        response, portal.cookie, cookie, int(portal.session_lifetime().total_seconds())
    )
    portal.clear_cookie(response, portal.login_cookie)
    return response


def _login_page(request: Request, failed: bool = False, status: int = 200) -> Response:
    portal = portal_of(request)
    csrf = auth.new_secret()
    language = portal.language
    response = page(
        language,
        portal.meldpunt,
        title=words.ui("portal_login", language),
        heading=words.ui("portal_login", language),
        lines=(words.ui("portal_login_failed", language),) if failed else (),
        login=LoginForm(f"{BASE}/login", csrf),
        status=status,
    )
    portal.set_cookie(response, portal.login_cookie, csrf, 3600)
    return response


async def login_form(request: Request) -> Response:
    portal = portal_of(request)
    header = portal.settings.portal_auth_header
    if header:
        user = proxied_user(request, header, portal.proxies)
        if user:
            return await _start(request, user)
        return portal.message("portal_forbidden", 403)
    return _login_page(request)


async def login(request: Request) -> Response:
    portal = portal_of(request)
    if portal.settings.portal_auth_header:
        return portal.message("portal_forbidden", 403)
    refused = portal.limited(portal.login_limiter, request)
    if refused is not None:
        return refused
    stored = portal.settings.portal_admin_password_hash
    secret = stored.get_secret_value() if stored else None
    known = logins.known_device(secret, request.cookies.get(portal.device_cookie))
    if not known:
        refused = portal.too_many(portal.account_limiter.peek(ACCOUNT))
        if refused is not None:
            return refused
    form = await checked_form(request, request.cookies.get(portal.login_cookie, ""))
    user = form.get("user")
    password = form.get("password")
    if not isinstance(user, str) or not isinstance(password, str) or len(password) > 1024:
        portal.account_limiter.hit(ACCOUNT)
        return _login_page(request, failed=True, status=401)
    from starlette.concurrency import run_in_threadpool

    ok = await run_in_threadpool(auth.verify_password, secret, password)
    if not (ok and auth.same(user, portal.settings.portal_admin_user)) or secret is None:
        portal.account_limiter.hit(ACCOUNT)
        return _login_page(request, failed=True, status=401)
    response = await _start(request, user)
    days = logins.DEVICE_DAYS
    portal.set_cookie(response, portal.device_cookie, logins.new_device_token(secret), days * 86400)
    return response


@meldpunt_only
async def companies(request: Request, access: Access) -> Response:
    who = access.who
    portal = portal_of(request)
    language = portal.language

    def load(session: Session) -> list[tuple[str, str, str, str]]:
        scores = benchmark.scanned_scores(session)
        rows = session.exec(select(Company).order_by(col(Company.name), col(Company.id)))
        result = []
        for row in rows:
            score = scores.get(row.id)
            grade = (
                f"{score.score.grade.value} ({score.score.points})"
                if score
                else words.ui("portal_never", language)
            )
            result.append((row.id, row.name, row.sector, grade))
        return result

    rows = await portal.db(load)
    table = Table(
        head=("ID", words.ui("company", language), "", words.ui("portal_grade", language)),
        rows=[
            (cid, (name, f"{BASE}/company/{cid}"), sector, grade)
            for cid, name, sector, grade in rows
        ],
    )
    return page(
        language,
        portal.meldpunt,
        title=words.ui("portal_companies", language),
        heading=words.ui("portal_companies", language),
        portal=PortalView(csrf=who.csrf, links=meldpunt_links(language)),
        table=table,
    )


@meldpunt_only
async def area_overview(request: Request, access: Access) -> Response:
    portal = portal_of(request)

    def build(session: Session) -> str:
        view = overview.build(
            session, portal.specs, portal.language, named=True, meldpunt=portal.meldpunt
        )
        return overview.render_html(view)

    return HTMLResponse(await portal.db(build))


@meldpunt_only
async def warnings(request: Request, access: Access) -> Response:
    who = access.who
    portal = portal_of(request)
    language = portal.language
    rows = await portal.db(list_warnings)
    table = Table(
        head=(
            "Ref.",
            words.ui("company", language),
            words.ui("portal_when", language),
            "",
            words.ui("status", language),
            "",
        ),
        rows=[
            (
                r.reference,
                (r.company_name, f"{BASE}/company/{r.company_id}"),
                render.format_date(r.created_at, language) + f" {r.created_at:%H:%M}",
                ", ".join(r.recipients),
                f"{r.kind} · {r.channel} · {r.status}",
                r.subject,
            )
            for r in rows[:1000]
        ],
    )
    return page(
        language,
        portal.meldpunt,
        title=words.ui("portal_warnings", language),
        heading=words.ui("portal_warnings", language),
        portal=PortalView(csrf=who.csrf, links=meldpunt_links(language)),
        table=table,
    )


@member_page
async def company_report(request: Request, access: Access) -> Response:
    cid = access.company_id
    links = meldpunt_links(portal_of(request).language)
    base = f"{BASE}/company/{cid}"
    return await company_routes.report_page(request, cid, base, access.who.csrf, links)


@member_page
async def company_history(request: Request, access: Access) -> Response:
    cid = access.company_id
    links = meldpunt_links(portal_of(request).language)
    base = f"{BASE}/company/{cid}"
    return await company_routes.history_page(request, cid, base, access.who.csrf, links)


@member_page
async def company_export(request: Request, access: Access) -> Response:
    fmt = str(request.path_params["fmt"])
    return await company_routes.export_file(request, access.company_id, fmt)


@member_page
async def company_accept(request: Request, access: Access) -> Response:
    cid, who = access.company_id, access.who
    return await company_routes.accept(
        request, cid, who.csrf, f"meldpunt {who.user}", f"{BASE}/company/{cid}"
    )


ROUTES = [
    Route(f"{BASE}/login", login_form, methods=["GET"]),
    Route(f"{BASE}/login", login, methods=["POST"]),
    Route(BASE, companies, methods=["GET"]),
    Route(f"{BASE}/overview", area_overview, methods=["GET"]),
    Route(f"{BASE}/warnings", warnings, methods=["GET"]),
    Route(f"{BASE}/company/{{company_id}}", company_report, methods=["GET"]),
    Route(f"{BASE}/company/{{company_id}}/history", company_history, methods=["GET"]),
    Route(f"{BASE}/company/{{company_id}}/export.{{fmt}}", company_export, methods=["GET"]),
    Route(f"{BASE}/company/{{company_id}}/accept", company_accept, methods=["POST"]),
]
