"""Whom the portal believes: the auth header and X-Forwarded-For only from trusted proxies, the
header checked on every request, and rate limits that address rotation does not get around.

The attacks run against the app in-process (with the connection's address set) and, where the
server itself took part in the flaw, against `exposure serve` on 127.0.0.1.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from exposure.app.cli import app as cli_app
from exposure.app.portal.proxies import TrustedProxies, serve_problem
from exposure.settings import SettingsError, load_settings
from tests.exposure.app.portal.conftest import PASSWORD, World, csrf_of
from tests.exposure.app.portal.test_browser import serving
from tests.reports import sample

HEADER = "X-Remote-User"
LOCAL_PROXY = ("127.0.0.1", 40000)
STRANGER = ("203.0.113.50", 40000)  # reaches the port directly, past the proxy


def header_world(world: World, **values: object) -> World:
    return world.rebuild(portal_auth_header=HEADER, **values)


# --- 2. the auth header ----------------------------------------------------------------------


def test_the_auth_header_from_a_direct_client_is_not_believed(world: World) -> None:
    stranger = header_world(world).client(client=STRANGER)
    assert stranger.get("/meldpunt/login", headers={HEADER: "anna"}).status_code == 403
    assert stranger.get("/meldpunt", headers={HEADER: "anna"}).status_code == 303  # to log-in
    assert not stranger.cookies  # no session was made


def test_the_auth_header_from_the_trusted_proxy_logs_in(world: World) -> None:
    proxy = header_world(world).client(client=LOCAL_PROXY)
    assert proxy.get("/meldpunt/login", headers={HEADER: "anna"}).status_code == 303
    assert proxy.get("/meldpunt", headers={HEADER: "anna"}).status_code == 200


def test_the_auth_header_is_checked_on_every_request(world: World) -> None:
    proxy = header_world(world).client(client=LOCAL_PROXY)
    assert proxy.get("/meldpunt/login", headers={HEADER: "anna"}).status_code == 303
    # the session cookie alone, without the proxy vouching again, is no log-in
    assert proxy.get("/meldpunt").status_code == 303
    # nor is it when the proxy now names someone else
    assert proxy.get("/meldpunt", headers={HEADER: "bob"}).status_code == 303
    assert proxy.get("/meldpunt", headers={HEADER: "anna"}).status_code == 200


def test_the_session_cookie_taken_elsewhere_is_no_log_in(world: World) -> None:
    proxied = header_world(world)
    proxy = proxied.client(client=LOCAL_PROXY)
    assert proxy.get("/meldpunt/login", headers={HEADER: "anna"}).status_code == 303
    stolen = proxied.client(client=STRANGER, cookies=dict(proxy.cookies))
    assert stolen.get("/meldpunt", headers={HEADER: "anna"}).status_code == 303


def test_configured_proxies_replace_the_local_default(world: World) -> None:
    proxied = header_world(world, portal_trusted_proxies=["10.1.2.0/24"])
    remote_proxy = proxied.client(client=("10.1.2.3", 40000))
    assert remote_proxy.get("/meldpunt/login", headers={HEADER: "anna"}).status_code == 303
    local = proxied.client(client=LOCAL_PROXY)
    assert local.get("/meldpunt/login", headers={HEADER: "anna"}).status_code == 403


def test_serve_refuses_the_header_mode_on_a_public_bind_without_proxies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("EXPOSURE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXPOSURE_DATABASE", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("EXPOSURE_PORTAL_AUTH_HEADER", HEADER)
    started: list[object] = []
    # were it refused too late, nothing should listen on a public address during the test
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(a))
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert not started
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "portal_trusted_proxies" in lines[0], result.stderr
    # the legitimate set-ups: a loopback bind, or named proxies
    assert serve_problem("127.0.0.1", load_settings()) is None
    assert serve_problem("::1", load_settings()) is None
    monkeypatch.setenv("EXPOSURE_PORTAL_TRUSTED_PROXIES", "172.18.0.1")
    assert serve_problem("0.0.0.0", load_settings()) is None


@pytest.mark.parametrize("value", ["0.0.0.0/0", "::/0", "proxy.example.nl", "10.0.0.1/33"])
def test_bad_trusted_proxies_are_refused(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXPOSURE_PORTAL_TRUSTED_PROXIES", value)
    with pytest.raises(SettingsError, match=r"(?i)portal_trusted_proxies"):
        load_settings()


# --- 3. the client address and the rate limits -------------------------------------------------


def test_the_client_address_is_the_right_most_untrusted_hop() -> None:
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    # a proxy appends what it saw; what the client wrote stands to its left
    assert proxies.client("127.0.0.1", "1.2.3.4, 198.51.100.7") == "198.51.100.7"
    assert proxies.client("127.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.2") == "198.51.100.7"
    assert proxies.client("127.0.0.1", None) == "127.0.0.1"
    assert proxies.client("127.0.0.1", "not-an-address") == "127.0.0.1"
    assert proxies.client("127.0.0.1", "198.51.100.7:4711") == "198.51.100.7"
    assert proxies.client("127.0.0.1", "[2001:db8::7]:4711, 10.0.0.3") == "2001:db8::7"
    assert proxies.client("::ffff:127.0.0.1", "198.51.100.7") == "198.51.100.7"
    # from anyone else the header means nothing
    assert proxies.client("198.51.100.9", "1.2.3.4") == "198.51.100.9"
    assert TrustedProxies([]).client("::1", "2001:db8::5") == "2001:db8::5"


def _wrong_password(client: httpx.Client | TestClient, forwarded: str) -> int:
    """One wrong password."""
    form = client.get("/meldpunt/login")
    data = {"user": "meldpunt", "password": "guess", "csrf": csrf_of(form.text)}
    response = client.post("/meldpunt/login", data=data, headers={"x-forwarded-for": forwarded})
    return response.status_code


def test_rotating_x_forwarded_for_from_a_direct_client_gains_nothing(world: World) -> None:
    limited = world.rebuild(portal_login_rate=3, portal_token_rate=3)
    stranger = limited.client(client=STRANGER)
    codes = [_wrong_password(stranger, f"192.0.2.{n}") for n in range(8)]
    assert codes[:3] == [401, 401, 401] and set(codes[3:]) == {429}
    guesses = [
        stranger.get(f"/t/guess{n}", headers={"x-forwarded-for": f"192.0.2.{n}"}).status_code
        for n in range(8)
    ]
    assert guesses[:3] == [404, 404, 404] and set(guesses[3:]) == {429}


def test_a_proxy_that_passes_the_header_through_meets_the_account_limit(world: World) -> None:
    """Through a trusted proxy every guess seems to come from a new address: the per-account
    limit of failed log-ins holds anyway, and the Meldpunt's own browser still gets in."""
    limited = world.rebuild(portal_login_rate=100, portal_login_account_rate=5)
    meldpunt = limited.client(client=LOCAL_PROXY)
    form = meldpunt.get("/meldpunt/login")
    data = {"user": "meldpunt", "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert meldpunt.post("/meldpunt/login", data=data).status_code == 303  # a known browser now
    attacker = limited.client(client=LOCAL_PROXY)
    codes = [_wrong_password(attacker, f"192.0.2.{n}, 198.51.100.{n}") for n in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    # even the right password is refused to a browser the account does not know ...
    form = attacker.get("/meldpunt/login")
    data = {"user": "meldpunt", "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert attacker.post("/meldpunt/login", data=data).status_code == 429
    # ... while the Meldpunt's own browser is not locked out by the attack
    form = meldpunt.get("/meldpunt/login")
    data = {"user": "meldpunt", "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert meldpunt.post("/meldpunt/login", data=data).status_code == 303


def test_a_device_cookie_does_not_survive_a_password_change(world: World) -> None:
    from exposure.app.portal import logins

    token = logins.new_device_token("hash-one")
    assert logins.known_device("hash-one", token)
    assert not logins.known_device("hash-two", token)
    assert not logins.known_device("hash-one", token.replace(".", ".0"))
    assert not logins.known_device(None, token)


def test_clients_behind_one_address_are_not_locked_out_by_valid_links(world: World) -> None:
    """A proxy that sends no X-Forwarded-For makes every company one address: valid links
    do not use up the limit, guesses do."""
    limited = world.rebuild(portal_token_rate=3)
    for _ in range(3):
        for company in (sample.BAKERY, sample.FISH, sample.GARAGE):
            opened = limited.client(client=LOCAL_PROXY).get(f"/t/{limited.tokens[company]}")
            assert opened.status_code == 303
    guesser = limited.client(client=LOCAL_PROXY)
    assert [guesser.get(f"/t/guess{n}").status_code for n in range(4)] == [404] * 3 + [429]


def _login_codes(base: str, forwarded: list[str]) -> list[int]:
    codes = []
    with httpx.Client(base_url=base) as client:
        for value in forwarded:
            codes.append(_wrong_password(client, value))
    return codes


def test_the_server_believes_x_forwarded_for_only_from_trusted_proxies(tmp_path: Path) -> None:
    """`exposure serve` itself: a local client that is not the configured proxy rotates the
    header in vain (before, uvicorn believed every local client)."""
    env = {
        "EXPOSURE_PORTAL_LOGIN_RATE": "3",
        "EXPOSURE_PORTAL_TOKEN_RATE": "3",
        "EXPOSURE_PORTAL_TRUSTED_PROXIES": "10.255.0.1",
    }
    db = f"sqlite:///{tmp_path / 'portal.db'}"
    with serving(db, tmp_path, env) as (base, tokens):
        codes = _login_codes(base, [f"192.0.2.{n}" for n in range(8)])
        assert codes[:3] == [401] * 3 and set(codes[3:]) == {429}, codes
        with httpx.Client(base_url=base) as client:
            assert client.get(f"/t/{tokens[sample.FISH]}").status_code == 303
            guesses = [
                client.get(f"/t/g{n}", headers={"x-forwarded-for": f"192.0.2.{n}"}).status_code
                for n in range(6)
            ]
            assert guesses == [404] * 3 + [429] * 3
            assert client.get(f"/t/{tokens[sample.FISH]}").status_code == 429
