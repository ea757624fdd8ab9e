"""Which event loop runs a scan (`exposure.app.loop`), and which one this test run uses."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from exposure.app.loop import loop_factory, run
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


def test_a_scan_runs_with_the_collector_tuned_and_gets_the_defaults_back():
    """`exposure scan` and `exposure worker` freeze what exists when the scan starts and collect
    young objects less often (`exposure.app.gcpolicy`); afterwards Python's settings are back."""
    import gc

    from exposure.app.gcpolicy import GEN0_THRESHOLD

    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0 and before[0] != GEN0_THRESHOLD

    async def inside() -> tuple[tuple[int, int, int], int]:
        return gc.get_threshold(), gc.get_freeze_count()

    threshold, frozen = run(inside(), Settings(event_loop="asyncio"))
    assert threshold == (GEN0_THRESHOLD, before[1], before[2])
    assert frozen > 10_000  # the libraries imported by then
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_collector_settings_come_back_when_the_scan_fails():
    import gc

    before = gc.get_threshold()

    async def broken() -> None:
        raise RuntimeError("scan failed")

    with pytest.raises(RuntimeError):
        run(broken(), Settings(event_loop="asyncio"))
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
