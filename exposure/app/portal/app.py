"""`exposure serve`: the company portal and the Meldpunt's view, as one Starlette app.

    app = create_app(settings, engine)          # engine: migrated; specs from the registry

Company routes have no company id in them: the company comes from the session only, so no
id, path or parameter can point a company at another company's data. The Meldpunt's routes
live under `/meldpunt/` and need a Meldpunt session. Every state-changing request is a POST
with the session's CSRF token (and, when the browser sends one, a same-host `Origin`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match, Route

from exposure.app.portal import auth
from exposure.app.portal.pages import message, page
from exposure.app.portal.proxies import ForwardedMiddleware, TrustedProxies, proxied_user
from exposure.app.portal.security import RateLimiter, SecurityMiddleware
from exposure.settings import Settings
from exposure.store.db import session as session_scope
from reports import render
from reports.specs import Specs

log = logging.getLogger("exposure.app.portal")

T = TypeVar("T")


class Portal:
    """What the routes share: settings, the engine, the words of the checks, the limiters."""

    def __init__(self, settings: Settings, engine: Engine, specs: Specs) -> None:
        self.settings = settings
        self.engine = engine
        self.specs = specs
        self.meldpunt = render.Meldpunt.from_settings(settings)
        self.language = settings.language
        self.proxies = TrustedProxies.from_settings(settings)
        self.token_limiter = RateLimiter(settings.portal_token_rate)
        self.login_limiter = RateLimiter(settings.portal_login_rate)
        self.account_limiter = RateLimiter(settings.portal_login_account_rate, window=3600.0)
        secure = settings.portal_secure_cookies
        # `__Host-` cookies are Secure, host-only and path=/ by the browser's own rules.
        self.cookie = "__Host-exposure" if secure else "exposure"
        self.login_cookie = "__Host-exposure-login" if secure else "exposure-login"
        self.device_cookie = "__Host-exposure-device" if secure else "exposure-device"

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run store work in a thread, in one transaction."""

        def work() -> T:
            with session_scope(self.engine) as session:
                return fn(session, *args, **kwargs)

        return await run_in_threadpool(work)

    def set_cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.settings.portal_secure_cookies,
            httponly=True,
            samesite="lax",
        )

    def clear_cookie(self, response: Response, name: str) -> None:
        response.delete_cookie(
            name,
            path="/",
            secure=self.settings.portal_secure_cookies,
            httponly=True,
            samesite="lax",
        )

    async def identity(self, request: Request) -> auth.Identity | None:
        cookie = request.cookies.get(self.cookie)
        if not cookie:
            return None
        who = await self.db(auth.identify, cookie)
        header = self.settings.portal_auth_header
        # The proxy vouches for the user on every request, not once for a whole session.
        if (
            who is not None
            and who.is_meldpunt
            and header
            and proxied_user(request, header, self.proxies) != who.user
        ):
            return None
        return who

    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.settings.portal_session_hours)

    def message(self, key: str, status: int, language: str | None = None) -> Response:
        return message(language or self.language, self.meldpunt, key, status)

    def limited(self, limiter: RateLimiter, request: Request) -> Response | None:
        """Count this request against its client address; the refusal when over the limit."""
        return self.too_many(limiter.hit(client_address(request)))

    def too_many(self, wait: float) -> Response | None:
        if not wait:
            return None
        response = self.message("portal_too_many", 429)
        response.headers["retry-after"] = str(int(wait) + 1)
        return response


def portal_of(request: Request) -> Portal:
    portal = request.app.state.portal
    assert isinstance(portal, Portal)
    return portal


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


class CsrfError(Exception):
    """A state-changing request without the right token or from another site."""


async def checked_form(request: Request, expected: str) -> FormData:
    """The POSTed form, after the CSRF checks: a same-host Origin (when sent) and the token."""
    # With `Referrer-Policy: no-referrer` browsers send `Origin: null` on every POST, so
    # "null" cannot be refused; any other origin must be this host.
    # Behind a proxy that rewrites Host, the public address is `portal_url`'s.
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        hosts = {request.headers.get("host", "")}
        public = portal_of(request).settings.portal_url
        if public:
            hosts.add(urlsplit(public).netloc)
        if origin.split("://", 1)[-1].rstrip("/") not in hosts:
            raise CsrfError("origin")
    form = await request.form(max_files=0, max_fields=20, max_part_size=8192)
    token = form.get("csrf")
    if not isinstance(token, str) or not expected or not auth.same(token, expected):
        raise CsrfError("token")
    return form


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def parse_until(value: object, now: datetime) -> datetime | None:
    """`YYYY-MM-DD` from the form (end of that day, UTC), or None for the default."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d")
    except ValueError:
        raise ValueError("not a date") from None
    return day + timedelta(hours=23, minutes=59)


# --- errors ---------------------------------------------------------------------------------------


async def _http_error(request: Request, exc: Exception) -> Response:
    portal = portal_of(request)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        twin = _without_slash(request)
        if twin is not None:
            return RedirectResponse(twin, status_code=307)
        return portal.message("portal_not_found", 404)
    if status == 405:
        response = portal.message("portal_forbidden", 405)
        response.headers["allow"] = ", ".join(_allowed_methods(request))
        return response
    if status in (401, 403):
        return portal.message("portal_forbidden", status)
    return portal.message("portal_error", status if 400 <= status < 600 else 500)


def _without_slash(request: Request) -> str | None:
    """`/report/` to `/report`, as a relative location: Starlette's own slash redirect builds
    an absolute URL from the Host header, which the client chooses."""
    path = request.url.path
    if path == "/" or not path.endswith("/"):
        return None
    twin = path.rstrip("/")
    if not twin.startswith("/") or twin.startswith("//") or "\\" in twin:
        return None
    scope = {**request.scope, "path": twin}
    if not any(route.matches(scope)[0] is not Match.NONE for route in request.app.router.routes):
        return None
    query = request.url.query
    return f"{twin}?{query}" if query else twin


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes on this path (GET and POST may be separate routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if (
            isinstance(route, Route)
            and route.methods
            and route.matches(request.scope)[0] is not Match.NONE
        ):
            methods |= route.methods
    return sorted(methods)


async def _csrf_error(request: Request, exc: Exception) -> Response:
    log.warning("refused a request without a valid CSRF token (%s)", exc)
    return portal_of(request).message("portal_forbidden", 403)


def create_app(
    settings: Settings, engine: Engine, specs: Specs | None = None, proxy_headers: bool = True
) -> Starlette:
    """The portal application on a migrated database. `proxy_headers`: believe the trusted
    proxies' X-Forwarded-For/-Proto (the connection's own address counts otherwise)."""
    from exposure.app.portal import company_routes, discovery_routes, meldpunt_routes

    if specs is None:
        from exposure.registry import load

        specs = Specs.from_registry(load())
    routes: list[Route] = [
        *company_routes.ROUTES,
        *meldpunt_routes.ROUTES,
        *discovery_routes.ROUTES,
    ]
    portal = Portal(settings, engine, specs)

    def error_page() -> bytes:
        return bytes(portal.message("portal_error", 500).body)

    app = Starlette(
        debug=False,
        routes=routes,
        middleware=[
            Middleware(ForwardedMiddleware, proxies=portal.proxies, enabled=proxy_headers),
            Middleware(
                SecurityMiddleware, max_body=settings.portal_max_body, error_page=error_page
            ),
        ],
        exception_handlers={HTTPException: _http_error, CsrfError: _csrf_error},
    )
    app.router.redirect_slashes = False  # `_without_slash` does it, with a relative location
    app.state.portal = portal
    return app


__all__ = ["Portal", "create_app", "page"]
