"""The shop's primary locale: read from the store at install and, once a day, on reconciliation; kept in the
shop's JSON state (no column: it is a fact about the store, like its webhook ids); registry.shop_locale
reads it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bridge.db import locked, transaction
from bridge.db.models import Shop
from bridge.infra.context import Context
from bridge.shops.registry import PRIMARY_LOCALE, shop_locale
from campaigns.locales import normalize_locale
from connectors.base import StoreError

log = logging.getLogger(__name__)

CHECKED_AT = "primary_locale_checked_at"  # when the store was last asked (answered or not)
EVERY = timedelta(days=1)  # the language of a shop rarely changes; WooCommerce's report is slow to build

Reader = Callable[[], str | None]


def ask(read: Reader, shop_id: int) -> str | None:
    """What the store gives as its primary locale, normalised; None when it will not tell (a scope not
    granted, a report the keys may not read, the store away): the shop keeps what it had. Unauthorized
    is raised, for the caller's own handling of revoked credentials."""
    try:
        return normalize_locale(read())
    except StoreError as exc:
        if exc.code == "unauthorized":
            raise
        log.info("shop %s: primary locale unread (%s)", shop_id, exc.code or "error")
        return None


def with_locale(state: Mapping[str, Any] | None, locale: str | None, now: datetime) -> dict[str, Any]:
    """The shop's state with this primary locale (a None answer keeps the one it had) and the check time."""
    kept = {PRIMARY_LOCALE: locale} if locale else {}
    return {**(state or {}), **kept, CHECKED_AT: now.isoformat()}


def due(state: Mapping[str, object] | None, now: datetime) -> bool:
    """Whether the store should be asked again (never asked, or not for a day), by the shop's state."""
    stamp = (state or {}).get(CHECKED_AT)
    if not isinstance(stamp, str):
        return True
    try:
        return datetime.fromisoformat(stamp) + EVERY <= now
    except ValueError:
        return True


def refresh(
    ctx: Context, shop_id: int, state: Mapping[str, object] | None, read: Reader, *, force: bool = False
) -> bool:
    """Ask the store for its primary locale when due by the shop's `state` (always when `force`: an
    install) and keep it; whether it asked."""
    now = ctx.now()
    if not force and not due(state, now):
        return False
    locale = ask(read, shop_id)
    with transaction(ctx.sessions) as session:
        keep(session, shop_id, locale, now)
    return True


def keep(session: Session, shop_id: int, locale: str | None, now: datetime) -> str | None:
    """Store what the store said (None keeps the previous locale); the locale the shop now has."""
    row = locked(session, Shop, shop_id, Shop.name)  # the state is rewritten whole: no lost update
    if row is None:
        return None
    row.state = with_locale(row.state, locale, now)
    return shop_locale(row)
