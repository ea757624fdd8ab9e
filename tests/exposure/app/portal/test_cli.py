"""`exposure portal link|revoke|links|hash-password`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from exposure.app.cli import app
from exposure.app.cli.portal import parse_days
from exposure.app.portal.auth import digest, verify_password
from exposure.models import AccessToken
from exposure.store.db import make_engine, migrate
from exposure.store.db import session as session_scope
from tests.reports import sample


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate(engine)
    sample.build_area(engine, two_runs=False)
    engine.dispose()
    return url


def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_link_prints_the_url_once_and_stores_the_hash(database: str) -> None:
    code, out, err = invoke(
        "--database", database, "portal", "link", "--company", sample.BAKERY, "--expires", "30d"
    )
    assert code == 0, err
    url = out.strip()
    assert url.startswith("/t/")
    token = url.removeprefix("/t/")
    assert "valid until" in err and token not in err
    engine = make_engine(database)
    with session_scope(engine) as db:
        rows = list(db.exec(select(AccessToken)))
    assert [r.token_hash for r in rows] == [digest(token)]
    assert (rows[0].expires_at - rows[0].created_at).days == 30

    code, out, _ = invoke("--database", database, "portal", "links")
    assert code == 0 and "valid" in out and token not in out
    code, out, _ = invoke("--database", database, "portal", "revoke", "--company", sample.BAKERY)
    assert code == 0 and "1 link(s)" in out
    code, out, _ = invoke("--database", database, "portal", "links")
    assert "revoked" in out


def test_link_uses_portal_url(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPOSURE_PORTAL_URL", "https://portaal.example.test/")
    code, out, _ = invoke("--database", database, "portal", "link", "--company", sample.FISH)
    assert code == 0
    assert out.startswith("https://portaal.example.test/t/")


def test_link_for_an_unknown_company_or_bad_expiry(database: str) -> None:
    code, _, err = invoke("--database", database, "portal", "link", "--company", "nope")
    assert code == 2 and "unknown company" in err
    code, _, err = invoke(
        "--database", database, "portal", "link", "--company", sample.FISH, "--expires", "soon"
    )
    assert code == 2 and "--expires" in err


def test_parse_days() -> None:
    assert parse_days("90d") == 90
    assert parse_days("7") == 7
    for bad in ("0d", "-1", "1y", "99999"):
        with pytest.raises(ValueError):
            parse_days(bad)


def test_hash_password(database: str) -> None:
    code, out, err = invoke(
        "portal", "hash-password", input="a long passphrase\na long passphrase\n"
    )
    assert code == 0, err
    hashed = out.strip().splitlines()[-1]
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a long passphrase")
    assert not verify_password(hashed, "wrong")
    code, _, err = invoke("portal", "hash-password", input="short\nshort\n")
    assert code == 2
