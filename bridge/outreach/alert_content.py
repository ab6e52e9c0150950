"""What alerts say: an event's payload from its delivery row, and the facts of a hot lead for the sales
team's email (why it is hot, what it viewed, its cart, the order to expect)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge.db import money_sum, money_value
from bridge.db.models import AlertDelivery, Cart, Lead, LeadProduct, Order, Product, ScoreChange, Shop
from bridge.leads import rules
from campaigns.alert_texts import TOP_LINES, HotLead, merchant_language

PRODUCTS_SHOWN = 5
OPEN_CARTS = ("active", "abandoned")


def event_data(session: Session, row: AlertDelivery) -> dict[str, Any] | None:
    """The `data` of an event: the row's ids and facts, plus the lead's email (the merchant's tools need it
    to act; see campaigns.alerts), and for lead events its score and, when hot, why; None when the lead was
    erased since."""
    data = dict(row.refs)
    lead_id = data.get("lead_id")
    if lead_id and not row.test:
        lead = session.get(Lead, lead_id)
        if lead is None or lead.redacted_at is not None:
            return None
        data["email"] = lead.email
        if row.event_type.startswith("lead."):
            data.update(score=lead.score, tier=lead.tier)
        if row.event_type == "lead.hot":
            reasons = top_reasons(lead.breakdown or {})
            data["reasons"] = [{"label": label, "points": int(points)} for label, points in reasons]
    return data


def language(session: Session, shop: Shop) -> str:
    """The merchant's admin language for alert emails: the shop's primary locale, else its campaign one."""
    fallback = rules.campaign_settings_for(session, shop.id).locale
    return merchant_language((shop.state or {}).get("primary_locale"), fallback)


def hot_lead(session: Session, shop: Shop, lead: Lead, locale: str, public_url: str) -> HotLead:
    """Everything the hot-lead email says about one lead, formatted in `locale`."""
    cart = session.scalars(
        sa.select(Cart)
        .where(Cart.lead_id == lead.id, Cart.status.in_(OPEN_CARTS))
        .order_by(Cart.last_activity_at.desc())
        .limit(1)
    ).first()
    cart_value = campaigns.format_money(cart.subtotal, cart.currency, locale) if cart else None
    average = None if cart else average_order(session, shop.id)
    expected = cart_value or (campaigns.format_money(average, shop.currency, locale) if average else None)
    name = " ".join(part for part in (lead.first_name, lead.last_name) if part)
    return HotLead(
        lead_id=lead.id,
        email=lead.email or "",
        name=name,
        score=lead.score,
        reasons=top_reasons(lead.breakdown or {}),
        products=viewed_products(session, lead.id),
        cart_value=cart_value,
        expected_value=expected,
        expected_basis="cart" if cart else "average" if average else None,
        admin_url=f"{public_url}/admin/leads/{lead.id}",
    )


def top_reasons(breakdown: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The breakdown's lines that weigh most (positive first), as (label, "+15")."""
    lines = [line for line in breakdown.get("lines") or [] if round(float(line.get("points") or 0))]
    lines.sort(key=lambda line: -float(line.get("points") or 0))
    return tuple(
        (str(line.get("label") or line.get("rule") or ""), f"{round(float(line['points'])):+d}")
        for line in lines[:TOP_LINES]
    )


def viewed_products(session: Session, lead_id: int) -> tuple[str, ...]:
    """Titles (else store ids) of the products a lead viewed, newest first."""
    rows = session.execute(
        sa.select(LeadProduct.product_id, Product.title)
        .outerjoin(
            Product,
            sa.and_(Product.shop_id == LeadProduct.shop_id, Product.product_id == LeadProduct.product_id),
        )
        .where(LeadProduct.lead_id == lead_id, LeadProduct.action == "viewed")
        .order_by(LeadProduct.last_at.desc())
        .limit(PRODUCTS_SHOWN)
    ).all()
    return tuple(title or product_id for product_id, title in rows)


def average_order(session: Session, shop_id: int) -> Decimal | None:
    """The shop's average order value over its orders not cancelled (None without orders)."""
    total, count = session.execute(
        sa.select(money_sum(session, Order.total), sa.func.count(Order.id)).where(
            Order.shop_id == shop_id, Order.cancelled_at.is_(None)
        )
    ).one()
    value = money_value(session, total)
    return (value / count).quantize(Decimal("0.01")) if value is not None and count else None


def new_hot_leads(
    session: Session, shop_id: int, start: datetime, end: datetime, limit: int = 100
) -> Sequence[Lead]:
    """Leads that became hot in [start, end) and still are (a digest's list), hottest first."""
    ids = sa.select(ScoreChange.lead_id).where(
        ScoreChange.new_tier == "hot",
        ScoreChange.old_tier != "hot",
        ScoreChange.at >= start,
        ScoreChange.at < end,
    )
    return session.scalars(
        sa.select(Lead)
        .where(Lead.shop_id == shop_id, Lead.id.in_(ids), Lead.tier == "hot", Lead.redacted_at.is_(None))
        .order_by(Lead.score.desc(), Lead.id)
        .limit(limit)
    ).all()


def day_bounds(day: str, zone: str | None) -> tuple[datetime, datetime]:
    """The start and end of a calendar day in the shop's time zone."""
    start = datetime.fromisoformat(day).replace(tzinfo=campaigns.zone_or_utc(zone))
    return start, start + timedelta(days=1)
