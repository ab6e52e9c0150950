"""Journey results arithmetic: each step's funnel and what it adds over its own holdout group.

Step k's holdout group is the runs that reached step k and were held out there (`holdout_stop == k`: the
suppressed holdout offer row of step k); its treated group is the runs that reached step k and were chosen
for it (by intention to treat, as `bridge.outreach.results` counts carts: sent, or meant to be and then
cancelled or failed; rows the policy skipped are in neither group). A run "ordered" when its lead placed an
order, not cancelled, within the attribution window after the step came due; both groups are measured from
that same moment, so the difference is what step k adds over steps 0..k-1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from campaigns.metrics import Comparison, recovery_comparison

SKIPPED = "suppressed"  # a step row the policy did not send, outside both groups unless held out


@dataclass(frozen=True)
class LeadOrder:
    """An order of the run's lead (cancelled orders are left out before they get here)."""

    placed_at: datetime
    total: Decimal
    currency: str | None


@dataclass(frozen=True)
class StepOutcome:
    """One step of one run: its offer row (sent, held out or skipped) and the lead's orders around it."""

    journey_key: str
    step: int
    holdout: bool
    status: str
    due_at: datetime
    sent: bool
    opened: bool = False
    clicked: bool = False
    orders: tuple[LeadOrder, ...] = ()


@dataclass(frozen=True)
class StepFunnel:
    """A step's funnel (`ordered` and `revenue` among the runs sent it) and its holdout comparison."""

    step: int
    entered: int = 0
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    ordered: int = 0
    revenue: dict[str | None, Decimal] = field(default_factory=dict)
    treated: int = 0
    treated_ordered: int = 0
    held_out: int = 0
    held_out_ordered: int = 0

    @property
    def comparison(self) -> Comparison:
        """Ordered share of the treated group against the holdout group, with its 95 % interval."""
        return recovery_comparison(self.treated, self.treated_ordered, self.held_out, self.held_out_ordered)


def orders_within(outcome: StepOutcome, window_days: int) -> tuple[LeadOrder, ...]:
    """The lead's orders placed in [due_at, due_at + window)."""
    end = outcome.due_at + timedelta(days=window_days)
    return tuple(order for order in outcome.orders if outcome.due_at <= order.placed_at < end)


def step_funnel(step: int, outcomes: Iterable[StepOutcome], window_days: int) -> StepFunnel:
    """Add up one step's outcomes (every outcome given is taken to be of that step)."""
    counts: defaultdict[str, int] = defaultdict(int)
    revenue: dict[str | None, Decimal] = {}
    for outcome in outcomes:
        won = orders_within(outcome, window_days)
        counts["entered"] += 1
        if outcome.holdout:
            counts["held_out"] += 1
            counts["held_out_ordered"] += bool(won)
        elif outcome.status != SKIPPED:
            counts["treated"] += 1
            counts["treated_ordered"] += bool(won)
        if outcome.sent and not outcome.holdout:
            counts["sent"] += 1
            counts["opened"] += outcome.opened
            counts["clicked"] += outcome.clicked
            counts["ordered"] += bool(won)
            for order in won:
                revenue[order.currency] = revenue.get(order.currency, Decimal(0)) + order.total
    return StepFunnel(step=step, revenue=revenue, **counts)


def journey_funnels(
    outcomes: Iterable[StepOutcome], window_days: int, steps: dict[str, int] | None = None
) -> dict[str, list[StepFunnel]]:
    """Each journey's steps in order; `steps` (journey key → step count) lists steps nobody reached yet."""
    grouped: dict[tuple[str, int], list[StepOutcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[(outcome.journey_key, outcome.step)].append(outcome)
    wanted: dict[str, set[int]] = defaultdict(set)
    for key, step in grouped:
        wanted[key].add(step)
    for key, count in (steps or {}).items():
        wanted[key].update(range(count))
    return {
        key: [step_funnel(step, grouped.get((key, step), ()), window_days) for step in sorted(indexes)]
        for key, indexes in wanted.items()
    }


@dataclass(frozen=True)
class Effect:
    """A step's effect in points (percentage points of ordering), with its 95 % interval.

    `verdict`: "helps" or "hurts" when the interval leaves out zero, "unclear" when it holds it, "no_data"
    when a group is still empty (`points` and the bounds are then None)."""

    points: float | None
    low: float | None
    high: float | None
    verdict: str


def effect(comparison: Comparison) -> Effect:
    """The comparison in percentage points, rounded to one decimal, with a verdict."""
    if comparison.difference is None or comparison.ci_low is None or comparison.ci_high is None:
        return Effect(None, None, None, "no_data")
    low, high = comparison.ci_low * 100, comparison.ci_high * 100
    verdict = "helps" if low > 0 else "hurts" if high < 0 else "unclear"
    return Effect(round(comparison.difference * 100, 1), round(low, 1), round(high, 1), verdict)


def signed(points: float) -> str:
    """A number of points with its sign (a true minus sign, U+2212, for negatives): "+4.1", "0.0"."""
    if points > 0:
        return f"+{points:.1f}"
    if points < 0:
        return f"\u2212{-points:.1f}"
    return f"{0.0:.1f}"


def total_revenue(funnels: Sequence[StepFunnel]) -> dict[str | None, Decimal]:
    """Revenue of a journey's steps added up per currency (an order counts at each step it follows)."""
    out: dict[str | None, Decimal] = {}
    for funnel in funnels:
        for currency, amount in funnel.revenue.items():
            out[currency] = out.get(currency, Decimal(0)) + amount
    return out
