"""Which event loop runs a scan: uvloop when it is installed, else asyncio's own.

A scan is thousands of short connections, TLS handshakes and DNS answers; uvloop (libuv, with
its own TLS transport) does the same work for about a quarter less CPU and holds less memory
than asyncio's selector loop (benchmarks/README.md, measured side by side). Nothing in
`exposure` depends on which loop runs it: the suite runs on asyncio's loop, and the modules
whose behaviour rests on the loop's transports (connections, TLS, a server's misbehaviour) run a
second time on uvloop (`EXPOSURE_TEST_LOOP=uvloop`, see the Makefile).

`event_loop` setting: "auto" (uvloop if importable), "uvloop" (an error if it is not
installed), "asyncio".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from exposure.app.gcpolicy import scanning_gc
from exposure.settings import Settings, SettingsError

T = TypeVar("T")


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """The factory of the loop `choice` names (see the module docstring)."""
    if choice not in ("auto", "uvloop", "asyncio"):
        raise SettingsError(f"event_loop: {choice!r} is not one of auto, uvloop, asyncio")
    if choice == "asyncio":
        return asyncio.new_event_loop
    try:
        import uvloop
    except ImportError as exc:
        if choice == "auto":
            return asyncio.new_event_loop
        raise SettingsError(f"event_loop: uvloop is not installed here ({exc})") from None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], settings: Settings) -> T:
    """`asyncio.run(main)` on the loop the settings ask for, with the garbage collector tuned
    for scanning (`exposure.app.gcpolicy`)."""
    try:
        factory = loop_factory(settings.event_loop)
    except SettingsError:
        main.close()
        raise
    with scanning_gc(), asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
