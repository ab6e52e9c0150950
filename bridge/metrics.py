"""What Relance brought back: carts, offers, recovery vs the holdout group, revenue, sources, tiers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge.db import transaction
from bridge.models import Cart, Lead, Offer, Shop, TierSnapshot
from bridge.runtime import Context

TREATED = ("sent", "redeemed", "expired")
CLOSED = ("converted", "recovered")


def _count(session: Session, query: sa.Select[Any]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def _sum(session: Session, column: Any, *where: Any) -> Decimal:
    value = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(column), 0)).where(*where))
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _groups(session: Session, shop_id: int, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """(abandoned carts, recovered) for treated and holdout carts abandoned in the period."""
    rows = session.execute(
        sa.select(Offer.holdout, Cart.status, sa.func.count())
        .join(Cart, Cart.id == Offer.cart_id)
        .where(
            Offer.shop_id == shop_id,
            Cart.abandoned_at >= start,
            Cart.abandoned_at < end,
            sa.or_(Offer.holdout.is_(True), Offer.status.in_(TREATED)),
        )
        .group_by(Offer.holdout, Cart.status)
    ).all()
    out = {"treated": [0, 0], "holdout": [0, 0]}
    for holdout, status, n in rows:
        group = out["holdout" if holdout else "treated"]
        group[0] += n
        group[1] += n if status == "recovered" else 0
    return {k: (v[0], v[1]) for k, v in out.items()}


def _sources(session: Session, shop_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Carts and orders per lead source (UTM source, else referrer, else landing page, else "direct")."""
    key = sa.func.coalesce(
        Cart.source["utm_source"].as_string(),
        Cart.source["referrer"].as_string(),
        Cart.source["landing_page"].as_string(),
        "direct",
    ).label("source")
    closed = sa.func.sum(sa.case((Cart.status.in_(CLOSED), 1), else_=0))
    rows = session.execute(
        sa.select(key, sa.func.count(), closed)
        .where(Cart.shop_id == shop_id, Cart.created_at >= start, Cart.created_at < end)
        .group_by(key)
        .order_by(sa.func.count().desc())
        .limit(20)
    ).all()
    return [
        {
            "source": source,
            "carts": int(n),
            "orders": int(won or 0),
            "conversion": round(int(won or 0) / n, 4),
        }
        for source, n, won in rows
    ]


def _tiers_over_time(session: Session, shop_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = session.scalars(
        sa.select(TierSnapshot)
        .where(
            TierSnapshot.shop_id == shop_id, TierSnapshot.day >= start.date(), TierSnapshot.day <= end.date()
        )
        .order_by(TierSnapshot.day)
    ).all()
    return [{"day": r.day.isoformat(), **r.counts} for r in rows]


def compute(session: Session, shop_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Every figure of the overview for one shop and period [start, end)."""
    in_period = (Cart.shop_id == shop_id,)
    created = _count(
        session, sa.select(Cart.id).where(*in_period, Cart.created_at >= start, Cart.created_at < end)
    )
    abandoned_q = sa.select(Cart.id).where(*in_period, Cart.abandoned_at >= start, Cart.abandoned_at < end)
    recovered_where = (
        *in_period,
        Cart.status == "recovered",
        Cart.abandoned_at >= start,
        Cart.abandoned_at < end,
    )
    groups = _groups(session, shop_id, start, end)
    comparison = campaigns.recovery_comparison(
        groups["treated"][0], groups["treated"][1], groups["holdout"][0], groups["holdout"][1]
    )
    offer_in = (Offer.shop_id == shop_id, Offer.holdout.is_(False))
    sent = _count(session, sa.select(Offer.id).where(*offer_in, Offer.sent_at >= start, Offer.sent_at < end))
    redeemed_where = (*offer_in, Offer.redeemed_at >= start, Offer.redeemed_at < end)
    redeemed = _count(session, sa.select(Offer.id).where(*redeemed_where))
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "carts": {
            "created": created,
            "abandoned": _count(session, abandoned_q),
            "recovered": _count(session, sa.select(Cart.id).where(*recovered_where)),
            "recovered_treated": groups["treated"][1],
            "recovered_holdout": groups["holdout"][1],
        },
        "recovery": {
            "treated_carts": groups["treated"][0],
            "holdout_carts": groups["holdout"][0],
            "treated_rate": comparison.treated_rate,
            "holdout_rate": comparison.holdout_rate,
            "difference": comparison.difference,
            "ci_low": comparison.ci_low,
            "ci_high": comparison.ci_high,
            "confidence": 0.95,
        },
        "offers": {
            "sent": sent,
            "redeemed": redeemed,
            "redemption_rate": campaigns.redemption_rate(sent, redeemed),
        },
        "revenue": {
            "recovered": str(_sum(session, Cart.order_total, *recovered_where)),
            "from_codes": str(_sum(session, Offer.order_total, *redeemed_where)),
            "discount_cost": str(_sum(session, Offer.cost, *redeemed_where)),
        },
        "sources": _sources(session, shop_id, start, end),
        "tiers": _tier_counts(session, shop_id),
        "tiers_over_time": _tiers_over_time(session, shop_id, start, end),
    }


def _tier_counts(session: Session, shop_id: int) -> dict[str, int]:
    rows = session.execute(
        sa.select(Lead.tier, sa.func.count())
        .where(Lead.shop_id == shop_id, Lead.redacted_at.is_(None))
        .group_by(Lead.tier)
    ).all()
    counts = defaultdict(int, {tier: int(n) for tier, n in rows})
    return {tier: counts[tier] for tier in ("cold", "warm", "hot", "customer")}


def snapshot_tiers(ctx: Context) -> int:
    """Store today's tier counts for every shop (idempotent: one row a shop a day)."""
    today: date = ctx.now().date()
    with transaction(ctx.sessions) as session:
        shop_ids = list(session.scalars(sa.select(Shop.id)))
        for shop_id in shop_ids:
            counts = _tier_counts(session, shop_id)
            row = session.scalar(
                sa.select(TierSnapshot).where(TierSnapshot.shop_id == shop_id, TierSnapshot.day == today)
            )
            if row is None:
                session.add(TierSnapshot(shop_id=shop_id, day=today, counts=counts))
            else:
                row.counts = counts
    return len(shop_ids)


def period(args: Any, now: datetime, default_days: int = 30) -> tuple[datetime, datetime]:
    """`from`/`to` (ISO dates or datetimes) from a query string; the last 30 days by default."""
    end = _parse(args.get("to")) or now
    start = _parse(args.get("from")) or end - timedelta(days=default_days)
    if start >= end:
        raise ValueError("`from` must be before `to`")
    return start, end


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    from datetime import UTC

    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
