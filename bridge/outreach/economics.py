"""The `economics` figures of GET /api/v1/metrics and of the admin's "Revenue & costs" page (read-only):
the return on the discounts, cost per lead and per customer by source, lead to customer conversion by tier
and by source, new leads over time, and the lifetime value of recovered customers against the others.

Populations, as the figures count them (campaigns.economics has the arithmetic):

- **Leads of the period**: leads created in [start, end). A lead's **source** is its UTM source, else its
  referring site, else "direct" (campaigns.economics.lead_source). A lead **is a customer** when the store
  says so (`Lead.is_customer`) or it has an order that was not cancelled, whenever placed: conversion is
  "by now", so a lead of the period's last day has had less time than one of its first.
- **Tier** of a lead for the conversion by tier: the highest of cold < warm < hot its score reached before
  its first order (for the others, by now), from its score changes. The tier now would say "customer" for
  every buyer, the tier at creation "cold" for nearly everyone; the tier reached before buying is the one a
  merchant acts on.
- **Spend**: the months' amounts prorated over the period (campaigns.economics), in the shop's currency;
  rows in another currency are left out of the costs and summed apart (`spend_other_currencies`).
- **New leads per period**: per day in the shop's time zone (per week, Mondays, beyond 62 days).
- **Lifetime value**: customers whose first order (not cancelled, in the shop's currency) was placed in
  the two years before the period's end, observed up to that end; their orders and revenue within 30, 90
  and 365 days of the first order, each horizon counting only customers observed that long
  (campaigns.revenue.lifetime_value). A customer is **recovered** when that first order closed an abandoned
  cart marked recovered on which a journey run wrote to them (not held out of the whole journey); every
  other customer is in **others**.
- **ROI**: the incremental net revenue (bridge.outreach.earnings) and the discount cost of the same runs:
  our codes redeemed in the attribution window of step 0 of the runs started in the period and treated at
  step 0, in journeys that have a held-out run (those the headline measures).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db.models import Cart, JourneyRun, Lead, Offer, Order, ScoreChange, Shop, SourceSpend
from bridge.leads.rules import campaign_settings_for
from campaigns import economics as calc
from campaigns.earnings import money
from campaigns.formatting import zone_or_utc
from campaigns.journey_metrics import SKIPPED
from campaigns.revenue import Estimate, cost_per, lifetime_value

CHUNK = 500
HORIZONS = (30, 90, 365)
LIFETIME_COHORT_DAYS = 730
CENT = Decimal("0.01")


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for index in range(0, len(ordered), CHUNK):
        yield ordered[index : index + CHUNK]


def _cents(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


def _same_currency(currency: str | None) -> Any:
    return sa.true() if currency is None else sa.or_(Order.currency == currency, Order.currency.is_(None))


# --- leads of the period -------------------------------------------------------------------------------


def _leads(session: Session, shop_id: int, start: datetime, end: datetime) -> list[Any]:
    return list(
        session.execute(
            sa.select(
                Lead.id,
                # The two keys `lead_source` reads, not the whole document (a period can have 30,000 leads)
                Lead.source["utm_source"].as_string().label("utm_source"),
                Lead.source["referrer"].as_string().label("referrer"),
                Lead.is_customer,
                Lead.created_at,
            ).where(Lead.shop_id == shop_id, Lead.created_at >= start, Lead.created_at < end)
        )
    )


def _period_leads(shop_id: int, start: datetime, end: datetime) -> Any:
    """The ids of the shop's leads created in the period, as a subquery."""
    return sa.select(Lead.id).where(Lead.shop_id == shop_id, Lead.created_at >= start, Lead.created_at < end)


def _first_orders(session: Session, shop_id: int, start: datetime, end: datetime) -> dict[int, datetime]:
    """The first order not cancelled of each lead of the period (any currency: a purchase is a purchase),
    in one grouped query."""
    rows = session.execute(
        sa.select(Order.lead_id, sa.func.min(Order.created_at))
        .where(
            Order.shop_id == shop_id,
            Order.lead_id.in_(_period_leads(shop_id, start, end)),
            Order.cancelled_at.is_(None),
        )
        .group_by(Order.lead_id)
    )
    return {lead_id: first for lead_id, first in rows if lead_id is not None}


