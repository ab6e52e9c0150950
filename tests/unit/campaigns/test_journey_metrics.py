"""Journey funnels and per-step holdout effects, against counts and intervals worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from campaigns.journey_metrics import (
    LeadOrder,
    StepOutcome,
    effect,
    journey_funnels,
    orders_within,
    signed,
    step_funnel,
    total_revenue,
)
from campaigns.metrics import Comparison

DUE = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def outcome(
    step: int = 0,
    *,
    holdout: bool = False,
    status: str = "sent",
    ordered: bool = False,
    opened: bool = False,
    clicked: bool = False,
    key: str = "cart",
    total: str = "50",
) -> StepOutcome:
    orders = (LeadOrder(DUE + timedelta(days=1), Decimal(total), "EUR"),) if ordered else ()
    sent = status in ("sent", "redeemed") and not holdout
    return StepOutcome(
        key, step, holdout, "suppressed" if holdout else status, DUE, sent, opened, clicked, orders
    )


def test_an_order_counts_from_the_due_time_until_the_window_closes() -> None:
    orders = (
        LeadOrder(DUE - timedelta(minutes=1), Decimal(10), "EUR"),  # before the step: not its doing
        LeadOrder(DUE, Decimal(20), "EUR"),  # the window includes its start
        LeadOrder(DUE + timedelta(days=6, hours=23), Decimal(30), "EUR"),
        LeadOrder(DUE + timedelta(days=7), Decimal(40), "EUR"),  # and excludes its end
    )
    found = orders_within(StepOutcome("cart", 0, False, "sent", DUE, True, orders=orders), 7)
    assert [order.total for order in found] == [Decimal(20), Decimal(30)]


def test_the_funnel_counts_each_stage_and_the_two_groups() -> None:
    outcomes = [
        outcome(opened=True, clicked=True, ordered=True, total="80"),
        outcome(opened=True, ordered=True, total="20.50"),
        outcome(opened=True),
        outcome(),
        outcome(status="failed"),  # chosen for the step, never sent: treated (intention to treat), not sent
        outcome(status="suppressed"),  # skipped by the policy: in neither group
        outcome(holdout=True, ordered=True),
        outcome(holdout=True),
    ]
    funnel = step_funnel(0, outcomes, 7)
    assert (funnel.entered, funnel.sent, funnel.opened, funnel.clicked, funnel.ordered) == (8, 4, 3, 1, 2)
    assert funnel.revenue == {"EUR": Decimal("100.50")}
    assert (funnel.treated, funnel.treated_ordered) == (5, 2)
    assert (funnel.held_out, funnel.held_out_ordered) == (2, 1)
    assert funnel.comparison.treated_rate == pytest.approx(0.4)
    assert funnel.comparison.holdout_rate == pytest.approx(0.5)


def test_newcombes_worked_example_gives_his_interval() -> None:
    # Newcombe (1998), example (a): 56/70 against 48/80, method 10: 0.2000, 95 % CI 0.0524 to 0.3339.
    treated = [outcome(ordered=index < 56) for index in range(70)]
    held = [outcome(holdout=True, ordered=index < 48) for index in range(80)]
    found = effect(step_funnel(2, treated + held, 7).comparison)
    assert (found.points, found.low, found.high, found.verdict) == (20.0, 5.2, 33.4, "helps")


def test_verdicts_follow_the_interval() -> None:
    assert effect(Comparison(0.3, 0.2, 0.1, 0.02, 0.18)).verdict == "helps"
    assert effect(Comparison(0.1, 0.2, -0.1, -0.18, -0.02)).verdict == "hurts"
    unclear = effect(Comparison(0.241, 0.2, 0.041, -0.012, 0.094))
    assert (unclear.points, unclear.low, unclear.high, unclear.verdict) == (4.1, -1.2, 9.4, "unclear")
    assert effect(Comparison(0.3, None, None, None, None)).verdict == "no_data"


def test_a_step_without_holdout_runs_has_no_effect_yet() -> None:
    funnel = step_funnel(1, [outcome(1, ordered=True), outcome(1)], 7)
    assert effect(funnel.comparison).verdict == "no_data"
    assert funnel.comparison.treated_rate == 0.5


def test_journeys_are_split_by_key_and_step_and_list_steps_nobody_reached() -> None:
    outcomes = [outcome(0), outcome(0), outcome(1, ordered=True), outcome(0, key="welcome")]
    funnels = journey_funnels(outcomes, 7, steps={"cart": 3, "browse": 1})
    assert [(f.step, f.entered) for f in funnels["cart"]] == [(0, 2), (1, 1), (2, 0)]
    assert [(f.step, f.entered) for f in funnels["welcome"]] == [(0, 1)]
    assert [(f.step, f.entered) for f in funnels["browse"]] == [(0, 0)]
    assert total_revenue(funnels["cart"]) == {"EUR": Decimal(50)}


def test_revenue_keeps_currencies_apart() -> None:
    chf = StepOutcome(
        "cart",
        0,
        False,
        "sent",
        DUE,
        True,
        orders=(LeadOrder(DUE + timedelta(hours=1), Decimal("12.5"), "CHF"),),
    )
    funnel = step_funnel(0, [outcome(ordered=True, total="10"), chf], 7)
    assert funnel.revenue == {"EUR": Decimal(10), "CHF": Decimal("12.5")}


def test_points_read_with_their_sign() -> None:
    assert [signed(4.1), signed(-1.2), signed(0.0)] == ["+4.1", "\u22121.2", "0.0"]
