"""Distributed scans: one procrastinate job per company, on the PostgreSQL we already use.

The embedded mode (`exposure scan`) drives `exposure.scan.orchestrator.scan_company` in one process.
The distributed mode puts one job per company in procrastinate's queue (tables in the same
PostgreSQL database as the store) and any number of `exposure worker` processes, on any number
of machines, run the same `scan_company` coroutine as the job body and apply each result with
the same store code. Nothing else is needed: no broker, no second database.

The guarantees, and where they are kept:

- A company is never scanned twice at once: its jobs carry the lock `company:<id>` (procrastinate
  runs no two jobs with one lock at the same time) and the queueing lock `scan:<run>:<id>` (a run
  never queues a company twice). `bookkeeping.apply_once` makes the store the last word: it locks
  the company's row in the run and applies a result only when the company is not done yet, so a
  job that ran twice (a worker thought dead that was not) changes the store once.
- Nothing is lost: a killed worker stops sending heartbeats; every other worker looks for jobs of
  stalled workers (`worker.reap_stalled`) and puts them back in the queue. A job fails for good
  only after `MAX_ATTEMPTS`; the company is then recorded as failed in the run (a "could not
  test", never a pass) and the run ends `incomplete`, so the next scan with its scope resumes it.
- A run knows when it is done: after each company, the job that applied it locks the run row and
  counts the companies still pending; the one that sees none finishes the run (status and the
  stored summary) and queues the follow-ups (warnings, reports). Findings are resolved per
  company, atomically with that company's result, exactly as in the embedded mode: a finding
  belongs to one company, and only that company's complete result can resolve it.
- Politeness holds across workers: `limits.AdvisoryLimits` backs the per-IP slots with
  PostgreSQL advisory locks, so two workers together open no more connections to one hosting IP
  than one worker would.
"""

from exposure.distributed.app import (
    COMPANY_TASK,
    MAX_ATTEMPTS,
    ExposureApp,
    make_app,
    prepare_database,
    require_postgres,
)

__all__ = [
    "COMPANY_TASK",
    "MAX_ATTEMPTS",
    "ExposureApp",
    "make_app",
    "prepare_database",
    "require_postgres",
]
