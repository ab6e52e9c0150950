"""The database: SQLAlchemy 2 models for every table of DESIGN §5."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bridge.db.types import JSONDoc, Money, UTCDateTime

EVENT_STATUSES = ("pending", "processed", "failed", "ignored")
CART_STATUSES = ("active", "abandoned", "recovered", "converted", "expired")
OFFER_STATUSES = ("planned", "created", "sent", "redeemed", "expired", "failed", "suppressed", "cancelled")
TIERS = ("cold", "warm", "hot", "customer")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money(), dict[str, Any]: JSONDoc}


def _fk(target: str, **kw: Any) -> Any:
    return sa.ForeignKey(target, ondelete="CASCADE", **kw)


class Shop(Base):
    __tablename__ = "shops"
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(20))
    domain: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    shop_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    public_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    api_key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    access_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    token_expires_at: Mapped[datetime | None]
    refresh_expires_at: Mapped[datetime | None]
    consumer_key_enc: Mapped[str | None] = mapped_column(sa.Text)
    consumer_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    webhook_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    api_version: Mapped[str] = mapped_column(sa.String(20), default="")
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    installed_at: Mapped[datetime | None]
    uninstalled_at: Mapped[datetime | None]
    # The store refused our credentials (a revoked WooCommerce key): installed, but nothing reaches the store
    # until the merchant reconnects; no offer is planned meanwhile.
    disconnected_at: Mapped[datetime | None]
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Carts idle since before this instant have been handed to an abandonment job (bridge/campaign.py).
    swept_until: Mapped[datetime | None]
    __table_args__ = (sa.UniqueConstraint("platform", "domain"),)


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
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


class Lead(Base):
    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
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
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "email"),
        sa.UniqueConstraint("shop_id", "external_id"),
        sa.Index("ix_leads_shop_tier_score", "shop_id", "tier", "score"),
    )


class Activity(Base):
    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
    lead_id: Mapped[int] = mapped_column(_fk("leads.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    occurred_at: Mapped[datetime]
    source_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"))
    ref: Mapped[str] = mapped_column(sa.String(255), default="")
    # From a storefront event (`/collect`), which anyone can send: its points are capped (scoring.engine).
    storefront: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    __table_args__ = (
        sa.UniqueConstraint("lead_id", "kind", "ref"),
        sa.Index("ix_activities_lead_occurred", "lead_id", "occurred_at"),
    )


class ScoreChange(Base):
    __tablename__ = "score_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(_fk("leads.id"))
    at: Mapped[datetime]
    old_score: Mapped[int]
    new_score: Mapped[int]
    old_tier: Mapped[str] = mapped_column(sa.String(10))
    new_tier: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str] = mapped_column(sa.String(255))
    __table_args__ = (sa.Index("ix_score_changes_lead_at", "lead_id", "at"),)


class Cart(Base):
    __tablename__ = "carts"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
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
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
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


# Offers whose code must leave the store; the clean-up's partial index holds those not yet removed.
CODE_DEAD = ("expired", "cancelled", "failed", "suppressed")
REMOVAL_DUE = "code_removed_at IS NULL AND platform_discount_id IS NOT NULL AND status IN ({})".format(
    ", ".join(f"'{status}'" for status in CODE_DEAD)
)


class Offer(Base):
    __tablename__ = "offers"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leads.id", ondelete="SET NULL"))
    cart_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carts.id", ondelete="SET NULL"), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(20))
    code: Mapped[str | None] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(20), default="percentage")
    value: Mapped[Decimal] = mapped_column(default=Decimal(0))
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    starts_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    send_at: Mapped[datetime | None]
    platform_discount_id: Mapped[str | None] = mapped_column(sa.String(255))
    # When the store confirmed the code gone (bridge/delivery.py): until then the clean-up keeps trying.
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


class Ruleset(Base):
    __tablename__ = "rulesets"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
    version: Mapped[int]
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(sa.String(320), default="")
    note: Mapped[str] = mapped_column(sa.String(255), default="")
    __table_args__ = (sa.UniqueConstraint("shop_id", "version"),)


class AdminUser(Base):
    __tablename__ = "admin_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    shop_id: Mapped[int | None] = mapped_column(_fk("shops.id"))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # Part of every session cookie's user id: signing out or a new password bumps it, ending older cookies.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int | None] = mapped_column(_fk("shops.id"))
    actor: Mapped[str] = mapped_column(sa.String(320))
    action: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime]


class Nonce(Base):
    """One-time values for install flows (OAuth state, WooCommerce user_id)."""

    __tablename__ = "nonces"
    value: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(32))
    subject: Mapped[str] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime]


class PrivacyExport(Base):
    """What Relance held about one customer, kept for the merchant after a data request."""

    __tablename__ = "privacy_exports"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    document: Mapped[dict[str, Any]]


class RescoreRun(Base):
    """Progress of the bulk rescore after a rules change: resumable from `last_lead_id`."""

    __tablename__ = "rescore_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
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


class TierSnapshot(Base):
    """Leads per tier of one shop on one day (written by a periodic job), for "leads per tier over time"."""

    __tablename__ = "tier_snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(_fk("shops.id"))
    day: Mapped[date] = mapped_column(sa.Date)
    counts: Mapped[dict[str, Any]]
    __table_args__ = (sa.UniqueConstraint("shop_id", "day"),)


# Keyset batches of one shop's leads in id order (bulk rescore, what-if simulation).
sa.Index("ix_leads_shop_id_id", Lead.shop_id, Lead.id)
# The admin page's (migration 0005): lead list by score, overview counts, a lead's carts, email prefix search.
sa.Index("ix_leads_shop_score_id", Lead.shop_id, Lead.score, Lead.id)
sa.Index("ix_carts_shop_abandoned", Cart.shop_id, Cart.abandoned_at)
sa.Index("ix_carts_lead", Cart.lead_id)
sa.Index(  # PostgreSQL only (LIKE 'abc%' needs the pattern operator class)
    "ix_leads_shop_email_prefix", Lead.shop_id, Lead.email, postgresql_ops={"email": "varchar_pattern_ops"}
).ddl_if(dialect="postgresql")
