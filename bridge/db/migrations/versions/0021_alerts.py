"""alerts: reserved for issue 17's alerts work (empty until it lands)

Revision ID: 0021_alerts
Revises: 0020_segments
"""

from __future__ import annotations

revision = "0021_alerts"
down_revision = "0020_segments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
