"""Rows for the measurement tests: runs of the default cart journey that reached one step, some sent it and
some held out there, and the orders their leads paid (after our code, when one was used)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from bridge.db.models import JourneyRun, Lead, Offer, Order

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Group:
    """`runs` runs of one group; every `every`-th orders, paying `paid` (`code`: what our code took off)."""

    runs: int
    every: int
    paid: str
    code: str | None = None


def seed_runs(
    session: Session, shop_id: int, due: datetime, treated: Group, held_out: Group, step: int = 0
) -> None:
    """Cart-journey runs whose step `step` came due at `due`; the orders are placed a day later."""
    for group, held in ((treated, False), (held_out, True)):
        for i in range(group.runs):
            n = next(_numbers)
            lead = Lead(
                shop_id=shop_id, email=f"run{n}@example.com", created_at=due - timedelta(days=1), source={}
            )
            session.add(lead)
            session.flush()
            run = JourneyRun(
                shop_id=shop_id,
                lead_id=lead.id,
                journey_key="cart",
                trigger="cart_abandoned",
                instance=f"cart:run{n}",
                trigger_at=due - timedelta(hours=1),
                created_at=due - timedelta(hours=1),
                status="ended",
                step=step + 1,
                holdout_stop=step if held else None,
            )
            session.add(run)
            session.flush()
            offer = Offer(
                shop_id=shop_id,
                lead_id=lead.id,
                run_id=run.id,
                step=step,
                journey_key="cart",
                reason="journey",
                kind="percentage",
                value=Decimal(10),
                created_at=due,
                holdout=held,
                status="suppressed" if held else "sent",
            )
            session.add(offer)
            if i % group.every:
                continue
            placed = due + timedelta(days=1)
            session.add(
                Order(
                    shop_id=shop_id,
                    order_id=f"run{n}",
                    lead_id=lead.id,
                    total=Decimal(group.paid),
                    currency="EUR",
                    created_at=placed,
                )
            )
            if group.code is not None and not held:
                offer.redeemed_at, offer.cost = placed, Decimal(group.code)
