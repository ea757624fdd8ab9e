"""Exit codes monitoring can rely on (README, "Exit codes"). Stable: scripts test for them.

cron mails and systemd's `OnFailure=` act on "non-zero"; a monitoring check can tell the cases
apart: 3 means "look at `exposure runs`, run `exposure scan` again", 4 means "the scanner was
blind (resolver down): nothing was scanned", 1 means a bug worth a report.
"""

from __future__ import annotations

from enum import IntEnum

from exposure.models import RunStatus


class ExitCode(IntEnum):
    OK = 0  # the run completed (or the command did what it should)
    ERROR = 1  # an unexpected error: a bug, a crash (the traceback is on stderr)
    USAGE = 2  # bad input or configuration: one line says which file, option or setting
    INCOMPLETE = 3  # the run stopped at its deadline, or some companies could not be scanned
    SOURCE_DOWN = (
        4  # a source of ours (resolver, outbound port 25) is down: run refused or degraded
    )
    FOLLOWUP_FAILED = 5  # `exposure nightly`: the scan ran, an `after_scan` command failed
    INTERRUPTED = 130  # Ctrl-C / SIGINT; what was stored is kept and the run resumes


def for_run_status(status: str) -> ExitCode:
    """A finished run's status as an exit code."""
    if status == RunStatus.COMPLETE:
        return ExitCode.OK
    return ExitCode.SOURCE_DOWN if status == RunStatus.DEGRADED else ExitCode.INCOMPLETE
