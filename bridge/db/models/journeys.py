"""Journey runs: one per trigger instance (a cart, a sign-up, a browse, a tier entered), stepping through
its journey's steps; each step sent (or held out) is an offer row carrying the run and the step."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk

RUN_STATUSES = ("active", "ended")
# The sweep's partial index: only runs with a step still to send (ended runs never enter it).
RUN_DUE = "status = 'active'"


class JourneyRun(Base):
    __tablename__ = "journey_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    lead_id: Mapped[int] = mapped_column(cascade_fk("leads.id"))
    cart_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carts.id", ondelete="SET NULL"))
    journey_key: Mapped[str] = mapped_column(sa.String(40))
    trigger: Mapped[str] = mapped_column(sa.String(20))
    # What makes the run unique within its shop: "cart:<id>", "signup:<lead>", "tier:hot:<lead>", ...
    instance: Mapped[str] = mapped_column(sa.String(80))
    trigger_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(8), default="active")
    step: Mapped[int] = mapped_column(default=0)  # the index of the next step to send
    # The control group: the run stops before this step (None: it receives every step).
    holdout_stop: Mapped[int | None]
    next_due_at: Mapped[datetime | None]
    last_sent_at: Mapped[datetime | None]
    deferred_reason: Mapped[str | None] = mapped_column(sa.String(40))
    exit_reason: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "instance"),
        sa.Index("ix_journey_runs_lead", "lead_id", "created_at"),
        sa.Index("ix_journey_runs_cart", "cart_id"),
        sa.Index("ix_journey_runs_shop_created", "shop_id", "created_at"),
        sa.Index(
            "ix_journey_runs_due",
            "next_due_at",
            postgresql_where=sa.text(RUN_DUE),
            sqlite_where=sa.text(RUN_DUE),
        ),
    )
