"""admin users' session version: signing out or a new password ends every session cookie issued before

Revision ID: 0015_session_version
Revises: 0014_storefront_activities
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_session_version"
down_revision = "0014_storefront_activities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("session_version")
