"""inputs: reserved for issue 17's inputs work (empty until it lands)

Revision ID: 0019_inputs
Revises: 0018_decay
"""

from __future__ import annotations

revision = "0019_inputs"
down_revision = "0018_decay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
