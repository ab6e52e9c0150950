"""A/B variants of journey steps (campaigns.journeys, campaigns.ab_tests): the schema and its errors per
field, the deterministic assignment and its shares, the run's step and due times, promotion, the results."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.leads import rules
from campaigns.ab_tests import RunOrder, VariantRun, net_revenue, step_tests, summarize
from campaigns.journeys import (
    assign_variant,
    dump_journeys,
    first_due,
    load_journeys,
    next_due,
    promote_variant,
    promoted,
    run_step,
    variant_position,
    with_variant,
)

T0 = datetime(2026, 11, 25, 10, 0)
MESSAGES = {"en": {"subject": "Your cart", "body": "Hello {{ first_name }}"}}
OFFER = {"kind": "percentage", "value": 10, "expires_hours": 48}


def journey(**step0: Any) -> list[dict[str, Any]]:
    """A cart journey of three steps (1 h, 24 h, 72 h), its second step changed by `step0`."""
    steps = [
        {"after_minutes": 60, "messages": MESSAGES},
        {"after_minutes": 24 * 60, "messages": MESSAGES, **step0},
        {"after_minutes": 72 * 60, "messages": MESSAGES, "offer": OFFER},
    ]
    return [{"key": "cart", "trigger": "cart_abandoned", "holdout_share": 0.1, "steps": steps}]


TESTED = {
    "weight": 50,
    "variants": [
        {
            "key": "b",
            "weight": 30,
            "offer": OFFER,
            "messages": {"en": {"subject": "Ten percent off", "body": "Code {{ code }}"}},
            "after_minutes": 30 * 60,
        },
        {"key": "c", "weight": 20, "offer": None},
    ],
}


def errors(document: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The flattened errors the rules would answer with (422's paths)."""
    clean, found = rules.validate({"journeys": document})
    assert clean is None
    return rules.flatten_errors(found)


def test_a_step_with_variants_loads_and_dumps_back_the_same() -> None:
    [loaded] = load_journeys(journey(**TESTED))
    step = loaded.steps[1]
    assert step.weight == 50 and [v.key for v in step.variants] == ["b", "c"]
    b, c = step.variants
    assert b.own_offer and b.offer is not None and b.offer.value == Decimal(10) and b.after_minutes == 1800
    assert c.own_offer and c.offer is None and c.messages is None and c.after_minutes is None
    dumped = dump_journeys([loaded])
    assert dumped[0]["steps"][1]["variants"][1] == {"key": "c", "weight": 20, "offer": None}
    assert "variants" not in dumped[0]["steps"][0] and "weight" not in dumped[0]["steps"][0]
    assert load_journeys(dumped) == (loaded,)


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"variants": [{"key": "b", "weight": 1}]}, "journeys.0.steps.1.weight", "own weight"),
        ({"weight": 1, "variants": [{"key": "b", "weight": 0}]}, "journeys.0.steps.1.variants.0.weight", ""),
        ({"weight": 1, "variants": [{"key": "a", "weight": 1}]}, "journeys.0.steps.1.variants.0.key", "own"),
        (
            {"weight": 1, "variants": [{"key": "b", "weight": 1}, {"key": "b", "weight": 2}]},
            "journeys.0.steps.1.variants.1.key",
            "twice",
        ),
        ({"weight": 1, "variants": [{"key": "B b", "weight": 1}]}, "journeys.0.steps.1.variants.0.key", ""),
        (
            {"weight": 1, "variants": [{"key": "b", "weight": 1, "offer": {**OFFER, "value": 150}}]},
            "journeys.0.steps.1.variants.0.offer.value",
            "between 1 and 100",
        ),
        (
            {"weight": 1, "variants": [{"key": "b", "weight": 1, "after_minutes": 60}]},
            "journeys.0.steps.1.variants.0.after_minutes",
            "later than 60",
        ),
        (
            {"weight": 1, "variants": [{"key": "b", "weight": 1, "after_minutes": 72 * 60}]},
            "journeys.0.steps.1.variants.0.after_minutes",
            "earlier than 4320",
        ),
        (
            {
                "weight": 1,
                "variants": [
                    {"key": "b", "weight": 1, "messages": {"en": {"subject": "{{ nope(", "body": "x"}}}
                ],
            },
            "journeys.0.steps.1.variants.0.messages.en",
            "",
        ),
        (
            {"weight": 1, "variants": [{"key": k, "weight": 1} for k in "bcde"]},
            "journeys.0.steps.1.variants",
            "",
        ),
    ],
)
def test_a_bad_variant_is_refused_under_its_own_path(change: dict[str, Any], path: str, words: str) -> None:
    found = errors(journey(**change))
    assert path in found, found
    assert words in " ".join(found[path])