def _tiers_reached(session: Session, shop_id: int, start: datetime, end: datetime) -> dict[int, str]:
    """Each period lead's highest tier before its first order not cancelled (else before `end`), ranked and
    cut off by the database: one row per lead, not one per score change."""
    first = (
        sa.select(Order.lead_id, sa.func.min(Order.created_at).label("at"))
        .where(Order.shop_id == shop_id, Order.cancelled_at.is_(None), Order.lead_id.is_not(None))
        .group_by(Order.lead_id)
        .subquery()
    )
    rank = sa.case(*((ScoreChange.new_tier == tier, n) for n, tier in enumerate(calc.TIER_ORDER)), else_=0)
    rows = session.execute(
        sa.select(ScoreChange.lead_id, sa.func.max(rank))
        .join(first, first.c.lead_id == ScoreChange.lead_id, isouter=True)
        .where(
            ScoreChange.lead_id.in_(_period_leads(shop_id, start, end)),
            ScoreChange.at < end,
            sa.or_(first.c.at.is_(None), ScoreChange.at < first.c.at),
        )
        .group_by(ScoreChange.lead_id)
    )
    return {lead_id: calc.TIER_ORDER[best] for lead_id, best in rows}


def _spend(
    session: Session, shop_id: int, start: datetime, end: datetime, currency: str | None
) -> tuple[dict[str, Decimal], dict[str, str]]:
    """Each source's spend over the period in the shop's currency, and other currencies' totals apart."""
    first = calc.month_start(start.date())
    rows = session.execute(
        sa.select(SourceSpend.source, SourceSpend.month, SourceSpend.amount, SourceSpend.currency).where(
            SourceSpend.shop_id == shop_id, SourceSpend.month >= first, SourceSpend.month < end.date()
        )
    ).all()
    mine = [(s, m, a) for s, m, a, c in rows if currency is None or c in (None, currency)]
    others: dict[str, list[tuple[str, Any, Decimal]]] = defaultdict(list)
    for s, m, a, c in rows:
        if currency is not None and c not in (None, currency):
            others[c].append((s, m, a))
    apart = {
        c: _cents(sum(calc.prorated_spend(r, start, end).values(), Decimal(0))) or "0.00"
        for c, r in sorted(others.items())
    }
    return calc.prorated_spend(mine, start, end), apart


def _by_source(
    people: list[tuple[str, bool]], spend: Mapping[str, Decimal], currency: str | None
) -> list[dict[str, Any]]:
    rates = calc.conversions(people)
    names = sorted(set(rates) | set(spend), key=lambda s: (-(rates[s].leads if s in rates else 0), s))
    per_lead = cost_per(spend, {s: rates[s].leads for s in rates})
    per_customer = cost_per(spend, {s: rates[s].customers for s in rates})
    out = []
    for name in names:
        found = rates.get(name, calc.conversion(0, 0))
        out.append(
            {
                "source": name,
                "leads": found.leads,
                "customers": found.customers,
                "conversion": found.as_dict(),
                "spend": _cents(spend.get(name)),
                "cost_per_lead": _cents(per_lead.get(name)),
                "cost_per_customer": _cents(per_customer.get(name)),
                "currency": currency,
            }
        )
    return out


# --- lifetime value ------------------------------------------------------------------------------------


