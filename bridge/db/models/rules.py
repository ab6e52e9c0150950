"""The versioned rules of a shop and the bulk rescore that follows a change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk


class Ruleset(Base):
    __tablename__ = "rulesets"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    version: Mapped[int]
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(sa.String(320), default="")
    note: Mapped[str] = mapped_column(sa.String(255), default="")
    __table_args__ = (sa.UniqueConstraint("shop_id", "version"),)


class RescoreRun(Base):
    """Progress of the bulk rescore after a rules change: resumable from `last_lead_id`."""

    __tablename__ = "rescore_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(12), default="running")  # running|done|superseded
    last_lead_id: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    tier_changes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "version"),
        sa.Index("ix_rescore_runs_status", "status"),
    )
