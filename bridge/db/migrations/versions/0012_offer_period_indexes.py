"""offers by shop and send time, and by shop and redemption time: the metrics count both over a period

Revision ID: 0012_offer_period_indexes
Revises: 0011_code_removal_index
"""

from __future__ import annotations

from alembic import op

revision = "0012_offer_period_indexes"
down_revision = "0011_code_removal_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_offers_shop_sent", "offers", ["shop_id", "sent_at"])
    op.create_index("ix_offers_shop_redeemed", "offers", ["shop_id", "redeemed_at"])


def downgrade() -> None:
    op.drop_index("ix_offers_shop_redeemed", table_name="offers")
    op.drop_index("ix_offers_shop_sent", table_name="offers")
