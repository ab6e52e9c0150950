"""The offer policy: every reason, the order of the checks, and that it never raises."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.holdout import in_holdout
from campaigns.policy import (
    SKIP_REASONS,
    CartView,
    Decision,
    LeadView,
    OfferView,
    budget_month_start,
    decide,
    estimate_cost,
)
from campaigns.settings import CampaignSettings, QuietHours

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday at noon: outside quiet hours in UTC
SETTINGS = replace(CampaignSettings(), holdout_share=0.0)
LEAD = LeadView(
    lead_id=1,
    email="ana@example.com",
    accepts_marketing=True,
    unsubscribed=False,
    is_customer=False,
    holdout_key="1:1",
)
CART = CartView(
    cart_id=10,
    subtotal=Decimal("80.00"),
    currency="EUR",
    created_at=NOW - timedelta(hours=3),
    last_activity_at=NOW - timedelta(hours=2),
)
SENT = OfferView(
    created_at=NOW - timedelta(days=1),
    status="sent",
    expires_at=NOW + timedelta(hours=1),
    value=Decimal(10),
    holdout=False,
)


def run(**overrides: Any) -> Decision:
    """Call decide() with an eligible case, changed by the given arguments."""
    arguments: dict[str, Any] = {
        "lead": LEAD,
        "cart": CART,
        "recent_offers": (),
        "last_order_at": None,
        "settings": SETTINGS,
        "spent_this_month": Decimal(0),
        "now": NOW,
        "reason": "abandoned_cart",
    }
    arguments.update(overrides)
    return decide(**arguments)


def test_an_eligible_cart_gets_an_offer_now() -> None:
    assert run() == Decision("offer", "eligible", send_at=NOW, holdout=False)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"settings": replace(SETTINGS, enabled=False)}, "disabled"),
        (
            {"settings": replace(SETTINGS, hot_lead_offers=False), "reason": "hot_lead", "cart": None},
            "disabled",
        ),
        ({"cart": None}, "no_cart"),
        ({"lead": replace(LEAD, email=None)}, "no_email"),
        ({"lead": replace(LEAD, email="  ")}, "no_email"),
        ({"lead": replace(LEAD, unsubscribed=True)}, "unsubscribed"),
        ({"lead": replace(LEAD, accepts_marketing=False)}, "no_consent"),
        ({"lead": replace(LEAD, accepts_marketing=None)}, "no_consent"),
        ({"last_order_at": CART.created_at}, "ordered_since_cart"),
        ({"last_order_at": NOW - timedelta(minutes=5)}, "ordered_since_cart"),
        ({"reason": "hot_lead", "cart": None, "lead": replace(LEAD, is_customer=True)}, "already_customer"),
        (
            {"reason": "hot_lead", "cart": None, "last_order_at": NOW - timedelta(days=400)},
            "already_customer",
        ),
        (
            {"recent_offers": [replace(SENT, created_at=NOW - timedelta(days=6), expires_at=None)]},
            "frequency_cap",
        ),
        ({"recent_offers": [replace(SENT, status="redeemed", expires_at=None)]}, "frequency_cap"),
        (
            {"recent_offers": [replace(SENT, status="suppressed", holdout=True, expires_at=None)]},
            "frequency_cap",
        ),
        ({"recent_offers": [SENT], "settings": replace(SETTINGS, frequency_cap_days=0)}, "live_code_exists"),
        ({"settings": replace(SETTINGS, minimum_cart_value=Decimal("80.01"))}, "below_minimum"),
        (
            {"settings": replace(SETTINGS, monthly_budget=Decimal(50)), "spent_this_month": Decimal(45)},
            "budget_exhausted",
        ),
        ({"settings": replace(SETTINGS, monthly_budget=Decimal(0))}, "budget_exhausted"),
    ],
)
def test_each_reason_to_skip(overrides: dict[str, Any], reason: str) -> None:
    decision = run(**overrides)
    assert (decision.action, decision.reason, decision.send_at, decision.holdout) == (
        "skip",
        reason,
        None,
        False,
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"settings": replace(SETTINGS, require_consent=False), "lead": replace(LEAD, accepts_marketing=None)},
        {"last_order_at": CART.created_at - timedelta(seconds=1)},
        {"recent_offers": [replace(SENT, created_at=NOW - timedelta(days=8), expires_at=None)]},
        {"recent_offers": [replace(SENT, status="failed", expires_at=None)]},
        {
            "recent_offers": [replace(SENT, expires_at=NOW)],
            "settings": replace(SETTINGS, frequency_cap_days=0),
        },
        {
            "recent_offers": [replace(SENT, status="redeemed")],
            "settings": replace(SETTINGS, frequency_cap_days=0),
        },
        {"settings": replace(SETTINGS, minimum_cart_value=Decimal("80.00"))},
        {"settings": replace(SETTINGS, monthly_budget=Decimal(50)), "spent_this_month": Decimal(42)},
        {"reason": "hot_lead", "cart": None},
    ],
)
def test_edges_that_still_get_an_offer(overrides: dict[str, Any]) -> None:
    assert run(**overrides).reason == "eligible"


def test_a_cart_with_recent_activity_is_decided_again_when_the_delay_has_passed() -> None:
    cart = replace(CART, last_activity_at=NOW - timedelta(minutes=10))
    assert run(cart=cart) == Decision("delay", "cart_active", send_at=NOW + timedelta(minutes=50))


def test_a_held_out_lead_gets_no_offer_but_is_recorded() -> None:
    decision = run(settings=replace(SETTINGS, holdout_share=1.0))
    assert decision == Decision("holdout", "holdout", send_at=None, holdout=True)


def test_holdout_follows_the_lead_key_at_the_default_share() -> None:
    keys = [f"1:{lead_id}" for lead_id in range(200)]
    held = next(key for key in keys if in_holdout(key, 0.1))
    treated = next(key for key in keys if not in_holdout(key, 0.1))
    settings = CampaignSettings(quiet_hours=None)
    assert run(lead=replace(LEAD, holdout_key=held), settings=settings).action == "holdout"
    assert run(lead=replace(LEAD, holdout_key=treated), settings=settings).action == "offer"


def test_budget_estimates_a_percentage_on_the_subtotal_and_a_fixed_amount_as_is() -> None:
    assert estimate_cost(SETTINGS, CART) == Decimal(8)
    assert estimate_cost(SETTINGS, None) == Decimal(0)
    fixed = replace(SETTINGS, discount_kind="fixed_amount", discount_value=Decimal(15))
    assert estimate_cost(fixed, CART) == Decimal(15)
    budget = replace(fixed, monthly_budget=Decimal(100))
    assert run(settings=budget, spent_this_month=Decimal(85)).reason == "eligible"
    assert run(settings=budget, spent_this_month=Decimal("85.01")).reason == "budget_exhausted"


def test_a_percentage_offer_without_a_cart_is_priced_at_the_leads_expected_order() -> None:
    hot = replace(LEAD, expected_order_value=Decimal("120.00"))
    assert estimate_cost(SETTINGS, None, hot) == Decimal("12.00")
    assert estimate_cost(SETTINGS, CART, hot) == Decimal(8)  # the cart, when there is one, decides
    budget = replace(SETTINGS, monthly_budget=Decimal(5))
    hot_lead = {"cart": None, "reason": "hot_lead", "settings": budget}
    assert run(lead=hot, spent_this_month=Decimal("4.99"), **hot_lead).reason == "budget_exhausted"
    assert run(lead=hot, spent_this_month=Decimal(0), **hot_lead).reason == "budget_exhausted"  # 12 > 5
    roomy = replace(budget, monthly_budget=Decimal(20))
    assert run(lead=hot, spent_this_month=Decimal(8), **{**hot_lead, "settings": roomy}).reason == "eligible"


def test_a_planned_offer_is_a_live_code() -> None:
    planned = replace(SENT, status="planned")
    no_cap = replace(SETTINGS, frequency_cap_days=0)
    assert run(recent_offers=(planned,), settings=no_cap).reason == "live_code_exists"
    assert run(recent_offers=(replace(planned, expires_at=NOW),), settings=no_cap).reason == "eligible"


Fix = Callable[[dict[str, Any]], None]


def fix(**changes: Any) -> Fix:
    """Return a step that replaces decide() arguments."""
    return lambda arguments: arguments.update(changes)


def fix_lead(**changes: Any) -> Fix:
    """Return a step that changes fields of the lead."""
    return lambda arguments: arguments.update(lead=replace(arguments["lead"], **changes))


def fix_settings(**changes: Any) -> Fix:
    """Return a step that changes fields of the settings."""
    return lambda arguments: arguments.update(settings=replace(arguments["settings"], **changes))


def test_the_budget_month_starts_on_the_first_in_the_shop_time_zone() -> None:
    # 31 October 23:30 UTC is already 1 November 00:30 in Paris (CET, UTC+1).
    assert budget_month_start(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "Europe/Paris") == datetime(
        2026, 10, 31, 23, 0, tzinfo=UTC
    )
    # The same instant is still October in New York (began at 04:00 UTC, EDT).
    assert budget_month_start(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "America/New_York") == datetime(
        2026, 10, 1, 4, 0, tzinfo=UTC
    )


def test_the_skip_reasons_are_listed_in_order() -> None:
    assert SKIP_REASONS[:3] == ("disabled", "no_cart", "no_email")
    assert SKIP_REASONS[-1] == "budget_exhausted"


def test_checks_run_in_the_documented_order() -> None:
    """Start from a case that fails every check, then fix one thing at a time."""
    night = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    cart = replace(CART, created_at=night - timedelta(hours=3), last_activity_at=night - timedelta(minutes=1))
    arguments: dict[str, Any] = {
        "lead": replace(LEAD, email=None, unsubscribed=True, accepts_marketing=False),
        "cart": cart,
        "recent_offers": [
            replace(SENT, created_at=night - timedelta(hours=1), expires_at=night + timedelta(hours=1))
        ],
        "last_order_at": night - timedelta(minutes=1),
        "now": night,
        "spent_this_month": Decimal(0),
        "settings": CampaignSettings(
            enabled=False, minimum_cart_value=Decimal(1000), monthly_budget=Decimal(0), holdout_share=0.5
        ),
    }
    in_holdout_at_half = next(f"1:{n}" for n in range(100) if in_holdout(f"1:{n}", 0.5))
    arguments["lead"] = replace(arguments["lead"], holdout_key=in_holdout_at_half)
    steps: list[tuple[str, Fix]] = [
        ("disabled", fix_settings(enabled=True)),
        ("no_email", fix_lead(email="ana@example.com")),
        ("unsubscribed", fix_lead(unsubscribed=False)),
        ("no_consent", fix_lead(accepts_marketing=True)),
        ("ordered_since_cart", fix(last_order_at=None)),
        ("frequency_cap", fix_settings(frequency_cap_days=0)),
        ("live_code_exists", fix(recent_offers=())),
        ("below_minimum", fix_settings(minimum_cart_value=Decimal(0))),
        ("budget_exhausted", fix_settings(monthly_budget=None)),
        ("cart_active", fix(cart=replace(cart, last_activity_at=night - timedelta(hours=2)))),
        ("holdout", fix_settings(holdout_share=0.0)),  # held out even at night: holdout comes first
        ("quiet_hours", fix_settings(quiet_hours=None)),
    ]
    for expected, step in steps:
        assert decide(**arguments).reason == expected
        step(arguments)
    assert decide(**arguments) == Decision("offer", "eligible", send_at=night)


ZONES = [UTC, ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]
moments = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.sampled_from(ZONES))
maybe_moments = st.none() | moments
money = st.decimals(min_value=0, max_value=100_000, places=2)
clock = st.times().map(lambda t: t.replace(second=0, microsecond=0))
windows = st.none() | st.tuples(clock, clock).filter(lambda w: w[0] != w[1]).map(lambda w: QuietHours(*w))

leads = st.builds(
    LeadView,
    lead_id=st.integers(1, 10**9),
    email=st.none() | st.emails() | st.just(" "),
    accepts_marketing=st.none() | st.booleans(),
    unsubscribed=st.booleans(),
    is_customer=st.booleans(),
    holdout_key=st.text(max_size=30),
)
carts = st.builds(
    CartView,
    cart_id=st.none() | st.integers(1),
    subtotal=money,
    currency=st.none() | st.sampled_from(["EUR", "USD"]),
    created_at=moments,
    last_activity_at=moments,
)
offers = st.builds(
    OfferView,
    created_at=moments,
    status=st.sampled_from(["planned", "created", "sent", "redeemed", "expired", "failed", "suppressed"]),
    expires_at=maybe_moments,
    value=money,
    holdout=st.booleans(),
)
settings = st.builds(
    lambda kind, **changes: replace(
        CampaignSettings(),
        discount_kind=kind,
        discount_value=Decimal(10 if kind == "percentage" else 5),
        **changes,
    ),
    kind=st.sampled_from(["percentage", "fixed_amount"]),
    enabled=st.booleans(),
    abandonment_delay_minutes=st.integers(5, 10080),
    frequency_cap_days=st.integers(0, 365),
    minimum_cart_value=money,
    require_consent=st.booleans(),
    holdout_share=st.floats(0, 0.5),
    quiet_hours=windows,
    timezone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe"]),
    monthly_budget=st.none() | money,
    hot_lead_offers=st.booleans(),
)


@given(
    leads,
    st.none() | carts,
    st.lists(offers, max_size=4),
    maybe_moments,
    settings,
    money,
    moments,
    st.sampled_from(["abandoned_cart", "hot_lead"]),
)
def test_decide_never_raises_and_its_decisions_are_consistent(
    lead: LeadView,
    cart: CartView | None,
    recent: list[OfferView],
    last_order_at: datetime | None,
    settings: CampaignSettings,
    spent: Decimal,
    now: datetime,
    reason: str,
) -> None:
    decision = decide(lead, cart, recent, last_order_at, settings, spent, now, reason)
    assert decision.holdout == (decision.action == "holdout")
    if decision.action in {"skip", "holdout"}:
        assert decision.send_at is None
    else:
        assert decision.send_at is not None and decision.send_at >= now
    if decision.reason in {"quiet_hours", "cart_active"}:
        assert decision.send_at is not None and decision.send_at > now


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run(now=NOW.replace(tzinfo=None))
