"""campaigns.earnings: journeys are strata, so holdout shares that differ never bias the total."""

from __future__ import annotations

from campaigns.earnings import Outcome, earnings, total
from campaigns.revenue import Sample


def _runs(
    journey: str, group: str, runs: int, orders: int, amount: float, tier: str = "cold"
) -> list[Outcome]:
    return [Outcome(journey, 0, group, tier, amount if i < orders else 0.0) for i in range(runs)]


def test_each_journey_is_its_own_stratum() -> None:
    # Journey a: no effect, 50 % held out, buyers spend 100 in 40 % of runs.
    # Journey b: no effect, 5 % held out, buyers spend 10 in 40 % of runs.
    outcomes = (
        _runs("a", "treated", 200, 80, 100.0)
        + _runs("a", "holdout", 200, 80, 100.0)
        + _runs("b", "treated", 1900, 760, 10.0)
        + _runs("b", "holdout", 100, 40, 10.0)
    )
    found = earnings(outcomes, {"a": "cart_abandoned", "b": "signup"}, "EUR")
    assert found["value"] == "0.00"  # pooling the runs would say 15,600 - 2,100 x 28 = -43,200
    assert found["low"] is not None and float(found["low"]) < 0 < float(found["high"])
    assert found["per_1000_abandoned_carts"]["value"] == "0.00"  # journey a only
    assert (found["treated_runs"], found["holdout_runs"]) == (2100, 300)


def test_a_stratum_without_holdout_is_left_out_of_the_total() -> None:
    measured = (Sample.of([10.0] * 50 + [0.0] * 150), Sample.of([5.0] * 30 + [0.0] * 170))
    alone = total([measured])
    with_unmeasured = total([measured, (Sample.of([99.0] * 10), Sample())])
    assert alone == with_unmeasured
    assert alone.value == 200 * (2.5 - 0.75)
