"""Tell a store that ran out of something (disk, its lock, its server) from a bug.

When the disk is full every later write fails the same way: retrying company by company and
logging a traceback for each only floods the log and hides the one line that matters. So a
write that fails for one of these causes stops the run cleanly (`StoreExhaustedError`): one
line naming the cause, the run marked unfinished as far as the store still allows, exit code 3.
Anything else is still a bug in one result, handled company by company as before.
"""

from __future__ import annotations

import errno

from sqlalchemy.exc import DBAPIError

DISK_FULL = "the disk is full"
DISK_ERROR = "the disk gave a write error (full, or a file size limit)"
LOCKED = "the database stayed locked by another process"
GONE = "the database went away"

# Substrings of driver messages (lower case) and what they mean. SQLite reports a full disk as
# SQLITE_FULL, a write the file system refused otherwise (quota, file size limit, a failing
# disk) as SQLITE_IOERR; PostgreSQL's connection losses come in several wordings.
_MESSAGES = (
    ("database or disk is full", DISK_FULL),
    ("no space left on device", DISK_FULL),
    ("could not extend file", DISK_FULL),
    ("disk quota exceeded", DISK_FULL),
    ("disk i/o error", DISK_ERROR),
    ("database is locked", LOCKED),
    ("database table is locked", LOCKED),
    ("unable to open database file", GONE),
    ("server closed the connection", GONE),
    ("connection refused", GONE),
    ("the connection is closed", GONE),
    ("terminating connection", GONE),
    ("connection failed", GONE),
    ("consuming input failed", GONE),
    ("connection to server", GONE),
)
_ERRNOS = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: DISK_FULL,
    errno.EFBIG: DISK_ERROR,
}
# SQLSTATE classes: 53 insufficient resources (53100 disk full), 08 connection exception,
# 57P0x the server shut down.
_SQLSTATES = {
    "53100": DISK_FULL,
    "53": DISK_FULL,
    "08": GONE,
    "57P01": GONE,
    "57P02": GONE,
    "57P03": GONE,  # cannot connect now (the server is starting or shutting down)
}
# SQLite's primary result codes (`sqlite3.Error.sqlite_errorcode`, extended codes keep them in
# the low byte): read before any message, so a wording change in SQLite cannot hide the cause.
_SQLITE_CODES = {13: DISK_FULL, 10: DISK_ERROR, 5: LOCKED, 6: LOCKED, 14: GONE}


class StoreExhaustedError(Exception):
    """The store stopped taking writes (disk full, locked, gone): the run cannot go on."""

    def __init__(self, cause: str, detail: str, run_id: int | None = None) -> None:
        self.cause = cause
        self.detail = detail
        self.run_id = run_id
        super().__init__(f"{cause} ({detail})")


def cause_of(exc: BaseException) -> str | None:
    """The resource the store ran out of, or None when `exc` is something else (a bug)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _one(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _one(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in _ERRNOS:
        return _ERRNOS[exc.errno]
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return GONE
    code = getattr(getattr(exc, "orig", exc), "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _SQLITE_CODES:
        return _SQLITE_CODES[code & 0xFF]
    state = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    if isinstance(state, str):
        for prefix in (state, state[:2]):
            if prefix in _SQLSTATES:
                return _SQLSTATES[prefix]
    # Last, the words: psycopg's connection-level failures carry no SQLSTATE.
    text = str(getattr(exc, "orig", None) or exc).lower()
    for needle, cause in _MESSAGES:
        if needle in text:
            return cause
    return None


def detail_of(exc: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's statement and parameters."""
    inner = getattr(exc, "orig", None) or exc
    text = f"{type(inner).__name__}: {inner}".strip()
    return text.splitlines()[0][:300]
