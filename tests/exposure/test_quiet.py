"""No third-party warning reaches a user's terminal: `exposure checks`, in a fresh process as a
user runs it, writes the catalogue to stdout and nothing at all to stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_exposure_checks_in_a_fresh_process_writes_nothing_on_stderr(tmp_path):
    command = Path(sys.executable).with_name("exposure")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXPOSURE_", "PYTHON"))}
    done = subprocess.run(
        [str(command), "checks"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "target.unresolvable" in done.stdout
    assert done.stderr == ""
