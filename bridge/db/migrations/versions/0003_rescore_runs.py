"""rescore runs: resumable progress of the bulk rescore after a rules change; leads by shop and id

Revision ID: 0003_rescore_runs
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.db.types

revision = "0003_rescore_runs"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rescore_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("last_lead_id", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("tier_changes", sa.Integer(), nullable=False),
        sa.Column("created_at", bridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_rescore_runs_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rescore_runs")),
        sa.UniqueConstraint("shop_id", "version", name=op.f("uq_rescore_runs_shop_id_version")),
    )
    op.create_index("ix_rescore_runs_status", "rescore_runs", ["status"])
    op.create_index("ix_leads_shop_id_id", "leads", ["shop_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_leads_shop_id_id", table_name="leads")
    op.drop_index("ix_rescore_runs_status", table_name="rescore_runs")
    op.drop_table("rescore_runs")
