"""The last days' triggers of a shop, read for the journeys' what-if (campaigns.journey_forecast):
abandoned carts with their orders, sign-ups, tier entries and browses that added nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge.db.models import Activity, Cart, Lead, Order, ScoreChange
from campaigns.journey_forecast import PastTrigger

DAYS = 30
LIMIT = 50_000  # triggers read per kind: a bigger shop's forecast says it stopped there


def history(session: Session, shop_id: int, now: datetime, days: int = DAYS) -> Iterator[PastTrigger]:
    """Every trigger of the last `days` days (each lead with its tier of today: past tiers are not kept)."""
    since = now - timedelta(days=days)
    yield from _carts(session, shop_id, since)
    yield from _signups(session, shop_id, since)
    yield from _tiers(session, shop_id, since)


def _first_order(session: Session, lead_ids: set[int]) -> dict[int, list[datetime]]:
    orders: dict[int, list[datetime]] = {}
    if lead_ids:
        rows = session.execute(
            sa.select(Order.lead_id, Order.created_at).where(Order.lead_id.in_(lead_ids))
        ).all()
        for lead_id, at in rows:
            if lead_id is not None:
                orders.setdefault(lead_id, []).append(at)
    return orders


def _after(times: list[datetime], at: datetime) -> datetime | None:
    later = [t for t in times if t >= at]
    return min(later) if later else None


def _carts(session: Session, shop_id: int, since: datetime) -> Iterator[PastTrigger]:
    rows = session.execute(
        sa.select(Cart, Lead.tier)
        .join(Lead, Lead.id == Cart.lead_id)
        .where(Cart.shop_id == shop_id, Cart.abandoned_at >= since)
        .limit(LIMIT)
    ).all()
    orders = _first_order(session, {cart.lead_id for cart, _ in rows if cart.lead_id})
    for cart, tier in rows:
        assert cart.abandoned_at is not None
        view = campaigns.CartView(
            cart.id, cart.subtotal, cart.currency, cart.created_at, cart.last_activity_at
        )
        ordered = _after(orders.get(cart.lead_id or 0, []), cart.abandoned_at)
        yield PastTrigger("cart_abandoned", tier, cart.abandoned_at, ordered, view)


def _signups(session: Session, shop_id: int, since: datetime) -> Iterator[PastTrigger]:
    rows = session.execute(
        sa.select(Activity.lead_id, sa.func.min(Activity.occurred_at), Lead.tier)
        .join(Lead, Lead.id == Activity.lead_id)
        .where(
            Activity.shop_id == shop_id,
            Activity.kind.in_(("newsletter_signup", "account_created")),
            Activity.occurred_at >= since,
        )
        .group_by(Activity.lead_id, Lead.tier)
        .limit(LIMIT)
    ).all()
    orders = _first_order(session, {lead_id for lead_id, _, _ in rows})
    for lead_id, at, tier in rows:
        yield PastTrigger("signup", tier, at, _after(orders.get(lead_id, []), at))


def _tiers(session: Session, shop_id: int, since: datetime) -> Iterator[PastTrigger]:
    rows = session.execute(
        sa.select(ScoreChange.lead_id, ScoreChange.at, ScoreChange.old_tier, ScoreChange.new_tier)
        .join(Lead, Lead.id == ScoreChange.lead_id)
        .where(Lead.shop_id == shop_id, ScoreChange.at >= since, ScoreChange.old_tier != ScoreChange.new_tier)
        .limit(LIMIT)
    ).all()
    order = {"cold": 0, "warm": 1, "hot": 2}
    ups = [r for r in rows if order.get(r.new_tier, -1) > order.get(r.old_tier, 9)]
    orders = _first_order(session, {r.lead_id for r in ups})
    for lead_id, at, _, new in ups:
        yield PastTrigger("tier_entered", new, at, _after(orders.get(lead_id, []), at), entered=new)
