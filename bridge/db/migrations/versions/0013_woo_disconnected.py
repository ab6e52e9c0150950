"""shops.disconnected_at: when the store last refused the shop's credentials (a revoked WooCommerce key)

Revision ID: 0013_woo_disconnected
Revises: 0012_offer_period_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import UTCDateTime

revision = "0013_woo_disconnected"
down_revision = "0012_offer_period_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("disconnected_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("disconnected_at")
