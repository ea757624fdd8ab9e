"""Persistence: engine set-up, migrations, the findings lifecycle and the single writer.

engine = make_engine(settings.database); migrate(engine)
with session(engine) as db:
    run, pending = start_or_resume_run(db, company_ids, scope)
async with StoreWriter(engine) as writer:
    for result in ...: await writer.submit(result)
with session(engine) as db:
    finish_run(db, run.id, "complete", summary)
"""

from exposure.store.db import SchemaStatus, check_current, make_engine, migrate, session
from exposure.store.lifecycle import apply_company_result
from exposure.store.queries import (
    CompanyRow,
    FindingRow,
    TargetRow,
    finding_history,
    get_run,
    latest_run,
    list_companies,
    list_findings,
    open_by_severity,
    recent_runs,
    run_errors,
    warned_fingerprints,
)
from exposure.store.runs import (
    finish_run,
    mark_interrupted,
    pending_companies,
    start_or_resume_run,
)
from exposure.store.writer import StoreFailure, StoreWriter

__all__ = [
    "CompanyRow",
    "FindingRow",
    "SchemaStatus",
    "StoreFailure",
    "StoreWriter",
    "TargetRow",
    "apply_company_result",
    "check_current",
    "finding_history",
    "finish_run",
    "get_run",
    "latest_run",
    "list_companies",
    "list_findings",
    "make_engine",
    "mark_interrupted",
    "migrate",
    "open_by_severity",
    "pending_companies",
    "recent_runs",
    "run_errors",
    "session",
    "start_or_resume_run",
    "warned_fingerprints",
]
