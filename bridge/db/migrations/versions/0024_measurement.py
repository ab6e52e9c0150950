"""measurement: what a shop spends per traffic source and month (cost per lead and per customer)

Revision ID: 0024_measurement
Revises: 0023_variants
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import Money, UTCDateTime

revision = "0024_measurement"
down_revision = "0023_variants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_spend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_source_spend_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_spend")),
        sa.UniqueConstraint("shop_id", "source", "month", name=op.f("uq_source_spend_shop_id_source_month")),
    )


def downgrade() -> None:
    op.drop_table("source_spend")
