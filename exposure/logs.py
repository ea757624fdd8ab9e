"""Logging set-up: readable lines for a person, or JSON lines for a log collector.

`exposure --log-format json ...` writes one JSON object per line on stderr, so that the
ICT partner's monitoring (journald, Loki, a container platform) can filter on fields instead of
parsing text: `level`, `logger`, `message`, the time in UTC, the exception when there is one,
and every `extra={...}` field a caller (or procrastinate: `action`, `job_id`, `task_name`) adds.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


_current = LogFormat.TEXT
_handler: logging.Handler | None = None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line; values JSON cannot hold become strings."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False, separators=(",", ":"))


def configure(
    log_format: LogFormat | str = LogFormat.TEXT,
    *,
    verbose: bool = False,
    stream: TextIO | None = None,
) -> None:
    """Configure the root logger for a command (replacing what an earlier call installed).

    Text: warnings and worse unless `verbose`, as a person reading a terminal wants. JSON: from
    INFO up (job started/finished, run finished), as a log collector wants; DEBUG if `verbose`.
    """
    global _current
    fmt = _current = LogFormat(log_format)
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
        level = logging.DEBUG if verbose else logging.INFO
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
        level = logging.DEBUG if verbose else logging.WARNING
    if not verbose:
        handler.addFilter(_quiet_libraries)
    global _handler
    root = logging.getLogger()
    if _handler is not None:  # ours from an earlier call; handlers others installed stay
        root.removeHandler(_handler)
    _handler = handler
    root.addHandler(handler)
    root.setLevel(level)


# Libraries that are chatty at INFO (every HTTP request, every migration step): below WARNING
# they reach the output only with --verbose. A filter on our handler, not a level on their
# loggers, so that nothing global changes for whoever else listens (tests' log capture).
_NOISY = ("httpx", "httpcore", "psycopg.pool", "alembic")


def _quiet_libraries(record: logging.LogRecord) -> bool:
    if record.levelno >= logging.WARNING:
        return True
    return not any(record.name == n or record.name.startswith(n + ".") for n in _NOISY)


def current_format() -> LogFormat:
    """The format the last `configure` chose (commands pick their progress output by it)."""
    return _current


class LogProgress:
    """Scan progress as log records (a `ProgressSink`): what a log collector wants instead of a
    progress bar. At most one progress record per `every` seconds, plus every note."""

    def __init__(self, logger: logging.Logger | None = None, every: float = 30.0) -> None:
        import time

        self._log = logger or logging.getLogger("exposure.scan.progress")
        self._every = every
        self._clock = time.monotonic
        self._done = 0
        self._total = 0
        self._last = 0.0

    def start(self, total: int, resumed: int = 0) -> None:
        self._total = total
        self._done = resumed
        self._last = self._clock()
        self._log.info(
            "scanning %d companies (%d done earlier in this run)",
            total,
            resumed,
            extra={"action": "scan_started", "companies_total": total, "resumed_done": resumed},
        )

    def advance(self, company_id: str) -> None:
        self._done += 1
        now = self._clock()
        if now - self._last >= self._every or self._done == self._total:
            self._last = now
            self._log.info(
                "%d/%d companies scanned",
                self._done,
                self._total,
                extra={
                    "action": "progress",
                    "companies_done": self._done,
                    "companies_total": self._total,
                },
            )

    def note(self, line: str) -> None:
        self._log.warning(line, extra={"action": "note"})

    def close(self) -> None:
        pass
