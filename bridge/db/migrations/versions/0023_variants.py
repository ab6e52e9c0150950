"""variants: reserved for issue 18's variants work (empty until it lands)

Revision ID: 0023_variants
Revises: 0022_prospects
"""

from __future__ import annotations

revision = "0023_variants"
down_revision = "0022_prospects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
