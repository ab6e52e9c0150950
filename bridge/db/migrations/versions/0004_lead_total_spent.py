"""leads.total_spent, for profile criteria on what a customer has spent

Revision ID: 0004_lead_total_spent
Revises: 0003_rescore_runs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.db.types

revision = "0004_lead_total_spent"
down_revision = "0003_rescore_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(
            sa.Column(
                "total_spent", bridge.db.types.Money(precision=14, scale=4), nullable=False, server_default="0"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("total_spent")
