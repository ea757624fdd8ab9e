"""Which event loop runs a scan (`exposure.loop`), and which one this test run uses."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from exposure.loop import loop_factory, run
from exposure.settings import Settings, SettingsError


async def test_the_suite_runs_on_the_asked_loop():
    """`EXPOSURE_TEST_LOOP=uvloop` must really run the tests on uvloop (else that pass proves
    nothing), and the default pass on asyncio's loop."""
    wanted = os.environ.get("EXPOSURE_TEST_LOOP", "asyncio")
    module = type(asyncio.get_running_loop()).__module__.split(".")[0]
    assert (module == "uvloop") == (wanted == "uvloop"), module


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def test_auto_runs_a_scan_on_uvloop_when_installed():
    assert run(_loop_module(), Settings(database="sqlite://")) == "uvloop"


def test_asyncio_can_be_asked_for():
    assert run(_loop_module(), Settings(database="sqlite://", event_loop="asyncio")) == "asyncio"


def test_uvloop_asked_for_but_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    with pytest.raises(SettingsError, match="uvloop is not installed"):
        loop_factory("uvloop")
    assert loop_factory("auto") is asyncio.new_event_loop  # auto falls back quietly
    main = _loop_module()
    with pytest.raises(SettingsError):
        run(main, Settings(database="sqlite://", event_loop="uvloop"))
    assert main.cr_frame is None  # closed, not left to warn "never awaited"


def test_an_unknown_loop_is_refused_by_the_settings():
    with pytest.raises(ValueError, match="event_loop"):
        Settings(database="sqlite://", event_loop="trio")  # type: ignore[arg-type]
