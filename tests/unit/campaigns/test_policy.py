"""The journeys' policy: why a run ends before its next step, what a code costs, the budget month."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.journeys import StepOffer
from campaigns.policy import CartView, LeadView, budget_month_start, estimate_cost, exit_reason
from campaigns.settings import CampaignSettings

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(hours=3)  # the run's trigger
SETTINGS = CampaignSettings()
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
TEN_PERCENT = StepOffer("percentage", Decimal(10), 24)


def reason(**overrides: Any) -> str | None:
    """exit_reason() for a lead with nothing to stop the run, changed by the given arguments."""
    arguments: dict[str, Any] = {
        "lead": LEAD,
        "cart_status": "abandoned",
        "last_order_at": None,
        "since": SINCE,
        "settings": SETTINGS,
    }
    arguments.update(overrides)
    return exit_reason(**arguments)


def test_a_run_with_nothing_against_it_goes_on() -> None:
    assert reason() is None
    assert reason(cart_status=None) is None  # a run without a cart (welcome, browse, hot lead)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"settings": replace(SETTINGS, enabled=False)}, "disabled"),
        ({"lead": replace(LEAD, email=None)}, "no_email"),
        ({"lead": replace(LEAD, email="  ")}, "no_email"),
        ({"lead": replace(LEAD, email="")}, "no_email"),
        ({"lead": replace(LEAD, unsubscribed=True)}, "unsubscribed"),
        ({"lead": replace(LEAD, accepts_marketing=False)}, "no_consent"),
        ({"lead": replace(LEAD, accepts_marketing=None)}, "no_consent"),
        ({"cart_status": "converted"}, "cart_ordered"),
        ({"cart_status": "recovered"}, "cart_ordered"),
        ({"cart_status": "active"}, "cart_active"),
        ({"last_order_at": SINCE}, "ordered"),
        ({"last_order_at": NOW - timedelta(minutes=5)}, "ordered"),
        ({"last_order_at": NOW, "cart_status": None}, "ordered"),
    ],
)
def test_each_reason_to_end_a_run(overrides: dict[str, Any], expected: str) -> None:
    assert reason(**overrides) == expected


@pytest.mark.parametrize(
    "overrides",
    [
        {"settings": replace(SETTINGS, require_consent=False), "lead": replace(LEAD, accepts_marketing=None)},
        {
            "settings": replace(SETTINGS, require_consent=False),
            "lead": replace(LEAD, accepts_marketing=False),
        },
        {"last_order_at": SINCE - timedelta(seconds=1)},  # an order before the trigger does not end it
        {"lead": replace(LEAD, is_customer=True)},
        {"cart_status": "expired"},
    ],
)
def test_edges_that_go_on(overrides: dict[str, Any]) -> None:
    assert reason(**overrides) is None


def test_the_reasons_are_checked_in_order() -> None:
    """Start from a run that fails every check, then fix one thing at a time."""
    arguments: dict[str, Any] = {
        "lead": replace(LEAD, email=None, unsubscribed=True, accepts_marketing=False),
        "cart_status": "converted",
        "last_order_at": NOW,
        "since": SINCE,
        "settings": replace(SETTINGS, enabled=False),
    }
    fixes: list[tuple[str, dict[str, Any]]] = [
        ("disabled", {"settings": SETTINGS}),
        ("no_email", {"lead": replace(arguments["lead"], email="ana@example.com")}),
        ("unsubscribed", {"lead": replace(LEAD, accepts_marketing=False)}),
        ("no_consent", {"lead": LEAD}),
        ("cart_ordered", {"cart_status": "active"}),
        ("cart_active", {"cart_status": "abandoned"}),
        ("ordered", {"last_order_at": None}),
    ]
    for expected, change in fixes:
        assert exit_reason(**arguments) == expected
        arguments.update(change)
    assert exit_reason(**arguments) is None


def test_a_percentage_is_priced_on_the_cart_and_a_fixed_amount_as_is() -> None:
    assert estimate_cost(TEN_PERCENT, CART) == Decimal(8)
    assert estimate_cost(
        StepOffer("percentage", Decimal("12.5"), 24), replace(CART, subtotal=Decimal("9.99"))
    ) == (Decimal("1.25"))
    assert estimate_cost(StepOffer("fixed_amount", Decimal(15), 24), CART) == Decimal(15)
    assert estimate_cost(StepOffer("fixed_amount", Decimal(15), 24), None) == Decimal(15)
    assert estimate_cost(StepOffer("free_shipping", Decimal(0), 24), CART) == Decimal(0)


def test_a_percentage_without_a_cart_is_priced_at_the_leads_expected_order() -> None:
    hot = replace(LEAD, expected_order_value=Decimal("120.00"))
    assert estimate_cost(TEN_PERCENT, None, hot) == Decimal("12.00")
    assert estimate_cost(TEN_PERCENT, CART, hot) == Decimal(8)  # the cart, when there is one, decides
    assert estimate_cost(TEN_PERCENT, None) == Decimal(0)
    assert estimate_cost(TEN_PERCENT, None, LEAD) == Decimal(0)


@given(
    st.sampled_from(["percentage", "fixed_amount", "free_shipping"]),
    st.decimals(0, 100, places=2),
    st.decimals(0, 100_000, places=2),
)
def test_a_cost_is_never_negative_and_at_most_the_cart_for_a_percentage(
    kind: str, value: Decimal, subtotal: Decimal
) -> None:
    cost = estimate_cost(StepOffer(kind, value, 24), replace(CART, subtotal=subtotal))
    assert cost >= 0
    if kind == "percentage":
        assert cost <= subtotal
        assert cost == cost.quantize(Decimal("0.01"))


def test_the_budget_month_starts_on_the_first_in_the_shop_time_zone() -> None:
    # 31 October 23:30 UTC is already 1 November 00:30 in Paris (CET, UTC+1).
    assert budget_month_start(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "Europe/Paris") == datetime(
        2026, 10, 31, 23, 0, tzinfo=UTC
    )
    # The same instant is still October in New York (began at 04:00 UTC, EDT).
    assert budget_month_start(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "America/New_York") == datetime(
        2026, 10, 1, 4, 0, tzinfo=UTC
    )
    # Without a zone, the month is UTC's; the answer is in UTC whatever zone `now` came in.
    assert budget_month_start(NOW, None) == datetime(2026, 11, 1, tzinfo=UTC)
    assert budget_month_start(NOW, "Europe/Paris").utcoffset() == timedelta(0)


def test_the_budget_month_of_a_month_that_began_in_summer_time() -> None:
    # 1 April 2026 00:00 in Paris is CEST (UTC+2): 31 March 22:00 UTC.
    assert budget_month_start(datetime(2026, 4, 15, tzinfo=UTC), "Europe/Paris") == datetime(
        2026, 3, 31, 22, 0, tzinfo=UTC
    )


@given(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_the_budget_month_start_is_at_most_a_month_before_now(now: datetime) -> None:
    start = budget_month_start(now, "Pacific/Chatham")
    assert now - timedelta(days=31, hours=1) < start <= now
    assert budget_month_start(start, "Pacific/Chatham") == start
