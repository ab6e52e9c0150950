"""A/B tests of journey steps, judged on net revenue per run: the runs of each variant and of the step's
holdout group added up into `campaigns.revenue.Sample`s, the always-valid verdicts of
`campaigns.revenue.ab_verdicts`, and what the summary sentence needs. Arithmetic only, no I/O.

By intention to treat, as `campaigns.journey_metrics` counts steps: a run counts in the variant it was
assigned at the step (sent, or meant to be and then cancelled or failed); a run held out at the step is in
the holdout group; a row the pressure policy skipped is in neither. A run's *net revenue* at a step is what
its lead ordered (orders not cancelled) from the moment the step came due to the end of the attribution
window, minus what the run's own codes took off those orders (the holdout gets no code at that step).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from campaigns.revenue import MIN_ORDERS, MIN_RUNS, Estimate, Sample, VariantVerdict, ab_verdicts

SKIPPED = "suppressed"


@dataclass(frozen=True)
class RunOrder:
    """An order of the run's lead: what the customer paid (after our code, if one was used)."""

    placed_at: datetime
    total: Decimal


@dataclass(frozen=True)
class VariantRun:
    """One run at one step of a test: its variant (None when held out), its offer row's status, when the
    step came due, and the lead's orders around it."""

    journey_key: str
    step: int
    variant: str | None
    holdout: bool
    status: str
    due_at: datetime
    orders: tuple[RunOrder, ...] = ()


def net_revenue(run: VariantRun, window_days: int) -> Decimal:
    """The run's net revenue: what its lead paid for orders placed in [due_at, due_at + window). An order's
    total is after our code, so the discount is netted out (subtracting it again would count it twice)."""
    end = run.due_at + timedelta(days=window_days)
    return sum((order.total for order in run.orders if run.due_at <= order.placed_at < end), Decimal(0))


@dataclass(frozen=True)
class StepTest:
    """One step's test: each variant's sample (every variant of the step, runs or not) and the holdout's."""

    journey_key: str
    step: int
    variants: dict[str, Sample] = field(default_factory=dict)
    holdout: Sample = field(default_factory=Sample)

    @property
    def verdicts(self) -> list[VariantVerdict]:
        return ab_verdicts(self.variants, self.holdout if self.holdout.runs else None)


def step_tests(
    runs: Iterable[VariantRun], tests: Mapping[str, Mapping[int, Sequence[str]]], window_days: int
) -> dict[tuple[str, int], StepTest]:
    """The tests of `tests` (journey key → step index → its variant keys, "a" included), each variant's and
    the holdout's runs added up; rows of variants a step no longer has are left out."""
    values: dict[tuple[str, int], dict[str, list[Decimal]]] = {}
    holdouts: dict[tuple[str, int], list[Decimal]] = {}
    for key, steps in tests.items():
        for step, names in steps.items():
            values[(key, step)] = {name: [] for name in names}
            holdouts[(key, step)] = []
    for run in runs:
        where = (run.journey_key, run.step)
        if where not in values:
            continue
        if run.holdout:
            holdouts[where].append(net_revenue(run, window_days))
        elif run.status != SKIPPED and run.variant in values[where]:
            values[where][run.variant].append(net_revenue(run, window_days))
    return {
        where: StepTest(
            where[0],
            where[1],
            {name: Sample.of(found) for name, found in groups.items()},
            Sample.of(holdouts[where]),
        )
        for where, groups in values.items()
    }


@dataclass(frozen=True)
class Summary:
    """What the plain-words sentence says.

    `kind`: "not_enough_data" (`runs`/`orders`: the smallest variant's, against `MIN_RUNS`/`MIN_ORDERS`),
    "winner" (`leader` beats every other; `other` the best of them), "undecided" (`leader` has the most
    per run so far, `other` the next; `losers` those surely beaten). `difference`: leader minus other, per
    run, with its always-valid interval."""

    kind: str
    leader: str | None = None
    other: str | None = None
    difference: Estimate = field(default_factory=Estimate)
    losers: tuple[str, ...] = ()
    runs: int = 0
    orders: int = 0
    min_runs: int = MIN_RUNS
    min_orders: int = MIN_ORDERS


def summarize(test: StepTest, verdicts: Sequence[VariantVerdict] | None = None) -> Summary:
    """The test's outcome in the terms of `Summary`."""
    found = list(verdicts if verdicts is not None else test.verdicts)
    if not found or any(v.verdict == "not_enough_data" for v in found):
        samples = list(test.variants.values()) or [Sample()]
        return Summary(
            "not_enough_data",
            runs=min(sample.runs for sample in samples),
            orders=min(sample.orders for sample in samples),
        )
    ranked = sorted(found, key=lambda v: (-(v.per_run or 0.0), v.name))
    winner = next((v for v in found if v.verdict == "winner"), None)
    leader = winner or ranked[0]
    other = next(v for v in ranked if v.name != leader.name)
    losers = tuple(v.name for v in found if v.verdict == "loser")
    return Summary(
        "winner" if winner else "undecided",
        leader=leader.name,
        other=other.name,
        difference=leader.against_others,
        losers=losers,
    )
