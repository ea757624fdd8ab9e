"""Progress for a person: a bar on a terminal, plain log lines in cron and CI logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from exposure.scan.progress import ProgressSink


class PlainProgress:
    """One line per `every` seconds at most, plus every note: readable in a log file."""

    def __init__(self, stream: TextIO | None = None, every: float = 10.0) -> None:
        self._stream = stream or sys.stderr
        self._every = every
        self._done = 0
        self._total = 0
        self._last = 0.0

    def start(self, total: int, resumed: int = 0) -> None:
        self._total = total
        self._done = resumed  # a resumed run counts what it did before: it ends at total/total
        extra = f" (resuming: {resumed} already done)" if resumed else ""
        self.note(f"scanning {total} companies{extra}")
        self._last = time.monotonic()

    def advance(self, company_id: str) -> None:
        self._done += 1
        now = time.monotonic()
        if now - self._last >= self._every or self._done == self._total:
            self._last = now
            self.note(f"{self._done}/{self._total} companies scanned")

    def note(self, line: str) -> None:
        print(line, file=self._stream, flush=True)

    def close(self) -> None:
        pass


class RichProgress:
    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]scan"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("companies"),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
        )
        self._task: object = None

    def start(self, total: int, resumed: int = 0) -> None:
        if resumed:
            self._console.print(f"resuming the interrupted run: {resumed} companies already done")
        self._progress.start()
        self._task = self._progress.add_task("scan", total=total, completed=resumed)

    def advance(self, company_id: str) -> None:
        if self._task is not None:
            self._progress.advance(self._task)  # type: ignore[arg-type]

    def note(self, line: str) -> None:
        self._console.print(line, markup=False, highlight=False)

    def close(self) -> None:
        self._progress.stop()


def for_terminal(stream: TextIO | None = None) -> ProgressSink:
    stream = stream or sys.stderr
    if stream.isatty():
        return RichProgress(Console(file=stream))
    return PlainProgress(stream)
