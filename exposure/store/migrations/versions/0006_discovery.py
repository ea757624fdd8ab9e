"""Discovery: the `discovered_host` table and `target.origin` (listed | discovered), issue #22.

Revision ID: 0006_discovery
Revises: 0005_run_lease
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006_discovery"
down_revision: str | Sequence[str] | None = "0005_run_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), server_default="listed", nullable=False)
        )
    op.create_table(
        "discovered_host",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("disputed_at", sa.DateTime(), nullable=True),
        sa.Column("dispute_note", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_discovered_host_company_id_company")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discovered_host")),
        sa.UniqueConstraint("company_id", "kind", "value", name="uq_discovered_host"),
    )
    with op.batch_alter_table("discovered_host", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_discovered_host_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_discovered_host_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("discovered_host", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discovered_host_state"))
        batch_op.drop_index(batch_op.f("ix_discovered_host_company_id"))
    op.drop_table("discovered_host")
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.drop_column("origin")
