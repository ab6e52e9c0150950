"""What-if for journeys: given the last days' triggers (carts abandoned, sign-ups, browses, tier entries),
how many would have entered each journey and reached each step, and what the codes would have cost.

Pure: the bridge reads the history, this counts. A trigger enters the journey `route` picks for its lead's
tier; it reaches a step unless it ordered before the step's offset (the run would have ended "ordered"),
and the holdout share keeps a step's control group out of the sent count (on average, as assignment
would). Pressure and quiet hours are not replayed: they move steps later, not away.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from campaigns.journeys import Journey, route
from campaigns.policy import CartView, estimate_cost


@dataclass(frozen=True)
class PastTrigger:
    """One trigger of the period: its kind, the lead's tier, when, an order after it, and its cart."""

    trigger: str
    tier: str
    at: datetime
    ordered_at: datetime | None = None
    cart: CartView | None = None
    entered: str | None = None  # tier_entered: the tier


def _reached(journey: Journey, past: PastTrigger, step: int) -> bool:
    due = past.at + timedelta(minutes=journey.steps[step].after_minutes)
    return past.ordered_at is None or past.ordered_at > due


def _sent_share(journey: Journey, step: int) -> Decimal:
    """The share of runs reaching step k that are not held out at or before it (holdout split evenly)."""
    per_step = Decimal(str(journey.holdout_share)) / len(journey.steps)
    return 1 - per_step * (step + 1)


def forecast(journeys: Sequence[Journey], history: Iterable[PastTrigger]) -> list[dict[str, Any]]:
    """Per journey: runs entered, and per step reached, sent (holdout out), codes and their cost."""
    table: dict[str, dict[str, Any]] = {
        journey.key: {
            "key": journey.key,
            "trigger": journey.trigger,
            "entered": 0,
            "steps": [
                {"reached": 0, "sent": Decimal(0), "codes": Decimal(0), "cost": Decimal(0)}
                for _ in journey.steps
            ],
        }
        for journey in journeys
    }
    for past in history:
        journey = route(journeys, past.trigger, past.tier, past.entered)
        if journey is None:
            continue
        row = table[journey.key]
        row["entered"] += 1
        for index, step in enumerate(journey.steps):
            if not _reached(journey, past, index):
                break
            cell, share = row["steps"][index], _sent_share(journey, index)
            cell["reached"] += 1
            cell["sent"] += share
            if step.offer is not None:
                cell["codes"] += share
                cell["cost"] += share * estimate_cost(step.offer, past.cart)
    return [_rounded(row) for row in table.values()]


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    steps = [
        {
            "reached": cell["reached"],
            "sent": int(cell["sent"].to_integral_value()),
            "codes": int(cell["codes"].to_integral_value()),
            "code_cost": str(cell["cost"].quantize(Decimal("0.01"))),
        }
        for cell in row["steps"]
    ]
    total = sum((Decimal(cell["code_cost"]) for cell in steps), Decimal(0))
    return {**row, "steps": steps, "code_cost": str(total.quantize(Decimal("0.01")))}
