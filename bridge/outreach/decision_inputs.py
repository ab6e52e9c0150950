"""What an offer decision reads: the lead, the cart and the lead's recent offers as the pure `campaigns`
package sees them, the lead's last order, and what the shop's budget month has committed."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge.db import money_sum, money_value
from bridge.db.models import Cart, Lead, Offer, Order

# What counts against the monthly budget: live codes at their estimated cost, redeemed codes at the discount
# the order really got (recorded at redemption). Expired, cancelled and failed codes cost nothing.
COMMITTED = (*campaigns.LIVE_STATUSES, "redeemed")


class DecisionInputs(NamedTuple):
    """The views `campaigns.decide` takes about one lead (and its cart)."""

    lead: campaigns.LeadView
    cart: campaigns.CartView | None
    offers: list[campaigns.OfferView]
    last_order: datetime | None


def load_inputs(
    session: Session, lead: Lead, cart: Cart | None, now: datetime, percentage: bool
) -> DecisionInputs:
    """The lead, its cart, its offers of the last year and its last order (not cancelled), as views."""
    # Only a percentage offer without a cart needs the lead's expected order value (to price it).
    expected = _expected_order_value(session, lead, now) if percentage and cart is None else Decimal(0)
    lead_view = campaigns.LeadView(
        lead_id=lead.id,
        email=(cart.email if cart and cart.email else lead.email),
        # The lead's consent is the newest one known from any source (carts included, see set_consent).
        accepts_marketing=lead.accepts_marketing,
        unsubscribed=lead.unsubscribed_at is not None,
        is_customer=lead.is_customer,
        holdout_key=campaigns.holdout_key(lead.shop_id, lead.id),
        expected_order_value=expected,
    )
    recent = session.scalars(
        sa.select(Offer).where(Offer.lead_id == lead.id, Offer.created_at >= now - timedelta(days=365))
    ).all()
    offers = [campaigns.OfferView(o.created_at, o.status, o.expires_at, o.value, o.holdout) for o in recent]
    last_order = session.scalar(
        sa.select(sa.func.max(Order.created_at)).where(Order.lead_id == lead.id, Order.cancelled_at.is_(None))
    )
    return DecisionInputs(lead_view, _cart_view(cart), offers, last_order)


def _cart_view(cart: Cart | None) -> campaigns.CartView | None:
    if cart is None:
        return None
    return campaigns.CartView(
        cart_id=cart.id,
        subtotal=cart.subtotal,
        currency=cart.currency,
        created_at=cart.created_at,
        last_activity_at=cart.last_activity_at,
    )


def _expected_order_value(session: Session, lead: Lead, now: datetime) -> Decimal:
    """What a lead without a cart of its own would likely spend, to price a percentage offer for the budget:
    their latest cart's value, else the shop's average order over the last 90 days."""
    latest = session.scalar(
        sa.select(Cart.subtotal)
        .where(Cart.lead_id == lead.id)
        .order_by(Cart.last_activity_at.desc())
        .limit(1)
    )
    if latest:
        return Decimal(latest)
    totals = session.scalars(
        sa.select(Order.total)
        .where(
            Order.shop_id == lead.shop_id,
            Order.created_at >= now - timedelta(days=90),
            Order.cancelled_at.is_(None),
        )
        .order_by(Order.created_at.desc())
        .limit(500)
    ).all()
    return (sum(totals, Decimal(0)) / len(totals)).quantize(Decimal("0.01")) if totals else Decimal(0)


def budget_spent(
    session: Session, shop_id: int, settings: campaigns.CampaignSettings, now: datetime
) -> Decimal:
    """What the shop's budget month has committed so far (0 without a budget: nothing reads it then)."""
    if settings.monthly_budget is None:
        return Decimal(0)
    start = campaigns.budget_month_start(now, settings.timezone)
    total = session.scalar(
        sa.select(money_sum(session, Offer.cost)).where(
            Offer.shop_id == shop_id,
            Offer.holdout.is_(False),
            Offer.created_at >= start,
            Offer.status.in_(COMMITTED),
        )
    )
    return money_value(session, total) or Decimal(0)
