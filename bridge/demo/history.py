"""The demo's past: 60 days of the cart journey's runs written as rows, with an effect we chose, so that the
overview has something to measure on a new install (a single day is far too little for an interval).

The shoppers of the past are simulated, and what they do is known: a cart left alone comes back with an
order 15 % of the time (`NATURAL`), a cart in the journey 25 % of the time (`TREATED`), each order worth a
lognormal amount around 60 EUR; an order that follows the code step uses its 10 % code. Each past lead had a
score when its cart was left, and the higher it was the likelier the order (`_likelihood`), so the
calibration chart rises with the score. The groups are drawn as the journeys draw them
(campaigns.holdout_stop), with the demo's holdout share of 30 % so that a 30-day period holds enough
held-out orders for an interval. None of it goes through the webhooks: only the demo's day does.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db.models import JourneyRun, Lead, Offer, Order, ScoreChange
from campaigns import holdout_stop

DAYS = 54  # carts left from 60 to 6 days ago: every order has come by now
RUNS_PER_DAY = 90
NATURAL, TREATED = 0.15, 0.25
HOLDOUT_SHARE = 0.3
STEPS = (60, 24 * 60, 72 * 60)  # the default cart journey's offsets (minutes); the last step has the code
CODE_PERCENT = Decimal(10)
CHUNK = 1000


def _likelihood(score: int) -> float:
    """How much likelier than average a lead of this score is to order (0.4x at 0, 1.6x at 100)."""
    return 0.4 + 1.2 * score / 100


def _tier(score: int) -> str:
    return "hot" if score >= 60 else "warm" if score >= 30 else "cold"


def write_history(session: Session, shop_id: int, now: datetime, rng: random.Random) -> int:
    """Write the past runs (carts left 60 to 6 days before `now`); how many runs."""
    leads: list[dict[str, Any]] = []
    plans = []
    for n in range(DAYS * RUNS_PER_DAY):
        left = now - timedelta(days=6 + DAYS * (1 - n / (DAYS * RUNS_PER_DAY)), minutes=rng.uniform(0, 600))
        score = int(rng.triangular(0, 100, 20))
        stop = holdout_stop(f"demo-history:{n}", HOLDOUT_SHARE, len(STEPS))
        chance = (NATURAL if stop == 0 else TREATED) * _likelihood(score)
        ordered = rng.random() < chance
        # When the order came, whatever the group: from the first step's due time to two days after the last.
        after = rng.uniform(STEPS[0] + 10, STEPS[-1] + 2 * 24 * 60)
        amount = Decimal(str(round(math.exp(rng.gauss(math.log(55), 0.6)), 2)))
        leads.append(
            {
                "shop_id": shop_id,
                "email": f"past-shopper-{n}@example.com",
                "created_at": left - timedelta(days=rng.uniform(1, 20)),
                "source": {},
                "score": score,
                "tier": _tier(score),
                "breakdown": {},
            }
        )
        plans.append((left, score, stop, ordered, after, amount))
    ids = _insert(session, Lead, leads)
    runs, changes = [], []
    for lead_id, (left, score, stop, _, _, _), lead in zip(ids, plans, leads, strict=True):
        changes.append(
            {
                "lead_id": lead_id,
                "at": lead["created_at"],
                "old_score": 0,
                "new_score": score,
                "old_tier": "cold",
                "new_tier": _tier(score),
                "reason": "demo history",
            }
        )
        runs.append(
            {
                "shop_id": shop_id,
                "lead_id": lead_id,
                "journey_key": "cart",
                "trigger": "cart_abandoned",
                "instance": f"demo-history:{lead_id}",
                "trigger_at": left,
                "status": "ended",
                "step": len(STEPS) if stop is None else stop,
                "holdout_stop": stop,
                "exit_reason": "holdout" if stop is not None else "completed",
                "created_at": left,
                "ended_at": left + timedelta(minutes=STEPS[-1]),
            }
        )
    _insert(session, ScoreChange, changes)
    run_ids = _insert(session, JourneyRun, runs)
    offers, orders = [], []
    for n, (run_id, lead_id, (left, _, stop, ordered, after, amount)) in enumerate(
        zip(run_ids, ids, plans, strict=True)
    ):
        placed = left + timedelta(minutes=after)
        last = len(STEPS) - 1 if stop is None else stop
        for step in range(last + 1):
            held = step == stop
            with_code = step == len(STEPS) - 1 and not held
            due = left + timedelta(minutes=STEPS[step])
            redeemed = with_code and ordered and placed >= due
            offers.append(
                {
                    "shop_id": shop_id,
                    "lead_id": lead_id,
                    "run_id": run_id,
                    "step": step,
                    "journey_key": "cart",
                    "reason": "journey",
                    "code": f"PAST{n:05d}" if with_code else None,
                    "kind": "percentage" if with_code else "reminder",
                    "value": CODE_PERCENT if with_code else Decimal(0),
                    "holdout": held,
                    "status": "suppressed" if held else "redeemed" if redeemed else "sent",
                    "decision": "holdout" if held else "sent",
                    "created_at": due,
                    "sent_at": None if held else due,
                    "redeemed_at": placed if redeemed else None,
                    "order_id": f"past-{n}" if redeemed else None,
                    "order_total": amount * (1 - CODE_PERCENT / 100) if redeemed else None,
                    "cost": (amount * CODE_PERCENT / 100).quantize(Decimal("0.01")) if redeemed else None,
                    "attempts": 0,
                }
            )
        if ordered:
            coded = stop is None and placed >= left + timedelta(minutes=STEPS[-1])
            paid = amount * (1 - CODE_PERCENT / 100) if coded else amount
            orders.append(
                {
                    "shop_id": shop_id,
                    "order_id": f"past-{n}",
                    "lead_id": lead_id,
                    "total": paid.quantize(Decimal("0.01")),
                    "currency": "EUR",
                    "discount_codes": {},
                    "source": {},
                    "created_at": placed,
                }
            )
    _insert(session, Offer, offers)
    _insert(session, Order, orders)
    return len(run_ids)


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows in chunks; their ids, in order."""
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        ids += session.scalars(sa.insert(model).returning(model.id), chunk).all()
    return ids
