"""webhook payloads compressed with lz4 on PostgreSQL (cheaper than pglz to write and to read back)

Revision ID: 0009_payload_lz4
Revises: 0008_event_batches
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_payload_lz4"
down_revision = "0008_event_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or (bind.dialect.server_version_info or (0,)) < (14,):
        return
    try:  # new rows only; a server built without lz4 keeps pglz
        with bind.begin_nested():
            bind.exec_driver_sql("ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4")
    except sa.exc.DBAPIError:
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE events ALTER COLUMN payload SET COMPRESSION pglz")
