"""indexes for the admin page: lead list order and email prefix search, carts by abandonment and by lead

Revision ID: 0005_admin_indexes
Revises: 0004_lead_total_spent

Measured with bench/admin.py (100,000 leads and carts on PostgreSQL): the lead list sorted by score,
the email search by prefix, the overview's abandoned-cart counts and the lead page's carts were scans.
On PostgreSQL the indexes are built CONCURRENTLY (no write lock on live tables).
"""

from __future__ import annotations

from alembic import op

revision = "0005_admin_indexes"
down_revision = "0004_lead_total_spent"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_leads_shop_score_id", "leads", ["shop_id", "score", "id"]),
    ("ix_carts_shop_abandoned", "carts", ["shop_id", "abandoned_at"]),
    ("ix_carts_lead", "carts", ["lead_id"]),
)
PREFIX = "ix_leads_shop_email_prefix"  # PostgreSQL only: LIKE 'abc%' needs varchar_pattern_ops


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.get_context().autocommit_block():
        for name, table, columns in INDEXES:
            op.create_index(name, table, columns, postgresql_concurrently=True)
        if postgres:
            op.create_index(
                PREFIX,
                "leads",
                ["shop_id", "email"],
                postgresql_ops={"email": "varchar_pattern_ops"},
                postgresql_concurrently=True,
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.get_context().autocommit_block():
        if postgres:
            op.drop_index(PREFIX, "leads", postgresql_concurrently=True)
        for name, table, _ in reversed(INDEXES):
            op.drop_index(name, table, postgresql_concurrently=True)
