"""The portal's own answers to odd requests: a slash redirect that goes nowhere the client
chose, and a 405 that says what is allowed."""

from __future__ import annotations

import pytest

from tests.exposure.app.portal.conftest import World
from tests.exposure.app.portal.test_hardening import assert_strict_headers
from tests.reports import sample


@pytest.mark.parametrize("host", ["evil.example", "evil.example:443", "portal.example.nl"])
def test_the_trailing_slash_redirect_ignores_the_host_header(world: World, host: str) -> None:
    own = world.company_client(sample.BAKERY)
    response = own.get("/report/", headers={"host": host})
    assert response.status_code == 307
    assert response.headers["location"] == "/report"
    assert_strict_headers(response.headers, "the slash redirect")
    assert own.get("/report/history/?x=1").headers["location"] == "/report/history?x=1"


def test_the_slash_redirect_follows_to_the_page(world: World) -> None:
    own = world.client(follow_redirects=True)
    assert own.get(f"/t/{world.tokens[sample.BAKERY]}").status_code == 200
    assert own.get("/report/").url.path == "/report"


@pytest.mark.parametrize("path", ["//evil.example/report/", "//evil.example/", "/no/such/page/"])
def test_no_redirect_for_paths_that_are_not_pages(world: World, path: str) -> None:
    client = world.client()
    response = client.send(client.build_request("GET", f"http://testserver{path}"))
    assert response.status_code == 404
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/report", "GET, HEAD"),
        ("DELETE", "/meldpunt/login", "GET, HEAD, POST"),
        ("GET", "/logout", "POST"),
        ("PATCH", "/report/accept", "POST"),
    ],
)
def test_405_names_the_allowed_methods(world: World, method: str, path: str, allow: str) -> None:
    response = world.client().request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert_strict_headers(response.headers, f"{method} {path}")
