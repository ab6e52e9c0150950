"""orders keep their cart and checkout tokens, so a checkout that arrives after its order is closed at once

Revision ID: 0006_order_tokens
Revises: 0005_admin_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_order_tokens"
down_revision = "0005_admin_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("checkout_token", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("cart_token", sa.String(length=255), nullable=True))
    op.create_index("ix_orders_shop_checkout_token", "orders", ["shop_id", "checkout_token"])
    op.create_index("ix_orders_shop_cart_token", "orders", ["shop_id", "cart_token"])


def downgrade() -> None:
    op.drop_index("ix_orders_shop_cart_token", table_name="orders")
    op.drop_index("ix_orders_shop_checkout_token", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("cart_token")
        batch.drop_column("checkout_token")
