"""The portal's commands: `exposure serve` and `exposure portal link|revoke|links|hash-password`."""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime
from typing import Annotated

import typer

from exposure.app.cli.common import err, fail, open_store, out, settings_of

portal_app = typer.Typer(help="The company portal: personal links and the Meldpunt's password.")

_DURATION = re.compile(r"^\s*(\d{1,4})\s*d?\s*$")


def parse_days(value: str) -> int:
    """`90d` or `90` to 90 (days)."""
    match = _DURATION.match(value)
    if match is None or not 1 <= int(match.group(1)) <= 3650:
        raise ValueError(f"{value!r} is not a number of days from 1 to 3650 (e.g. 90d)")
    return int(match.group(1))


def link_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/t/{token}" if base else f"/t/{token}"


@portal_app.command("link")
def link(
    ctx: typer.Context,
    company: Annotated[str, typer.Option("--company", help="the company id")],
    expires: Annotated[
        str | None, typer.Option("--expires", help="valid for, e.g. 90d (default portal_link_days)")
    ] = None,
) -> None:
    """Make a personal portal link for a company; the link is shown once, only its hash is kept."""
    from exposure.app.portal.auth import create_link
    from exposure.store.db import session as session_scope

    settings = settings_of(ctx)
    try:
        days = parse_days(expires) if expires is not None else settings.portal_link_days
    except ValueError as exc:
        fail(f"--expires: {exc}")
    engine = open_store(settings)
    with session_scope(engine) as session:
        try:
            new = create_link(session, company, days, by="cli")
        except LookupError:
            fail(f"unknown company {company!r} (see `exposure targets list`)")
    out.print(link_url(settings.portal_url, new.token), markup=False, highlight=False)

    err.print(
        f"link {new.token_id} for {company}, valid until {new.expires_at:%Y-%m-%d %H:%M} UTC; "
        "it is shown only now",
        markup=False,
        highlight=False,
    )


@portal_app.command("revoke")
def revoke(
    ctx: typer.Context,
    company: Annotated[str, typer.Option("--company", help="the company id")],
    link_id: Annotated[
        int | None, typer.Option("--link", help="only this link (see `portal links`)")
    ] = None,
) -> None:
    """Revoke a company's links (all, or one); browsers that opened them are logged out."""
    from exposure.app.portal.auth import revoke_links
    from exposure.store.db import session as session_scope

    engine = open_store(settings_of(ctx))
    with session_scope(engine) as session:
        count = revoke_links(session, company, link_id)
    out.print(f"{count} link(s) of {company} revoked", markup=False, highlight=False)


@portal_app.command("links")
def links(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option("--company", help="only this company")] = None,
) -> None:
    """The portal links: id, company, made, valid until, state (never the token)."""
    from exposure.app.portal.auth import link_state, list_links
    from exposure.models import utcnow
    from exposure.store.db import session as session_scope

    engine = open_store(settings_of(ctx))
    now = utcnow()
    with session_scope(engine) as session:
        rows = list_links(session, company)
    for row in rows:
        out.print(
            f"{row.id}\t{row.company_id}\t{_d(row.created_at)}\t{_d(row.expires_at)}\t"
            f"{link_state(row, now).value}",
            markup=False,
            highlight=False,
        )


def _d(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


@portal_app.command("hash-password")
def hash_password_command() -> None:
    """Read a password (twice, not echoed) and print its argon2 hash for the setting
    `portal_admin_password_hash` (EXPOSURE_PORTAL_ADMIN_PASSWORD_HASH)."""
    from exposure.app.portal.auth import hash_password

    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        fail("use a password of at least 12 characters")
    sys.stdout.write(hash_password(password) + "\n")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="believe X-Forwarded-For/-Proto from portal_trusted_proxies (default this "
            "machine)",
        ),
    ] = True,
) -> None:
    """Serve the company portal and the Meldpunt's view (put a TLS reverse proxy in front)."""
    import uvicorn

    from exposure.app.portal.app import create_app
    from exposure.app.portal.proxies import serve_problem
    from exposure.app.portal.server import raise_file_limit, server_options
    from exposure.registry import RegistryError, load
    from reports.specs import Specs

    settings = settings_of(ctx)
    problem = serve_problem(host, settings)
    if problem:
        fail(problem)
    try:
        specs = Specs.from_registry(load())
    except RegistryError as exc:
        fail(str(exc))
    engine = open_store(settings)
    app = create_app(settings, engine, specs, proxy_headers=proxy_headers)
    # The access log is the portal's own (tokens redacted), shown at INFO in every log format.
    logging.getLogger("exposure.app.portal.access").setLevel(logging.INFO)
    raise_file_limit(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,  # the portal writes its own, without tokens
        proxy_headers=False,  # the portal's own ForwardedMiddleware, with the trusted proxies
        server_header=False,
        log_level="info",
        **server_options(settings),  # header and keep-alive time-outs, the connection cap
    )


def register(app: typer.Typer) -> None:
    app.add_typer(portal_app, name="portal")
    app.command()(serve)