def _customers(
    session: Session, shop_id: int, end: datetime, currency: str | None
) -> dict[int, list[tuple[datetime, Decimal, str]]]:
    """Orders (when, total, order id), up to `end`, of the leads whose first order is in the cohort window."""
    since = end - timedelta(days=LIFETIME_COHORT_DAYS)
    first = (
        sa.select(Order.lead_id, sa.func.min(Order.created_at).label("first"))
        .where(Order.shop_id == shop_id, Order.lead_id.is_not(None), Order.cancelled_at.is_(None))
        .where(_same_currency(currency))
        .group_by(Order.lead_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(Order.lead_id, Order.created_at, Order.total, Order.order_id)
        .join(first, first.c.lead_id == Order.lead_id)
        .where(
            Order.shop_id == shop_id,
            Order.cancelled_at.is_(None),
            _same_currency(currency),
            first.c.first >= since,
            first.c.first < end,
            Order.created_at < end,
        )
        .order_by(Order.lead_id, Order.created_at, Order.id)
    )
    out: dict[int, list[tuple[datetime, Decimal, str]]] = defaultdict(list)
    for lead_id, placed, total, order_id in rows:
        if lead_id is not None:  # the join says so; this tells the type checker
            out[lead_id].append((placed, total, order_id))
    return out


def _recovered(session: Session, shop_id: int, first_orders: Mapping[int, str]) -> set[int]:
    """The leads whose first order closed a recovered cart a journey run (not held out of it) wrote about."""
    found: set[int] = set()
    wanted = {order_id: lead_id for lead_id, order_id in first_orders.items()}
    names = sorted(wanted)
    for index in range(0, len(names), CHUNK):
        rows = session.execute(
            sa.select(Cart.order_id)
            .join(JourneyRun, JourneyRun.cart_id == Cart.id)
            .where(
                Cart.shop_id == shop_id,
                Cart.status == "recovered",
                Cart.order_id.in_(names[index : index + CHUNK]),
                sa.or_(JourneyRun.holdout_stop.is_(None), JourneyRun.holdout_stop > 0),
            )
        )
        found.update(wanted[order_id] for (order_id,) in rows if order_id in wanted)
    return found


def _value_json(values: Iterable[Any], currency: str | None) -> list[dict[str, Any]]:
    return [
        {
            "horizon_days": v.horizon_days,
            "customers": v.customers,
            "orders_per_customer": None if v.orders_per_customer is None else round(v.orders_per_customer, 2),
            "revenue_per_customer": None
            if v.revenue_per_customer is None
            else _cents(Decimal(repr(v.revenue_per_customer))),
            "currency": currency,
        }
        for v in values
    ]


def lifetime(session: Session, shop_id: int, end: datetime, currency: str | None) -> dict[str, Any]:
    """Orders and revenue per customer over 30/90/365 days, recovered customers against the others."""
    orders = _customers(session, shop_id, end, currency)
    recovered = _recovered(session, shop_id, {lead: rows[0][2] for lead, rows in orders.items()})
    groups: dict[str, list[tuple[int, list[tuple[int, float]]]]] = {"recovered": [], "others": []}
    for lead_id, rows in orders.items():
        first = rows[0][0]
        observed = (end - first).days
        placed = [((when - first).days, float(total)) for when, total, _ in rows]
        groups["recovered" if lead_id in recovered else "others"].append((observed, placed))
    return {name: _value_json(lifetime_value(people, HORIZONS), currency) for name, people in groups.items()}


# --- return on the discounts ---------------------------------------------------------------------------


def discount_cost(
    session: Session, shop_id: int, start: datetime, end: datetime, window_days: int, journeys: set[str]
) -> Decimal:
    """Our codes' cost in the step-0 attribution window of the runs started in the period and treated at
    step 0, in `journeys` (those with a held-out run)."""
    if not journeys:
        return Decimal(0)
    due = (
        sa.select(Offer.run_id, Offer.created_at.label("due"))
        .join(JourneyRun, JourneyRun.id == Offer.run_id)
        .where(
            JourneyRun.shop_id == shop_id,
            JourneyRun.created_at >= start,
            JourneyRun.created_at < end,
            JourneyRun.journey_key.in_(sorted(journeys)),
            Offer.step == 0,
            Offer.holdout.is_(False),
            Offer.status != SKIPPED,
        )
    )
    starts = {run_id: at for run_id, at in session.execute(due) if run_id is not None}
    window = timedelta(days=window_days)
    total = Decimal(0)
    for ids in _chunks(starts):
        rows = session.execute(
            sa.select(Offer.run_id, Offer.redeemed_at, Offer.cost).where(
                Offer.run_id.in_(ids), Offer.redeemed_at.is_not(None), Offer.holdout.is_(False)
            )
        )
        for run_id, redeemed_at, cost in rows:
            began = starts.get(run_id) if run_id is not None else None
            if began is not None and redeemed_at is not None and began <= redeemed_at < began + window:
                total += cost or Decimal(0)
    return total


def _estimate(found: Mapping[str, Any]) -> Estimate:
    def number(key: str) -> float | None:
        raw = found.get(key)
        return None if raw is None else float(raw)

    return Estimate(number("value"), number("low"), number("high"))


def return_on_discounts(
    session: Session,
    shop_id: int,
    start: datetime,
    end: datetime,
    net: Mapping[str, Any] | None,
    margin_rate: Decimal | None,
    window_days: int,
    currency: str | None,
) -> dict[str, Any]:
    """The ROI block: margin rate, discount cost, incremental margin and ROI with their intervals; `net` is
    the period's `incremental_net_revenue` (None: not computed yet, so nothing to say)."""
    measured = {
        key for key, journey in ((net or {}).get("journeys") or {}).items() if journey.get("holdout_runs")
    }
    cost = discount_cost(session, shop_id, start, end, window_days, measured)
    rate = None if margin_rate is None else float(margin_rate)
    found = calc.return_on_discounts(_estimate(net or {}), float(cost), rate)

    def ratio(x: float | None) -> float | None:
        return None if x is None else round(x, 3)

    return {
        "margin_rate": None if margin_rate is None else str(margin_rate),
        "discount_cost": _cents(cost),
        "incremental_margin": money(found.margin, currency),
        "roi": {"value": ratio(found.roi.value), "low": ratio(found.roi.low), "high": ratio(found.roi.high)},
        "currency": currency,
    }


# --- all of it -----------------------------------------------------------------------------------------


def compute(
    session: Session, shop_id: int, start: datetime, end: datetime, net: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The `economics` figures of one shop and period (module doc); `net`: the period's
    `incremental_net_revenue` figures, for the ROI."""
    shop = session.get(Shop, shop_id)
    currency = shop.currency if shop is not None else None
    zone = zone_or_utc(shop.timezone if shop is not None else None)
    settings = campaign_settings_for(session, shop_id)
    rows = _leads(session, shop_id, start, end)
    first_orders = _first_orders(session, shop_id, start, end)
    customer = {row.id: bool(row.is_customer or row.id in first_orders) for row in rows}
    tiers = _tiers_reached(session, shop_id, start, end)
    spend, apart = _spend(session, shop_id, start, end, currency)
    kind, series = calc.new_leads_series(
        [row.created_at.astimezone(zone).date() for row in rows],
        start.astimezone(zone).date(),
        (end - timedelta(microseconds=1)).astimezone(zone).date(),
    )
    by_tier = calc.conversions((tiers.get(row.id, "cold"), customer[row.id]) for row in rows)
    return {
        "currency": currency,
        "return_on_discounts": return_on_discounts(
            session,
            shop_id,
            start,
            end,
            net,
            settings.margin_rate,
            settings.attribution_window_days,
            currency,
        ),
        "new_leads": {
            "total": len(rows),
            "customers": sum(customer.values()),
            "conversion": calc.conversion(len(rows), sum(customer.values())).as_dict(),
            "per": kind,
            "series": [{"start": day.isoformat(), "leads": count} for day, count in series],
        },
        "sources": _by_source(
            [
                (calc.lead_source({"utm_source": row.utm_source, "referrer": row.referrer}), customer[row.id])
                for row in rows
            ],
            spend,
            currency,
        ),
        "spend_other_currencies": apart,
        "tiers": {tier: by_tier.get(tier, calc.conversion(0, 0)).as_dict() for tier in calc.TIER_ORDER},
        "lifetime_value": lifetime(session, shop_id, end, currency),
        "method": {
            "roi": "incremental margin / discount cost, where incremental margin = margin rate x "
            "(incremental net revenue + discount cost) - discount cost; interval carried over from the "
            "incremental net revenue's",
            "spend": "each month's spend spread evenly over its days, prorated to the period",
            "tiers": "highest tier reached before the first order (by now for the others)",
            "customers": "leads of the period who are customers by now",
            "lifetime_value": "customers with a first order in the 730 days before the period's end; each "
            "horizon counts only customers observed that long",
        },
    }
