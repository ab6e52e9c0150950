"""Holdout assignment: deterministic, close to the configured share, monotone in the share."""

import math

from hypothesis import given
from hypothesis import strategies as st

from campaigns.holdout import holdout_key, holdout_position, in_holdout

KEYS = [holdout_key(7, lead_id) for lead_id in range(10_000)]


def test_share_is_close_to_ten_percent_over_ten_thousand_keys() -> None:
    share, n = 0.10, len(KEYS)
    held_out = sum(in_holdout(key, share) for key in KEYS)
    sd = math.sqrt(n * share * (1 - share))  # binomial SD: 30 leads
    assert abs(held_out - n * share) < 4 * sd


def test_same_key_always_lands_in_the_same_group() -> None:
    first = [in_holdout(key, 0.1) for key in KEYS[:500]]
    again = [in_holdout(key, 0.1) for key in KEYS[:500]]
    assert first == again
    assert in_holdout("3:42", 0.1) == in_holdout("3:42", 0.1)


def test_key_names_the_shop_and_the_lead() -> None:
    assert holdout_key(3, 42) == "3:42"
    # Lead 1 of shop 2 and lead 21 of shop 0 must not collide into one key.
    assert holdout_key(2, 1) != holdout_key(0, 21)


def test_share_bounds() -> None:
    assert not any(in_holdout(key, 0.0) for key in KEYS[:1000])
    assert all(in_holdout(key, 1.0) for key in KEYS[:1000])


@given(st.text(), st.floats(0, 1), st.floats(0, 1))
def test_raising_the_share_only_adds_leads_to_the_holdout(key: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert not in_holdout(key, low) or in_holdout(key, high)


@given(st.text())
def test_position_is_in_the_unit_interval(key: str) -> None:
    assert 0.0 <= holdout_position(key) < 1.0
