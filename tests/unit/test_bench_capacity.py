"""bench.load's capacity search: the verdict of a trial, the next rate, the median of the runs."""

from __future__ import annotations

import math

import pytest

from bench.capacity import Outcome, bracketed, capacity, hopeless, median, next_rate, passes, reasons

GOOD = Outcome(rate=100, accepted=6000, drained_after=3.0, lag_p99=4.0, lost=0, failed=0)


def with_(**changes) -> Outcome:
    return Outcome(**{**GOOD.__dict__, **changes})


def test_a_trial_that_kept_up_passes():
    assert passes(GOOD) and reasons(GOOD) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"drained_after": None},
        {"drained_after": 30.5},
        {"lag_p99": 30.1},
        {"lag_p99": math.inf},
        {"lag_p99": math.nan},
        {"lost": 1},
        {"failed": 1},
        {"aborted": True},
        {"errors": 10},
        {"planned": 6100},
    ],
)
def test_each_limit_fails_a_trial(changes):
    assert not passes(with_(**changes))


def test_limits_themselves_pass():
    assert passes(with_(drained_after=30.0, lag_p99=30.0, errors=6, planned=6060))


def test_a_trial_is_hopeless_once_over_one_percent_is_late():
    assert not hopeless(60, 6000) and hopeless(61, 6000)


def test_the_search_goes_up_after_passes_and_down_after_failures():
    assert next_rate([(100, True)]) == pytest.approx(130)
    assert next_rate([(100, True), (130, True)]) == pytest.approx(169)
    assert next_rate([(100, False)]) == pytest.approx(100 / 1.3)
    assert next_rate([(100, False)], step=1.15) == pytest.approx(100 / 1.15)


def test_the_search_halves_the_bracket():
    assert next_rate([(100, True), (130, False)]) == 115
    assert next_rate([(100, True), (130, False), (115, True)]) == 122.5
    assert next_rate([(100, False), (77, True)]) == 88.5


def test_a_failure_below_the_best_pass_is_noise_not_a_bound():
    assert next_rate([(100, True), (90, False)]) == pytest.approx(130)


def test_the_capacity_is_the_highest_pass():
    assert capacity([(100, True), (130, False), (115, True)]) == 115
    assert capacity([(100, False), (77, False)]) == 0.0


def test_the_median_of_three_runs_is_the_middle_one():
    assert median([0.03, 0.01, 0.02]) == 0.02


def test_a_capacity_without_a_failure_above_it_is_only_a_lower_bound():
    assert not bracketed([(100, True), (130, True)])
    assert not bracketed([(100, True), (90, False)])
    assert bracketed([(100, True), (130, False)])
