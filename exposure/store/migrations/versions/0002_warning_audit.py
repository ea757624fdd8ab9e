"""Warning audit: per fingerprint the episode and the reason, plus the subject and Message-ID.

`exposure warn` decides what is new since the last message by comparing each open finding with
what the last delivered warning said about it: its severity (already stored), its episode (the
finding's `reopened_count`, so that a finding that came back is told again, whatever the
clocks of the machines that scanned it say) and why it was in the message. The subject and the
Message-ID make the audit trail say what was sent, not only when and to whom.

Revision ID: 0002_warning_audit
Revises: 0001_baseline
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002_warning_audit"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("warning", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("episodes", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("reasons", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("subject", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("message_id", sa.String(length=255), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("warning", schema=None) as batch_op:
        batch_op.drop_column("message_id")
        batch_op.drop_column("subject")
        batch_op.drop_column("reasons")
        batch_op.drop_column("episodes")
