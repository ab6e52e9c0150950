"""What Relance earned a shop in a period, net, with how sure we are: loads the journeys' step outcomes with
each run's net revenue and the lead's tier, for `campaigns.earnings` to add up (read-only).

A step came due when its offer row was written (`Offer.created_at`, held out or not, as
`bridge.outreach.journey_results` reads it). A run's net revenue at a step: what its lead paid for its orders
not cancelled, in the shop's currency, placed in [due, due + attribution window). An order's total is what
the customer paid, after our code (Shopify `total_price`, WooCommerce `total`), so the discount is already
netted out: subtracting our codes' cost again would count it twice. That cost (`Offer.cost`, the order's real
discount once redeemed) is still read, per step, to say what a code step gave away. The lead's tier at a
step is the tier its score changes had given it by the due time (cold before any).

The admin's overview reads it, with the score calibration, from a cache a job fills (`measured`, `cached`,
`refresh`): the computation reads every run and lead of the period, so the page never waits for it.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from redis import Redis
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import JourneyRun, Offer, Order, ScoreChange, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import calibration
from bridge.leads.rules import campaign_settings_for, journeys_for
from campaigns.earnings import Outcome, earnings
from campaigns.journey_metrics import SKIPPED

CHUNK = 500  # bounded IN lists
CACHE_SECONDS = 3600


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for index in range(0, len(ordered), CHUNK):
        yield ordered[index : index + CHUNK]


def _step_rows(session: Session, shop_id: int, start: datetime, end: datetime) -> list[Any]:
    """The journey steps of runs started in the period that belong to a group (held out, or treated)."""
    query = (
        sa.select(
            JourneyRun.id.label("run_id"),
            JourneyRun.lead_id,
            JourneyRun.journey_key,
            Offer.step,
            Offer.holdout,
            Offer.created_at,
        )
        .join(JourneyRun, JourneyRun.id == Offer.run_id)
        .where(
            JourneyRun.shop_id == shop_id,
            JourneyRun.created_at >= start,
            JourneyRun.created_at < end,
            JourneyRun.journey_key != "",
            Offer.step.is_not(None),
            sa.or_(Offer.holdout.is_(True), Offer.status != SKIPPED),
        )
    )
    return list(session.execute(query))


def _orders(
    session: Session, shop_id: int, leads: set[int], start: datetime, end: datetime, currency: str | None
) -> dict[int, list[tuple[datetime, Decimal]]]:
    """Each lead's orders not cancelled, in the shop's currency (or without one), placed in [start, end)."""
    out: dict[int, list[tuple[datetime, Decimal]]] = defaultdict(list)
    same = sa.true() if currency is None else sa.or_(Order.currency == currency, Order.currency.is_(None))
    for ids in _chunks(leads):
        rows = session.execute(
            sa.select(Order.lead_id, Order.created_at, Order.total).where(
                Order.shop_id == shop_id,
                Order.lead_id.in_(ids),
                Order.cancelled_at.is_(None),
                Order.created_at >= start,
                Order.created_at < end,
                same,
            )
        )
        for lead_id, placed_at, total in rows:
            if lead_id is not None:  # the IN list says so; this tells the type checker
                out[lead_id].append((placed_at, total))
    return out


def _costs(session: Session, runs: set[int]) -> dict[int, dict[int | None, list[tuple[datetime, Decimal]]]]:
    """Each run's redeemed codes per step: when, and what they took off the order."""
    out: dict[int, dict[int | None, list[tuple[datetime, Decimal]]]] = defaultdict(lambda: defaultdict(list))
    for ids in _chunks(runs):
        rows = session.execute(
            sa.select(Offer.run_id, Offer.step, Offer.redeemed_at, Offer.cost).where(
                Offer.run_id.in_(ids), Offer.redeemed_at.is_not(None), Offer.holdout.is_(False)
            )
        )
        for run_id, step, redeemed_at, cost in rows:
            if run_id is not None and redeemed_at is not None:  # as the query says
                out[run_id][step].append((redeemed_at, cost or Decimal(0)))
    return out


