"""products: the product store (what leads view, add and buy) for segments' affinity and the messages

Revision ID: 0017_products
Revises: 0016_journeys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import JSONDoc, Money, UTCDateTime

revision = "0017_products"
down_revision = "0016_journeys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(255), nullable=True),
        sa.Column("handle", sa.String(255), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("price", Money(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("collections", JSONDoc, nullable=False),
        sa.Column("tags", JSONDoc, nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("looked_up_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name="fk_products_shop_id_shops", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.UniqueConstraint("shop_id", "product_id", name="uq_products_shop_id_product_id"),
    )
    op.create_table(
        "lead_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("variant_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name="fk_lead_products_shop_id_shops", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name="fk_lead_products_lead_id_leads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_lead_products"),
        sa.UniqueConstraint(
            "lead_id", "product_id", "action", name="uq_lead_products_lead_id_product_id_action"
        ),
    )
    op.create_index(
        "ix_lead_products_shop_product", "lead_products", ["shop_id", "product_id", "action", "last_at"]
    )
    op.create_table(
        "lead_product_refs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("ref", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name="fk_lead_product_refs_lead_id_leads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_lead_product_refs"),
        sa.UniqueConstraint(
            "lead_id",
            "product_id",
            "action",
            "ref",
            name="uq_lead_product_refs_lead_id_product_id_action_ref",
        ),
    )


def downgrade() -> None:
    op.drop_table("lead_product_refs")
    op.drop_index("ix_lead_products_shop_product", table_name="lead_products")
    op.drop_table("lead_products")
    op.drop_table("products")
