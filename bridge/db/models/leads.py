"""People: leads, their activities and score changes, tier counts over time, privacy exports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk

TIERS = ("cold", "warm", "hot", "customer")
SCORE_DUE = "score_due_at IS NOT NULL"  # the decay job's partial index: most leads have nothing due


class Lead(Base):
    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    external_id: Mapped[str | None] = mapped_column(sa.String(64))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    first_name: Mapped[str | None] = mapped_column(sa.String(255))
    last_name: Mapped[str | None] = mapped_column(sa.String(255))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    accepts_marketing: Mapped[bool | None]
    consent_updated_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    profile_updated_at: Mapped[datetime | None]
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    last_activity_at: Mapped[datetime | None]
    is_customer: Mapped[bool] = mapped_column(default=False)
    orders_count: Mapped[int] = mapped_column(default=0)
    total_spent: Mapped[Decimal] = mapped_column(default=Decimal(0), server_default="0")
    score: Mapped[int] = mapped_column(default=0)
    tier: Mapped[str] = mapped_column(sa.String(10), default="cold")
    score_computed_at: Mapped[datetime | None]
    breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    redacted_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(sa.String(35))  # BCP 47, as the store gave it
    # When decay alone next moves the score to another tier (scoring.decay); None: never. The decay job
    # rescores leads whose time has come (bridge.leads.decay).
    score_due_at: Mapped[datetime | None]
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "email"),
        sa.UniqueConstraint("shop_id", "external_id"),
        sa.Index("ix_leads_shop_tier_score", "shop_id", "tier", "score"),
        sa.Index(
            "ix_leads_score_due",
            "score_due_at",
            "id",
            postgresql_where=sa.text(SCORE_DUE),
            sqlite_where=sa.text(SCORE_DUE),
        ),
    )


class Activity(Base):
    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    lead_id: Mapped[int] = mapped_column(cascade_fk("leads.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    occurred_at: Mapped[datetime]
    source_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"))
    ref: Mapped[str] = mapped_column(sa.String(255), default="")
    # From a storefront event (`/collect`), which anyone can send: its points are capped (scoring.engine).
    storefront: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    __table_args__ = (
        sa.UniqueConstraint("lead_id", "kind", "ref"),
        sa.Index("ix_activities_lead_occurred", "lead_id", "occurred_at"),
        # The journeys' sweep: a shop's recent sign-ups and product views (bridge.outreach.journey_sweep).
        sa.Index("ix_activities_shop_kind_occurred", "shop_id", "kind", "occurred_at"),
    )


class ScoreChange(Base):
    __tablename__ = "score_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(cascade_fk("leads.id"))
    at: Mapped[datetime]
    old_score: Mapped[int]
    new_score: Mapped[int]
    old_tier: Mapped[str] = mapped_column(sa.String(10))
    new_tier: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str] = mapped_column(sa.String(255))
    __table_args__ = (sa.Index("ix_score_changes_lead_at", "lead_id", "at"),)


class TierSnapshot(Base):
    """Leads per tier of one shop on one day (written by a periodic job), for "leads per tier over time"."""

    __tablename__ = "tier_snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    day: Mapped[date] = mapped_column(sa.Date)
    counts: Mapped[dict[str, Any]]
    __table_args__ = (sa.UniqueConstraint("shop_id", "day"),)


class PrivacyExport(Base):
    """What Relance held about one customer, kept for the merchant after a data request."""

    __tablename__ = "privacy_exports"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(cascade_fk("shops.id"))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    document: Mapped[dict[str, Any]]


# Keyset batches of one shop's leads in id order (bulk rescore, what-if simulation).
sa.Index("ix_leads_shop_id_id", Lead.shop_id, Lead.id)
# The admin page's (migration 0005): lead list by score, email prefix search.
sa.Index("ix_leads_shop_score_id", Lead.shop_id, Lead.score, Lead.id)
sa.Index(  # PostgreSQL only (LIKE 'abc%' needs the pattern operator class)
    "ix_leads_shop_email_prefix", Lead.shop_id, Lead.email, postgresql_ops={"email": "varchar_pattern_ops"}
).ddl_if(dialect="postgresql")
