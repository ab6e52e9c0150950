"""What each journey's steps did: the facts `campaigns.journey_metrics` adds up, loaded read-only.

One row per journey step of a run started in the period [start, end): its offer row (sent, held out or
skipped), whether its email was opened or clicked (the `promo_email_open` and `email_click` activities the
tracking links record with the ref "offer:<id>", as `bridge.outreach.tracking` writes them), and the orders
of the run's lead that were not cancelled, placed from the step's due time to the end of the attribution
window. A step came due when its offer row was written (`Offer.created_at`), held out or not.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db.models import Activity, JourneyRun, Offer, Order
from campaigns.journey_metrics import LeadOrder, StepFunnel, StepOutcome, journey_funnels

OPEN, CLICK = "promo_email_open", "email_click"


def _engaged(kind: str) -> sa.Exists:
    """Whether the offer's email had an activity of this kind (opens and clicks name their offer)."""
    ref = sa.literal("offer:") + sa.cast(Offer.id, sa.String)
    return sa.exists().where(Activity.lead_id == Offer.lead_id, Activity.kind == kind, Activity.ref == ref)


def _step_rows(session: Session, shop_id: int, start: datetime, end: datetime) -> list[Any]:
    """The offer rows of the journey steps of runs started in the period, with their engagement."""
    query = (
        sa.select(
            JourneyRun.journey_key,
            Offer.step,
            Offer.holdout,
            Offer.status,
            Offer.created_at,
            Offer.sent_at,
            JourneyRun.lead_id,
            _engaged(OPEN).label("opened"),
            _engaged(CLICK).label("clicked"),
        )
        .join(JourneyRun, JourneyRun.id == Offer.run_id)
        .where(
            JourneyRun.shop_id == shop_id,
            JourneyRun.created_at >= start,
            JourneyRun.created_at < end,
            Offer.step.is_not(None),
        )
    )
    return list(session.execute(query))


def _orders(
    session: Session, shop_id: int, lead_ids: set[int], start: datetime, end: datetime
) -> dict[int, list[LeadOrder]]:
    """Orders not cancelled of these leads placed in [start, end), per lead."""
    out: dict[int, list[LeadOrder]] = defaultdict(list)
    ids = sorted(lead_ids)
    for index in range(0, len(ids), 500):  # bounded IN lists
        rows = session.execute(
            sa.select(Order.lead_id, Order.created_at, Order.total, Order.currency).where(
                Order.shop_id == shop_id,
                Order.lead_id.in_(ids[index : index + 500]),
                Order.cancelled_at.is_(None),
                Order.created_at >= start,
                Order.created_at < end,
            )
        )
        for lead_id, placed_at, total, currency in rows:
            if lead_id is not None:  # the IN list says so; this tells the type checker
                out[lead_id].append(LeadOrder(placed_at, total, currency))
    return out


def step_outcomes(
    session: Session, shop_id: int, start: datetime, end: datetime, window_days: int
) -> list[StepOutcome]:
    """Every journey step of the runs started in [start, end), with the lead's orders that may count."""
    rows = _step_rows(session, shop_id, start, end)
    orders = _orders(
        session, shop_id, {row.lead_id for row in rows}, start, end + timedelta(days=window_days)
    )
    return [
        StepOutcome(
            journey_key=row.journey_key,
            step=row.step,
            holdout=bool(row.holdout),
            status=row.status,
            due_at=row.created_at,
            sent=row.sent_at is not None and not row.holdout,
            opened=bool(row.opened),
            clicked=bool(row.clicked),
            orders=tuple(orders.get(row.lead_id, ())),
        )
        for row in rows
    ]


def runs_started(session: Session, shop_id: int, start: datetime, end: datetime) -> dict[str, int]:
    """How many runs each journey started in the period."""
    rows = session.execute(
        sa.select(JourneyRun.journey_key, sa.func.count())
        .where(JourneyRun.shop_id == shop_id, JourneyRun.created_at >= start, JourneyRun.created_at < end)
        .group_by(JourneyRun.journey_key)
    )
    return {key: int(count) for key, count in rows}


def funnels(
    session: Session, shop_id: int, start: datetime, end: datetime, window_days: int, steps: dict[str, int]
) -> dict[str, list[StepFunnel]]:
    """Each journey's step funnels for the runs started in the period (`steps`: each journey's step count)."""
    return journey_funnels(step_outcomes(session, shop_id, start, end, window_days), window_days, steps)
