"""decay: reserved for issue 17's decay work (empty until it lands)

Revision ID: 0018_decay
Revises: 0017_products
"""

from __future__ import annotations

revision = "0018_decay"
down_revision = "0017_products"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
