"""Metrics arithmetic against values computed independently and against Newcombe (1998)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.metrics import recovery_comparison, redemption_rate, wilson_interval

Z95 = 1.959963984540054


def wilson_by_quadratic(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Solve (x/n - p)^2 = z^2 p (1 - p) / n for p: the Wilson bounds, derived another way."""
    p_hat = x / n
    a = 1 + z * z / n
    b = -(2 * p_hat + z * z / n)
    c = p_hat * p_hat
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def wilson(trials: int, successes: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return wilson_interval() for a group that has trials."""
    interval = wilson_interval(trials, successes, confidence)
    assert interval is not None
    return interval


@pytest.mark.parametrize(("x", "n"), [(0, 10), (5, 10), (10, 10), (56, 70), (1, 3)])
def test_wilson_interval_matches_the_quadratic_solution(x: int, n: int) -> None:
    low, high = wilson(n, x)
    expected_low, expected_high = wilson_by_quadratic(x, n)
    assert low == pytest.approx(expected_low, abs=1e-12)
    assert high == pytest.approx(expected_high, abs=1e-12)


def test_wilson_interval_of_zero_out_of_ten_starts_at_zero() -> None:
    low, high = wilson(10, 0)
    assert low == 0.0
    assert high == pytest.approx(Z95**2 / (10 + Z95**2))


def test_wilson_interval_of_five_out_of_ten_is_symmetric_around_a_half() -> None:
    low, high = wilson(10, 5)
    assert low + high == pytest.approx(1.0)
    assert low == pytest.approx(0.2366, abs=1e-4)


def test_wilson_interval_without_trials_is_none() -> None:
    assert wilson_interval(0, 0) is None


def test_higher_confidence_gives_a_wider_interval() -> None:
    low95, high95 = wilson(40, 12)
    low99, high99 = wilson(40, 12, confidence=0.99)
    assert low99 < low95 and high99 > high95


def test_newcombe_difference_matches_an_independent_computation() -> None:
    l1, u1 = wilson_by_quadratic(56, 70)
    l2, u2 = wilson_by_quadratic(48, 80)
    d = 56 / 70 - 48 / 80
    result = recovery_comparison(70, 56, 80, 48)
    assert result.difference == pytest.approx(d)
    assert result.ci_low == pytest.approx(d - math.sqrt((0.8 - l1) ** 2 + (u2 - 0.6) ** 2))
    assert result.ci_high == pytest.approx(d + math.sqrt((u1 - 0.8) ** 2 + (0.6 - l2) ** 2))


# Newcombe (1998), "Interval estimation for the difference between independent proportions",
# Table II, method 10 (hybrid score): examples (a), (b), (d) to (h).
NEWCOMBE_EXAMPLES = [
    ((56, 70, 48, 80), 0.2, 0.0524, 0.3339),
    ((9, 10, 3, 10), 0.6, 0.1705, 0.8090),
    ((5, 56, 0, 29), 0.0893, -0.0381, 0.1926),
    ((0, 10, 0, 20), 0.0, -0.1611, 0.2775),
    ((0, 10, 0, 10), 0.0, -0.2775, 0.2775),
    ((10, 10, 0, 20), 1.0, 0.6791, 1.0),
    ((10, 10, 0, 10), 1.0, 0.6075, 1.0),
]


@pytest.mark.parametrize(("counts", "difference", "low", "high"), NEWCOMBE_EXAMPLES)
def test_newcombe_published_examples(
    counts: tuple[int, int, int, int], difference: float, low: float, high: float
) -> None:
    x1, n1, x2, n2 = counts
    result = recovery_comparison(n1, x1, n2, x2)
    assert result.treated_rate == pytest.approx(x1 / n1)
    assert result.holdout_rate == pytest.approx(x2 / n2)
    assert result.difference == pytest.approx(difference, abs=1e-4)
    assert result.ci_low == pytest.approx(low, abs=1e-4)
    assert result.ci_high == pytest.approx(high, abs=1e-4)


@pytest.mark.parametrize(("treated", "holdout"), [((0, 0), (10, 3)), ((10, 3), (0, 0)), ((0, 0), (0, 0))])
def test_an_empty_group_gives_no_difference(treated: tuple[int, int], holdout: tuple[int, int]) -> None:
    result = recovery_comparison(*treated, *holdout)
    assert result.difference is None and result.ci_low is None and result.ci_high is None
    assert result.treated_rate == (treated[1] / treated[0] if treated[0] else None)
    assert result.holdout_rate == (holdout[1] / holdout[0] if holdout[0] else None)


@pytest.mark.parametrize("counts", [(10, 11, 10, 1), (10, -1, 10, 1), (-1, 0, 10, 1), (10, 1, 5, 6)])
def test_impossible_counts_are_refused(counts: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError, match="impossible"):
        recovery_comparison(*counts)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95.0])
def test_a_confidence_outside_zero_and_one_is_refused(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        recovery_comparison(10, 1, 10, 1, confidence=confidence)


def test_redemption_rate() -> None:
    assert redemption_rate(200, 30) == pytest.approx(0.15)
    assert redemption_rate(0, 0) is None
    with pytest.raises(ValueError):
        redemption_rate(3, 4)


@st.composite
def group(draw: st.DrawFn) -> tuple[int, int]:
    trials = draw(st.integers(1, 100_000))
    return trials, draw(st.integers(0, trials))


@given(group(), group(), st.floats(0.5, 0.999))
def test_the_interval_always_holds_the_difference(
    treated: tuple[int, int], holdout: tuple[int, int], confidence: float
) -> None:
    result = recovery_comparison(*treated, *holdout, confidence=confidence)
    assert result.ci_low is not None and result.difference is not None and result.ci_high is not None
    assert -1.0 <= result.ci_low <= result.difference <= result.ci_high <= 1.0


@given(group())
def test_the_wilson_interval_always_holds_the_rate(counts: tuple[int, int]) -> None:
    trials, successes = counts
    low, high = wilson(trials, successes)
    assert 0.0 <= low <= successes / trials <= high <= 1.0
