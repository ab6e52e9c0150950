"""inputs: storefront visitors (anonymous history kept until a store-signed event identifies it)

Revision ID: 0019_inputs
Revises: 0018_decay
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import UTCDateTime

revision = "0019_inputs"
down_revision = "0018_decay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(160), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("identified_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name="fk_visitors_shop_id_shops", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_visitors_lead_id_leads", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_visitors"),
        sa.UniqueConstraint("shop_id", "client_id", name="uq_visitors_shop_id_client_id"),
    )
    op.create_index("ix_visitors_lead_id", "visitors", ["lead_id"])
    op.create_table(
        "visitor_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name="fk_visitor_tokens_shop_id_shops", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["visitors.id"], name="fk_visitor_tokens_visitor_id_visitors", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_visitor_tokens"),
        sa.UniqueConstraint("shop_id", "token", name="uq_visitor_tokens_shop_id_token"),
    )
    op.create_index("ix_visitor_tokens_visitor_id", "visitor_tokens", ["visitor_id"])
    op.create_table(
        "visitor_events",
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["visitors.id"], name="fk_visitor_events_visitor_id_visitors", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_visitor_events_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("visitor_id", "event_id", name="pk_visitor_events"),
    )
    op.create_index("ix_visitor_events_event_id", "visitor_events", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_visitor_events_event_id", table_name="visitor_events")
    op.drop_table("visitor_events")
    op.drop_index("ix_visitor_tokens_visitor_id", table_name="visitor_tokens")
    op.drop_table("visitor_tokens")
    op.drop_index("ix_visitors_lead_id", table_name="visitors")
    op.drop_table("visitors")
