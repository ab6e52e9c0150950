"""Where carts came from: carts and orders per lead source (UTM source, else referrer, else landing page),
and conversion by each of those fields on its own. A cancelled order is no order."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db.models import Cart, Order

CLOSED = ("converted", "recovered")
SOURCE_FIELDS = ("utm_source", "referrer", "landing_page")


def _given(name: str) -> Any:
    """A cart's traffic-source field, blank counting as missing."""
    return sa.func.nullif(sa.func.trim(Cart.source[name].as_string()), "")


def _conversions(
    session: Session, shop_id: int, start: datetime, end: datetime, source: Any, limit: int
) -> list[tuple[Any, int, int]]:
    """(source value, carts created in the period, of which closed by an order) for the `limit` commonest
    values; a cancelled order is no order."""
    key = source.label("source")
    closed = sa.func.sum(
        sa.case((sa.and_(Cart.status.in_(CLOSED), Order.cancelled_at.is_(None)), 1), else_=0)
    )
    rows = session.execute(
        sa.select(key, sa.func.count(), closed)
        .select_from(Cart)
        .outerjoin(Order, sa.and_(Order.shop_id == Cart.shop_id, Order.order_id == Cart.order_id))
        .where(Cart.shop_id == shop_id, Cart.created_at >= start, Cart.created_at < end)
        .group_by(key)
        .order_by(sa.func.count().desc())
        .limit(limit)
    ).all()
    return [(value, int(n), int(won or 0)) for value, n, won in rows]


def _conversion(source: str, carts: int, orders: int) -> dict[str, Any]:
    return {"source": source, "carts": carts, "orders": orders, "conversion": round(orders / carts, 4)}


def by_source(session: Session, shop_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Carts and orders per lead source (UTM source, else referrer, else landing page, else "direct"; blank
    values count as missing); a cancelled order is no order."""
    source = sa.func.coalesce(*(_given(name) for name in SOURCE_FIELDS), "direct")
    return [_conversion(*row) for row in _conversions(session, shop_id, start, end, source, 20)]


def _tidy(field: str, value: str | None) -> str:
    """A source value as merchants read it: a referrer's site, a landing page's path, "(none)" if missing."""
    if value is None:
        return "(none)"
    if field == "utm_source":
        return value.lower()
    parts = urlsplit(value if "//" in value or field == "landing_page" else f"//{value}")
    if field == "referrer":
        host = (parts.hostname or value).lower()
        return host.removeprefix("www.")
    return parts.path or "/"


def by_field(session: Session, shop_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Conversion by each source field on its own: UTM source, referring site, landing page (path only, so
    one page's many query strings are one row). The 200 commonest raw values are merged, the top 20 shown."""
    out: dict[str, Any] = {}
    for name in SOURCE_FIELDS:
        merged: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for value, carts, orders in _conversions(session, shop_id, start, end, _given(name), 200):
            counts = merged[_tidy(name, value)]
            counts[0] += carts
            counts[1] += orders
        top = sorted(merged.items(), key=lambda item: (-item[1][0], item[0]))[:20]
        out[name] = [_conversion(source, carts, orders) for source, (carts, orders) in top]
    return out
