"""The portal's hardening: headers on every response, CSRF on every POST, size limits,
generic errors; and comply-or-explain (accepting a risk) end to end through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from exposure.models import Finding, FindingEvent, utcnow
from exposure.store.db import session as session_scope
from exposure.store.queries import list_findings
from reports import company, warning
from tests.exposure.app.portal.conftest import World, csrf_of
from tests.reports import sample
from tests.reports.sample import SPECS, Seen

PAGES = [
    "/",
    "/report",
    "/report/history",
    "/report/export.json",
    "/report/export.csv",
    "/t/unknown",
    "/meldpunt/login",
    "/meldpunt",
    "/no/such/page",
]


def assert_strict_headers(headers: Any, where: str) -> None:
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert "script-src" not in csp and "'unsafe-eval'" not in csp, where  # no script at all
    assert "form-action 'self'" in csp, where
    assert headers["strict-transport-security"].startswith("max-age="), where
    assert int(headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 31536000
    assert headers["x-content-type-options"] == "nosniff", where
    assert headers["referrer-policy"] == "no-referrer", where
    assert headers["x-frame-options"] == "DENY", where
    assert headers["cache-control"] == "no-store", where
    assert "server" not in headers, where


def test_security_headers_on_every_response(world: World) -> None:
    anonymous = world.client()
    own = world.company_client(sample.BAKERY)
    meldpunt = world.meldpunt_client()
    for client in (anonymous, own, meldpunt):
        for path in [*PAGES, f"/meldpunt/company/{sample.FISH}", "/meldpunt/overview"]:
            response = client.get(path)
            assert_strict_headers(response.headers, f"{path} {response.status_code}")
    link = world.client().get(f"/t/{world.tokens[sample.FISH]}")
    assert link.status_code == 303
    assert_strict_headers(link.headers, "the link redirect")
    assert_strict_headers(anonymous.post("/report/accept").headers, "a refused POST")


def test_pages_have_no_scripts(world: World) -> None:
    own = world.company_client(sample.HOSTILE)
    page = own.get("/report").text
    assert "<script" not in page  # the hostile name is escaped, and we add none
    assert "&lt;script&gt;" in page
    meldpunt = world.meldpunt_client()
    for path in ("/meldpunt", "/meldpunt/overview", "/meldpunt/warnings"):
        assert "<script" not in meldpunt.get(path).text


def test_exports_are_downloads(world: World) -> None:
    own = world.company_client(sample.BAKERY)
    for fmt, media in (("json", "application/json"), ("csv", "text/csv")):
        response = own.get(f"/report/export.{fmt}")
        assert response.headers["content-type"].startswith(media)
        assert response.headers["content-disposition"] == (
            f'attachment; filename="{sample.BAKERY}.{fmt}"'
        )
    assert own.get("/report/export.html").status_code == 404


def _open_finding(world: World, company_id: str, check_id: str) -> Finding:
    return next(f for f in world.findings(company_id) if f.check_id == check_id)


@pytest.mark.parametrize(
    "change",
    ["missing", "wrong", "other-session", "foreign-origin", "null-origin-wrong-token"],
)
def test_every_post_needs_the_session_csrf_token(world: World, change: str) -> None:
    own = world.company_client(sample.COLD_STORE)
    other = world.company_client(sample.COLD_STORE)
    csrf = csrf_of(own.get("/report").text)
    finding = _open_finding(world, sample.COLD_STORE, "exposure.ics")
    data = {"fingerprint": finding.fingerprint, "reason": "VPN", "csrf": csrf}
    headers: dict[str, str] = {}
    if change == "missing":
        del data["csrf"]
    elif change == "wrong":
        data["csrf"] = "x" * 43
    elif change == "other-session":
        data["csrf"] = csrf_of(other.get("/report").text)
    elif change == "foreign-origin":
        headers["origin"] = "https://evil.example"
    else:  # what a browser sends under no-referrer: the token decides
        headers["origin"] = "null"
        data["csrf"] = "y" * 43
    response = own.post("/report/accept", data=data, headers=headers)
    assert response.status_code == 403
    assert _open_finding(world, sample.COLD_STORE, "exposure.ics").status == "open"
    # the same with the right token and the page's own origin goes through
    data["csrf"] = csrf
    response = own.post("/report/accept", data=data, headers={"origin": "http://testserver"})
    assert response.status_code == 303
    response = own.post("/report/accept", data=data, headers={"origin": "null"})
    assert response.status_code == 303  # accepting again renews it


def test_meldpunt_posts_need_csrf_too(world: World) -> None:
    meldpunt = world.meldpunt_client()
    finding = _open_finding(world, sample.FISH, "mail.spf.missing")
    url = f"/meldpunt/company/{sample.FISH}/accept"
    data = {"fingerprint": finding.fingerprint, "reason": "Besproken"}
    assert meldpunt.post(url, data=data).status_code == 403
    csrf = csrf_of(meldpunt.get(f"/meldpunt/company/{sample.FISH}").text)
    response = meldpunt.post(url, data={**data, "csrf": csrf})
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/meldpunt/company/{sample.FISH}")
    with session_scope(world.engine) as db:
        notes = [
            e.note for e in db.exec(select(FindingEvent).where(FindingEvent.event == "accepted"))
        ]
    assert notes and notes[0].startswith("by meldpunt meldpunt until")


def test_large_bodies_are_refused(world: World) -> None:
    own = world.company_client(sample.BAKERY)
    csrf = csrf_of(own.get("/report").text)
    big = {"csrf": csrf, "fingerprint": "x", "reason": "y" * 20_000}
    assert own.post("/report/accept", data=big).status_code == 413


def test_errors_are_generic(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret detail /etc/passwd")

    own = world.company_client(sample.BAKERY)
    monkeypatch.setattr(company, "build", broken)
    client = world.client(raise_server_exceptions=False)
    client.cookies = own.cookies
    response = client.get("/report")
    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text and "RuntimeError" not in response.text
    assert_strict_headers(response.headers, "a 500")
    assert world.client().get("/report", params={"x": "'\"<>"}).status_code == 401
    assert world.client().put("/report").status_code == 405


# --- comply or explain ---------------------------------------------------------------------------


def test_an_accepted_finding_is_struck_through_and_left_out_of_grade_and_warnings(
    world: World,
) -> None:
    own = world.company_client(sample.COLD_STORE)
    before = own.get("/report/export.json").json()["score"]
    ics = _open_finding(world, sample.COLD_STORE, "exposure.ics")
    page = own.get("/report").text
    assert f'data-fingerprint="{ics.fingerprint}"' in page  # an accept form per finding
    response = own.post(
        "/report/accept",
        data={
            "csrf": csrf_of(page),
            "fingerprint": ics.fingerprint,
            "reason": "Besturing zit achter de VPN; Shodan zag de oude poort.",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/report?done=accepted#accepted"
    accepted = _open_finding(world, sample.COLD_STORE, "exposure.ics")
    assert accepted.status == "accepted"
    assert accepted.accepted_until is not None
    days = (accepted.accepted_until - utcnow()).days
    assert 363 <= days <= 365  # default one year
    after = own.get("/report/export.json").json()["score"]
    assert after["points"] > before["points"]  # the critical problem no longer counts
    page = own.get("/report?done=accepted").text
    assert "Het risico is aanvaard." in page
    assert '<li class="accepted-risk" data-check="exposure.ics"><s>' in page
    assert "Besturing zit achter de VPN" in page
    with session_scope(world.engine) as db:
        rows = [r for r in list_findings(db, company_id=sample.COLD_STORE, status="all")]
    policy = warning.WarningPolicy()
    chosen = [r.check_id for r in rows if warning.decide(r, (), policy, utcnow())]
    assert "exposure.ics" not in chosen and chosen  # the others are still warned about


def test_acceptance_until_a_date_and_back_when_it_runs_out(world: World) -> None:
    own = world.company_client(sample.GARAGE)
    csrf = csrf_of(own.get("/report").text)
    rdp = _open_finding(world, sample.GARAGE, "exposure.remote_access")
    until = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%d")
    response = own.post(
        "/report/accept",
        data={"csrf": csrf, "fingerprint": rdp.fingerprint, "reason": "Tijdelijk", "until": until},
    )
    assert response.status_code == 303
    accepted = _open_finding(world, sample.GARAGE, "exposure.remote_access")
    assert accepted.accepted_until is not None
    assert accepted.accepted_until.strftime("%Y-%m-%d") == until
    # a scan after the end date that still sees it opens it again, with the reason kept
    assert world.area is not None
    garage = [
        Seen("mail.spf.permissive", "garage-brouwer.test"),
        Seen("mail.dmarc.missing", "garage-brouwer.test"),
        Seen("exposure.remote_access", "192.0.2.44", evidence={"port": 3389}, discriminator="3389"),
    ]
    world.area.scan({sample.GARAGE: garage}, accepted.accepted_until + timedelta(days=1))
    again = _open_finding(world, sample.GARAGE, "exposure.remote_access")
    assert again.status == "open"
    history = own.get("/report/history").text
    assert "Tijdelijk" in history and "unaccepted" in history


@pytest.mark.parametrize(
    ("reason", "until", "message"),
    [
        ("", "", "a reason is required"),
        ("ok", "yesterday", "not a date"),
        ("ok", "2001-01-01", "in the future"),
        ("ok", "2099-01-01", "at most three years"),
    ],
)
def test_bad_acceptances_are_refused(world: World, reason: str, until: str, message: str) -> None:
    own = world.company_client(sample.BAKERY)
    csrf = csrf_of(own.get("/report").text)
    finding = _open_finding(world, sample.BAKERY, "web.hsts.missing")
    response = own.post(
        "/report/accept",
        data={"csrf": csrf, "fingerprint": finding.fingerprint, "reason": reason, "until": until},
    )
    assert response.status_code == 400
    assert message in response.text
    assert _open_finding(world, sample.BAKERY, "web.hsts.missing").status == "open"


def test_a_resolved_finding_cannot_be_accepted(world: World) -> None:
    own = world.company_client(sample.BAKERY)
    csrf = csrf_of(own.get("/report").text)
    expired = _open_finding(world, sample.BAKERY, "tls.cert.expired")
    assert expired.status == "resolved"
    response = own.post(
        "/report/accept",
        data={"csrf": csrf, "fingerprint": expired.fingerprint, "reason": "x"},
    )
    assert response.status_code == 400


def test_specs_words_are_used(world: World) -> None:
    page = world.company_client(sample.BAKERY).get("/report").text
    assert SPECS.title("web.hsts.missing", "nl") in page


def test_the_public_origin_of_portal_url_is_accepted(world: World) -> None:
    proxied = world.rebuild(portal_url="https://portaal.example.test")
    own = proxied.company_client(sample.BAKERY)
    csrf = csrf_of(own.get("/report").text)
    finding = _open_finding(proxied, sample.BAKERY, "securitytxt.missing")
    data = {"csrf": csrf, "fingerprint": finding.fingerprint, "reason": "Komt in maart"}
    refused = own.post("/report/accept", data=data, headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    accepted = own.post(
        "/report/accept", data=data, headers={"origin": "https://portaal.example.test"}
    )
    assert accepted.status_code == 303
