"""The pure part of bench.load's capacity search: when a trial passes, which rate to try next, the median."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

DRAIN_LIMIT = 30.0  # seconds after the load stops for the queue to be empty
LAG_LIMIT = 30.0  # webhook -> score p99, seconds
LATE_SHARE = 0.01  # more events than this share already later than LAG_LIMIT: p99 cannot pass any more


@dataclass(frozen=True)
class Outcome:
    """What one trial at a fixed rate measured."""

    rate: float  # asked, events/s
    accepted: int
    drained_after: float | None  # seconds after the load; None: not within DRAIN_LIMIT
    lag_p99: float  # seconds (inf when no event was processed)
    lost: int  # acknowledged, not stored
    failed: int  # events failed, or RQ jobs in a failed registry
    errors: int = 0  # requests not acknowledged (the client's count)
    aborted: bool = False  # stopped early: too many events late already
    planned: int = 0  # events the rate and the steady period call for (0: not checked)


def reasons(o: Outcome) -> list[str]:
    """Why a trial fails (empty when it passes)."""
    out = []
    if o.aborted:
        out.append(f"aborted: over {LATE_SHARE:.0%} of the events already later than {LAG_LIMIT:.0f} s")
    if o.drained_after is None or o.drained_after > DRAIN_LIMIT:
        out.append(f"queue not drained {DRAIN_LIMIT:.0f} s after the load")
    if not o.lag_p99 <= LAG_LIMIT:
        out.append(f"webhook->score p99 {o.lag_p99:.1f} s > {LAG_LIMIT:.0f} s")
    if o.lost or o.failed:
        out.append(f"{o.lost} lost, {o.failed} failed")
    if not o.aborted and o.accepted < 0.99 * o.planned:
        out.append(f"only {o.accepted} of {o.planned} events sent and acknowledged in time")
    if o.errors > 0.001 * max(o.accepted, 1):
        out.append(f"{o.errors} requests not acknowledged")
    return out


def passes(o: Outcome) -> bool:
    """The workers kept up: drained in time, p99 within the limit, nothing lost or failed."""
    return not reasons(o)


def hopeless(late: int, planned: int) -> bool:
    """True once more than LATE_SHARE of a trial's planned events are pending past LAG_LIMIT: those events
    will be scored later than the limit whatever happens next, so the trial has failed already."""
    return late > LATE_SHARE * planned


def next_rate(tried: Sequence[tuple[float, bool]], step: float = 1.3) -> float:
    """The rate to try after `tried` (rate, passed): `step` up from the best pass while nothing failed above
    it, `step` down from the lowest failure while nothing passed, else halfway between the bracket."""
    passed = [r for r, ok in tried if ok]
    best = max(passed, default=None)
    failed = [r for r, ok in tried if not ok and (best is None or r > best)]
    lowest_failure = min(failed, default=None)
    if best is None:
        assert lowest_failure is not None, "nothing tried yet"
        return lowest_failure / step
    if lowest_failure is None:
        return best * step
    return (best + lowest_failure) / 2


def capacity(tried: Sequence[tuple[float, bool]]) -> float:
    """The highest rate that passed (0 when none did)."""
    return max((r for r, ok in tried if ok), default=0.0)


def bracketed(tried: Sequence[tuple[float, bool]]) -> bool:
    """Some rate above the capacity failed: the capacity is a bracket's floor, not only a lower bound."""
    return any(not ok and r > capacity(tried) for r, ok in tried)


def median(values: Sequence[float]) -> float:
    """The median of the runs (the middle one of 3)."""
    return float(statistics.median(values))
