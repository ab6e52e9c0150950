"""Merchant alerts: the subscriptions' signing secrets (kept apart from the rules document) and the delivery
log of every signed event, Slack message and alert email."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk
from bridge.db.models.journeys import JourneyRun

ALERT_CHANNELS = ("webhook", "slack", "email", "digest")
DELIVERY_STATUSES = ("pending", "sent", "failed")


class AlertSecret(Base):
    """One subscription's signing secret, Fernet-encrypted, by the subscription's key: the rules document
    (versioned, diffed, shown in the admin) never holds it."""

    __tablename__ = "alert_secrets"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    key: Mapped[str] = mapped_column(sa.String(40))
    secret_enc: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(sa.String(320), default="")
    __table_args__ = (sa.UniqueConstraint("shop_id", "key"),)


class AlertDelivery(Base):
    """One event (or alert email) for one target: what happened to it, without personal data.

    `refs` holds ids only (lead, cart, offer, run) and non-personal facts; the payload is built from them when
    sent, so an erased lead is never sent."""

    __tablename__ = "alert_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    event_id: Mapped[str] = mapped_column(sa.String(64))  # the payload's `id`: receivers de-duplicate on it
    event_type: Mapped[str] = mapped_column(sa.String(32))
    channel: Mapped[str] = mapped_column(sa.String(8))  # one of ALERT_CHANNELS
    target: Mapped[str] = mapped_column(sa.String(64))  # the subscription's key, or "sales_email"
    refs: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    test: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(8), default="pending")  # one of DELIVERY_STATUSES
    attempts: Mapped[int] = mapped_column(default=0)
    response_code: Mapped[int | None]
    duration_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (
        sa.UniqueConstraint("event_id", "target"),
        sa.Index("ix_alert_deliveries_shop_created", "shop_id", "created_at"),
        sa.Index("ix_alert_deliveries_status_created", "status", "created_at"),
    )


# The alerts' scan of journey exits (bridge.leads.alert_events.journey_exits) reads runs by end time.
sa.Index("ix_journey_runs_ended", JourneyRun.ended_at)
