"""Alembic environment for exposure: run by `exposure.store.db.migrate()` and by the `alembic`
command of developers (repo-root `alembic.ini`).

`migrate()` hands in an open connection (`config.attributes["connection"]`) so the migrations
run inside the caller's transaction on the caller's engine. The `alembic` command has none;
it builds an engine from `EXPOSURE_DATABASE` (or `sqlalchemy.url`) with `make_engine`, so URLs
are read the same way as by the application.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import exposure.models  # noqa: F401  (registers every table on SQLModel.metadata)
from exposure.store.db import database_url, make_engine

config = context.config
if config.config_file_name is not None:  # the `alembic` command: log as alembic.ini says
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render SQLModel's AutoString as plain sa.String so migrations never import sqlmodel."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # ALTERs become table rebuilds on SQLite; plain ALTERs elsewhere
        compare_type=True,
        render_item=render_item,
    )


def _url() -> str:
    return (
        os.environ.get("EXPOSURE_DATABASE")
        or config.get_main_option("sqlalchemy.url")
        or "sqlite:///exposure.db"
    )


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: print the DDL instead of running it."""
    context.configure(
        url=database_url(_url()),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
