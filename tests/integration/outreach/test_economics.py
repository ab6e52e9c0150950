"""The `economics` figures from rows written by hand, on SQLite and PostgreSQL: ROI, cost per lead and per
customer by source from the spend table, conversion by tier and by source, new leads, lifetime value of
recovered customers against the others; the spend API (422 per field, round trip) and GET /api/v1/metrics.
Each expected figure is worked out in a comment from the rows."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.db import transaction
from bridge.db.models import Cart, JourneyRun, Lead, Offer, Order, ScoreChange, Shop, SourceSpend
from bridge.infra.context import Context
from bridge.outreach import earnings, economics
from tests.integration.admin_ui.conftest import make_shop

DAY = timedelta(days=1)
_numbers = itertools.count(1)


@pytest.fixture
def period(ctx: Context) -> tuple[Any, Any]:
    """The 30 days before 2026-11-25 10:00 UTC (the test clock)."""
    return ctx.now() - 30 * DAY, ctx.now()


@pytest.fixture
def shop(ctx: Context, shopify_shop: dict[str, Any]) -> dict[str, Any]:
    with transaction(ctx.sessions) as session:
        session.get(Shop, shopify_shop["id"]).currency = "EUR"
    return shopify_shop


def _auth(shop: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop['api_key']}"}


def _lead(session: Any, shop_id: int, created: Any, **fields: Any) -> Lead:
    n = next(_numbers)
    lead = Lead(shop_id=shop_id, email=f"m{n}@example.com", created_at=created, **{"source": {}, **fields})
    session.add(lead)
    session.flush()
    return lead


def _order(session: Any, shop_id: int, lead: Lead, at: Any, total: str, **fields: Any) -> Order:
    order = Order(
        shop_id=shop_id,
        order_id=f"o{next(_numbers)}",
        lead_id=lead.id,
        total=Decimal(total),
        currency=fields.pop("currency", "EUR"),
        created_at=at,
        **fields,
    )
    session.add(order)
    session.flush()
    return order


def _tier(session: Any, lead: Lead, at: Any, tier: str) -> None:
    session.add(
        ScoreChange(
            lead_id=lead.id, at=at, old_score=0, new_score=50, old_tier="cold", new_tier=tier, reason="t"
        )
    )


def _compute(ctx: Context, shop_id: int, period: tuple[Any, Any], net: Any = None) -> dict[str, Any]:
    with ctx.sessions() as session:
        return economics.compute(session, shop_id, *period, net)


def _put_rules(client: Any, shop: dict[str, Any], **campaign: Any) -> Any:
    live = client.get("/api/v1/rules", headers=_auth(shop)).get_json()["document"]
    document = {**live, "campaign": {**live["campaign"], **campaign}}
    return client.put("/api/v1/rules", json=document, headers=_auth(shop))


def test_sources_spend_costs_conversion_by_tier_and_new_leads(
    ctx: Context, shop: dict[str, Any], period: tuple[Any, Any]
) -> None:
    start = period[0]
    created = start + DAY  # 2026-10-27 10:00
    with transaction(ctx.sessions) as session:
        sid = shop["id"]
        l1 = _lead(session, sid, created, source={"utm_source": "google"})
        _tier(session, l1, created + DAY, "warm")
        _order(session, sid, l1, created + 2 * DAY, "50")
        _tier(session, l1, created + 3 * DAY, "hot")  # after buying: not the tier it bought from
        l2 = _lead(session, sid, created, source={"utm_source": " Google"})
        _tier(session, l2, created + DAY, "hot")
        _lead(session, sid, created, source={"referrer": "https://www.facebook.com/x"}, is_customer=True)
        l4 = _lead(session, sid, created + 2 * DAY, source={})
        _order(session, sid, l4, created + 3 * DAY, "20", cancelled_at=created + 4 * DAY)  # no customer
        _lead(session, sid, start - DAY, source={"utm_source": "google"})  # before the period
        for source, month, amount, currency in [
            ("google", date(2026, 10, 1), "310", "EUR"),  # 10 a day
            ("google", date(2026, 11, 1), "300", "EUR"),  # 10 a day
            ("meta", date(2026, 11, 1), "90", "EUR"),  # 3 a day, no lead
            ("tiktok", date(2026, 11, 1), "30", "USD"),
            ("google", date(2026, 9, 1), "999", "EUR"),  # before the period
        ]:
            session.add(
                SourceSpend(
                    shop_id=sid,
                    source=source,
                    month=month,
                    amount=Decimal(amount),
                    currency=currency,
                    updated_at=ctx.now(),
                )
            )
    found = _compute(ctx, shop["id"], period)
    sources = {s["source"]: s for s in found["sources"]}
    assert [s["source"] for s in found["sources"]] == ["google", "direct", "facebook.com", "meta"]
    google = sources["google"]
    # 5 days 14 hours of October at 10 a day + 24 days 10 hours of November at 10 a day = 30 days x 10
    assert (google["leads"], google["customers"], google["spend"]) == (2, 1, "300.00")
    assert (google["cost_per_lead"], google["cost_per_customer"]) == ("150.00", "300.00")
    assert (
        google["conversion"]["rate"] == 0.5
        and google["conversion"]["low"] < 0.5 < google["conversion"]["high"]
    )
    # 24 days 10 hours of November at 3 a day; nobody from it: no cost per lead
    assert (sources["meta"]["leads"], sources["meta"]["spend"], sources["meta"]["cost_per_lead"]) == (
        0,
        "73.25",
        None,
    )
    assert sources["facebook.com"]["customers"] == 1 and sources["facebook.com"]["spend"] is None
    assert sources["direct"]["customers"] == 0  # its only order was cancelled
    assert found["spend_other_currencies"] == {"USD": "24.42"}  # 30 x 24.4167 / 30, left out of the costs
    # Tiers reached before buying: l1 warm (hot only after), l2 hot, l3 and l4 cold.
    tiers = found["tiers"]
    assert {t: (v["leads"], v["customers"]) for t, v in tiers.items()} == {
        "cold": (2, 1),
        "warm": (1, 1),
        "hot": (1, 0),
    }
    new = found["new_leads"]
    assert (new["total"], new["customers"], new["per"]) == (4, 2, "day")
    assert new["series"][0] == {"start": "2026-10-26", "leads": 0}
    assert new["series"][-1]["start"] == "2026-11-25" and len(new["series"]) == 31
    by_day = {row["start"]: row["leads"] for row in new["series"]}
    assert (by_day["2026-10-27"], by_day["2026-10-29"], sum(by_day.values())) == (3, 1, 4)


def test_lifetime_value_of_recovered_customers_against_the_others(
    ctx: Context, shop: dict[str, Any], period: tuple[Any, Any]
) -> None:
    end = period[1]
    with transaction(ctx.sessions) as session:
        sid = shop["id"]

        def recovered_cart(lead: Lead, order: Order, holdout_stop: int | None) -> None:
            n = next(_numbers)
            cart = Cart(
                shop_id=sid,
                lead_id=lead.id,
                cart_token=f"c{n}",
                created_at=order.created_at - DAY,
                last_activity_at=order.created_at - DAY,
                status="recovered",
                order_id=order.order_id,
            )
            session.add(cart)
            session.flush()
            session.add(
                JourneyRun(
                    shop_id=sid,
                    lead_id=lead.id,
                    cart_id=cart.id,
                    journey_key="cart",
                    trigger="cart_abandoned",
                    instance=f"cart:{cart.id}",
                    trigger_at=cart.created_at,
                    created_at=cart.created_at,
                    status="ended",
                    holdout_stop=holdout_stop,
                )
            )

        r1 = _lead(session, sid, end - 500 * DAY)  # recovered, seen 400 days: 100, +50 at day 20, +30 at 100
        first = _order(session, sid, r1, end - 400 * DAY, "100")
        recovered_cart(r1, first, None)
        _order(session, sid, r1, end - 380 * DAY, "50")
        _order(session, sid, r1, end - 300 * DAY, "30")
        r2 = _lead(session, sid, end - 70 * DAY)  # recovered, seen 60 days: 80
        recovered_cart(r2, _order(session, sid, r2, end - 60 * DAY, "80"), 2)
        o1 = _lead(session, sid, end - 500 * DAY)  # its cart's run was held out of the journey: other
        recovered_cart(o1, _order(session, sid, o1, end - 400 * DAY, "200"), 0)
        o2 = _lead(session, sid, end - 200 * DAY)  # other, seen 100 days: 60 (a cancelled and a USD order)
        _order(session, sid, o2, end - 150 * DAY, "999", cancelled_at=end - 149 * DAY)
        _order(session, sid, o2, end - 100 * DAY, "60")
        _order(session, sid, o2, end - 90 * DAY, "70", currency="USD")
        o3 = _lead(session, sid, end - 900 * DAY)  # first order before the two-year cohort: left out
        _order(session, sid, o3, end - 800 * DAY, "500")
        _order(session, sid, o3, end - 10 * DAY, "20")
    found = _compute(ctx, shop["id"], period)["lifetime_value"]

    def row(group: str) -> list[tuple[int, int, float | None, str | None]]:
        return [
            (v["horizon_days"], v["customers"], v["orders_per_customer"], v["revenue_per_customer"])
            for v in found[group]
        ]

    # 30 days: r1 (2 orders, 150) and r2 (1, 80); 90 days: r1 alone (2, 150); 365 days: r1 (3, 180).
    assert row("recovered") == [(30, 2, 1.5, "115.00"), (90, 1, 2.0, "150.00"), (365, 1, 3.0, "180.00")]
    # 30 and 90 days: o1 (1, 200) and o2 (1, 60); 365 days: o1 alone.
    assert row("others") == [(30, 2, 1.0, "130.00"), (90, 2, 1.0, "130.00"), (365, 1, 1.0, "200.00")]
    assert found["recovered"][0]["currency"] == "EUR"


def _runs(ctx: Context, shop_id: int, start: Any) -> None:
    """Cart runs: 4 treated (one orders 100 with a code that cost 10: 90 paid), 2 held out (one orders 40),
    and a journey with no holdout whose code is left out of the cost."""
    with transaction(ctx.sessions) as session:
        for journey, holdout, total, cost in [
            ("cart", False, "90", "10"),
            ("cart", False, None, None),
            ("cart", False, None, None),
            ("cart", False, None, None),
            ("cart", True, "40", None),
            ("cart", True, None, None),
            ("welcome", False, "70", "7"),
        ]:
            lead = _lead(session, shop_id, start - 5 * DAY)  # not a lead of the period
            run = JourneyRun(
                shop_id=shop_id,
                lead_id=lead.id,
                journey_key=journey,
                trigger="cart_abandoned" if journey == "cart" else "signup",
                instance=f"{journey}:{lead.id}",
                trigger_at=start + DAY,
                created_at=start + DAY,
                status="ended",
                holdout_stop=0 if holdout else None,
            )
            session.add(run)
            session.flush()
            due = start + DAY + timedelta(hours=1)
            offer = Offer(
                shop_id=shop_id,
                lead_id=lead.id,
                run_id=run.id,
                step=0,
                journey_key=journey,
                reason="journey",
                kind="percentage",
                value=Decimal(10),
                created_at=due,
                holdout=holdout,
                status="suppressed" if holdout else "sent",
            )
            session.add(offer)
            if total is not None:
                order = _order(session, shop_id, lead, due + DAY, total)
                if cost is not None:
                    offer.redeemed_at, offer.cost, offer.order_id = due + DAY, Decimal(cost), order.order_id


def test_roi_is_null_until_the_margin_rate_is_set_then_margin_over_discount(
    ctx: Context, client: Any, shop: dict[str, Any], period: tuple[Any, Any]
) -> None:
    _runs(ctx, shop["id"], period[0])
    body = client.get("/api/v1/metrics", headers=_auth(shop)).get_json()
    # N = (90 / 4 - 40 / 2) x 4 = 10; D = 10 (the welcome journey has no holdout: not measured)
    assert body["incremental_net_revenue"]["value"] == "10.00"
    block = body["economics"]["return_on_discounts"]
    assert block["margin_rate"] is None and block["discount_cost"] == "10.00"
    assert block["roi"] == {"value": None, "low": None, "high": None}
    assert block["incremental_margin"]["value"] is None
    refused = _put_rules(client, shop, margin_rate=1.5)
    assert refused.status_code == 422 and "campaign.margin_rate" in refused.get_json()["errors"]
    assert _put_rules(client, shop, margin_rate=0.5).status_code in (200, 201)
    block = client.get("/api/v1/metrics", headers=_auth(shop)).get_json()["economics"]["return_on_discounts"]
    # M = 0.5 x (10 + 10) - 10 = 0; ROI = 0 / 10 = 0: the margin won pays the discount, no more
    assert block["margin_rate"] == "0.5"
    assert block["incremental_margin"] == {"value": "0.00", "low": None, "high": None, "currency": "EUR"}
    assert block["roi"] == {"value": 0.0, "low": None, "high": None}


def test_roi_carries_the_interval_of_the_incremental_net_revenue(
    ctx: Context, shop: dict[str, Any], period: tuple[Any, Any]
) -> None:
    _runs(ctx, shop["id"], period[0])
    with ctx.sessions() as session:
        cost = economics.discount_cost(session, shop["id"], *period, 7, {"cart"})
        net = earnings.compute(session, shop["id"], *period)
        net = {**net, "low": "-20.00", "high": "40.00"}  # as if the interval were known
        block = economics.return_on_discounts(session, shop["id"], *period, net, Decimal("0.4"), 7, "EUR")
    assert cost == Decimal(10)
    # M = 0.4 x (N + 10) - 10 with N = 10 (-20 to 40): -2.00 (-14.00 to 10.00); ROI = M / 10
    assert block["incremental_margin"]["value"] == "-2.00"
    assert (block["incremental_margin"]["low"], block["incremental_margin"]["high"]) == ("-14.00", "10.00")
    assert block["roi"] == {"value": -0.2, "low": -1.4, "high": 1.0}


def test_the_spend_api_round_trips_and_removes(ctx: Context, client: Any, shop: dict[str, Any]) -> None:
    rows = [
        {"source": " Google ", "month": "2026-11", "amount": "120.50"},
        {"source": "newsletter", "month": "2026-10-15", "amount": 30, "currency": "usd"},
    ]
    response = client.put("/api/v1/spend", json={"spend": rows}, headers=_auth(shop))
    assert response.status_code == 200, response.get_json()
    listed = client.get("/api/v1/spend", headers=_auth(shop)).get_json()["spend"]
    assert [(r["source"], r["month"], r["amount"], r["currency"]) for r in listed] == [
        ("google", "2026-11", "120.50", "EUR"),
        ("newsletter", "2026-10", "30.00", "USD"),
    ]
    update = [
        {"source": "google", "month": "2026-11", "amount": "99"},
        {"source": "newsletter", "month": "2026-10", "amount": None},
    ]
    assert client.put("/api/v1/spend", json={"spend": update}, headers=_auth(shop)).status_code == 200
    listed = client.get("/api/v1/spend", headers=_auth(shop)).get_json()["spend"]
    assert [(r["source"], r["amount"]) for r in listed] == [("google", "99.00")]
    assert client.get("/api/v1/spend").status_code == 401


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"source": "", "month": "2026-11", "amount": 1}, "source", "1 to 100"),
        ({"source": "   ", "month": "2026-11", "amount": 1}, "source", "1 to 100"),
        ({"source": "x" * 101, "month": "2026-11", "amount": 1}, "source", "1 to 100"),
        ({"source": "g", "month": "2026-13", "amount": 1}, "month", "2026-11"),
        ({"source": "g", "month": "November", "amount": 1}, "month", "2026-11"),
        ({"source": "g", "month": "2026-11", "amount": -1}, "amount", "between 0"),
        ({"source": "g", "month": "2026-11", "amount": "1.001"}, "amount", "two decimals"),
        ({"source": "g", "month": "2026-11", "amount": "lots"}, "amount", "Not an amount"),
        ({"source": "g", "month": "2026-11", "amount": True}, "amount", "Not an amount"),
        ({"source": "g", "month": "2026-11", "amount": "NaN"}, "amount", "Not an amount"),
        ({"source": "g", "month": "2026-11", "amount": 1, "currency": "EURO"}, "currency", "three-letter"),
        ({"source": "g", "month": "2026-11"}, "amount", "Missing"),
    ],
)
def test_the_spend_api_says_what_is_wrong_with_each_field(
    client: Any, shop: dict[str, Any], row: dict[str, Any], field: str, message: str
) -> None:
    fine = {"source": "ok", "month": "2026-11", "amount": 5}
    response = client.put("/api/v1/spend", json={"spend": [fine, row]}, headers=_auth(shop))
    assert response.status_code == 422
    errors = response.get_json()["errors"]["spend"]
    assert list(errors) == ["1"] and list(errors["1"]) == [field]
    assert message in " ".join(errors["1"][field])
    assert client.get("/api/v1/spend", headers=_auth(shop)).get_json()["spend"] == []  # nothing written


def test_the_spend_api_refuses_a_row_twice_and_a_body_that_is_no_object(
    client: Any, shop: dict[str, Any]
) -> None:
    twice = [
        {"source": "G", "month": "2026-11", "amount": 1},
        {"source": "g", "month": "2026-11-20", "amount": 2},
    ]
    errors = client.put("/api/v1/spend", json={"spend": twice}, headers=_auth(shop)).get_json()["errors"]
    assert errors == {"spend": {"1": {"month": ["This source and month are already in row 0."]}}}
    response = client.put("/api/v1/spend", json=[1, 2], headers=_auth(shop))
    assert response.status_code == 422 and "_schema" in response.get_json()["errors"]
    response = client.put("/api/v1/spend", json={}, headers=_auth(shop))
    assert response.status_code == 422 and "spend" in response.get_json()["errors"]


def test_the_metrics_api_keeps_its_period_rules_for_economics(
    ctx: Context, client: Any, shop: dict[str, Any], run_jobs: Callable[[], None]
) -> None:
    with transaction(ctx.sessions) as session:
        _lead(session, shop["id"], ctx.now() - 2 * DAY, source={"utm_source": "google"})
    body = client.get("/api/v1/metrics?from=2026-11-20&to=2026-11-24", headers=_auth(shop)).get_json()
    new = body["economics"]["new_leads"]
    assert new["total"] == 1 and new["series"][0]["start"] == "2026-11-20"
    assert len(new["series"]) == 5
    response = client.get("/api/v1/metrics?from=2026-11-24&to=2026-11-20", headers=_auth(shop))
    assert response.status_code == 422 and "from" in response.get_json()["errors"]


def test_a_shop_sees_and_writes_only_its_own_spend(ctx: Context, client: Any, shop: dict[str, Any]) -> None:
    other = make_shop(ctx, "other-shop.myshopify.com", "owner@other.test")
    row = {"source": "google", "month": "2026-11", "amount": "10"}
    assert client.put("/api/v1/spend", json={"spend": [row]}, headers=_auth(shop)).status_code == 200
    assert client.get("/api/v1/spend", headers=_auth(other)).get_json()["spend"] == []
    mine = {**row, "amount": "99"}
    assert client.put("/api/v1/spend", json={"spend": [mine]}, headers=_auth(other)).status_code == 200
    assert [r["amount"] for r in client.get("/api/v1/spend", headers=_auth(shop)).get_json()["spend"]] == [
        "10.00"
    ]
    with ctx.sessions() as session:
        spend = economics.compute(session, shop["id"], ctx.now() - 30 * DAY, ctx.now(), None)["sources"]
    assert [(s["source"], s["spend"]) for s in spend] == [("google", "8.14")]  # 24 days 10 hours of 30 at 1/3
