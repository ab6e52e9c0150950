"""Inbound webhooks and storefront events as stored on receipt, before any fact is applied."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk

EVENT_STATUSES = ("pending", "processed", "failed", "ignored")


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    topic: Mapped[str] = mapped_column(sa.String(100))
    delivery_key: Mapped[str] = mapped_column(sa.String(255))
    received_at: Mapped[datetime]
    triggered_at: Mapped[datetime | None]
    payload: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    available_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    # The RQ job that carries this event (a batch job per group commit; NULL: the per-event `event-<id>`).
    job_id: Mapped[str | None] = mapped_column(sa.String(64))
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "delivery_key"),
        sa.Index("ix_events_status_available", "status", "available_at"),
        sa.Index("ix_events_shop_received", "shop_id", "received_at"),
    )
