"""One process at a time per job: a lease in the store, kept alive by a heartbeat.

A run row says `running` both while its process works and after that process crashed; two
`exposure scan` on one database then both scan, every member host gets twice the traffic and
the counts of the run are a mix of both. A lease tells the two apart: the holder's row (owner,
host, pid, last beat) is refreshed every few seconds from a thread of its own, so that a busy
event loop or a long store transaction never makes a live holder look dead.

A lease is free when there is no row, when its heartbeat is older than the timeout (the holder
stopped beating: crash, kill -9, a machine gone), or when its holder ran on this host and its
pid is gone. On PostgreSQL a session-level advisory lock is held besides the row: the server
frees it the moment the holder's connection ends, so a crashed holder's lease is free at once
there, and two processes can never both win a race. Taking a lease over is a compare-and-swap on
the old owner, so that of two processes taking over the same stale lease only one wins.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from exposure.models import RunLease, utcnow

log = logging.getLogger(__name__)

SCAN = "scan"
NIGHTLY = "nightly"
WARN = "warn"
OVERVIEW = "overview"

#: Seconds without a heartbeat after which a lease counts as abandoned (its holder crashed).
DEFAULT_TIMEOUT = 60.0
#: Beats per timeout: a holder has to miss this many in a row before it loses its lease.
BEATS_PER_TIMEOUT = 6

_TABLE = RunLease.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a lease, as stored."""

    name: str
    owner: str
    host: str
    pid: int
    command: str
    run_id: int | None
    acquired_at: datetime
    heartbeat_at: datetime

    def age(self, now: datetime) -> float:
        """Seconds since the last heartbeat."""
        return max(0.0, (now - self.heartbeat_at).total_seconds())

    def describe(self, now: datetime) -> str:
        """One line for a person: who, where, since when, how fresh."""
        what = f"run {self.run_id}" if self.run_id is not None else f"`exposure {self.command}`"
        return (
            f"{what} is in progress on host {self.host}, pid {self.pid}, since "
            f"{self.acquired_at:%Y-%m-%d %H:%M} UTC; last heartbeat {self.age(now):.0f} s ago"
        )


class LeaseHeldError(Exception):
    """Another live process holds the lease."""

    def __init__(self, holder: LeaseHolder | None, name: str, now: datetime) -> None:
        self.holder = holder
        if holder is None:  # PostgreSQL's lock is held, its row not yet written
            line = f"another `exposure {name}` is starting on this database"
        else:
            line = holder.describe(now)
        super().__init__(line)


def _holder(row: object) -> LeaseHolder:
    m = row._mapping  # type: ignore[attr-defined]
    return LeaseHolder(
        name=m["name"],
        owner=m["owner"],
        host=m["host"],
        pid=int(m["pid"]),
        command=m["command"],
        run_id=m["run_id"],
        acquired_at=m["acquired_at"],
        heartbeat_at=m["heartbeat_at"],
    )


