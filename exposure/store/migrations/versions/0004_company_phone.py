"""Company phone: the member list's optional `phone` column, for the Meldpunt's call list.

The morning call list (`exposure report --calls`, `/meldpunt`) names whom to call; an e-mail
address alone does not get a shop owner on the line. Empty for a company whose list has none.

Revision ID: 0004_company_phone
Revises: 0003_portal
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004_company_phone"
down_revision: str | Sequence[str] | None = "0003_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone", sa.String(length=32), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("phone")
