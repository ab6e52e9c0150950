"""Carts and the orders that convert them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk

CART_STATUSES = ("active", "abandoned", "recovered", "converted", "expired")


class Cart(Base):
    __tablename__ = "carts"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="SET NULL"))
    cart_token: Mapped[str | None] = mapped_column(sa.String(255))
    checkout_token: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    subtotal: Mapped[Decimal] = mapped_column(default=Decimal(0))
    items: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recovery_url: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    accepts_marketing: Mapped[bool | None]
    created_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(12), default="active")
    abandoned_at: Mapped[datetime | None]
    converted_at: Mapped[datetime | None]
    order_id: Mapped[str | None] = mapped_column(sa.String(64))
    order_total: Mapped[Decimal | None]
    locale: Mapped[str | None] = mapped_column(sa.String(35))  # BCP 47, as the store gave it
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "cart_token"),
        sa.UniqueConstraint("shop_id", "checkout_token"),
        sa.Index("ix_carts_shop_due", "shop_id", "status", "last_activity_at"),
        sa.Index("ix_carts_shop_created", "shop_id", "created_at"),
        # The sweep's own index: only carts that can still be abandoned (anonymous carts never can).
        sa.Index(
            "ix_carts_sweep",
            "shop_id",
            "last_activity_at",
            postgresql_where=sa.text("status = 'active' AND email IS NOT NULL"),
            sqlite_where=sa.text("status = 'active' AND email IS NOT NULL"),
        ),
    )


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    order_id: Mapped[str] = mapped_column(sa.String(64))
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="SET NULL"))
    cart_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carts.id", ondelete="SET NULL"))
    total: Mapped[Decimal]
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    discount_codes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    checkout_token: Mapped[str | None] = mapped_column(sa.String(255))
    cart_token: Mapped[str | None] = mapped_column(sa.String(255))
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "order_id"),
        sa.Index("ix_orders_shop_checkout_token", "shop_id", "checkout_token"),
        sa.Index("ix_orders_shop_cart_token", "shop_id", "cart_token"),
    )


# The admin page's (migration 0005): overview counts, a lead's carts.
sa.Index("ix_carts_shop_abandoned", Cart.shop_id, Cart.abandoned_at)
sa.Index("ix_carts_lead", Cart.lead_id)
