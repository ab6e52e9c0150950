"""A code step's code decision: issued, or the step goes out as a reminder with the reason recorded."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.journeys import StepOffer
from campaigns.policy import CartView, CodeDecision, LeadView, OfferView, code_decision, estimate_cost
from campaigns.settings import CampaignSettings

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SETTINGS = CampaignSettings()
LEAD = LeadView(1, "ana@example.com", True, False, False, "1:1", expected_order_value=Decimal(120))
CART = CartView(10, Decimal("80.00"), "EUR", NOW - timedelta(hours=3), NOW - timedelta(hours=2))
OFFER = StepOffer("percentage", Decimal(10), 24)  # 8.00 on the cart
LIVE = OfferView(
    created_at=NOW - timedelta(days=1),
    status="sent",
    expires_at=NOW + timedelta(hours=1),
    value=Decimal(15),
    holdout=False,
)


def decide(**overrides: Any) -> CodeDecision:
    """code_decision() for a code that may be issued, changed by the given arguments."""
    arguments: dict[str, Any] = {
        "offer": OFFER,
        "lead": LEAD,
        "cart": CART,
        "recent_offers": (),
        "settings": SETTINGS,
        "spent_this_month": Decimal(0),
        "now": NOW,
    }
    arguments.update(overrides)
    return code_decision(**arguments)


def test_a_code_is_issued_when_nothing_stands_in_the_way() -> None:
    assert decide() == CodeDecision(True, "eligible")


@pytest.mark.parametrize("status", ["planned", "created", "sent"])
def test_a_live_code_of_another_offer_sends_a_reminder(status: str) -> None:
    assert decide(recent_offers=[replace(LIVE, status=status)]) == CodeDecision(False, "live_code_exists")


@pytest.mark.parametrize(
    "offer",
    [
        replace(LIVE, expires_at=NOW),  # expired this very moment
        replace(LIVE, expires_at=NOW - timedelta(days=1)),
        replace(LIVE, status="redeemed"),  # used: the customer may get another
        replace(LIVE, status="expired"),
        replace(LIVE, status="cancelled"),
        replace(LIVE, status="failed"),
        replace(LIVE, holdout=True),  # a control group's assignment carries no code
        replace(LIVE, status="suppressed", holdout=True),
    ],
)
def test_offers_that_are_not_live_codes_do_not_count(offer: OfferView) -> None:
    assert decide(recent_offers=[offer]) == CodeDecision(True, "eligible")


def test_one_live_code_among_dead_ones_is_enough() -> None:
    dead = [replace(LIVE, expires_at=NOW - timedelta(hours=1)), replace(LIVE, holdout=True)]
    assert decide(recent_offers=[*dead, LIVE]).reason == "live_code_exists"


def test_a_cart_below_the_minimum_order_sends_a_reminder() -> None:
    minimum = replace(OFFER, minimum_order=Decimal("80.01"))
    assert decide(offer=minimum) == CodeDecision(False, "below_minimum")
    assert decide(offer=replace(OFFER, minimum_order=Decimal("80.00"))).issue
    assert decide(offer=minimum, cart=None).issue  # no cart (a hot lead's offer): the store checks it


@pytest.mark.parametrize(
    ("budget", "spent", "issue"),
    [
        (None, Decimal(1_000_000), True),
        (Decimal(50), Decimal(42), True),  # 42 + 8 is the budget exactly
        (Decimal(50), Decimal("42.01"), False),  # 8 more would exceed it
        (Decimal(50), Decimal(45), False),
        (Decimal(50), Decimal(50), False),
        (Decimal(50), Decimal(60), False),  # overspent already (redeemed codes cost their real discount)
        (Decimal(0), Decimal(0), False),  # a budget of 0: no codes
    ],
)
def test_the_monthly_budget(budget: Decimal | None, spent: Decimal, issue: bool) -> None:
    decision = decide(settings=replace(SETTINGS, monthly_budget=budget), spent_this_month=spent)
    assert decision == CodeDecision(issue, "eligible" if issue else "budget_exhausted")


def test_the_budget_prices_a_fixed_amount_as_is_and_free_shipping_at_nothing() -> None:
    budget = replace(SETTINGS, monthly_budget=Decimal(100))
    fixed = StepOffer("fixed_amount", Decimal(15), 24)
    assert decide(offer=fixed, settings=budget, spent_this_month=Decimal(85)).issue
    assert (
        decide(offer=fixed, settings=budget, spent_this_month=Decimal("85.01")).reason == "budget_exhausted"
    )
    shipping = StepOffer("free_shipping", Decimal(0), 24)
    assert decide(offer=shipping, settings=budget, spent_this_month=Decimal("99.99")).issue
    assert decide(offer=shipping, settings=budget, spent_this_month=Decimal(100)).reason == "budget_exhausted"


def test_without_a_cart_a_percentage_is_priced_at_the_expected_order() -> None:
    budget = replace(SETTINGS, monthly_budget=Decimal(20))
    # 10 % of the lead's expected 120: 12.
    assert decide(cart=None, settings=budget, spent_this_month=Decimal(8)).issue
    assert decide(cart=None, settings=budget, spent_this_month=Decimal("8.01")).reason == "budget_exhausted"
    assert decide(settings=budget, spent_this_month=Decimal(12)).issue  # with the cart: 8


def test_the_checks_run_in_order() -> None:
    """A live code is named before the minimum, the minimum before the budget."""
    everything = {
        "recent_offers": [LIVE],
        "offer": replace(OFFER, minimum_order=Decimal(1000)),
        "settings": replace(SETTINGS, monthly_budget=Decimal(0)),
    }
    assert decide(**everything).reason == "live_code_exists"
    assert decide(**{**everything, "recent_offers": ()}).reason == "below_minimum"
    assert decide(**{**everything, "recent_offers": (), "offer": OFFER}).reason == "budget_exhausted"


moments = st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC))
money = st.decimals(min_value=0, max_value=10_000, places=2)
offer_views = st.builds(
    OfferView,
    created_at=moments,
    status=st.sampled_from(["planned", "created", "sent", "redeemed", "expired", "failed", "suppressed"]),
    expires_at=st.none() | moments,
    value=money,
    holdout=st.booleans(),
)
step_offers = st.builds(
    StepOffer,
    kind=st.sampled_from(["percentage", "fixed_amount", "free_shipping"]),
    value=st.decimals(1, 100, places=0),
    expires_hours=st.integers(1, 720),
    minimum_order=money,
)


@given(
    step_offers,
    st.none() | money.map(lambda subtotal: replace(CART, subtotal=subtotal)),
    st.lists(offer_views, max_size=4),
    st.none() | money,
    money,
    moments,
)
def test_an_issued_code_always_fits_the_budget_and_the_rules(
    offer: StepOffer,
    cart: CartView | None,
    recent: list[OfferView],
    budget: Decimal | None,
    spent: Decimal,
    now: datetime,
) -> None:
    settings = replace(SETTINGS, monthly_budget=budget)
    decision = code_decision(offer, LEAD, cart, recent, settings, spent, now)
    assert decision.reason in {"eligible", "live_code_exists", "below_minimum", "budget_exhausted"}
    assert decision.issue == (decision.reason == "eligible")
    if decision.issue:
        assert not any(
            o.status == "sent" and not o.holdout and o.expires_at and o.expires_at > now for o in recent
        )
        assert cart is None or cart.subtotal >= offer.minimum_order
        if budget is not None:
            assert spent < budget
            assert spent + estimate_cost(offer, cart, LEAD) <= budget