def test_a_variant_delay_must_leave_room_for_the_next_steps_variants() -> None:
    document = journey(weight=1, variants=[{"key": "b", "weight": 1, "after_minutes": 2000}])
    document[0]["steps"][2].update(weight=1, variants=[{"key": "late", "weight": 1, "after_minutes": 1900}])
    found = errors(document)
    assert "journeys.0.steps.2.variants.0.after_minutes" in found  # 1900 is before step 2's variant b
    assert "journeys.0.steps.1.variants.0.after_minutes" in found  # and 2000 after step 3's variant


def test_the_assignment_is_deterministic_and_follows_the_weights_end_to_end() -> None:
    [loaded] = load_journeys(journey(**TESTED))
    step = loaded.steps[1]
    assert assign_variant(step, 0.0) == "a" and assign_variant(step, 0.4999) == "a"
    assert assign_variant(step, 0.5) == "b" and assign_variant(step, 0.7999) == "b"
    assert assign_variant(step, 0.8) == "c" and assign_variant(step, 0.999999) == "c"
    assert assign_variant(loaded.steps[0], 0.3) is None  # no variants, no test
    key = "7:cart:42"
    assert run_step(loaded, 1, key)[0] == run_step(loaded, 1, key)[0]
    assert variant_position(key, 1) != variant_position(key, 2)  # each step draws on its own


@settings(max_examples=5, deadline=None)
@given(st.lists(st.integers(1, 100), min_size=2, max_size=4))
def test_over_20000_runs_each_variants_share_matches_its_weight(weights: list[int]) -> None:
    """Tolerance: 0.015 of share, above 4 standard deviations of a share over 20,000 runs (at most 0.0036)."""
    variants = [{"key": f"v{i}", "weight": w} for i, w in enumerate(weights[1:])]
    [loaded] = load_journeys(journey(weight=weights[0], variants=variants))
    counts = Counter(run_step(loaded, 1, f"3:cart:{n}")[0] for n in range(20_000))
    total = sum(weights)
    for key, weight in zip(["a", *(v["key"] for v in variants)], weights, strict=True):
        assert abs(counts[key] / 20_000 - weight / total) < 0.015, (key, counts)


def test_the_run_gets_its_variants_content_offer_and_delay() -> None:
    [loaded] = load_journeys(journey(**TESTED))
    step = loaded.steps[1]
    b = with_variant(step, "b")
    assert b.after_minutes == 1800 and b.offer is not None and b.messages["en"].subject == "Ten percent off"
    assert b.variants == ()
    c = with_variant(step, "c")
    assert c.offer is None and c.after_minutes == 24 * 60 and c.messages == step.messages
    assert with_variant(step, "gone").messages == step.messages  # a variant removed since: the step's own
    keys = {run_step(loaded, 1, f"1:cart:{n}")[0]: f"1:cart:{n}" for n in range(200)}
    b_run, a_run = keys["b"], keys["a"]
    sent = T0 + timedelta(hours=1)
    assert next_due(loaded, T0, 0, sent, b_run) == T0 + timedelta(minutes=1800)
    assert next_due(loaded, T0, 0, sent, a_run) == T0 + timedelta(hours=24)
    # After variant b went out at 30 h, the last step keeps its distance from b's delay.
    late = T0 + timedelta(hours=40)
    assert next_due(loaded, T0, 1, late, b_run) == late + timedelta(minutes=72 * 60 - 1800)
    # A run held out at the step gets no variant and is timed as the step's own.
    assert run_step(loaded, 1, b_run, holdout_stop=1) == (None, with_variant(step, None))
    assert next_due(loaded, T0, 0, sent, b_run, holdout_stop=1) == T0 + timedelta(hours=24)
    assert first_due(loaded, T0, b_run) == T0 + timedelta(hours=1)


