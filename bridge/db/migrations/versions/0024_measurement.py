"""measurement: reserved for issue 18's measurement work (empty until it lands)

Revision ID: 0024_measurement
Revises: 0023_variants
"""

from __future__ import annotations

revision = "0024_measurement"
down_revision = "0023_variants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
