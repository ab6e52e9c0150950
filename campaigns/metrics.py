"""Metrics arithmetic: rates, the incremental effect of offers with a confidence interval, period bounds."""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
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
    """Return the share of sent offers that were redeemed, None when none were sent.

    Both counts must be of the same offers (those sent in a period, and how many of them were redeemed
    since): offers redeemed in a period may have been sent before it, and can outnumber those sent in it.
    """
    return _rate(sent, redeemed)


def period_start(value: date, zone: tzinfo) -> datetime:
    """Return, in UTC, when a period starting at `value` starts: a day at its midnight in `zone`, a datetime
    without an offset read in `zone`, one with an offset as it is. OverflowError outside years 1 to 9999."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    else:
        moment = datetime.combine(value, time(0), tzinfo=zone)
    return moment.astimezone(UTC)


def period_end(value: date, zone: tzinfo) -> datetime:
    """Return, in UTC, the (excluded) end of a period ending at `value`: a day counts whole, so the period
    ends at the next midnight in `zone`; a datetime is the end itself. OverflowError outside years 1-9999."""
    if isinstance(value, datetime):
        return period_start(value, zone)
    return period_start(value + timedelta(days=1), zone)


def days_touched(start: datetime, end: datetime) -> tuple[date, date]:
    """Return the first and last UTC days that the period [start, end) overlaps (start before end)."""
    return start.astimezone(UTC).date(), (end.astimezone(UTC) - timedelta(microseconds=1)).date()
