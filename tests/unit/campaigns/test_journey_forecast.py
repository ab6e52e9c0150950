"""The journeys' what-if: entries by routing, steps reached until an order, holdout and code cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from campaigns import CartView, load_journeys
from campaigns.journey_forecast import PastTrigger, forecast

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MESSAGE = {"en": {"subject": "Hi", "body": "Back?"}}


def journeys(holdout: float = 0.0):
    return load_journeys(
        [
            {
                "key": "hot",
                "trigger": "cart_abandoned",
                "audience": {"tiers": ["hot"]},
                "holdout_share": holdout,
                "steps": [
                    {
                        "after_minutes": 30,
                        "offer": {"kind": "percentage", "value": 20, "expires_hours": 6},
                        "messages": MESSAGE,
                    }
                ],
            },
            {
                "key": "cart",
                "trigger": "cart_abandoned",
                "holdout_share": holdout,
                "steps": [
                    {"after_minutes": 60, "messages": MESSAGE},
                    {
                        "after_minutes": 1440,
                        "offer": {"kind": "fixed_amount", "value": 5, "expires_hours": 24},
                        "messages": MESSAGE,
                    },
                ],
            },
        ]
    )


def cart(subtotal: str) -> CartView:
    return CartView(1, Decimal(subtotal), "EUR", T0, T0)


def test_each_trigger_enters_its_routed_journey_and_stops_at_its_order():
    history = [
        PastTrigger("cart_abandoned", "hot", T0, None, cart("100")),
        PastTrigger("cart_abandoned", "cold", T0, None, cart("40")),
        PastTrigger(
            "cart_abandoned", "warm", T0, T0 + timedelta(hours=2), cart("40")
        ),  # ordered after step 1
        PastTrigger("cart_abandoned", "warm", T0, T0 + timedelta(minutes=10), cart("40")),  # before any step
        PastTrigger("signup", "cold", T0),  # no sign-up journey here
    ]
    hot, plain = forecast(journeys(), history)
    assert hot["entered"] == 1 and hot["steps"] == [
        {"reached": 1, "sent": 1, "codes": 1, "code_cost": "20.00"}
    ]
    assert plain["entered"] == 3
    assert [s["reached"] for s in plain["steps"]] == [2, 1]
    assert plain["steps"][1]["code_cost"] == "5.00" and plain["code_cost"] == "5.00"


def test_the_holdout_keeps_its_share_of_each_step_out_of_the_sent_count():
    history = [PastTrigger("cart_abandoned", "cold", T0, None, cart("40")) for _ in range(100)]
    _, plain = forecast(journeys(holdout=0.2), history)
    # 10 % of runs stop before step 1, 10 % more before step 2
    assert [(s["reached"], s["sent"]) for s in plain["steps"]] == [(100, 90), (100, 80)]
    assert plain["steps"][1]["code_cost"] == "400.00"
