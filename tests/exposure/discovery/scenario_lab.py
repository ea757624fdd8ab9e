"""The discovery scenario's settings and member import, shared by the tests that run discovery
end to end on it (the "done when" and the Shodan credit budget); the testbed is `conftest.tb`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from exposure.settings import Settings
from exposure.store.db import session
from exposure.testbed.runner import Testbed
from targets.csv import read_members
from targets.sync import apply_import, plan_import


def settings(tb: Testbed, engine: Engine, **more: Any) -> Settings:
    """Discovery against the testbed (Shodan with its key) and `engine`'s store."""
    return Settings(
        **tb.settings_overrides(shodan_key=True),
        database=engine.url.render_as_string(hide_password=False),
        shodan_request_interval=0.06,
        **more,
    )


def import_members(tb: Testbed, engine: Engine, tmp: Path) -> list[str]:
    """The scenario's member list in the store; the company ids, sorted."""
    members = read_members(tb.write_members_csv(tmp / "members.csv"))
    with session(engine) as db:
        apply_import(db, plan_import(db, members, prune=False))
    return sorted(m.id for m in members)
