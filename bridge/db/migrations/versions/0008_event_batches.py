"""events remember the RQ job that carries them: ingest queues one job per group-commit batch

Revision ID: 0008_event_batches
Revises: 0007_sweep_watermark
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_event_batches"
down_revision = "0007_sweep_watermark"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("job_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("job_id")
