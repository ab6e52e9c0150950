"""The scoring engine on hand-built leads, with expected numbers worked out in each test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from scoring import ActivityRecord, BreakdownLine, Profile, Rules, default_rules, load_rules, score, tier_for

NOW = datetime(2024, 6, 12, 15, 0, tzinfo=UTC)  # a Wednesday
DAY = timedelta(days=1)


def at(kind: str, when: datetime = NOW, ref: str = "") -> ActivityRecord:
    return ActivityRecord(kind, when, ref)


def rules_with(activities: dict[str, object], half_life_days: float = 30, **extra: object) -> Rules:
    doc = {"activities": activities, "criteria": [], "decay": {"half_life_days": half_life_days}, **extra}
    return load_rules(doc)


def points_by_rule(breakdown: tuple[BreakdownLine, ...]) -> dict[str, float]:
    return {line.rule: line.points for line in breakdown}


def test_fresh_lead_with_cart_checkout_and_consent_scores_their_sum() -> None:
    profile = Profile(email="ana@example.fr", accepts_marketing=True)
    result = score(default_rules(), profile, [at("add_to_cart"), at("checkout_started")], NOW)
    assert result.raw == 15 + 20 + 5
    assert result.total == 40
    assert result.tier == "warm"  # 40 is the first warm score
    assert points_by_rule(result.breakdown) == {
        "activity:add_to_cart": 15,
        "activity:checkout_started": 20,
        "profile:accepts_marketing": 5,
    }
    cart = result.breakdown[0]
    assert (cart.label, cart.count, cart.points_before) == ("Added to cart", 1, 15)


def test_disposable_email_is_penalised_and_total_clamped_at_zero() -> None:
    result = score(default_rules(), Profile(email="x@Mailinator.COM"), [at("email_open")], NOW)
    assert result.raw == 2 - 20
    assert result.total == 0
    assert result.tier == "cold"
    assert result.breakdown[-1].rule == "profile:disposable_email"


def test_total_is_clamped_at_maximum_and_rounded_half_up() -> None:
    many = [at("checkout_started", NOW - timedelta(minutes=i)) for i in range(10)]
    assert score(default_rules(), Profile(), many, NOW).total == 100
    half = rules_with({"email_open": {"points": 0.5}})
    assert score(half, Profile(), [at("email_open")], NOW).total == 1


def test_product_views_are_capped_per_utc_day() -> None:
    views = [at("product_view", NOW - timedelta(minutes=i)) for i in range(8)]  # 16 points before cap
    line = score(default_rules(), Profile(), views, NOW).breakdown[0]
    assert (line.count, line.points_before) == (8, 16)
    assert line.points == pytest.approx(10, abs=0.01)  # five views, a few minutes old


def test_cap_counts_the_newest_activities_of_a_bucket_first() -> None:
    rules = rules_with({"product_view": {"points": 2, "cap": {"points": 4, "period": "day"}}})
    newest = NOW - timedelta(days=30)  # exactly one half-life ago
    views = [at("product_view", newest - timedelta(hours=12)), at("product_view", newest)] * 2
    # Only 4 of the 8 points count: the two newest views, each weighing exactly a half.
    assert score(rules, Profile(), views, NOW).raw == 2 * 2 * 0.5


@pytest.mark.parametrize(
    ("period", "expected"),
    [("day", 3 * 2), ("week", 2), ("month", 2)],  # Mon..Wed of one ISO week, all in June
)
def test_cap_periods(period: str, expected: float) -> None:
    rules = rules_with(
        {"email_click": {"points": 2, "cap": {"points": 2, "period": period}}}, half_life_days=0
    )
    clicks = [at("email_click", NOW - n * DAY) for n in range(3)]
    assert score(rules, Profile(), clicks, NOW).raw == expected


def test_week_buckets_are_iso_weeks() -> None:
    rules = rules_with(
        {"email_click": {"points": 2, "cap": {"points": 2, "period": "week"}}}, half_life_days=0
    )
    sunday, monday = datetime(2024, 6, 9, 23, tzinfo=UTC), datetime(2024, 6, 10, 1, tzinfo=UTC)
    assert score(rules, Profile(), [at("email_click", sunday), at("email_click", monday)], NOW).raw == 4


def test_cap_buckets_use_the_utc_day_whatever_the_timezone() -> None:
    rules = rules_with(
        {"product_view": {"points": 2, "cap": {"points": 2, "period": "day"}}}, half_life_days=0
    )
    paris = timezone(timedelta(hours=2))
    # 00:30 in Paris on the 12th is still the 11th in UTC, 02:30 Paris is the 12th.
    early, later = datetime(2024, 6, 12, 0, 30, tzinfo=paris), datetime(2024, 6, 12, 2, 30, tzinfo=paris)
    assert score(rules, Profile(), [at("product_view", early), at("product_view", later)], NOW).raw == 4


def test_first_only_counts_the_earliest_activity() -> None:
    created = [at("account_created", NOW - 30 * DAY), at("account_created", NOW)]
    line = score(default_rules(), Profile(), created, NOW).breakdown[0]
    assert (line.count, line.points_before, line.points) == (2, 10, 2.5)


def test_decay_at_exactly_one_half_life_halves_the_points() -> None:
    result = score(default_rules(), Profile(), [at("add_to_cart", NOW - 30 * DAY)], NOW)
    assert result.raw == 7.5
    assert result.breakdown[0].points_before == 15


def test_two_half_lives_quarter_the_points_and_zero_half_life_turns_decay_off() -> None:
    old = [at("checkout_started", NOW - 60 * DAY)]
    assert score(default_rules(), Profile(), old, NOW).raw == 5
    assert score(replace(default_rules(), half_life_days=0), Profile(), old, NOW).raw == 20


def test_activities_after_now_count_as_fresh() -> None:
    assert score(default_rules(), Profile(), [at("add_to_cart", NOW + DAY)], NOW).raw == 15


def test_kinds_without_rules_and_unknown_kinds_are_ignored() -> None:
    rules = rules_with({"add_to_cart": {"points": 15}})
    result = score(rules, Profile(), [at("email_open"), at("teleported"), at("add_to_cart")], NOW)
    assert [line.rule for line in result.breakdown] == ["activity:add_to_cart"]


def test_zero_point_kinds_still_explain_themselves() -> None:
    result = score(default_rules(), Profile(), [at("cart_abandoned"), at("cart_abandoned")], NOW)
    assert [(line.rule, line.count, line.points) for line in result.breakdown] == [
        ("activity:cart_abandoned", 2, 0)
    ]


def test_breakdown_lists_activity_kinds_in_a_fixed_order_then_criteria() -> None:
    activities = [at("email_click"), at("newsletter_signup"), at("product_view")]
    result = score(default_rules(), Profile(accepts_marketing=True), activities, NOW)
    assert [line.rule for line in result.breakdown] == [
        "activity:newsletter_signup",
        "activity:product_view",
        "activity:email_click",
        "profile:accepts_marketing",
    ]


@pytest.mark.parametrize(
    ("total", "tier"), [(-5, "cold"), (0, "cold"), (39, "cold"), (40, "warm"), (79, "warm"), (80, "hot")]
)
def test_tier_thresholds(total: int, tier: str) -> None:
    assert tier_for(default_rules(), total, is_customer=False) == tier


def test_customer_tier_comes_from_the_profile() -> None:
    assert tier_for(default_rules(), 5, is_customer=True) == "customer"
    result = score(default_rules(), Profile(is_customer=True), [at("order_placed")], NOW)
    assert (result.total, result.tier) == (0, "customer")
    assert score(default_rules(), Profile(), [at("order_placed")], NOW).tier == "cold"


def test_custom_tiers_and_bounds() -> None:
    rules = rules_with({"add_to_cart": {"points": 15}}, tiers={"warm": 10, "hot": 20}, maximum=25)
    result = score(rules, Profile(), [at("add_to_cart")] * 2, NOW)
    assert (result.raw, result.total, result.tier) == (30, 25, "hot")


def test_an_earlier_first_only_activity_replaces_the_counted_one() -> None:
    recent = [at("account_created", NOW)]
    assert score(default_rules(), Profile(), recent, NOW).raw == 5
    both = [*recent, at("account_created", NOW - 30 * DAY)]
    assert score(default_rules(), Profile(), both, NOW).raw == 2.5  # by design: it was created earlier


def test_order_of_activities_does_not_change_a_single_bit() -> None:
    opens = [at("email_open", NOW - timedelta(hours=7 * n + n * n)) for n in range(60)]
    first = score(default_rules(), Profile(), opens, NOW)
    assert score(default_rules(), Profile(), opens[::-1], NOW) == first
    assert score(default_rules(), Profile(), opens[1::2] + opens[::2], NOW) == first


def test_naive_times_are_refused() -> None:
    naive = NOW.replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        score(default_rules(), Profile(), [], naive)
    for kind in ("add_to_cart", "product_view"):  # plain and capped kinds
        with pytest.raises(TypeError):
            score(default_rules(), Profile(), [at(kind, naive)], NOW)