def _tiers(session: Session, leads: set[int], end: datetime) -> dict[int, tuple[list[datetime], list[str]]]:
    """Each lead's tier changes before `end`, in time order: (times, tiers)."""
    out: dict[int, tuple[list[datetime], list[str]]] = {}
    for ids in _chunks(leads):
        rows = session.execute(
            sa.select(ScoreChange.lead_id, ScoreChange.at, ScoreChange.new_tier)
            .where(ScoreChange.lead_id.in_(ids), ScoreChange.at < end)
            .order_by(ScoreChange.lead_id, ScoreChange.at, ScoreChange.id)
        )
        for lead_id, at, tier in rows:
            times, tiers = out.setdefault(lead_id, ([], []))
            times.append(at)
            tiers.append(tier)
    return out


def _tier_at(history: tuple[list[datetime], list[str]] | None, at: datetime) -> str:
    if history is None:
        return "cold"
    index = bisect.bisect_right(history[0], at)
    return history[1][index - 1] if index else "cold"


def _within(amounts: list[tuple[datetime, Decimal]], start: datetime, end: datetime) -> Decimal:
    return sum((amount for when, amount in amounts if start <= when < end), Decimal(0))


def outcomes(
    session: Session, shop_id: int, start: datetime, end: datetime, window_days: int, currency: str | None
) -> list[Outcome]:
    """Every journey step of the runs started in [start, end), with its group, tier and net revenue."""
    rows = _step_rows(session, shop_id, start, end)
    window = timedelta(days=window_days)
    leads = {row.lead_id for row in rows}
    orders = _orders(session, shop_id, leads, start, end + window, currency)
    costs = _costs(session, {row.run_id for row in rows})
    tiers = _tiers(session, leads, end)
    found = []
    for row in rows:
        due, stop = row.created_at, row.created_at + window
        own = _within(costs.get(row.run_id, {}).get(row.step, []), due, stop)
        net = _within(orders.get(row.lead_id, []), due, stop)  # paid: our code already taken off
        found.append(
            Outcome(
                journey_key=row.journey_key,
                step=row.step,
                group="holdout" if row.holdout else "treated",
                tier=_tier_at(tiers.get(row.lead_id), due),
                net=float(net),
                own_cost=float(own),
            )
        )
    return found


def compute(session: Session, shop_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """The `incremental_net_revenue` figures of one shop and period (campaigns.earnings)."""
    settings = campaign_settings_for(session, shop_id)
    currency = session.scalar(sa.select(Shop.currency).where(Shop.id == shop_id))
    found = outcomes(session, shop_id, start, end, settings.attribution_window_days, currency)
    triggers = {journey.key: journey.trigger for journey in journeys_for(session, shop_id)}
    return earnings(found, triggers, currency)


def measured(session: Session, shop_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """What the overview's job computes for a period: `incremental_net_revenue` and the score `calibration`
    (bridge.leads.calibration), under those keys of GET /api/v1/metrics."""
    return {
        "incremental_net_revenue": compute(session, shop_id, start, end),
        "calibration": calibration.compute(session, shop_id, end),
    }


def cache_key(shop_id: int, start: datetime, end: datetime) -> str:
    return f"relance:earnings:{shop_id}:{start.isoformat()}:{end.isoformat()}"


def cached(redis: Redis, shop_id: int, start: datetime, end: datetime) -> dict[str, Any] | None:
    """The figures a job computed for this period, or None (not yet, or expired)."""
    raw = cast(bytes | None, redis.get(cache_key(shop_id, start, end)))
    return None if raw is None else dict(json.loads(raw))


def request_refresh(ctx: Context, shop_id: int, start: datetime, end: datetime) -> None:
    """Queue the job that computes and caches a period's figures (once: the job id is the period's)."""
    queue.enqueue_many(
        ctx.redis,
        jobnames.REFRESH_EARNINGS,
        [(shop_id, start.isoformat(), end.isoformat())],
        job_ids=[jobnames.earnings_id(shop_id, start, end)],
        queue_name=queue.CAMPAIGNS,
    )


def refresh(ctx: Context, shop_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Compute one period's figures (`measured`) and cache them for an hour."""
    with transaction(ctx.sessions) as session:
        figures = measured(session, shop_id, start, end)
    ctx.redis.set(cache_key(shop_id, start, end), json.dumps(figures), ex=CACHE_SECONDS)
    return figures
