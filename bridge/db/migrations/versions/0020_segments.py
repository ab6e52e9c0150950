"""segments: reserved for issue 17's segments work (empty until it lands)

Revision ID: 0020_segments
Revises: 0019_inputs
"""

from __future__ import annotations

revision = "0020_segments"
down_revision = "0019_inputs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
