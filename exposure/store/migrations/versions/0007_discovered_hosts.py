"""Discovered names become `host` targets: a machine, not a registered domain.

Until now a confirmed discovered name (`vpn.haven.nl`) became a `domain` target, so every
domain family ran on it: the mail and DNS checks then reported "no SPF", "no DMARC", "no
DNSSEC" for a VPN gateway, which has no mail and no zone of its own. From this revision such a
target is of kind `host`, which only the checks that look at the host itself apply to (TLS,
web, Shodan). Open or accepted findings of the other families on those targets are resolved,
with a history event that says why: they were never the member's problem.

The families' id prefixes are written out here as they stand at this revision, on purpose: a
migration must mean the same thing whatever the installed checks say later.

Revision ID: 0007_discovered_hosts
Revises: 0006_discovery
Create Date: 2026-12-06

"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007_discovered_hosts"
down_revision: str | Sequence[str] | None = "0006_discovery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The id prefixes of the families that apply to a host (tls, web, shodan) at this revision.
HOST_PREFIXES = ("tls.", "web.", "exposure.")
NOTE = "discovered host: this check applies to registered domains only"


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    target = sa.table(
        "target",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("origin", sa.String),
    )
    finding = sa.table(
        "finding",
        sa.column("id", sa.Integer),
        sa.column("target_id", sa.Integer),
        sa.column("check_id", sa.String),
        sa.column("severity", sa.String),
        sa.column("status", sa.String),
        sa.column("resolved_at", sa.DateTime),
    )
    event = sa.table(
        "findingevent",
        sa.column("finding_id", sa.Integer),
        sa.column("at", sa.DateTime),
        sa.column("event", sa.String),
        sa.column("severity", sa.String),
        sa.column("note", sa.String),
    )
    hosts = [
        row.id
        for row in bind.execute(
            sa.select(target.c.id).where(
                target.c.kind == "domain", target.c.origin == "discovered"
            )
        )
    ]
    if not hosts:
        return
    bind.execute(sa.update(target).where(target.c.id.in_(hosts)).values(kind="host"))
    stale = bind.execute(
        sa.select(finding.c.id, finding.c.check_id, finding.c.severity).where(
            finding.c.target_id.in_(hosts), finding.c.status.in_(("open", "accepted"))
        )
    ).all()
    gone = [row for row in stale if not row.check_id.startswith(HOST_PREFIXES)]
    for row in gone:
        bind.execute(
            sa.update(finding)
            .where(finding.c.id == row.id)
            .values(status="resolved", resolved_at=now)
        )
        bind.execute(
            sa.insert(event).values(
                finding_id=row.id, at=now, event="resolved", severity=row.severity, note=NOTE
            )
        )


def downgrade() -> None:
    target = sa.table("target", sa.column("kind", sa.String), sa.column("origin", sa.String))
    op.get_bind().execute(
        sa.update(target)
        .where(target.c.kind == "host", target.c.origin == "discovered")
        .values(kind="domain")
    )
