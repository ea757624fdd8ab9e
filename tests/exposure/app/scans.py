"""Starting the CLI as a process, and a scan that is stopped (or broken) once it is under way:
shared by the clean-stop and run-lease tests."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

from exposure.testbed.runner import Testbed


async def cli(
    env: dict[str, str], *args: str, preexec: object = None
) -> asyncio.subprocess.Process:
    """`python -m exposure.app.cli *args`, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "exposure.app.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=preexec,  # type: ignore[arg-type]
    )


async def scan_under_way(
    tb: Testbed,
    members_csv: Path,
    database_url: str,
    under_way: Callable[[], bool],
    *,
    polls: int,
) -> tuple[dict[str, str], asyncio.subprocess.Process]:
    """Import the testbed's members, start `exposure scan` (one company at a time), and return
    once `under_way()` says so (or after `polls` looks 50 ms apart): the env and the process."""
    env = {
        **os.environ,
        **tb.env(),
        "EXPOSURE_DATABASE": database_url,
        "EXPOSURE_COMPANY_CONCURRENCY": "1",
    }
    members = tb.write_members_csv(members_csv)
    assert await (await cli(env, "targets", "import", str(members))).wait() == 0
    proc = await cli(env, "scan")
    for _ in range(polls):
        await asyncio.sleep(0.05)
        if under_way():
            break
    return env, proc
