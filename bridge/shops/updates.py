"""The shop's own record kept current from the store: details, granted scopes, withheld personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bridge.db import locked
from bridge.db.models import Shop
from bridge.shops.registry import PRIMARY_LOCALE
from campaigns.formatting import zone_or_utc
from campaigns.locales import normalize_locale
from connectors import base as facts

SHOP_UPDATED_AT = "shop_updated_at"
SCOPE = "shopify_scope"  # also written at install (bridge/tokens.py)
SCOPES_UPDATED_AT = "shopify_scope_updated_at"
REDACTED = "redacted_payloads"


def _newer(at: datetime | None, stamp: object) -> bool:
    """True unless the shop already holds something from after `at`."""
    return at is None or not isinstance(stamp, str) or datetime.fromisoformat(stamp) <= at


def apply_shop_update(session: Session, shop: Shop, fact: facts.ShopUpdated) -> None:
    """Take the shop's name, currency, time zone and primary locale from shop/update, unless an older
    payload."""
    row = locked(session, Shop, shop.id, Shop.name)  # settings are rewritten whole: no lost update
    if row is None or not _newer(fact.updated_at, (row.state or {}).get(SHOP_UPDATED_AT)):
        return
    if fact.name:
        row.name = fact.name[:255]
    if fact.currency:
        row.currency = fact.currency
    if fact.timezone and zone_or_utc(fact.timezone).key == fact.timezone and len(fact.timezone) <= 64:
        row.timezone = fact.timezone
    locale = normalize_locale(fact.primary_locale)
    kept = {PRIMARY_LOCALE: locale} if locale else {}
    stamp = {SHOP_UPDATED_AT: fact.updated_at.isoformat()} if fact.updated_at is not None else {}
    if kept or stamp:
        row.state = {**(row.state or {}), **kept, **stamp}


def record_scopes(session: Session, shop: Shop, fact: facts.ScopesGranted) -> None:
    """Keep the scopes the merchant granted (app/scopes_update), as the install stored them."""
    row = locked(session, Shop, shop.id, Shop.name)
    if row is None or not _newer(fact.updated_at, (row.state or {}).get(SCOPES_UPDATED_AT)):
        return
    stamp = {SCOPES_UPDATED_AT: fact.updated_at.isoformat()} if fact.updated_at else {}
    row.state = {**(row.state or {}), SCOPE: ",".join(fact.scopes), **stamp}


def count_redacted(session: Session, shop: Shop, topic: str, count: int, now: datetime) -> None:
    """Add `count` payloads of `topic` that arrived with the customer's personal fields withheld."""
    row = locked(session, Shop, shop.id, Shop.name)
    if row is None:
        return
    seen = dict((row.state or {}).get(REDACTED) or {})
    topics = dict(seen.get("topics") or {})
    topics[topic] = int(topics.get(topic, 0)) + count
    seen.update(total=int(seen.get("total", 0)) + count, topics=topics, last_at=now.isoformat())
    row.state = {**(row.state or {}), REDACTED: seen}


def redacted_summary(shop: Shop) -> dict[str, object] | None:
    """What the health page says about withheld fields: total, per topic, last seen; None when never."""
    seen = (shop.state or {}).get(REDACTED)
    if not seen or not seen.get("total"):
        return None
    last = seen.get("last_at")
    return {
        "total": int(seen["total"]),
        "topics": sorted((seen.get("topics") or {}).items()),
        "last_at": datetime.fromisoformat(last) if last else None,
    }
