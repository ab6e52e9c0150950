"""campaigns: offer cost and recipient, per-shop sweep index

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bridge.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.add_column(sa.Column("cost", bridge.db.types.Money(precision=14, scale=4), nullable=True))
        batch.add_column(sa.Column("recipient", sa.String(length=320), nullable=True))
    op.create_index("ix_carts_shop_due", "carts", ["shop_id", "status", "last_activity_at"])
    op.drop_index("ix_carts_due", table_name="carts")  # the per-shop index above serves the sweep
    op.create_table(
        "tier_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counts", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_tier_snapshots_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_snapshots")),
        sa.UniqueConstraint("shop_id", "day", name=op.f("uq_tier_snapshots_shop_id_day")),
    )


def downgrade() -> None:
    op.drop_table("tier_snapshots")
    op.create_index("ix_carts_due", "carts", ["status", "last_activity_at"])
    op.drop_index("ix_carts_shop_due", table_name="carts")
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("recipient")
        batch.drop_column("cost")
