"""Storefront visitors: the anonymous history of a browser (the web pixel's client id, the companion
plugin's session), kept until a store-signed event names who it is (bridge.events.visitors)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk


class Visitor(Base):
    """One browser of a shop; `lead_id` once a store-signed event identified it."""

    __tablename__ = "visitors"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    # The pixel's client id as sent, or "wp:<session key>" for the companion plugin's session.
    client_id: Mapped[str] = mapped_column(sa.String(160))
    lead_id: Mapped[int | None] = mapped_column(cascade_fk("leads.id"), index=True)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    identified_at: Mapped[datetime | None]
    __table_args__ = (sa.UniqueConstraint("shop_id", "client_id"),)


class VisitorToken(Base):
    """A cart or checkout token a visitor used: the store's signed event with the same token names it."""

    __tablename__ = "visitor_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    visitor_id: Mapped[int] = mapped_column(cascade_fk("visitors.id"), index=True)
    token: Mapped[str] = mapped_column(sa.String(255))
    __table_args__ = (sa.UniqueConstraint("shop_id", "token"),)


class VisitorEvent(Base):
    """A stored event of a visitor, replayed for its lead once the visitor is identified."""

    __tablename__ = "visitor_events"
    visitor_id: Mapped[int] = mapped_column(cascade_fk("visitors.id"), primary_key=True)
    event_id: Mapped[int] = mapped_column(cascade_fk("events.id"), primary_key=True, index=True)
