"""Segments' pure core: validation per field, evaluation over a lead's facts, memberships as a scoring
criterion, and journeys routed by segment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

from campaigns import load_journeys, route
from campaigns.journey_defaults import default_journeys
from scoring import ProductTouch, Profile, load_rules, score
from scoring.segments import LeadFacts, dump_segment, load_segment, load_segments, matches, memberships

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


def segment(*conditions: dict, match: str = "all", key: str = "s"):
    return load_segment({"key": key, "match": match, "conditions": list(conditions)})


def facts(**values) -> LeadFacts:
    profile_fields = {"email", "country", "accepts_marketing", "is_customer", "orders_count", "total_spent"}
    profile = Profile(
        **{k: v for k, v in values.items() if k in profile_fields}, products=values.pop("products", ())
    )
    return LeadFacts(profile=profile, **{k: v for k, v in values.items() if k not in profile_fields})


def viewed(product: str, days_ago: float, collections=(), tags=(), action: str = "viewed") -> ProductTouch:
    return ProductTouch(action, product, NOW - timedelta(days=days_ago), tuple(collections), tuple(tags))


def test_a_segment_round_trips_and_folds_text_as_it_compares_it():
    loaded = segment(
        {"field": "country", "operator": "in", "value": [" FR", "be"]},
        {"field": "bought", "operator": "in", "of": "tag", "value": "Sale", "within_days": 7},
    )
    assert loaded.conditions[0].value == ("fr", "be") and loaded.conditions[1].value == ("sale",)
    assert load_segment(dump_segment(loaded)) == loaded


@pytest.mark.parametrize(
    ("condition", "where", "message"),
    [
        ({"field": "tier", "operator": "eq", "value": "lukewarm"}, "value", "Must be one of"),
        ({"field": "last_activity_days", "operator": "eq", "value": 3}, "operator", "Does not apply"),
        ({"field": "last_activity_days", "operator": "gt", "value": -1}, "value", "0 or more"),
        ({"field": "accepts_marketing", "operator": "eq", "value": "yes"}, "value", "true or false"),
        ({"field": "viewed", "operator": "eq", "value": "p1"}, "operator", "Does not apply"),
        ({"field": "viewed", "operator": "in", "value": [], "within_days": 0}, "within_days", "greater than"),
        ({"field": "locale", "operator": "in", "value": ["fr", "  "]}, "value", "Every item"),
    ],
)
def test_a_bad_condition_is_reported_under_its_field(condition, where, message):
    with pytest.raises(ValidationError) as caught:
        segment(condition)
    assert message in " ".join(caught.value.messages["conditions"][0][where])


def test_keys_are_unique_and_a_segment_needs_a_condition():
    with pytest.raises(ValidationError) as caught:
        load_segments([{"key": "a", "conditions": []}, {"key": "a", "conditions": []}])
    assert set(caught.value.messages) == {0, 1} and "conditions" in caught.value.messages[0]
    one = {"key": "a", "conditions": [{"field": "is_customer", "operator": "eq", "value": True}]}
    with pytest.raises(ValidationError) as twice:
        load_segments([one, one])
    assert twice.value.messages == {1: {"key": ["'a' is used twice."]}}


def test_an_unknown_value_matches_no_operator():
    for op, value in (("eq", "fr"), ("ne", "fr"), ("not_in", ["fr"]), ("contains", "f")):
        assert not matches(segment({"field": "country", "operator": op, "value": value}), facts(), NOW)
    assert not matches(segment({"field": "accepts_marketing", "operator": "ne", "value": True}), facts(), NOW)
    assert not matches(segment({"field": "last_activity_days", "operator": "gt", "value": 1}), facts(), NOW)
    assert not matches(
        segment({"field": "utm_source", "operator": "ne", "value": "x"}),
        facts(source={"utm_source": ""}),
        NOW,
    )


def test_behaviour_conditions():
    shirts = viewed("p1", 10, collections=["shirts"], tags=["cotton"])
    old_shoes = viewed("p2", 40, collections=["shoes"], action="bought")
    lead = facts(
        products=(shirts, old_shoes), last_activity_at=NOW - timedelta(days=10), tier="warm", score=55
    )
    assert matches(
        segment(
            {"field": "viewed", "operator": "in", "of": "collection", "value": ["Shirts"], "within_days": 30}
        ),
        lead,
        NOW,
    )
    assert not matches(
        segment(
            {"field": "viewed", "operator": "in", "of": "collection", "value": ["shirts"], "within_days": 7}
        ),
        lead,
        NOW,
    )
    assert matches(segment({"field": "bought", "operator": "in", "value": ["p2"]}), lead, NOW)
    assert matches(
        segment({"field": "bought", "operator": "not_in", "value": ["p2"], "within_days": 30}), lead, NOW
    )
    assert not matches(
        segment({"field": "added", "operator": "in", "of": "tag", "value": "cotton"}), lead, NOW
    )
    assert matches(segment({"field": "last_activity_days", "operator": "gte", "value": 10}), lead, NOW)
    assert not matches(segment({"field": "last_activity_days", "operator": "lt", "value": 10}), lead, NOW)
    assert matches(
        segment(
            {"field": "score", "operator": "gte", "value": 50},
            {"field": "tier", "operator": "in", "value": ["warm", "hot"]},
        ),
        lead,
        NOW,
    )
    either = segment(
        {"field": "score", "operator": "gt", "value": 90},
        {"field": "tier", "operator": "eq", "value": "warm"},
        match="any",
    )
    assert matches(either, lead, NOW)
    assert not matches(
        segment(
            {"field": "score", "operator": "gt", "value": 90},
            {"field": "tier", "operator": "eq", "value": "warm"},
        ),
        lead,
        NOW,
    )


def test_source_fields_and_contains():
    lead = facts(
        source={
            "utm_source": " Google ",
            "landing_page": "/Collections/Shirts?x=1",
            "referrer": "news.example",
        },
        email="ann@Shop.FR",
        locale="fr-CA",
    )
    assert matches(segment({"field": "utm_source", "operator": "eq", "value": "google"}), lead, NOW)
    assert matches(segment({"field": "source", "operator": "eq", "value": "GOOGLE"}), lead, NOW)
    assert matches(
        segment({"field": "landing_page", "operator": "contains", "value": "/collections/shirts"}), lead, NOW
    )
    assert matches(segment({"field": "email_domain", "operator": "eq", "value": "shop.fr"}), lead, NOW)
    assert matches(segment({"field": "locale", "operator": "in", "value": ["FR-ca", "fr"]}), lead, NOW)
    assert matches(
        segment({"field": "source", "operator": "eq", "value": "news.example"}),
        facts(source={"referrer": "news.example", "utm_source": ""}),
        NOW,
    )


def test_a_criterion_on_a_segment_scores_its_members():
    rules = load_rules(
        {
            "activities": {},
            "criteria": [
                {
                    "field": "segment",
                    "operator": "eq",
                    "value": "shirt-fans",
                    "points": 10,
                    "label": "Affinity: shirts",
                }
            ],
        }
    )
    fans = load_segment(
        {
            "key": "shirt-fans",
            "conditions": [{"field": "viewed", "operator": "in", "of": "collection", "value": ["shirts"]}],
        }
    )
    fan = facts(products=(viewed("p1", 3, collections=["shirts"]),))
    member_of = memberships([fans], fan, NOW)
    assert member_of == {"shirt-fans"}
    result = score(rules, Profile(segments=member_of), [], NOW)
    assert result.total == 10 and [line.label for line in result.breakdown] == ["Affinity: shirts"]
    assert score(rules, Profile(), [], NOW).total == 0
    excluded = load_rules(
        {
            "activities": {},
            "criteria": [{"field": "segment", "operator": "not_in", "value": ["shirt-fans"], "points": -5}],
        }
    )
    assert score(excluded, Profile(segments=member_of), [], NOW).raw == 0
    assert score(excluded, Profile(), [], NOW).raw == -5


def test_a_journey_restricted_to_a_segment_is_routed_by_membership():
    document = default_journeys()
    cart = next(j for j in document if j["trigger"] == "cart_abandoned")
    document = [
        {**cart, "key": "fans", "audience": {"tiers": None, "segment": "fans"}},
        {**cart, "key": "all", "audience": {"tiers": None}},
    ]
    journeys = load_journeys(document)
    assert route(journeys, "cart_abandoned", "cold", in_segment=lambda key: key == "fans").key == "fans"
    assert route(journeys, "cart_abandoned", "cold", in_segment=lambda key: False).key == "all"
    assert route(journeys, "cart_abandoned", "cold").key == "fans"  # membership unknown: not ruled out
