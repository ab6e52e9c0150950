"""Validating, loading and dumping the scoring rules document."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from marshmallow import ValidationError

from scoring import DEFAULT_SCORING, ScoringRulesSchema, default_rules, dump_rules, load_rules

IN_OUR_MARKETS = {
    "field": "country",
    "operator": "in",
    "value": ["FR", "BE"],
    "points": 10,
    "label": "In our markets",
}


def errors_for(changes: dict[str, Any]) -> dict[str, Any]:
    doc = {**copy.deepcopy(DEFAULT_SCORING), **changes}
    with pytest.raises(ValidationError) as caught:
        load_rules(doc)
    messages = caught.value.messages
    assert isinstance(messages, dict)
    return messages


def criterion_errors(criterion: dict[str, Any]) -> Any:
    return errors_for({"criteria": [criterion]})["criteria"][0]


def test_default_document_loads_and_dumps_back_unchanged() -> None:
    rules = load_rules(DEFAULT_SCORING)
    assert rules == default_rules()
    assert dump_rules(rules) == DEFAULT_SCORING
    assert rules.activity_rule("product_view") is not None
    assert rules.activity_rule("order_placed").points == 0  # type: ignore[union-attr]


def test_round_trip_of_a_custom_document_through_json() -> None:
    doc = {
        "activities": {
            "product_view": {"points": 2.5, "cap": {"points": 7, "period": "week"}},
            "account_created": {"points": 5, "first_only": True, "cap": {"points": 3, "period": "month"}},
            "cart_abandoned": {"points": -4},
        },
        "criteria": [
            IN_OUR_MARKETS,
            {"field": "orders_count", "operator": "in", "value": [1, 2.5], "points": 3},
        ],
        "decay": {"half_life_days": 12.5},
        "tiers": {"warm": 30, "hot": 60},
        "minimum": -10,
        "maximum": 60,
    }
    rules = load_rules(doc)
    assert load_rules(json.loads(json.dumps(dump_rules(rules)))) == rules
    assert dump_rules(rules) == doc


def test_missing_sections_take_their_defaults() -> None:
    assert load_rules({}) == default_rules()
    assert load_rules({"tiers": {"hot": 90}}).warm == 40


def test_a_country_in_markets_criterion_validates() -> None:
    rules = load_rules({"criteria": [IN_OUR_MARKETS]})
    assert rules.criteria[0].value == ("FR", "BE")


def test_schema_validate_lists_errors_without_raising() -> None:
    assert ScoringRulesSchema().validate(DEFAULT_SCORING) == {}
    assert ScoringRulesSchema().validate({"minimum": 5, "maximum": 5, "tiers": {"warm": 1, "hot": 2}}) == {
        "maximum": ["Must be greater than minimum."]
    }


def test_unknown_activity_kind() -> None:
    errors = errors_for({"activities": {"foo": {"points": 1}}})
    assert errors == {"activities": {"foo": ["Unknown activity kind."]}}


def test_negative_cap_and_unknown_period() -> None:
    errors = errors_for(
        {"activities": {"product_view": {"points": 2, "cap": {"points": -1, "period": "year"}}}}
    )
    cap = errors["activities"]["product_view"]["cap"]
    assert cap["points"][0].startswith("Must be greater than or equal to 0")
    assert cap["period"] == ["Must be one of: day, week, month."]


@pytest.mark.parametrize("points", ["15", True, None, float("inf"), 5000])
def test_activity_points_must_be_sensible_numbers(points: object) -> None:
    errors = errors_for({"activities": {"add_to_cart": {"points": points}}})
    assert list(errors["activities"]["add_to_cart"]) == ["points"]


def test_missing_points() -> None:
    errors = errors_for({"activities": {"add_to_cart": {}}})
    assert errors == {"activities": {"add_to_cart": {"points": ["Missing data for required field."]}}}


def test_negative_half_life() -> None:
    errors = errors_for({"decay": {"half_life_days": -1}})
    assert errors["decay"]["half_life_days"][0].startswith("Must be greater than or equal to 0")


@pytest.mark.parametrize("tiers", [{"warm": 80, "hot": 80}, {"warm": 90, "hot": 80}])
def test_warm_must_be_below_hot(tiers: dict[str, int]) -> None:
    assert errors_for({"tiers": tiers}) == {"tiers": {"hot": ["Must be greater than warm."]}}


def test_hot_must_be_reachable() -> None:
    assert errors_for({"tiers": {"warm": 40, "hot": 120}}) == {"tiers": {"hot": ["Must be at most maximum."]}}


@pytest.mark.parametrize(("minimum", "maximum"), [(100, 100), (100, 0)])
def test_minimum_must_be_below_maximum(minimum: int, maximum: int) -> None:
    errors = errors_for({"minimum": minimum, "maximum": maximum, "tiers": {"warm": -2, "hot": -1}})
    assert errors == {"maximum": ["Must be greater than minimum."]}


def test_unknown_profile_field_and_operator() -> None:
    errors = criterion_errors({"field": "shoe_size", "operator": "like", "value": 1, "points": 1})
    assert errors == {"field": ["Unknown profile field."], "operator": ["Unknown operator."]}


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        (
            {"field": "country", "operator": "in", "value": "FR"},
            "Must be a non-empty list for operator 'in'.",
        ),
        (
            {"field": "country", "operator": "not_in", "value": []},
            "Must be a non-empty list for operator 'not_in'.",
        ),
        ({"field": "orders_count", "operator": "gt", "value": "2"}, "Must be a number."),
        ({"field": "orders_count", "operator": "lte", "value": True}, "Must be a number."),
        ({"field": "orders_count", "operator": "in", "value": [1, "2"]}, "Every item: Must be a number."),
        ({"field": "accepts_marketing", "operator": "eq", "value": "yes"}, "Must be true or false."),
        (
            {"field": "country", "operator": "eq", "value": ""},
            "Must be a non-empty string of at most 200 characters.",
        ),
    ],
)
def test_value_must_suit_the_operator_and_field(criterion: dict[str, Any], expected: str) -> None:
    assert criterion_errors({**criterion, "points": 1}) == {"value": [expected]}


@pytest.mark.parametrize(("field", "operator"), [("country", "gt"), ("accepts_marketing", "in")])
def test_operator_must_apply_to_the_field(field: str, operator: str) -> None:
    errors = criterion_errors({"field": field, "operator": operator, "value": [1], "points": 1})
    assert errors == {"operator": [f"Does not apply to field '{field}'."]}


def test_criterion_required_keys() -> None:
    assert criterion_errors({"field": "country", "operator": "eq"}) == {
        "value": ["Missing data for required field."],
        "points": ["Missing data for required field."],
    }


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_for(
        {
            "activities": {"foo": {"points": 1}, "email_open": {"points": "x"}},
            "criteria": [IN_OUR_MARKETS, {"field": "country", "operator": "in", "value": "FR", "points": 1}],
            "decay": {"half_life_days": -3},
            "tiers": {"warm": 50, "hot": 50},
            "maximum": 0,
            "colour": "blue",
        }
    )
    assert set(errors) == {"activities", "criteria", "decay", "tiers", "maximum", "colour"}
    assert set(errors["activities"]) == {"foo", "email_open"}
    assert set(errors["criteria"]) == {1}
    assert errors["tiers"] == {"hot": ["Must be greater than warm.", "Must be at most maximum."]}


@pytest.mark.parametrize("doc", [[], "rules", None])
def test_a_document_must_be_an_object(doc: Any) -> None:
    with pytest.raises(ValidationError):
        load_rules(doc)


def test_rules_pickle_for_job_queues() -> None:
    rules = load_rules({"criteria": [IN_OUR_MARKETS]})
    assert pickle.loads(pickle.dumps(rules)) == rules
