"""Storefront activities (unverified) add at most ten points a UTC day and never make a lead hot alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scoring import ActivityRecord, Profile, default_rules, score

NOW = datetime(2024, 6, 12, 15, 0, tzinfo=UTC)
RULES = default_rules()
KINDS = ["product_view", "add_to_cart", "checkout_started", "newsletter_signup", "email_click"]


def shop(kind: str, n: int, days_ago: float = 0) -> ActivityRecord:
    return ActivityRecord(kind, NOW - timedelta(days=days_ago), f"{kind}:{n}")


def web(kind: str, n: int, days_ago: float = 0) -> ActivityRecord:
    return ActivityRecord(kind, NOW - timedelta(days=days_ago), f"web-{kind}:{n}", storefront=True)


def test_a_days_storefront_activities_add_ten_points_at_most() -> None:
    result = score(RULES, Profile(), [web("checkout_started", n) for n in range(3)], NOW)
    assert (result.total, result.tier) == (10, "cold")
    assert result.raw == sum(line.points for line in result.breakdown)
    assert result.breakdown[-1].rule == "cap:storefront" and result.breakdown[-1].points == -50


def test_a_warm_lead_stays_below_hot_whatever_the_storefront_sends() -> None:
    trusted = [shop("checkout_started", 1), shop("add_to_cart", 1), shop("promo_email_open", 1),
               shop("promo_email_open", 2)]  # fmt: skip
    profile = Profile(accepts_marketing=True)
    assert score(RULES, profile, trusted, NOW).total == 70
    flood = [web(kind, n, days_ago=d) for kind in KINDS for n in range(5) for d in (0, 0.5)]
    result = score(RULES, profile, trusted + flood, NOW)
    assert (result.total, result.tier) == (79, "warm")


def test_store_activities_alone_still_make_a_lead_hot() -> None:
    trusted = [shop("checkout_started", n) for n in range(4)]
    result = score(RULES, Profile(), [*trusted, web("product_view", 1)], NOW)
    assert (result.total, result.tier) == (82, "hot")


@given(
    trusted=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 9), st.floats(0, 20)), max_size=12),
    untrusted=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 9), st.floats(0, 20)), max_size=30),
)
def test_storefront_activities_never_cross_into_hot_and_never_lower_a_score(trusted, untrusted) -> None:
    mine = [shop(kind, n, d) for kind, n, d in trusted]
    without = score(RULES, Profile(), mine, NOW)
    both = score(RULES, Profile(), mine + [web(kind, n, d) for kind, n, d in untrusted], NOW)
    assert both.total >= without.total
    days = len({(NOW - timedelta(days=d)).date() for _, _, d in untrusted})
    assert both.raw <= without.raw + 10 * days + 1e-9
    if without.tier != "hot":
        assert both.tier != "hot"
