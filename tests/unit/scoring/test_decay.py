"""scoring.decay.next_tier_change: when decay alone moves a lead to another tier, against the engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import ActivityRecord, Profile, Rules, load_rules, score
from scoring.decay import next_tier_change, terms
from tests.unit.scoring.test_properties import activity_lists, nows, profiles, rule_sets

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def rules_of(activities: dict[str, object], half_life: float = 30, warm: int = 40, hot: int = 80) -> Rules:
    return load_rules(
        {
            "activities": activities,
            "criteria": [],
            "decay": {"half_life_days": half_life},
            "tiers": {"warm": warm, "hot": hot},
        }
    )


def tier_at(rules: Rules, profile: Profile, activities: list[ActivityRecord], at: datetime) -> str:
    return score(rules, profile, activities, at).tier


def test_a_hot_lead_cools_to_warm_when_its_points_halve_below_the_boundary() -> None:
    rules = rules_of({"checkout_started": {"points": 90}})
    activities = [ActivityRecord("checkout_started", NOW)]
    due = next_tier_change(rules, Profile(), activities, NOW)
    assert due is not None
    # 90 * 2 ** (-t / 30 days) < 79.5 from t = 30 * log2(90 / 79.5) days, about 5.37 days
    assert timedelta(days=5.3) < due - NOW < timedelta(days=5.4)
    assert tier_at(rules, Profile(), activities, due) == "warm"
    assert tier_at(rules, Profile(), activities, due - SECOND) == "hot"


def test_the_77_after_90_days_of_the_issue_falls_through_every_boundary_in_turn() -> None:
    rules = rules_of({"add_to_cart": {"points": 77}})
    activities = [ActivityRecord("add_to_cart", NOW)]
    first = next_tier_change(rules, Profile(), activities, NOW)
    assert first is not None and tier_at(rules, Profile(), activities, first) == "cold"
    assert tier_at(rules, Profile(), activities, first - SECOND) == "warm"
    assert next_tier_change(rules, Profile(), activities, first) is None  # cold stays cold
    assert score(rules, Profile(), activities, NOW + timedelta(days=90)).total == 10


def test_nothing_to_say_without_decay_for_customers_and_for_cold_leads_with_falling_points() -> None:
    activities = [ActivityRecord("add_to_cart", NOW)]
    hot = rules_of({"add_to_cart": {"points": 90}})
    assert (
        next_tier_change(rules_of({"add_to_cart": {"points": 90}}, half_life=0), Profile(), activities, NOW)
        is None
    )
    assert next_tier_change(hot, Profile(is_customer=True), activities, NOW) is None
    assert next_tier_change(rules_of({"add_to_cart": {"points": 5}}), Profile(), activities, NOW) is None
    assert next_tier_change(hot, Profile(), [], NOW) is None
    assert next_tier_change(hot, Profile(), [ActivityRecord("email_open", NOW)], NOW) is None  # unscored kind


def test_negative_points_decay_upwards_into_a_higher_tier() -> None:
    rules = load_rules(
        {
            "activities": {"email_click": {"points": -40}},
            "criteria": [{"field": "accepts_marketing", "operator": "eq", "value": True, "points": 60}],
            "decay": {"half_life_days": 10},
            "tiers": {"warm": 40, "hot": 80},
        }
    )
    profile = Profile(accepts_marketing=True)
    activities = [ActivityRecord("email_click", NOW)]
    assert tier_at(rules, profile, activities, NOW) == "cold"  # 60 - 40
    due = next_tier_change(rules, profile, activities, NOW)
    assert due is not None and tier_at(rules, profile, activities, due) == "warm"
    assert tier_at(rules, profile, activities, due - SECOND) == "cold"


def test_a_future_dated_activity_holds_its_points_until_its_time_comes() -> None:
    rules = rules_of({"checkout_started": {"points": 85}}, half_life=1)
    activities = [ActivityRecord("checkout_started", NOW + timedelta(days=3))]
    due = next_tier_change(rules, Profile(), activities, NOW)
    assert due is not None and due > NOW + timedelta(days=3)
    assert tier_at(rules, Profile(), activities, due) == "warm"
    assert tier_at(rules, Profile(), activities, due - SECOND) == "hot"


def test_storefront_points_follow_the_engine_ceiling() -> None:
    rules = rules_of({"product_view": {"points": 30}, "add_to_cart": {"points": 60}}, half_life=5)
    activities = [
        ActivityRecord("add_to_cart", NOW - timedelta(days=1)),
        *(
            ActivityRecord("product_view", NOW - timedelta(hours=h), ref=str(h), storefront=True)
            for h in range(3)
        ),
    ]
    current = tier_at(rules, Profile(), activities, NOW)
    due = next_tier_change(rules, Profile(), activities, NOW)
    assert due is not None
    assert tier_at(rules, Profile(), activities, due) != current
    assert tier_at(rules, Profile(), activities, due - SECOND) == current


def test_terms_sum_to_the_engine_raw_score_at_any_time() -> None:
    rules = rules_of(
        {"product_view": {"points": 4, "cap": {"points": 10, "period": "day"}}, "add_to_cart": {"points": 15}}
    )
    activities = [ActivityRecord("product_view", NOW - timedelta(minutes=m), ref=str(m)) for m in range(5)]
    activities.append(ActivityRecord("add_to_cart", NOW - timedelta(days=2)))
    later = NOW + timedelta(days=7)
    half_life = rules.half_life_seconds
    expected = sum(p * 0.5 ** ((later.timestamp() - ts) / half_life) for p, ts in terms(rules, activities))
    assert score(rules, Profile(), activities, later).raw == pytest.approx(expected)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        next_tier_change(rules_of({}), Profile(), [], NOW.replace(tzinfo=None))


@st.composite
def store_like_rules(draw: st.DrawFn) -> Rules:
    """Rules like a store's (tiers within reach, points of both signs), so that tiers do move."""
    warm = draw(st.integers(5, 60))
    kinds = st.sampled_from(["product_view", "add_to_cart", "checkout_started", "email_click", "email_open"])
    cap = st.fixed_dictionaries(
        {"points": st.integers(1, 30), "period": st.sampled_from(["day", "week", "month"])}
    )
    rule = st.fixed_dictionaries(
        {"points": st.integers(-30, 60) | st.floats(-30, 60).map(lambda x: round(x, 2))},
        optional={"cap": cap, "first_only": st.booleans()},
    )
    return load_rules(
        {
            "activities": draw(st.dictionaries(kinds, rule, min_size=1)),
            "criteria": [
                {
                    "field": "accepts_marketing",
                    "operator": "eq",
                    "value": True,
                    "points": draw(st.integers(-20, 40)),
                }
            ],
            "decay": {"half_life_days": draw(st.sampled_from([0.5, 1, 7, 30]) | st.floats(0.1, 90))},
            "tiers": {"warm": warm, "hot": warm + draw(st.integers(1, 40))},
        }
    )


