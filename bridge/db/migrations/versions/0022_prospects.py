"""prospects: reserved for issue 17's prospects work (empty until it lands)

Revision ID: 0022_prospects
Revises: 0021_alerts
"""

from __future__ import annotations

revision = "0022_prospects"
down_revision = "0021_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
