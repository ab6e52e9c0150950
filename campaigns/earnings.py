"""What Relance earned a shop in a period: incremental net revenue per journey, per step and per tier, and
in total, each with its 95 % interval (campaigns.revenue). Pure: the bridge loads the outcomes.

An outcome is one step of one journey run, as `campaigns.journey_metrics` counts steps (intention to treat:
held out at that step, or chosen for it whatever became of it; a step the policy skipped is in neither
group), with the run's net revenue over the attribution window from the step's due time: what the lead paid
for its orders in the shop's currency (an order's total is after our code: the discount is netted out once).

- A **journey**'s figure compares its runs at step 0: the journey as it runs (its later steps' own holdouts
  included) against runs held out of the whole journey. Its total is the per-run difference times the
  runs treated.
- A **step**'s figure compares the runs treated and held out at that step: what the step adds over the
  steps before it.
- A **tier**'s figure and the **headline** add up journeys' totals, each journey a stratum of its own (each
  has its own holdout share, so pooling the runs would mix groups of different odds); the interval adds the
  strata's variances and counts the degrees of freedom in orders, as `campaigns.revenue.incremental` does.
- **Per 1,000 abandoned carts**: the abandoned-cart journeys' total per cart that entered one, times 1,000.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from campaigns.revenue import CONFIDENCE, MIN_ORDERS, MIN_RUNS, Estimate, Sample, incremental, t_quantile

CART_TRIGGER = "cart_abandoned"


@dataclass(frozen=True)
class Outcome:
    """One step of one run: its group, the lead's tier when it came due, and the run's net revenue."""

    journey_key: str
    step: int
    group: str  # "treated" | "holdout"
    tier: str
    net: float
    own_cost: float = 0.0  # what this step's own code took off the orders of the window


def _add(groups: defaultdict[Any, dict[str, list[float]]], key: Any, outcome: Outcome) -> None:
    groups[key].setdefault(outcome.group, []).append(outcome.net)


def _samples(values: Mapping[str, list[float]]) -> tuple[Sample, Sample]:
    return Sample.of(values.get("treated", ())), Sample.of(values.get("holdout", ()))


def total(strata: Sequence[tuple[Sample, Sample]], confidence: float = CONFIDENCE) -> Estimate:
    """The sum over strata of (treated runs x treated-minus-holdout mean), with its interval; strata without
    a holdout run are left out (nothing to compare them with: `unmeasured` says how many runs)."""
    measured = [(t, h) for t, h in strata if t.runs and h.runs]
    if not measured:
        return Estimate()
    value = 0.0
    for t, h in measured:
        assert t.mean is not None and h.mean is not None
        value += t.runs * (t.mean - h.mean)
    treated = Sample()
    holdout = Sample()
    for t, h in measured:
        treated, holdout = treated + t, holdout + h
    enough = min(treated.runs, holdout.runs) >= MIN_RUNS and min(treated.orders, holdout.orders) >= MIN_ORDERS
    if not enough or any(t.variance is None or h.variance is None for t, h in measured):
        return Estimate(value)
    spread = 0.0
    weights = 0.0
    for t, h in measured:
        assert t.variance is not None and h.variance is not None
        a = t.runs * t.variance  # (runs x mean)'s variance: runs² x variance / runs
        b = t.runs * t.runs * h.variance / h.runs
        spread += a + b
        weights += a * a / max(t.orders - 1, 1) + b * b / max(h.orders - 1, 1)
    if spread == 0:
        return Estimate(value, value, value)
    half = t_quantile(0.5 + confidence / 2, spread * spread / weights) * math.sqrt(spread)
    return Estimate(value, value - half, value + half)


def money(estimate: Estimate, currency: str | None) -> dict[str, Any]:
    """The API's shape: value, low and high as strings with two decimals (null while unknown), currency."""

    def cents(x: float | None) -> str | None:
        return None if x is None else str(Decimal(repr(x)).quantize(Decimal("0.01")))

    return {
        "value": cents(estimate.value),
        "low": cents(estimate.low),
        "high": cents(estimate.high),
        "currency": currency,
    }


def _counts(treated: Sample, holdout: Sample) -> dict[str, int]:
    return {
        "treated_runs": treated.runs,
        "holdout_runs": holdout.runs,
        "treated_orders": treated.orders,
        "holdout_orders": holdout.orders,
    }


