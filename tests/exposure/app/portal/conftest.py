"""Fixtures of the portal tests: the sample area, a portal app on it, a link per company."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from exposure.app.portal.app import create_app
from exposure.app.portal.auth import create_link, hash_password
from exposure.models import Finding
from exposure.settings import Settings
from exposure.store.db import session as session_scope
from tests.reports import sample

PASSWORD = "correct horse battery staple"
PHONE = "010-123 45 67"
#: the companies of the sample area that have findings, plus one that was never scanned
COMPANIES = (
    sample.BAKERY,
    sample.COLD_STORE,
    sample.FISH,
    sample.GARAGE,
    sample.HOSTILE,
    sample.NEVER_SCANNED,
)

_HASH: list[str] = []


def password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def make_settings(database: str, **values: Any) -> Settings:
    defaults: dict[str, Any] = {
        "database": database,
        "portal_secure_cookies": False,
        "meldpunt_phone": PHONE,
        "portal_admin_password_hash": password_hash(),
        "portal_token_rate": 10_000,  # one test client makes many requests
        "portal_login_rate": 10_000,
    }
    defaults.update(values)
    return Settings(**defaults)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("EXPOSURE_") and key != "EXPOSURE_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)


@dataclass
class World:
    engine: Engine
    settings: Settings
    app: Starlette
    tokens: dict[str, str]  # company id -> token
    area: sample.SampleArea | None = None

    def client(self, **kwargs: Any) -> TestClient:
        kwargs.setdefault("follow_redirects", False)
        return TestClient(self.app, **kwargs)

    def company_client(self, company_id: str) -> TestClient:
        client = self.client()
        response = client.get(f"/t/{self.tokens[company_id]}")
        assert response.status_code == 303, response.text
        return client

    def meldpunt_client(self) -> TestClient:
        client = self.client()
        form = client.get("/meldpunt/login")
        csrf = csrf_of(form.text)
        response = client.post(
            "/meldpunt/login", data={"user": "meldpunt", "password": PASSWORD, "csrf": csrf}
        )
        assert response.status_code == 303, response.text
        return client

    def findings(self, company_id: str) -> list[Finding]:
        with session_scope(self.engine) as db:
            return list(db.exec(select(Finding).where(Finding.company_id == company_id)))

    def rebuild(self, **values: Any) -> World:
        settings = make_settings(self.settings.database, **values)
        app = create_app(settings, self.engine, sample.SPECS)
        return World(self.engine, settings, app, self.tokens, self.area)


def csrf_of(html: str) -> str:
    import re

    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def build_world(engine: Engine, url: str) -> World:
    area = sample.build_area(engine)
    settings = make_settings(url)
    tokens: dict[str, str] = {}
    with session_scope(engine) as db:
        for company_id in COMPANIES:
            tokens[company_id] = create_link(db, company_id, 90, by="test").token
    return World(engine, settings, create_app(settings, engine, sample.SPECS), tokens, area)


@pytest.fixture
def world(store_engine: Engine, database_url: str) -> Iterator[World]:
    """The sample area with one link per company, on SQLite and PostgreSQL."""
    yield build_world(store_engine, database_url)
