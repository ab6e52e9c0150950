"""Journey routing, the per-step holdout and due times."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.journey_defaults import default_journeys
from campaigns.journeys import (
    MAX_STEPS,
    Audience,
    Journey,
    first_due,
    holdout_stop,
    load_journeys,
    next_due,
    route,
)

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEYS = {journey["key"]: index for index, journey in enumerate(default_journeys())}

# Routing ------------------------------------------------------------------------------------------------

JOURNEYS = load_journeys(default_journeys())


@pytest.mark.parametrize(
    ("trigger", "tier", "entered", "expected"),
    [
        ("cart_abandoned", "hot", None, "cart-hot"),  # the first match in list order
        ("cart_abandoned", "warm", None, "cart"),
        ("cart_abandoned", "cold", None, "cart"),
        ("cart_abandoned", "customer", None, "cart"),
        ("tier_entered", "hot", "hot", "hot-lead"),
        ("tier_entered", "warm", "warm", None),  # no journey starts on entering warm
        ("tier_entered", "hot", None, None),
        ("signup", "cold", None, "welcome"),
        ("browse_abandoned", "customer", None, "browse"),
        ("order_placed", "cold", None, None),
    ],
)
def test_a_trigger_starts_the_first_matching_journey(
    trigger: str, tier: str, entered: str | None, expected: str | None
) -> None:
    journey = route(JOURNEYS, trigger, tier, entered)
    assert (journey.key if journey else None) == expected


def test_list_order_decides_between_two_matches() -> None:
    cart_hot, cart, *rest = JOURNEYS
    anyone = Journey(**{**cart.__dict__, "audience": Audience()})
    assert route([anyone, cart_hot, *rest], "cart_abandoned", "hot") is anyone
    assert route([cart_hot, anyone, *rest], "cart_abandoned", "hot") is cart_hot


def test_a_disabled_journey_is_skipped() -> None:
    cart_hot, cart, *rest = JOURNEYS
    off = Journey(**{**cart_hot.__dict__, "enabled": False})
    assert route([off, cart, *rest], "cart_abandoned", "hot") is None  # cart's audience leaves hot out
    wide = Journey(**{**cart.__dict__, "audience": Audience(("hot", "warm"))})
    assert route([off, wide], "cart_abandoned", "hot") is wide


def test_tier_entered_needs_the_journeys_own_tier() -> None:
    hot_lead = JOURNEYS[KEYS["hot-lead"]]
    warm_lead = Journey(**{**hot_lead.__dict__, "key": "warm-lead", "tier": "warm"})
    assert route([hot_lead, warm_lead], "tier_entered", "warm", "warm") is warm_lead
    assert route([hot_lead, warm_lead], "tier_entered", "hot", "hot") is hot_lead
    # The audience still applies to the lead's tier.
    picky = Journey(**{**warm_lead.__dict__, "audience": Audience(("cold",))})
    assert route([picky], "tier_entered", "warm", "warm") is None


# Per-step holdout ---------------------------------------------------------------------------------------

STAT_KEYS = [f"k{n}" for n in range(20_000)]


def test_holdout_stop_is_deterministic() -> None:
    first = [holdout_stop(key, 0.3, 3) for key in STAT_KEYS[:500]]
    assert first == [holdout_stop(key, 0.3, 3) for key in STAT_KEYS[:500]]
    assert set(first) == {None, 0, 1, 2}


def test_no_share_or_no_steps_holds_nothing_back() -> None:
    assert {holdout_stop(key, 0.0, 3) for key in STAT_KEYS[:2000]} == {None}
    assert {holdout_stop(key, 0.5, 0) for key in STAT_KEYS[:2000]} == {None}


@pytest.mark.parametrize(("share", "steps"), [(0.1, 1), (0.1, 3), (0.3, 3), (0.5, 5)])
def test_the_share_is_split_evenly_across_the_steps(share: float, steps: int) -> None:
    counts = Counter(holdout_stop(key, share, steps) for key in STAT_KEYS)
    expected = len(STAT_KEYS) * share / steps  # at least 1,000 per step here: ±15 % is over 4.7 SD
    for k in range(steps):
        assert 0.85 * expected <= counts[k] <= 1.15 * expected, (k, counts)
    assert set(counts) == {None, *range(steps)}
    held = len(STAT_KEYS) * share
    assert 0.9 * held <= len(STAT_KEYS) - counts[None] <= 1.1 * held


def test_raising_the_share_never_moves_a_run_out_of_the_holdout() -> None:
    for key in STAT_KEYS[:5000]:
        held = [holdout_stop(key, share, 3) is not None for share in (0.05, 0.1, 0.2, 0.3, 0.5)]
        assert held == sorted(held)  # False... then True...


@given(st.text(max_size=40), st.floats(0, 1), st.integers(0, MAX_STEPS))
def test_the_stop_is_a_step_of_the_journey(key: str, share: float, steps: int) -> None:
    stop = holdout_stop(key, share, steps)
    assert stop is None or 0 <= stop < steps
    if stop is not None:
        assert holdout_stop(key, min(share * 2, 1.0), steps) is not None


# Due times ----------------------------------------------------------------------------------------------

CART = JOURNEYS[KEYS["cart"]]  # steps at 60 min, 24 h, 72 h


def test_the_first_step_is_due_its_offset_after_the_trigger() -> None:
    assert first_due(CART, T0) == T0 + timedelta(minutes=60)


def test_a_run_on_time_follows_the_offsets() -> None:
    sent = first_due(CART, T0)
    assert next_due(CART, T0, 0, sent) == T0 + timedelta(hours=24)
    assert next_due(CART, T0, 1, T0 + timedelta(hours=24)) == T0 + timedelta(hours=72)


def test_a_late_run_keeps_the_spacing_between_its_steps() -> None:
    # Step 0 went out 30 hours late (quiet hours, pressure...): step 1 is not sent right after it.
    late = T0 + timedelta(hours=31)
    assert next_due(CART, T0, 0, late) == late + timedelta(hours=23)
    # Step 1 late by a little: step 2 still waits 48 hours after it.
    assert next_due(CART, T0, 1, T0 + timedelta(hours=25)) == T0 + timedelta(hours=73)
    # Sent early (never happens, but the trigger's offset still holds).
    assert next_due(CART, T0, 0, T0) == T0 + timedelta(hours=24)


def test_after_the_last_step_nothing_is_due() -> None:
    assert next_due(CART, T0, 2, T0 + timedelta(hours=72)) is None
    hot_lead = JOURNEYS[KEYS["hot-lead"]]
    assert next_due(hot_lead, T0, 0, T0) is None


@given(st.lists(st.integers(0, 60 * 24 * 10), min_size=3, max_size=3))
def test_two_steps_never_go_out_closer_than_their_offsets(delays: list[int]) -> None:
    sends = [first_due(CART, T0) + timedelta(minutes=delays[0])]
    for index in range(1, 3):
        due = next_due(CART, T0, index - 1, sends[-1])
        assert due is not None
        gap = CART.steps[index].after_minutes - CART.steps[index - 1].after_minutes
        assert due >= sends[-1] + timedelta(minutes=gap)
        assert due >= T0 + timedelta(minutes=CART.steps[index].after_minutes)
        sends.append(due + timedelta(minutes=delays[index]))
