"""alerts: subscriptions' signing secrets (encrypted) and the delivery log of signed events and alert emails

Revision ID: 0021_alerts
Revises: 0020_segments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import JSONDoc, UTCDateTime

revision = "0021_alerts"
down_revision = "0020_segments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name="fk_alert_secrets_shop_id_shops", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_secrets"),
        sa.UniqueConstraint("shop_id", "key", name="uq_alert_secrets_shop_id_key"),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("refs", JSONDoc, nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name="fk_alert_deliveries_shop_id_shops", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
        sa.UniqueConstraint("event_id", "target", name="uq_alert_deliveries_event_id_target"),
    )
    op.create_index("ix_alert_deliveries_shop_created", "alert_deliveries", ["shop_id", "created_at"])
    op.create_index("ix_alert_deliveries_status_created", "alert_deliveries", ["status", "created_at"])
    op.create_index("ix_journey_runs_ended", "journey_runs", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_journey_runs_ended", table_name="journey_runs")
    op.drop_index("ix_alert_deliveries_status_created", table_name="alert_deliveries")
    op.drop_index("ix_alert_deliveries_shop_created", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_table("alert_secrets")
