"""offers.code_removed_at: when the store confirmed an offer's code removed (the clean-up retries until then)

Revision ID: 0010_offer_code_removed
Revises: 0009_payload_lz4
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import UTCDateTime

revision = "0010_offer_code_removed"
down_revision = "0009_payload_lz4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.add_column(sa.Column("code_removed_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("code_removed_at")
