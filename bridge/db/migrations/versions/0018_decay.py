"""decay: leads.score_due_at, when decay alone next moves a lead's score to another tier (issue 17)

Leads scored before this revision have no due time yet: the warm and hot ones (which decay can lower) are
made due at once, and the decay job rescores them a bounded batch at a time, which fills in their real one.

Revision ID: 0018_decay
Revises: 0017_products
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.db.types import UTCDateTime

revision = "0018_decay"
down_revision = "0017_products"
branch_labels = None
depends_on = None

SCORE_DUE = "score_due_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("score_due_at", UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE leads SET score_due_at = score_computed_at "
        "WHERE tier IN ('warm', 'hot') AND score_computed_at IS NOT NULL AND redacted_at IS NULL"
    )
    op.create_index(
        "ix_leads_score_due",
        "leads",
        ["score_due_at", "id"],
        postgresql_where=sa.text(SCORE_DUE),
        sqlite_where=sa.text(SCORE_DUE),
    )


def downgrade() -> None:
    op.drop_index("ix_leads_score_due", table_name="leads")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("score_due_at")
