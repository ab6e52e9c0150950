"""a per-shop sweep watermark: the sweep claims a time window instead of writing every due cart

Revision ID: 0007_sweep_watermark
Revises: 0006_order_tokens
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import UTCDateTime

revision = "0007_sweep_watermark"
down_revision = "0006_order_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("swept_until", UTCDateTime(timezone=True), nullable=True))
    due = sa.text("status = 'active' AND email IS NOT NULL")
    op.create_index(
        "ix_carts_sweep", "carts", ["shop_id", "last_activity_at"], postgresql_where=due, sqlite_where=due
    )


def downgrade() -> None:
    op.drop_index("ix_carts_sweep", table_name="carts")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("swept_until")