@st.composite
def recent_activities(draw: st.DrawFn, now: datetime, rules: Rules) -> list[ActivityRecord]:
    kinds = st.sampled_from([rule.kind for rule in rules.activities])
    ages = st.integers(-2 * 86_400, 40 * 86_400)
    pairs = draw(st.lists(st.tuples(kinds, ages, st.booleans()), max_size=12))
    return [ActivityRecord(k, now - timedelta(seconds=a), str(i), sf) for i, (k, a, sf) in enumerate(pairs)]


@settings(max_examples=300)
@given(store_like_rules(), st.builds(Profile, accepts_marketing=st.booleans()), nows, st.data())
def test_the_returned_second_is_the_first_in_another_tier(
    rules: Rules, profile: Profile, now: datetime, data: st.DataObject
) -> None:
    check_against_engine(rules, profile, now, data.draw(recent_activities(now, rules)))


@settings(max_examples=200)
@given(rule_sets(), profiles, nows, st.data())
def test_any_valid_rules_agree_with_the_engine(
    rules: Rules, profile: Profile, now: datetime, data: st.DataObject
) -> None:
    activities = data.draw(activity_lists(now, rules))
    flags = data.draw(st.lists(st.booleans(), min_size=len(activities), max_size=len(activities)))
    activities = [
        replace(a, storefront=flag, ref=str(i))
        for i, (a, flag) in enumerate(zip(activities, flags, strict=True))
    ]
    check_against_engine(rules, profile, now, activities)


def check_against_engine(
    rules: Rules, profile: Profile, now: datetime, activities: list[ActivityRecord]
) -> None:
    """The returned second is in another tier and the second before it is not; sampled times before it, or
    at any time when None, are in the tier of `now`."""
    current = tier_at(rules, profile, activities, now)
    due = next_tier_change(rules, profile, activities, now)
    half_life = timedelta(seconds=max(rules.half_life_seconds, 1.0))
    if due is None:
        # sampled: the tier never moves (the candidates are exact; sampling checks that none was missed)
        for factor in (0.01, 0.1, 0.5, 1, 2, 3, 5, 8, 13, 40, 200):
            assert tier_at(rules, profile, activities, now + half_life * factor) == current
        return
    assert due > now
    assert tier_at(rules, profile, activities, due) != current
    if due - SECOND > now:
        assert tier_at(rules, profile, activities, due - SECOND) == current
    span = due - now
    for fraction in (0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        assert tier_at(rules, profile, activities, max(now, now + span * fraction - SECOND)) == current
