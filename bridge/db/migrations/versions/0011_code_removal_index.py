"""the clean-up's partial index on offers whose code must leave the store; WooCommerce carts stored with an
order-pay page as their recovery link lose it (a coupon cannot discount an order already created there)

Revision ID: 0011_code_removal_index
Revises: 0010_offer_code_removed
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_code_removal_index"
down_revision = "0010_offer_code_removed"
branch_labels = None
depends_on = None

DUE = sa.text(
    "code_removed_at IS NULL AND platform_discount_id IS NOT NULL"
    " AND status IN ('expired', 'cancelled', 'failed', 'suppressed')"
)


def upgrade() -> None:
    op.create_index("ix_offers_code_removal", "offers", ["attempts", "id"], postgresql_where=DUE, sqlite_where=DUE)
    op.execute(
        "UPDATE carts SET recovery_url = NULL WHERE recovery_url LIKE '%/order-pay/%'"
        " AND shop_id IN (SELECT id FROM shops WHERE platform = 'woocommerce')"
    )


def downgrade() -> None:
    op.drop_index("ix_offers_code_removal", table_name="offers")
