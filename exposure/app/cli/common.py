"""What every command shares: settings from the global options, output, errors, the store.

One place for the error line (`exposure: error: ...`, exit code 2 unless said otherwise), so that
every command speaks the same way; the command modules import from here and never from each other's
private names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from exposure.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from exposure.scan.progress import ProgressSink

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """Print one error line on stderr (the caller decides the exit code)."""
    err.print(f"exposure: error: {message}", markup=False, highlight=False)


def fail(message: str, code: int = 2) -> NoReturn:
    error(message)
    raise typer.Exit(code)


class State:
    """The global options of one invocation; settings are read once, when a command needs them."""

    def __init__(self, config: Path | None, overrides: Mapping[str, object]) -> None:
        self._config = config
        self._overrides = dict(overrides)
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self._config, **self._overrides)
            except SettingsError as exc:
                fail(str(exc))
        return self._settings


def state_of(ctx: typer.Context) -> State:
    state = ctx.find_root().obj
    assert isinstance(state, State)
    return state


def settings_of(ctx: typer.Context) -> Settings:
    return state_of(ctx).settings


def open_store(settings: Settings) -> Engine:
    """The database, migrated; one clear line and exit 2 when it cannot be opened."""
    from exposure.store.db import make_engine, migrate

    try:
        engine = make_engine(settings.database)
        migrate(engine)
    except Exception as exc:  # a database that cannot be opened is the user's to fix
        fail(
            f"database {redact(settings.database)}: {exc.__class__.__name__}: {exc}".splitlines()[0]
        )
    return engine


def redact(url: str) -> str:
    """A database URL without its password, for messages and `doctor`."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database url>"


def progress() -> ProgressSink:
    """A bar on a terminal, log lines in a log file, JSON events with `--log-format json`."""
    from exposure.app.progress import for_terminal
    from exposure.logs import LogFormat, LogProgress, current_format

    return LogProgress() if current_format() is LogFormat.JSON else for_terminal()


def plain_row(table: Table, *cells: str) -> None:
    """A table row of text as it is: names, targets and messages come from member lists and
    scanned servers, and rich would read `[/x]` in them as markup (and fail on it)."""
    table.add_row(*(Text(cell) for cell in cells))
