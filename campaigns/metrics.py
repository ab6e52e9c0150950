"""Metrics arithmetic: rates, and the incremental effect of offers with a confidence interval."""

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class Comparison:
    """Recovery rates of treated and holdout carts and their difference; None where a group is empty."""

    treated_rate: float | None
    holdout_rate: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None


def _z(confidence: float) -> float:
    """Return the two-sided normal quantile for a confidence level, e.g. 1.96 for 0.95."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _rate(trials: int, successes: int) -> float | None:
    """Return successes / trials, None for no trials; refuse impossible counts."""
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials is impossible")
    return successes / trials if trials else None


def wilson_interval(trials: int, successes: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Return the Wilson score interval of a proportion, or None when there are no trials."""
    z = _z(confidence)
    p = _rate(trials, successes)
    if p is None:
        return None
    shrink = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / shrink
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / shrink
    # The clamps only absorb rounding: mathematically 0 <= low <= p <= high <= 1 already.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def recovery_comparison(
    treated_carts: int,
    treated_recovered: int,
    holdout_carts: int,
    holdout_recovered: int,
    confidence: float = 0.95,
) -> Comparison:
    """Compare recovery rates; the interval of the difference is Newcombe's hybrid score (method 10)."""
    _z(confidence)
    treated = _rate(treated_carts, treated_recovered)
    holdout = _rate(holdout_carts, holdout_recovered)
    treated_ci = wilson_interval(treated_carts, treated_recovered, confidence)
    holdout_ci = wilson_interval(holdout_carts, holdout_recovered, confidence)
    if treated is None or holdout is None or treated_ci is None or holdout_ci is None:
        return Comparison(treated, holdout, None, None, None)
    (l1, u1), (l2, u2) = treated_ci, holdout_ci
    difference = treated - holdout
    low = difference - math.hypot(treated - l1, u2 - holdout)
    high = difference + math.hypot(u1 - treated, holdout - l2)
    return Comparison(treated, holdout, difference, low, high)


def redemption_rate(sent: int, redeemed: int) -> float | None:
    """Return the share of sent offers that were redeemed, None when none were sent."""
    return _rate(sent, redeemed)
