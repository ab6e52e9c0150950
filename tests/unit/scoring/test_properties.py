"""Properties of the scoring engine that hold for any valid rules, profile and activities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scoring import ACTIVITY_KINDS, ActivityRecord, Profile, Rules, load_rules, score, tier_for

KINDS = st.sampled_from((*ACTIVITY_KINDS, "unknown_kind"))
POINTS = st.integers(-50, 50) | st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 2))
CRITERIA: tuple[dict[str, Any], ...] = (
    {"field": "country", "operator": "in", "value": ["FR", "BE"]},
    {"field": "accepts_marketing", "operator": "eq", "value": True},
    {"field": "email_domain", "operator": "in", "value": ["mailinator.com"]},
    {"field": "orders_count", "operator": "gte", "value": 2},
)

nows = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
profiles = st.builds(
    Profile,
    email=st.sampled_from([None, "a@mailinator.com", "b@example.fr"]),
    country=st.sampled_from([None, "FR", "be", "US"]),
    accepts_marketing=st.sampled_from([None, True, False]),
    is_customer=st.booleans(),
    orders_count=st.integers(0, 5),
)


def activity_rule(points: st.SearchStrategy[float]) -> st.SearchStrategy[dict[str, Any]]:
    cap = st.fixed_dictionaries(
        {"points": st.integers(0, 30), "period": st.sampled_from(["day", "week", "month"])}
    )
    return st.fixed_dictionaries({"points": points}, optional={"cap": cap, "first_only": st.booleans()})


@st.composite
def rule_sets(draw: st.DrawFn, points: st.SearchStrategy[float] = POINTS) -> Rules:
    """A valid rules document, loaded."""
    minimum = draw(st.integers(-100, 50))
    maximum = draw(st.integers(minimum + 1, minimum + 300))
    hot = draw(st.integers(minimum + 1, maximum))
    criteria = draw(st.lists(st.sampled_from(CRITERIA), max_size=4))
    doc = {
        "activities": draw(st.dictionaries(st.sampled_from(ACTIVITY_KINDS), activity_rule(points))),
        "criteria": [{**criterion, "points": draw(POINTS)} for criterion in criteria],
        "decay": {"half_life_days": draw(st.sampled_from([0, 0.5, 1, 7, 30, 365]) | st.floats(0, 400))},
        "tiers": {"warm": draw(st.integers(minimum, hot - 1)), "hot": hot},
        "minimum": minimum,
        "maximum": maximum,
    }
    return load_rules(doc)


@st.composite
def activity_lists(draw: st.DrawFn, now: datetime, rules: Rules) -> list[ActivityRecord]:
    """Activities from 400 days before `now` to 5 days after it, mostly of scored kinds and
    often bunched within hours of each other, so that caps bind."""
    scored = [rule.kind for rule in rules.activities]
    kinds = st.sampled_from(scored) | KINDS if scored else KINDS
    anchors = draw(st.lists(st.integers(-5 * 86_400, 400 * 86_400), min_size=1, max_size=3))
    bunched = st.builds(int.__add__, st.sampled_from(anchors), st.integers(0, 4 * 3600))
    ages = bunched | st.integers(-5 * 86_400, 400 * 86_400)
    pairs = draw(st.lists(st.tuples(kinds, ages), max_size=40))
    return [ActivityRecord(kind, now - timedelta(seconds=age)) for kind, age in pairs]


@given(rule_sets(), profiles, nows, st.data())
def test_total_stays_within_bounds_and_matches_its_tier(
    rules: Rules, profile: Profile, now: datetime, data: st.DataObject
) -> None:
    result = score(rules, profile, data.draw(activity_lists(now, rules)), now)
    assert rules.minimum <= result.total <= rules.maximum
    assert result.tier == tier_for(rules, result.total, profile.is_customer)


@given(rule_sets(), profiles, nows, st.data())
def test_breakdown_adds_up_to_raw(rules: Rules, profile: Profile, now: datetime, data: st.DataObject) -> None:
    result = score(rules, profile, data.draw(activity_lists(now, rules)), now)
    assert sum(line.points for line in result.breakdown) == result.raw


def one_more(
    now: datetime, rules: Rules, activities: list[ActivityRecord]
) -> st.SearchStrategy[ActivityRecord]:
    """Any activity, or one of the same kind within two hours of an existing one."""
    anywhere = activity_lists(now, rules).filter(bool).map(lambda drawn: drawn[-1])
    if not activities:
        return anywhere
    near = st.builds(
        lambda activity, seconds: ActivityRecord(
            activity.kind, activity.occurred_at + timedelta(seconds=seconds)
        ),
        st.sampled_from(activities),
        st.integers(-7200, 7200),
    )
    return near | anywhere


@settings(max_examples=500)  # the counter-examples worth finding need a cap, a bucket and an order
@given(rule_sets(), profiles, nows, st.data())
def test_one_more_activity_of_a_non_negative_kind_never_lowers_the_score(
    rules: Rules, profile: Profile, now: datetime, data: st.DataObject
) -> None:
    activities = data.draw(activity_lists(now, rules))
    extra = data.draw(one_more(now, rules, activities))
    rule = rules.activity_rule(extra.kind)
    assume(rule is None or rule.points >= 0)
    same_kind = [activity.occurred_at for activity in activities if activity.kind == extra.kind]
    if rule is not None and rule.first_only and same_kind:
        # first_only counts the earliest activity by design: an earlier one replaces it.
        assume(extra.occurred_at >= min(same_kind))
    before, after = score(rules, profile, activities, now), score(rules, profile, [*activities, extra], now)
    assert after.raw >= before.raw
    assert after.total >= before.total


@given(rule_sets(points=st.integers(0, 50)), profiles, nows, st.data())
def test_a_later_now_never_raises_positive_activity_points(
    rules: Rules, profile: Profile, now: datetime, data: st.DataObject
) -> None:
    activities = data.draw(activity_lists(now, rules))
    later = now + timedelta(seconds=data.draw(st.integers(0, 500 * 86_400)))
    before, after = score(rules, profile, activities, now), score(rules, profile, activities, later)
    assert after.raw <= before.raw
    points_then = {line.rule: line.points for line in before.breakdown}
    assert all(line.points <= points_then[line.rule] for line in after.breakdown)


@given(rule_sets(), profiles, nows, st.data())
def test_same_inputs_in_any_order_give_the_same_score(
    rules: Rules, profile: Profile, now: datetime, data: st.DataObject
) -> None:
    activities = data.draw(activity_lists(now, rules))
    shuffled = data.draw(st.permutations(activities))
    first = score(rules, profile, activities, now)
    assert score(rules, profile, activities, now) == first
    assert score(rules, profile, shuffled, now) == first
