"""prospects: the sales queue (status, owner, response timer) and its history of changes

Revision ID: 0022_prospects
Revises: 0021_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import UTCDateTime

revision = "0022_prospects"
down_revision = "0021_alerts"
branch_labels = None
depends_on = None

PROSPECT_OPEN = "closed_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "prospects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(80), nullable=False),
        sa.Column("score_at_entry", sa.Integer(), nullable=False),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("first_contacted_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name="fk_prospects_shop_id_shops", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name="fk_prospects_lead_id_leads", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["admin_users.id"], name="fk_prospects_owner_id_admin_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_prospects"),
    )
    op.create_index(
        "uq_prospects_open_lead",
        "prospects",
        ["shop_id", "lead_id"],
        unique=True,
        postgresql_where=sa.text(PROSPECT_OPEN),
        sqlite_where=sa.text(PROSPECT_OPEN),
    )
    op.create_index("ix_prospects_shop_status_due", "prospects", ["shop_id", "status", "due_at"])
    op.create_index("ix_prospects_lead", "prospects", ["lead_id"])
    op.create_table(
        "prospect_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("prospect_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("old_value", sa.String(40), nullable=True),
        sa.Column("new_value", sa.String(40), nullable=True),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name="fk_prospect_events_shop_id_shops", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["prospect_id"],
            ["prospects.id"],
            name="fk_prospect_events_prospect_id_prospects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_prospect_events"),
    )
    op.create_index("ix_prospect_events_prospect", "prospect_events", ["prospect_id", "at"])
    op.create_index("ix_prospect_events_shop_at", "prospect_events", ["shop_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_prospect_events_shop_at", table_name="prospect_events")
    op.drop_index("ix_prospect_events_prospect", table_name="prospect_events")
    op.drop_table("prospect_events")
    op.drop_index("ix_prospects_lead", table_name="prospects")
    op.drop_index("ix_prospects_shop_status_due", table_name="prospects")
    op.drop_index("uq_prospects_open_lead", table_name="prospects")
    op.drop_table("prospects")