def read(engine: Engine, name: str) -> LeaseHolder | None:
    """The lease's holder as stored (live or not), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(_TABLE).where(_TABLE.c.name == name)).first()
    return None if row is None else _holder(row)


def by_run(engine: Engine) -> dict[int, LeaseHolder]:
    """Held leases by the run they work on (`exposure runs`)."""
    with engine.connect() as conn:
        rows = conn.execute(select(_TABLE).where(_TABLE.c.run_id.is_not(None))).all()
    return {h.run_id: h for h in map(_holder, rows) if h.run_id is not None}


def _process_gone(host: str, pid: int) -> bool:
    """True only when the holder ran on this host and its process no longer exists."""
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class Lease:
    """A held lease: beat it from a thread, attach the run, release it (or use `with`)."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        owner: str,
        *,
        timeout: float,
        lock_connection: Connection | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.name = name
        self.owner = owner
        self.timeout = timeout
        self.lost = False  # another process took the lease over (we were silent too long)
        self._lock_connection = lock_connection
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start_heartbeat(self) -> None:
        interval = max(0.05, self.timeout / BEATS_PER_TIMEOUT)
        self._thread = threading.Thread(
            target=self._beat_loop,
            args=(interval,),
            name=f"exposure-lease-{self.name}",
            daemon=True,
        )
        self._thread.start()

    def _beat_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.beat()

    def beat(self) -> bool:
        """Refresh the heartbeat; False when the store could not take it or the lease was lost.

        A store that is full or gone makes every beat fail: one warning, not one per beat."""
        try:
            with self.engine.begin() as conn:
                updated = conn.execute(
                    update(_TABLE)
                    .where(_TABLE.c.name == self.name, _TABLE.c.owner == self.owner)
                    .values(heartbeat_at=self._clock())
                ).rowcount
        except Exception as exc:
            if not self._failing:
                log.info("lease %s: heartbeat not stored: %s", self.name, _first_line(exc))
                log.debug("lease %s: heartbeat failed", self.name, exc_info=True)
            self._failing = True
            return False
        self._failing = False
        if not updated and not self.lost:
            self.lost = True
            log.error("lease %s: taken over by another process", self.name)
        return bool(updated)

    def attach_run(self, run_id: int) -> None:
        """Name the run this lease works on, for the refusal line and `exposure runs`."""
        with self.engine.begin() as conn:
            conn.execute(
                update(_TABLE)
                .where(_TABLE.c.name == self.name, _TABLE.c.owner == self.owner)
                .values(run_id=run_id, heartbeat_at=self._clock())
            )

    def release(self) -> None:
        """Stop beating and free the lease; a store that cannot take it leaves a row that goes
        stale (and a PostgreSQL lock the server frees with the connection)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(_TABLE).where(_TABLE.c.name == self.name, _TABLE.c.owner == self.owner)
                )
        except Exception as exc:
            log.debug("lease %s: not released: %s", self.name, _first_line(exc), exc_info=True)
        if self._lock_connection is not None:
            _unlock(self._lock_connection)
            self._lock_connection = None

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _first_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unlock(conn: Connection) -> None:
    """Free the advisory lock before closing: the server ends a closed session a moment after
    the client let go, and a lease taken right after would find the lock still held."""
    with contextlib.suppress(Exception):
        conn.execute(text("SELECT pg_advisory_unlock_all()"))
        conn.commit()
    with contextlib.suppress(Exception):
        conn.close()


class _NotLocked:
    """PostgreSQL said another session holds the advisory lock."""


_HELD_ELSEWHERE = _NotLocked()


def _advisory_lock(engine: Engine, name: str) -> Connection | _NotLocked | None:
    """PostgreSQL: a connection holding the lease's advisory lock, or `_HELD_ELSEWHERE`. Other
    databases: None (the row alone decides). The key includes the schema, so that
    installations (and tests) sharing a database do not lock each other out."""
    if engine.dialect.name != "postgresql":
        return None
    conn = engine.connect()
    # Out of the pool: closing it must end the session, and the lock with it, not hand a
    # connection that still holds the lock to the next user of the pool.
    conn.detach()
    try:
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(hashtextextended(current_schema() || :key, 0))"),
            {"key": f":exposure:lease:{name}"},
        ).scalar()
        conn.commit()  # a session-level lock outlives the transaction
    except BaseException:
        conn.close()
        raise
    if not got:
        conn.close()
        return _HELD_ELSEWHERE
    return conn


def _try_acquire(
    engine: Engine, name: str, owner: str, command: str, timeout: float, locked: bool, now: datetime
) -> LeaseHolder | None:
    """One attempt: None when the lease is ours, else its live holder."""
    values = {
        "owner": owner,
        "host": socket.gethostname()[:255],
        "pid": os.getpid(),
        "command": command[:255],
        "run_id": None,
        "acquired_at": now,
        "heartbeat_at": now,
    }
    with engine.begin() as conn:
        row = conn.execute(select(_TABLE).where(_TABLE.c.name == name)).first()
        if row is None:
            conn.execute(insert(_TABLE).values(name=name, **values))
            return None
        holder = _holder(row)
        free = (
            locked  # PostgreSQL: we hold the lock, so whoever wrote the row is gone
            or holder.age(now) > timeout
            or _process_gone(holder.host, holder.pid)
        )
        if not free:
            return holder
        taken = conn.execute(
            update(_TABLE)
            .where(_TABLE.c.name == name, _TABLE.c.owner == holder.owner)
            .values(**values)
        ).rowcount
        if not taken:
            return holder
    log.warning(
        "lease %s of host %s, pid %d (last heartbeat %.0f s ago%s) taken over",
        name,
        holder.host,
        holder.pid,
        holder.age(now),
        f", run {holder.run_id}" if holder.run_id is not None else "",
        extra={"action": "lease_taken_over", "run_id": holder.run_id},
    )
    return None


def acquire(
    engine: Engine,
    name: str,
    *,
    command: str = "",
    timeout: float = DEFAULT_TIMEOUT,
    wait: bool = False,
    poll: float = 1.0,
    on_wait: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Lease:
    """Take the lease `name`, beating from a thread until released.

    Raises `LeaseHeldError` when a live process holds it; with `wait`, polls until it is free
    (`on_wait` hears the holder's line once)."""
    owner = uuid.uuid4().hex
    told = False
    while True:
        lock = _advisory_lock(engine, name)
        holder: LeaseHolder | None
        if isinstance(lock, _NotLocked):
            holder = read(engine, name)
        else:
            try:
                holder = _race_safe(engine, name, owner, command, timeout, lock is not None, clock)
            except BaseException:
                if lock is not None:
                    _unlock(lock)
                raise
            if holder is None:
                lease = Lease(
                    engine, name, owner, timeout=timeout, lock_connection=lock, clock=clock
                )
                lease.start_heartbeat()
                return lease
            if lock is not None:
                _unlock(lock)
        error = LeaseHeldError(holder, name, clock())
        if not wait:
            raise error
        if not told and on_wait is not None:
            on_wait(str(error))
            told = True
        time.sleep(poll)


def _race_safe(
    engine: Engine,
    name: str,
    owner: str,
    command: str,
    timeout: float,
    locked: bool,
    clock: Callable[[], datetime],
) -> LeaseHolder | None:
    """`_try_acquire`, again after losing a race: SQLite refuses the second of two writers that
    read the same snapshot ("database is locked"), and two inserts of a new row collide."""
    for attempt in range(20):
        try:
            return _try_acquire(engine, name, owner, command, timeout, locked, clock())
        except (IntegrityError, DBAPIError) as exc:
            lost_race = isinstance(exc, IntegrityError) or "locked" in str(exc).lower()
            if not lost_race or attempt == 19:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def held(engine: Engine, name: str, **kwargs: object) -> Iterator[Lease]:
    """`with held(engine, WARN, command="warn"):` the lease for the block."""
    lease = acquire(engine, name, **kwargs)  # type: ignore[arg-type]
    try:
        yield lease
    finally:
        lease.release()


def owner_cells(
    status: str,
    holder: LeaseHolder | None,
    timeout: float,
    now: datetime | None = None,
    *,
    queued: int = 0,
) -> tuple[str, str]:
    """`exposure runs`: who works on a run and how fresh its heartbeat is. A distributed run
    is the workers' while it has jobs queued (their heartbeats are the queue's). A `running`
    run without either is one whose process is gone: the next scan resumes it."""
    if holder is None and queued and status == "running":
        return "workers", f"{queued} companies queued or in progress"
    if holder is None:
        return ("", "none: resumed by the next scan") if status == "running" else ("", "")
    age = holder.age(now or utcnow())
    stale = " (stale: taken over by the next scan)" if age > timeout else ""
    return f"{holder.host} pid {holder.pid}", f"{age:.0f} s ago{stale}"
