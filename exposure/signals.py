"""SIGTERM stops a command the way Ctrl-C does.

systemd, Docker and Kubernetes stop a process with SIGTERM, and Python's default for it is to
die on the spot: a scan then leaves its run `running` and the results in flight unwritten. Here
the first SIGTERM takes the same path as SIGINT (stop taking new work, store what finished,
mark the run interrupted) and the command exits with 143 (128 + 15, what a shell reports for a
terminated process); a second signal exits at once, for an operator who means it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

from exposure.exit_codes import ExitCode

T = TypeVar("T")

EXIT_TERMINATED = int(ExitCode.TERMINATED)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwinds like Ctrl-C (every `except KeyboardInterrupt` cleans up), but
    the command exits with 143 instead of 130."""


async def cancel_on_sigterm(main: Coroutine[Any, Any, T]) -> T:
    """Await `main`; SIGTERM cancels it (its cleanup runs) and raises `Terminated`.

    Cancelling the task, as asyncio's runner does for Ctrl-C, is the only safe way to stop a
    coroutine: an exception raised by a signal handler could land inside the loop itself."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received = 0

    def on_sigterm() -> None:
        nonlocal received
        received += 1
        if received > 1:
            os._exit(EXIT_TERMINATED)
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
        return await main
    try:
        return await main
    except asyncio.CancelledError:
        if received:
            raise Terminated() from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


class SigtermSeen:
    """How many SIGTERMs `sigterm_raises` saw: for code that swallows KeyboardInterrupt itself
    (uvicorn does), the only trace left of the signal."""

    def __init__(self) -> None:
        self.received = 0


@contextlib.contextmanager
def sigterm_raises() -> Iterator[SigtermSeen]:
    """For synchronous code: SIGTERM raises `Terminated` where the program is, as SIGINT raises
    KeyboardInterrupt (so the same cleanup runs); a second SIGTERM exits at once."""
    seen = SigtermSeen()

    def handler(signum: int, frame: FrameType | None) -> None:
        seen.received += 1
        if seen.received > 1:
            os._exit(EXIT_TERMINATED)
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield seen
        return
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_code(exc: KeyboardInterrupt) -> int:
    """143 for SIGTERM, 130 for Ctrl-C."""
    return EXIT_TERMINATED if isinstance(exc, Terminated) else int(ExitCode.INTERRUPTED)
