"""The product store: what leads view, add and buy, kept per shop for segments' product affinity and for
the messages' product blocks (issue 17 owns it; campaigns reads it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk
from bridge.db.types import JSONDoc, Money

PRODUCT_ACTIONS = ("viewed", "added", "bought")


class Product(Base):
    """One product of a shop, as the payloads and (once) the store's API describe it."""

    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    product_id: Mapped[str] = mapped_column(sa.String(64))  # the store's own id (Shopify: the numeric id)
    title: Mapped[str | None] = mapped_column(sa.String(255))
    handle: Mapped[str | None] = mapped_column(sa.String(255))
    url: Mapped[str | None] = mapped_column(sa.Text)
    image_url: Mapped[str | None] = mapped_column(sa.Text)
    # A unit price to show beside the product (the lowest variant's on the store, else a payload's line).
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    # Lower-cased handles or names: Shopify collections, WooCommerce categories; and the product's tags.
    collections: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    looked_up_at: Mapped[datetime | None]  # when the store's API last described it (None: never)
    __table_args__ = (sa.UniqueConstraint("shop_id", "product_id"),)


class LeadProduct(Base):
    """A lead's latest view, add or purchase of one product (variant kept for the messages)."""

    __tablename__ = "lead_products"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    lead_id: Mapped[int] = mapped_column(cascade_fk("leads.id"))
    product_id: Mapped[str] = mapped_column(sa.String(64))
    variant_id: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(8))  # one of PRODUCT_ACTIONS
    count: Mapped[int] = mapped_column(default=1)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    __table_args__ = (
        sa.UniqueConstraint("lead_id", "product_id", "action"),
        sa.Index("ix_lead_products_shop_product", "shop_id", "product_id", "action", "last_at"),
    )


class LeadProductRef(Base):
    """One occurrence already counted in a LeadProduct's `count`: a day's view, a cart, an order. A replayed
    event finds its occurrence here and counts nothing again."""

    __tablename__ = "lead_product_refs"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(cascade_fk("leads.id"))
    product_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(8))
    ref: Mapped[str] = mapped_column(sa.String(255))
    __table_args__ = (sa.UniqueConstraint("lead_id", "product_id", "action", "ref"),)
