"""Who sees what: every company token against every other company's resources, links that
expired or were revoked, the Meldpunt's log-in.

The company routes take no company id at all; the matrix tries every way a company could
still point at another one (the Meldpunt's URLs, query parameters, a foreign fingerprint in
the accept form) and checks both the status and that nothing of the other company is in the
body.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlmodel import select

from exposure.app.portal.auth import create_link, revoke_links
from exposure.models import FindingEvent, utcnow
from exposure.store.db import session as session_scope
from tests.exposure.app.portal.conftest import COMPANIES, PASSWORD, PHONE, World, csrf_of
from tests.reports import sample


def esc(value: str) -> str:
    return str(escape(value))


NAMES = {
    sample.BAKERY: "Bakkerij Dé Haven",
    sample.COLD_STORE: "Koelhuis Maasvlakte",
    sample.FISH: "Visgroothandel Zeebries",
    sample.GARAGE: "Autogarage Brouwer",
    sample.HOSTILE: sample.HOSTILE_NAME,
    sample.NEVER_SCANNED: "Nieuw Lid B.V.",
}


def foreign_markers(world: World, company_id: str) -> list[str]:
    """Strings that only a page about `company_id` contains: its name, id and fingerprints."""
    name = NAMES[company_id]
    markers = [esc(name), name, f"· {company_id}", f'"{company_id}"']
    markers += [f.fingerprint for f in world.findings(company_id)]
    markers += [f.target for f in world.findings(company_id)]
    return markers


def assert_nothing_of(world: World, body: str, company_id: str) -> None:
    for marker in foreign_markers(world, company_id):
        assert marker not in body, f"{marker!r} of {company_id} leaked"


def foreign_urls(other: str) -> list[str]:
    return [
        f"/meldpunt/company/{other}",
        f"/meldpunt/company/{other}/history",
        f"/meldpunt/company/{other}/export.json",
        f"/meldpunt/company/{other}/export.csv",
        "/meldpunt",
        "/meldpunt/overview",
        "/meldpunt/warnings",
        f"/report/{other}",
        f"/report/{other}/export.json",
        f"/company/{other}",
        f"/t/{other}",
    ]


def own_urls_with_foreign_parameters(other: str) -> list[str]:
    return [
        f"/report?company={other}",
        f"/report?company_id={other}",
        f"/report/history?company={other}",
        f"/report/export.json?company={other}&company_id={other}",
        f"/report/export.csv?company={other}",
    ]


def test_every_company_sees_only_its_own_data(world: World) -> None:
    for own in COMPANIES:
        client = world.company_client(own)
        page = client.get("/report")
        assert page.status_code == 200
        assert esc(NAMES[own]) in page.text
        for path in ("/report/export.json", "/report/export.csv", "/report/history"):
            response = client.get(path)
            assert response.status_code == 200, path
        document = client.get("/report/export.json").json()
        assert document["company"]["id"] == own
        assert {f["company_id"] for f in document["findings"]} <= {own}
        assert len(document["findings"]) == len(world.findings(own))
        csrf = csrf_of(page.text)
        for other in COMPANIES:
            if other == own:
                continue
            for url in foreign_urls(other):
                response = client.get(url)
                assert response.status_code in (403, 404), (own, url, response.status_code)
                assert_nothing_of(world, response.text, other)
            for url in own_urls_with_foreign_parameters(other):
                response = client.get(url)
                assert response.status_code == 200, url
                assert_nothing_of(world, response.text, other)
            for finding in world.findings(other):
                refused = client.post(
                    "/report/accept",
                    data={"csrf": csrf, "fingerprint": finding.fingerprint, "reason": "not mine"},
                )
                assert refused.status_code == 404
                assert_nothing_of(world, refused.text, other)
                refused = client.post(
                    f"/meldpunt/company/{other}/accept",
                    data={"csrf": csrf, "fingerprint": finding.fingerprint, "reason": "not mine"},
                )
                assert refused.status_code == 403
    # nothing of anyone was accepted by all that
    for company_id in COMPANIES:
        assert all(f.status != "accepted" for f in world.findings(company_id))


def test_without_a_session_nothing_is_shown(world: World) -> None:
    client = world.client()
    for own in COMPANIES:
        for url in ["/report", "/report/history", "/report/export.json", "/report/export.csv"]:
            response = client.get(url)
            assert response.status_code == 401
            assert_nothing_of(world, response.text, own)
        for url in foreign_urls(own)[:7]:
            response = client.get(url)
            assert response.status_code == 303
            assert response.headers["location"] == "/meldpunt/login"
    assert (
        client.post("/report/accept", data={"fingerprint": "x", "reason": "y"}).status_code == 401
    )


def test_a_forged_or_foreign_cookie_is_no_session(world: World) -> None:
    client = world.client()
    client.cookies.set("exposure", world.tokens[sample.BAKERY])  # a token is not a session id
    assert client.get("/report").status_code == 401
    client.cookies.set("exposure", "x" * 500)
    assert client.get("/report").status_code == 401


def test_the_link_opens_a_session_and_redirects_to_a_url_without_the_token(world: World) -> None:
    client = world.client()
    token = world.tokens[sample.BAKERY]
    response = client.get(f"/t/{token}")
    assert response.status_code == 303
    assert response.headers["location"] == "/report"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert token not in cookie
    assert "Secure" not in cookie  # portal_secure_cookies off in these tests


def test_secure_cookies_by_default(world: World) -> None:
    secure = world.rebuild(portal_secure_cookies=True)
    client = secure.client(base_url="https://testserver")
    response = client.get(f"/t/{secure.tokens[sample.BAKERY]}")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-exposure=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert client.get("/report").status_code == 200


def test_links_are_stored_as_hashes_only(world: World) -> None:
    from exposure.models import AccessToken, PortalSession

    client = world.company_client(sample.BAKERY)
    cookie = client.cookies.get("exposure")
    assert cookie
    with session_scope(world.engine) as db:
        stored = [row.token_hash for row in db.exec(select(AccessToken))]
        sessions = [row.session_hash for row in db.exec(select(PortalSession))]
    for token in world.tokens.values():
        assert token not in stored
        assert len(token) >= 43  # 32 random bytes
    assert cookie not in sessions


def test_expired_revoked_and_unknown_links_say_so_politely(world: World) -> None:
    with session_scope(world.engine) as db:
        old = create_link(db, sample.BAKERY, 90, now=utcnow() - timedelta(days=91)).token
        withdrawn = create_link(db, sample.TUG, 90).token
        revoke_links(db, sample.TUG)
    client = world.client()
    expired = client.get(f"/t/{old}")
    assert expired.status_code == 410
    assert "verlopen" in expired.text and PHONE in expired.text
    revoked = client.get(f"/t/{withdrawn}")
    assert revoked.status_code == 410
    assert "This link has been withdrawn" in revoked.text  # the tug reads English
    assert PHONE in revoked.text
    unknown = client.get("/t/" + "A" * 43)
    assert unknown.status_code == 404
    assert "werkt niet" in unknown.text
    for response in (expired, revoked, unknown):
        assert "set-cookie" not in response.headers


def test_revoking_a_link_ends_the_sessions_it_opened(world: World) -> None:
    client = world.company_client(sample.FISH)
    assert client.get("/report").status_code == 200
    with session_scope(world.engine) as db:
        assert revoke_links(db, sample.FISH) == 1
    assert client.get("/report").status_code == 401
    assert client.get("/report/export.json").status_code == 401
    assert client.get(f"/t/{world.tokens[sample.FISH]}").status_code == 410


def test_a_session_ends_when_its_link_expires(world: World) -> None:
    from exposure.models import AccessToken

    client = world.company_client(sample.GARAGE)
    with session_scope(world.engine) as db:
        for row in db.exec(select(AccessToken).where(AccessToken.company_id == sample.GARAGE)):
            row.expires_at = utcnow() - timedelta(seconds=1)
            db.add(row)
    assert client.get("/report").status_code == 401


def test_logout_ends_the_session(world: World) -> None:
    client = world.company_client(sample.BAKERY)
    csrf = csrf_of(client.get("/report").text)
    assert client.post("/logout", data={}).status_code == 403  # CSRF
    response = client.post("/logout", data={"csrf": csrf})
    assert response.status_code == 303
    assert client.get("/report").status_code == 401


def test_meldpunt_login(world: World) -> None:
    client = world.client()
    page = client.get("/meldpunt/login")
    csrf = csrf_of(page.text)
    wrong = client.post(
        "/meldpunt/login", data={"user": "meldpunt", "password": "guess", "csrf": csrf}
    )
    assert wrong.status_code == 401
    no_csrf = client.post("/meldpunt/login", data={"user": "meldpunt", "password": "x"})
    assert no_csrf.status_code == 403
    meldpunt = world.meldpunt_client()
    listing = meldpunt.get("/meldpunt")
    assert listing.status_code == 200
    for company_id in COMPANIES:
        assert f"/meldpunt/company/{company_id}" in listing.text
        report = meldpunt.get(f"/meldpunt/company/{company_id}")
        assert report.status_code == 200
        assert esc(NAMES[company_id]) in report.text
        assert (
            meldpunt.get(f"/meldpunt/company/{company_id}/export.json").json()["company"]["id"]
            == company_id
        )
    assert meldpunt.get("/meldpunt/company/nope").status_code == 404
    assert meldpunt.get("/meldpunt/warnings").status_code == 200
    assert "Koelhuis Maasvlakte" in meldpunt.get("/meldpunt/overview").text  # named


def test_no_password_hash_means_no_login(world: World) -> None:
    closed = world.rebuild(portal_admin_password_hash=None)
    client = closed.client()
    csrf = csrf_of(client.get("/meldpunt/login").text)
    response = client.post(
        "/meldpunt/login", data={"user": "meldpunt", "password": "", "csrf": csrf}
    )
    assert response.status_code == 401


def test_reverse_proxy_header_login(world: World) -> None:
    proxied = world.rebuild(portal_auth_header="X-Remote-User")
    client = proxied.client(client=("127.0.0.1", 40000))  # the proxy on this machine
    assert client.get("/meldpunt/login").status_code == 403
    response = client.get("/meldpunt/login", headers={"X-Remote-User": "anna"})
    assert response.status_code == 303
    assert client.get("/meldpunt", headers={"X-Remote-User": "anna"}).status_code == 200
    # the password form is off in this mode
    assert client.post("/meldpunt/login", data={"user": "meldpunt"}).status_code == 403


def test_link_and_login_attempts_are_rate_limited(world: World) -> None:
    limited = world.rebuild(portal_token_rate=3, portal_login_rate=2)
    client = limited.client()
    for _ in range(3):
        assert client.get("/t/nonsense").status_code == 404
    blocked = client.get(f"/t/{limited.tokens[sample.BAKERY]}")
    assert blocked.status_code == 429
    assert "retry-after" in blocked.headers
    csrf = csrf_of(client.get("/meldpunt/login").text)
    for _ in range(2):
        data = {"user": "meldpunt", "password": "guess", "csrf": csrf}
        failed = client.post("/meldpunt/login", data=data)
        assert failed.status_code == 401
        csrf = csrf_of(failed.text)  # each form has a fresh token
    data = {"user": "meldpunt", "password": PASSWORD, "csrf": csrf}
    assert client.post("/meldpunt/login", data=data).status_code == 429  # even the right one


def test_the_access_log_has_no_tokens(world: World, caplog: pytest.LogCaptureFixture) -> None:
    token = world.tokens[sample.BAKERY]
    with caplog.at_level(logging.INFO, logger="exposure.app.portal.access"):
        world.company_client(sample.BAKERY).get("/report")
    lines = [r.getMessage() for r in caplog.records if r.name == "exposure.app.portal.access"]
    assert any("/t/[redacted]" in line for line in lines)
    assert any("/report 200" in line for line in lines)
    assert all(token not in line for line in lines)


def test_acceptance_is_kept_in_the_audit_trail(world: World) -> None:
    client = world.company_client(sample.COLD_STORE)
    ics = next(f for f in world.findings(sample.COLD_STORE) if f.check_id == "exposure.ics")
    csrf = csrf_of(client.get("/report").text)
    response = client.post(
        "/report/accept",
        data={"csrf": csrf, "fingerprint": ics.fingerprint, "reason": "Achter de VPN"},
    )
    assert response.status_code == 303
    with session_scope(world.engine) as db:
        events = list(db.exec(select(FindingEvent).where(FindingEvent.finding_id == ics.id)))
    accepted = [e for e in events if e.event == "accepted"]
    assert len(accepted) == 1
    assert (
        "Achter de VPN" in accepted[0].note and f"company {sample.COLD_STORE}" in accepted[0].note
    )
    history = client.get("/report/history").text
    assert "Achter de VPN" in history


def test_a_company_that_left_loses_access(world: World) -> None:
    from exposure.models import Company

    client = world.company_client(sample.GARAGE)
    with session_scope(world.engine) as db:
        garage = db.get(Company, sample.GARAGE)
        assert garage is not None
        garage.active = False
        db.add(garage)
    assert client.get("/report").status_code == 401
    assert world.client().get(f"/t/{world.tokens[sample.GARAGE]}").status_code == 410
