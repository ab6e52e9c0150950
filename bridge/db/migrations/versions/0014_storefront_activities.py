"""activities from storefront events (`/collect`) are marked: their points are capped by the scoring engine

Revision ID: 0014_storefront_activities
Revises: 0013_woo_disconnected
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_storefront_activities"
down_revision = "0013_woo_disconnected"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("storefront", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Activities stored before: those whose source event is a storefront one.
    op.execute(
        "UPDATE activities SET storefront = TRUE WHERE source_event_id IN "
        "(SELECT id FROM events WHERE topic LIKE 'collect/%')"
    )


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("storefront")
