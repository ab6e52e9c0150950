"""What a shop spends to bring leads in: one amount per traffic source (UTM source) and calendar month, for
the cost per lead and per customer (bridge.outreach.economics)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk


class SourceSpend(Base):
    """A month's spend on one source (lower-cased UTM source), entered in the admin or through the API."""

    __tablename__ = "source_spend"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    source: Mapped[str] = mapped_column(sa.String(100))
    month: Mapped[date] = mapped_column(sa.Date)  # the month's first day
    amount: Mapped[Decimal]
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    updated_at: Mapped[datetime]
    __table_args__ = (sa.UniqueConstraint("shop_id", "source", "month"),)
