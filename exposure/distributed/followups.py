"""What follows a nightly scan: the `after_scan` commands (warnings, reports).

They are ordinary `exposure` commands (`warn --send`, ...), run as child processes with the same
settings as the process that finished the scan (passed as `EXPOSURE_*` variables, so a setting
given on the command line or in a config file reaches them too). One mechanism for both modes:
`exposure nightly` runs them after an embedded scan, the distributed mode's `after_run` job after
the last company of a run was stored. A failing command fails the job (or the nightly command's
exit code), so a warning that was not sent never goes unnoticed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from exposure.settings import Settings

log = logging.getLogger(__name__)

OUTPUT_TAIL = 2000  # characters of a command's output kept in the log and the message


@dataclass(frozen=True, slots=True)
class FollowupResult:
    command: str
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        if self.ok:
            return f"`exposure {self.command}`: ok"
        last = self.output.strip().splitlines()[-1:] or ["no output"]
        return f"`exposure {self.command}` exited with {self.returncode}: {last[0]}"


def _env_value(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return (";" if name == "after_scan" else ",").join(str(v) for v in value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings that differ from the defaults, as the `EXPOSURE_*` variables that give them."""
    env: dict[str, str] = {}
    defaults = Settings.model_construct()
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value == getattr(defaults, name, object()) and name != "database":
            continue
        text = _env_value(name, value)
        if text is not None:
            env[f"EXPOSURE_{name.upper()}"] = text
    return env


async def run_followups(settings: Settings, run_id: int | None = None) -> list[FollowupResult]:
    """Run every `after_scan` command in order; each one's result (all run, failed or not)."""
    env = {**os.environ, **settings_env(settings)}
    env.pop("EXPOSURE_CONFIG", None)  # everything is in the variables now
    if run_id is not None:
        env["EXPOSURE_RUN_ID"] = str(run_id)
    results: list[FollowupResult] = []
    for command in settings.after_scan:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "exposure.app.cli",
            *shlex.split(command),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        raw, _ = await proc.communicate()
        output = raw.decode("utf-8", errors="replace")[-OUTPUT_TAIL:]
        result = FollowupResult(command, proc.returncode or 0, output)
        results.append(result)
        level = logging.INFO if result.ok else logging.ERROR
        log.log(
            level,
            "after scan: %s",
            result.describe(),
            extra={"run_id": run_id, "command": command, "output": output},
        )
    return results
