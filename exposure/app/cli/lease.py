"""The leases of the commands that must not overlap themselves (`exposure.store.lease`):
`scan`, `nightly`, `warn`, `report --overview`. One line and exit code 2 when another live
process holds one."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from exposure.app.cli.common import err, fail
from exposure.exit_codes import ExitCode
from exposure.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from exposure.store.lease import Lease

log = logging.getLogger("exposure.run")


def take_lease(engine: Engine, name: str, settings: Settings, *, wait: bool = False) -> Lease:
    """The lease of a job (`exposure.store.lease`), or one line and exit code 2 when another
    live process holds it; with `wait`, wait until it is free."""
    from exposure.store.exhaustion import cause_of, detail_of
    from exposure.store.lease import LeaseHeldError, acquire

    def waiting(line: str) -> None:
        err.print(f"waiting: {line}", markup=False, highlight=False)

    try:
        return acquire(
            engine,
            name,
            command=name,
            timeout=settings.lease_timeout,
            wait=wait,
            on_wait=waiting,
        )
    except LeaseHeldError as exc:
        log.info("%s", exc, extra={"action": "lease_refused"})  # JSON logs; text: the line
        fail(f"{exc}; not started (`--wait` waits for it)" if name == "scan" else f"{exc}")
    except Exception as exc:
        if cause_of(exc) is None:
            raise
        fail(f"{exc.__class__.__name__}: {detail_of(exc)}", ExitCode.INCOMPLETE)
