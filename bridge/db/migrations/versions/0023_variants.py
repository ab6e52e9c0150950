"""variants: the A/B variant a journey step's offer row went out as (offers.variant)

Revision ID: 0023_variants
Revises: 0022_prospects
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_variants"
down_revision = "0022_prospects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("offers", sa.Column("variant", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("variant")