def earnings(
    outcomes: Iterable[Outcome], triggers: Mapping[str, str], currency: str | None
) -> dict[str, Any]:
    """The `incremental_net_revenue` figures (module doc); `triggers`: each journey's trigger."""
    by_step: defaultdict[tuple[str, int], dict[str, list[float]]] = defaultdict(dict)
    by_step_tier: defaultdict[tuple[str, int, str], dict[str, list[float]]] = defaultdict(dict)
    by_tier: defaultdict[tuple[str, str], dict[str, list[float]]] = defaultdict(dict)
    step_cost: defaultdict[tuple[str, int], float] = defaultdict(float)
    for outcome in outcomes:
        _add(by_step, (outcome.journey_key, outcome.step), outcome)
        _add(by_step_tier, (outcome.journey_key, outcome.step, outcome.tier), outcome)
        if outcome.group == "treated":
            step_cost[(outcome.journey_key, outcome.step)] += outcome.own_cost
        if outcome.step == 0:
            _add(by_tier, (outcome.tier, outcome.journey_key), outcome)
    journeys: dict[str, Any] = {}
    strata: list[tuple[Sample, Sample]] = []
    cart_strata: list[tuple[Sample, Sample]] = []
    for key in sorted({journey for journey, _ in by_step}):
        treated, holdout = _samples(by_step.get((key, 0), {}))
        steps = []
        for step in sorted(index for journey, index in by_step if journey == key):
            t, h = _samples(by_step[(key, step)])
            steps.append(
                {
                    "step": step,
                    **money(total([(t, h)]), currency),
                    **_counts(t, h),
                    "per_run": money(incremental(t, h), currency),
                    "discount_cost": money(Estimate(step_cost[(key, step)]), currency)["value"],
                    "tiers": {
                        tier: {
                            **money(incremental(*_samples(values)), currency),
                            **_counts(*_samples(values)),
                        }
                        for (journey, index, tier), values in sorted(by_step_tier.items())
                        if journey == key and index == step
                    },
                }
            )
        journeys[key] = {
            **money(total([(treated, holdout)]), currency),
            **_counts(treated, holdout),
            "per_run": money(incremental(treated, holdout), currency),
            "steps": steps,
        }
        strata.append((treated, holdout))
        if triggers.get(key) == CART_TRIGGER:
            cart_strata.append((treated, holdout))
    tiers: dict[str, Any] = {}
    for tier in sorted({tier for tier, _ in by_tier}):
        parts = [_samples(values) for (t, _), values in sorted(by_tier.items()) if t == tier]
        tiers[tier] = {**money(total(parts), currency), **_counts(*_pooled(parts))}
    headline = total(strata)
    carts = total(cart_strata)
    cart_runs = sum(t.runs for t, h in cart_strata if h.runs)
    per_cart = carts.scaled(1000 / cart_runs) if cart_runs else Estimate()
    return {
        **money(headline, currency),
        **_counts(*_pooled(strata)),
        "unmeasured_runs": sum(t.runs for t, h in strata if not h.runs),
        "per_1000_abandoned_carts": money(per_cart, currency),
        "journeys": journeys,
        "tiers": tiers,
        "method": "difference of mean net revenue per run, treated minus held out (intention to treat), 95 % "
        "interval with degrees of freedom counted in orders; journeys are strata",
    }


def _pooled(strata: Sequence[tuple[Sample, Sample]]) -> tuple[Sample, Sample]:
    treated = holdout = Sample()
    for t, h in strata:
        treated, holdout = treated + t, holdout + h
    return treated, holdout


@dataclass(frozen=True)
class Advice:
    """A code step that does not pay: it adds no net revenue over the steps before it (module doc)."""

    journey_key: str
    step: int
    tier: str | None  # None: the whole journey
    verdict: str  # "loses" (the 95 % interval is below zero) | "no_lift" (estimate at or below zero)
    per_run: dict[str, Any]
    discount_saved: str | None  # what its codes cost in the period: saved by sending it without a code


def discount_advice(found: Mapping[str, Any], code_steps: Mapping[str, Sequence[int]]) -> list[Advice]:
    """Code steps (`code_steps`: each journey's steps that carry a code now) whose incremental net revenue
    per run, with enough data for an interval, is at or below zero: for the whole journey, then per tier.
    Suggestions only: applying one writes a new rules version (bridge.outreach.advice)."""
    advice = []
    for key, steps in sorted(code_steps.items()):
        journey = found.get("journeys", {}).get(key)
        if journey is None:
            continue
        for figures in journey["steps"]:
            if figures["step"] not in steps:
                continue
            whole = _verdict(figures["per_run"])
            if whole:
                advice.append(
                    Advice(key, figures["step"], None, whole, figures["per_run"], figures["discount_cost"])
                )
            for tier, by_tier in sorted(figures.get("tiers", {}).items()):
                if verdict := _verdict(by_tier):
                    advice.append(Advice(key, figures["step"], tier, verdict, by_tier, None))
    return advice


def _verdict(per_run: Mapping[str, Any]) -> str | None:
    if per_run.get("low") is None or per_run.get("high") is None or per_run.get("value") is None:
        return None  # not enough data to say anything
    if Decimal(per_run["high"]) < 0:
        return "loses"
    return "no_lift" if Decimal(per_run["value"]) <= 0 else None
