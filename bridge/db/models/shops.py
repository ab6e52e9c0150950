"""A connected store, the people who manage it and what they did, and the one-time values of installs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.models.base import Base, cascade_fk


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
    # What Relance keeps about its link with the store, not anyone's settings: webhook ids and their status,
    # granted scopes, update and reconciliation stamps, the outbound webhook's secret, the demo flag. The
    # column keeps its first name, `settings`.
    state: Mapped[dict[str, Any]] = mapped_column("settings", default=dict)
    # Carts idle since before this instant have been handed to an abandonment job (bridge.outreach.sweep).
    swept_until: Mapped[datetime | None]
    __table_args__ = (sa.UniqueConstraint("platform", "domain"),)


class AdminUser(Base):
    __tablename__ = "admin_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    shop_id: Mapped[int | None] = mapped_column(cascade_fk("shops.id"))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # Part of every session cookie's user id: signing out or a new password bumps it, ending older cookies.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int | None] = mapped_column(cascade_fk("shops.id"))
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