def test_promoting_a_variant_gives_the_step_its_content_and_ends_the_test() -> None:
    clean = dump_journeys(load_journeys(journey(**TESTED)))
    step = clean[0]["steps"][1]
    b = promote_variant(step, "b")
    assert b["after_minutes"] == 1800 and b["offer"]["value"] == 10
    assert b["messages"]["en"]["subject"] == "Ten percent off"
    assert "variants" not in b and "weight" not in b
    c = promote_variant(step, "c")
    assert c["offer"] is None and c["messages"] == step["messages"] and c["after_minutes"] == 24 * 60
    a = promote_variant(step, "a")
    assert a == {k: v for k, v in step.items() if k not in ("weight", "variants")}
    with pytest.raises(KeyError):
        promote_variant(step, "z")
    before = copy.deepcopy(clean)
    after = promoted(clean, "cart", 1, "b")
    assert clean == before and after[0]["steps"][1] == b  # a copy: the list given is left alone
    assert load_journeys(after)  # still a valid journeys list
    with pytest.raises(LookupError):
        promoted(clean, "cart", 0, "b")  # step 1 holds no test
    with pytest.raises(LookupError):
        promoted(clean, "nope", 1, "b")


def _run(variant: str | None, *totals: str, holdout: bool = False, status: str = "sent") -> VariantRun:
    """A run whose lead paid these totals (after our code) a day after the step came due."""
    orders = tuple(RunOrder(T0 + timedelta(days=1), Decimal(total)) for total in totals)
    return VariantRun("cart", 1, variant, holdout, status, T0, orders)


def test_net_revenue_counts_what_was_paid_in_the_window() -> None:
    run = VariantRun(
        "cart",
        1,
        "a",
        False,
        "sent",
        T0,
        (
            RunOrder(T0 + timedelta(days=1), Decimal(54)),  # 60 less a 6 code: what the customer paid
            RunOrder(T0 - timedelta(minutes=1), Decimal(99)),  # before the step came due
            RunOrder(T0 + timedelta(days=7), Decimal(99)),  # after a 7-day window
        ),
    )
    assert net_revenue(run, 7) == Decimal(54)


def test_each_variant_and_the_holdout_form_their_samples() -> None:
    runs = [
        _run("a", "50"),
        _run("a"),
        _run("b", "54"),
        _run("b", status="suppressed"),  # skipped by the pressure policy: in neither group
        _run("old"),  # a variant the step no longer has
        _run(None, "40", holdout=True, status="suppressed"),
        VariantRun("welcome", 0, "a", False, "sent", T0),  # not a tested step
    ]
    tests = step_tests(runs, {"cart": {1: ["a", "b", "c"]}}, 7)
    test = tests[("cart", 1)]
    assert list(tests) == [("cart", 1)]
    assert (test.variants["a"].runs, test.variants["a"].orders, test.variants["a"].total) == (2, 1, 50.0)
    assert (test.variants["b"].runs, test.variants["b"].total) == (1, 54.0)
    assert test.variants["c"].runs == 0
    assert (test.holdout.runs, test.holdout.total) == (1, 40.0)
    summary = summarize(test)
    assert (summary.kind, summary.runs, summary.orders) == ("not_enough_data", 0, 0)


def test_a_clear_difference_names_the_winner() -> None:
    runs = [_run("a", "50") for _ in range(40)] + [_run("a") for _ in range(160)]
    runs += [_run("b", "54") for _ in range(100)] + [_run("b") for _ in range(100)]
    test = step_tests(runs, {"cart": {1: ["a", "b"]}}, 7)[("cart", 1)]
    summary = summarize(test)
    assert (summary.kind, summary.leader, summary.other) == ("winner", "b", "a")
    assert summary.difference.value == pytest.approx(17.0)
    assert summary.difference.low is not None and 0 < summary.difference.low < 17
    verdicts = {v.name: v.verdict for v in test.verdicts}
    assert verdicts == {"a": "loser", "b": "winner"}
