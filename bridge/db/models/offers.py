"""Offers: a discount planned for a cart or a lead, its code on the store, its delivery and redemption."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk

OFFER_STATUSES = ("planned", "created", "sent", "redeemed", "expired", "failed", "suppressed", "cancelled")
# Offers whose code must leave the store; the clean-up's partial index holds those not yet removed.
CODE_DEAD = ("expired", "cancelled", "failed", "suppressed")
REMOVAL_DUE = "code_removed_at IS NULL AND platform_discount_id IS NOT NULL AND status IN ({})".format(
    ", ".join(f"'{status}'" for status in CODE_DEAD)
)


class Offer(Base):
    __tablename__ = "offers"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="SET NULL"))
    cart_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carts.id", ondelete="SET NULL"))
    # A journey's step: the run and the step index (None for offers made before journeys).
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journey_runs.id", ondelete="SET NULL"))
    step: Mapped[int | None]
    journey_key: Mapped[str | None] = mapped_column(sa.String(40))
    # The step's A/B variant the run got ("a": the step's own content; None: no test, or held out).
    variant: Mapped[str | None] = mapped_column(sa.String(20))
    locale: Mapped[str | None] = mapped_column(sa.String(35))  # the message's locale (BCP 47)
    minimum_order: Mapped[Decimal | None]  # the code works on orders of at least this subtotal
    reason: Mapped[str] = mapped_column(sa.String(20))
    code: Mapped[str | None] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(20), default="percentage")
    value: Mapped[Decimal] = mapped_column(default=Decimal(0))
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    starts_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    send_at: Mapped[datetime | None]
    platform_discount_id: Mapped[str | None] = mapped_column(sa.String(255))
    # When the store confirmed the code gone (bridge.outreach.delivery): until then the clean-up keeps trying.
    code_removed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(12), default="planned")
    holdout: Mapped[bool] = mapped_column(default=False)
    decision: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    redeemed_at: Mapped[datetime | None]
    order_id: Mapped[str | None] = mapped_column(sa.String(64))
    order_total: Mapped[Decimal | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    cost: Mapped[Decimal | None]  # the discount's estimated cost, counted against the monthly budget
    recipient: Mapped[str | None] = mapped_column(sa.String(320))
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "code"),
        sa.UniqueConstraint("run_id", "step"),  # one offer (sent or held out) per step of a run
        sa.Index("ix_offers_cart", "cart_id"),
        sa.Index("ix_offers_lead_created", "lead_id", "created_at"),
        sa.Index("ix_offers_status_expires", "status", "expires_at"),
        sa.Index("ix_offers_shop_sent", "shop_id", "sent_at"),  # the metrics' offers sent in a period
        sa.Index("ix_offers_shop_redeemed", "shop_id", "redeemed_at"),  # and redeemed in it
        # The clean-up's own index: codes still on the store although their offer is over (a few rows).
        sa.Index(
            "ix_offers_code_removal",
            "attempts",
            "id",
            postgresql_where=sa.text(REMOVAL_DUE),
            sqlite_where=sa.text(REMOVAL_DUE),
        ),
    )
