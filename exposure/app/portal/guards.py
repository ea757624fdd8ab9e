"""Who may open a page: one decorator for every signed-in route.

Each route used to start with the same four lines (look up the session, return the log-in page
or a refusal, else go on); eight copies are eight chances to forget one. A route now names its
guard and receives what the guard established: who is signed in and which company the page is
about. A guard returns a `Response` (the log-in page, a redirect, 403) to stop the request.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from exposure.app.portal import auth


@dataclass(frozen=True, slots=True)
class Access:
    """What a guard established: the session, and the company the page is about ("" for the
    Meldpunt's area-wide pages)."""

    who: auth.Identity
    company_id: str = ""


Guard = Callable[[Request], Awaitable[Access | Response]]
Handler = Callable[[Request, Access], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(guard: Guard) -> Callable[[Handler], Endpoint]:
    """The route runs only when `guard` lets the request through."""

    def decorate(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            access = await guard(request)
            if isinstance(access, Response):
                return access
            return await handler(request, access)

        return endpoint

    return decorate
