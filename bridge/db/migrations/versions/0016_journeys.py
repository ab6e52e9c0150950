"""journeys: runs (one per trigger instance), offers per step of a run, the customer's locale

Revision ID: 0016_journeys
Revises: 0015_session_version
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import Money, UTCDateTime

revision = "0016_journeys"
down_revision = "0015_session_version"
branch_labels = None
depends_on = None

RUN_DUE = "status = 'active'"


def upgrade() -> None:
    op.create_table(
        "journey_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("cart_id", sa.Integer(), nullable=True),
        sa.Column("journey_key", sa.String(40), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("instance", sa.String(80), nullable=False),
        sa.Column("trigger_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("holdout_stop", sa.Integer(), nullable=True),
        sa.Column("next_due_at", UTCDateTime(), nullable=True),
        sa.Column("last_sent_at", UTCDateTime(), nullable=True),
        sa.Column("deferred_reason", sa.String(40), nullable=True),
        sa.Column("exit_reason", sa.String(40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_journey_runs_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_journey_runs_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_journey_runs_cart_id_carts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_runs")),
        sa.UniqueConstraint("shop_id", "instance", name=op.f("uq_journey_runs_shop_id_instance")),
    )
    op.create_index("ix_journey_runs_lead", "journey_runs", ["lead_id", "created_at"])
    op.create_index("ix_journey_runs_cart", "journey_runs", ["cart_id"])
    op.create_index("ix_journey_runs_shop_created", "journey_runs", ["shop_id", "created_at"])
    op.create_index(
        "ix_journey_runs_due",
        "journey_runs",
        ["next_due_at"],
        postgresql_where=sa.text(RUN_DUE),
        sqlite_where=sa.text(RUN_DUE),
    )
    with op.batch_alter_table("offers") as batch:
        batch.drop_constraint("uq_offers_cart_id", type_="unique")
        batch.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("journey_key", sa.String(40), nullable=True))
        batch.add_column(sa.Column("locale", sa.String(35), nullable=True))
        batch.add_column(sa.Column("minimum_order", Money(), nullable=True))
        batch.create_foreign_key(
            "fk_offers_run_id_journey_runs", "journey_runs", ["run_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_unique_constraint("uq_offers_run_id_step", ["run_id", "step"])
        batch.create_index("ix_offers_cart", ["cart_id"])
    for table in ("leads", "carts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("locale", sa.String(35), nullable=True))
    op.create_index("ix_activities_shop_kind_occurred", "activities", ["shop_id", "kind", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_activities_shop_kind_occurred", table_name="activities")
    for table in ("leads", "carts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("locale")
    with op.batch_alter_table("offers") as batch:
        batch.drop_index("ix_offers_cart")
        batch.drop_constraint("uq_offers_run_id_step", type_="unique")
        batch.drop_constraint("fk_offers_run_id_journey_runs", type_="foreignkey")
        batch.drop_column("minimum_order")
        batch.drop_column("locale")
        batch.drop_column("journey_key")
        batch.drop_column("step")
        batch.drop_column("run_id")
        batch.create_unique_constraint("uq_offers_cart_id", ["cart_id"])
    op.drop_index("ix_journey_runs_due", table_name="journey_runs")
    op.drop_index("ix_journey_runs_shop_created", table_name="journey_runs")
    op.drop_index("ix_journey_runs_cart", table_name="journey_runs")
    op.drop_index("ix_journey_runs_lead", table_name="journey_runs")
    op.drop_table("journey_runs")
