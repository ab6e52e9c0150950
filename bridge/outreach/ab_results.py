"""The A/B tests of journey steps: the facts `campaigns.ab_tests` adds up, loaded read-only.

For the runs started in the period [start, end): the offer rows of the steps that hold variants (each row
names the run's variant, or is the holdout's), the orders of their leads (not cancelled) up to the end of
the attribution window (what the customers paid, after our codes). Only orders in the shop's currency count
(and orders without one): amounts in different currencies are never added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db.models import JourneyRun, Offer, Order
from campaigns.ab_tests import RunOrder, StepTest, VariantRun, step_tests
from campaigns.journeys import OWN_VARIANT, Journey

BATCH = 500  # bounded IN lists


def tests_of(journeys: Sequence[Journey]) -> dict[str, dict[int, list[str]]]:
    """The steps that hold variants now: journey key → step index → its variant keys ("a" first)."""
    out: dict[str, dict[int, list[str]]] = {}
    for journey in journeys:
        for index, step in enumerate(journey.steps):
            if step.variants:
                keys = [OWN_VARIANT, *(v.key for v in step.variants)]
                out.setdefault(journey.key, {})[index] = keys
    return out


def _rows(
    session: Session, shop_id: int, start: datetime, end: datetime, tests: Mapping[str, Mapping[int, Any]]
) -> list[Any]:
    query = (
        sa.select(
            Offer.run_id,
            Offer.journey_key,
            Offer.step,
            Offer.variant,
            Offer.holdout,
            Offer.status,
            Offer.created_at,
            Offer.lead_id,
        )
        .join(JourneyRun, JourneyRun.id == Offer.run_id)
        .where(
            JourneyRun.shop_id == shop_id,
            JourneyRun.created_at >= start,
            JourneyRun.created_at < end,
            JourneyRun.journey_key.in_(sorted(tests)),
            Offer.step.is_not(None),
            sa.or_(Offer.variant.is_not(None), Offer.holdout.is_(True)),
        )
    )
    return [row for row in session.execute(query) if row.step in tests.get(row.journey_key, {})]


def _orders(
    session: Session, shop_id: int, lead_ids: set[int], start: datetime, end: datetime, currency: str | None
) -> dict[int, list[tuple[str, datetime, Decimal]]]:
    """Orders not cancelled of these leads placed in [start, end), per lead: (order id, when, total)."""
    out: dict[int, list[tuple[str, datetime, Decimal]]] = defaultdict(list)
    ids = sorted(lead_ids)
    for index in range(0, len(ids), BATCH):
        query = sa.select(Order.lead_id, Order.order_id, Order.created_at, Order.total).where(
            Order.shop_id == shop_id,
            Order.lead_id.in_(ids[index : index + BATCH]),
            Order.cancelled_at.is_(None),
            Order.created_at >= start,
            Order.created_at < end,
        )
        if currency is not None:
            query = query.where(sa.or_(Order.currency == currency, Order.currency.is_(None)))
        for lead_id, order_id, placed_at, total in session.execute(query):
            if lead_id is not None:
                out[lead_id].append((order_id, placed_at, total or Decimal(0)))
    return out


def variant_runs(
    session: Session,
    shop_id: int,
    start: datetime,
    end: datetime,
    window_days: int,
    tests: Mapping[str, Mapping[int, Any]],
    currency: str | None,
) -> list[VariantRun]:
    """Each run's row at each tested step, with its lead's orders."""
    if not tests:
        return []
    rows = _rows(session, shop_id, start, end, tests)
    leads = {row.lead_id for row in rows if row.lead_id is not None}
    orders = _orders(session, shop_id, leads, start, end + timedelta(days=window_days), currency)
    return [
        VariantRun(
            journey_key=row.journey_key,
            step=row.step,
            variant=row.variant,
            holdout=bool(row.holdout),
            status=row.status,
            due_at=row.created_at,
            orders=tuple(RunOrder(placed_at, total) for _, placed_at, total in orders.get(row.lead_id, ())),
        )
        for row in rows
    ]


def ab_tests(
    session: Session,
    shop_id: int,
    journeys: Sequence[Journey],
    start: datetime,
    end: datetime,
    window_days: int,
    currency: str | None,
) -> dict[tuple[str, int], StepTest]:
    """Every live A/B test of the shop's journeys over the runs started in [start, end)."""
    tests = tests_of(journeys)
    found = variant_runs(session, shop_id, start, end, window_days, tests, currency)
    return step_tests(found, tests, window_days)
