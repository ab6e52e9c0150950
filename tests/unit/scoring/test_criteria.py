"""Profile criteria: fields, operators, unknown values and breakdown names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scoring import Profile, Rules, load_rules, score

NOW = datetime(2024, 6, 12, tzinfo=UTC)


def one_criterion(field: str, operator: str, value: object, points: float = 10, label: str = "") -> Rules:
    criterion = {"field": field, "operator": operator, "value": value, "points": points, "label": label}
    return load_rules({"activities": {}, "criteria": [criterion]})


def raw_for(rules: Rules, profile: Profile) -> float:
    return score(rules, profile, [], NOW).raw


@pytest.mark.parametrize(
    ("country", "expected"), [("FR", 10), ("be", 10), (" fr ", 10), ("US", 0), (None, 0)]
)
def test_country_in_markets_ignores_case(country: str | None, expected: float) -> None:
    assert raw_for(one_criterion("country", "in", ["FR", "BE"]), Profile(country=country)) == expected


def test_unknown_values_match_no_operator() -> None:
    assert raw_for(one_criterion("country", "not_in", ["FR"]), Profile(country=None)) == 0
    assert raw_for(one_criterion("country", "not_in", ["FR"]), Profile(country="DE")) == 10
    assert raw_for(one_criterion("accepts_marketing", "eq", False), Profile()) == 0
    assert raw_for(one_criterion("accepts_marketing", "ne", True), Profile(accepts_marketing=False)) == 10


@pytest.mark.parametrize(
    ("operator", "value", "matches"),
    [("gt", 2, False), ("gte", 2, True), ("lt", 3, True), ("lte", 1, False), ("eq", 2.0, True),
     ("ne", 2, False), ("in", [1, 2], True), ("not_in", [1, 2], False)],
)  # fmt: skip
def test_numeric_operators(operator: str, value: object, matches: bool) -> None:
    rules = one_criterion("orders_count", operator, value)
    assert raw_for(rules, Profile(orders_count=2)) == (10 if matches else 0)


@pytest.mark.parametrize(
    ("email", "expected"),
    [("bob@Example.COM", -5), ("bob@other.org", 0), (None, 0), ("not-an-email", 0)],
)
def test_email_domain_is_the_lower_case_part_after_the_at_sign(email: str | None, expected: float) -> None:
    rules = one_criterion("email_domain", "eq", "example.com", points=-5)
    assert raw_for(rules, Profile(email=email)) == expected


def test_criteria_are_not_decayed_and_explain_themselves() -> None:
    rules = one_criterion("total_spent", "gte", 100, points=7, label="Big spender")
    line = score(rules, Profile(total_spent=120.5), [], NOW).breakdown[0]
    assert (line.rule, line.label, line.count, line.points_before, line.points) == (
        "profile:big_spender", "Big spender", 1, 7, 7,
    )  # fmt: skip


def test_criteria_without_labels_get_a_description_and_distinct_rule_names() -> None:
    same = {"field": "source", "operator": "eq", "value": "google", "points": 1}
    rules = load_rules({"activities": {}, "criteria": [same, same]})
    lines = score(rules, Profile(source="Google"), [], NOW).breakdown
    assert [line.rule for line in lines] == ["profile:source_eq", "profile:source_eq_2"]
    assert lines[0].label == "source eq google"
