"""GET /api/v1/metrics over HTTP, on SQLite and PostgreSQL: periods and their 422 answers, the redemption
rate, treated vs holdout by intention to treat, revenue per currency without cancelled orders, sources and
tiers over time. Rows are written straight to the database, so each figure is known in advance."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bridge.db import transaction
from bridge.db.models import Cart, Offer, Order, Shop, TierSnapshot
from bridge.infra.context import Context

NOVEMBER = "from=2026-11-01&to=2026-11-30"
_numbers = itertools.count(1)


def at(text: str) -> datetime:
    """A UTC instant from an ISO datetime without offset."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Rows:
    """One shop's carts, orders and offers, written in one transaction."""

    def __init__(self, ctx: Context, shop_id: int) -> None:
        self.ctx, self.shop_id = ctx, shop_id

    def __enter__(self) -> Rows:
        self._tx = transaction(self.ctx.sessions)
        self.session = self._tx.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._tx.__exit__(*exc)

    def order(self, total: str, currency: str | None = "EUR", cancelled: bool = False) -> str:
        """A placed order (cancelled a day later if asked); its id."""
        order_id = f"order-{next(_numbers)}"
        created = at("2026-11-20T12:00")
        self.session.add(
            Order(
                shop_id=self.shop_id,
                order_id=order_id,
                total=Decimal(total),
                currency=currency,
                created_at=created,
                cancelled_at=at("2026-11-21T12:00") if cancelled else None,
            )
        )
        return order_id

    def cart(
        self,
        abandoned: str | None = "2026-11-10T10:00",
        *,
        paid: str | None = None,
        currency: str | None = "EUR",
        cancelled: bool = False,
        source: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> Cart:
        """A cart (abandoned at `abandoned`); with `paid`, recovered by an order of that total."""
        n = next(_numbers)
        created = at(abandoned or "2026-11-10T10:00")
        cart = Cart(
            shop_id=self.shop_id,
            cart_token=f"cart-{n}",
            email=f"buyer{n}@example.com",
            currency=currency,
            subtotal=Decimal("10.00"),
            items={"lines": [{"title": "Shirt", "quantity": 1, "price": "10.00"}]},
            source=source or {},
            created_at=created,
            last_activity_at=created,
            status=status or ("recovered" if paid else "abandoned" if abandoned else "active"),
            abandoned_at=at(abandoned) if abandoned else None,
        )
        if paid is not None:
            cart.order_id = self.order(paid, currency, cancelled)
            cart.order_total = Decimal(paid)
        self.session.add(cart)
        self.session.flush()
        return cart

    def offer(
        self,
        cart: Cart | None = None,
        *,
        status: str = "sent",
        holdout: bool = False,
        reason: str = "abandoned_cart",
        sent: str | None = None,
        redeemed: str | None = None,
        paid: str | None = None,
        cost: str | None = None,
        currency: str | None = "EUR",
        cancelled: bool = False,
    ) -> Offer:
        """An offer row as the campaign writes it; with `paid`, redeemed by an order of that total."""
        offer = Offer(
            shop_id=self.shop_id,
            cart_id=cart.id if cart is not None else None,
            reason=reason,
            status=status,
            holdout=holdout,
            currency=currency,
            created_at=at("2026-11-10T11:00"),
            sent_at=at(sent) if sent else None,
            redeemed_at=at(redeemed) if redeemed else None,
            cost=Decimal(cost) if cost is not None else None,
        )
        if paid is not None:  # the cart's own order when it has one
            offer.order_id = (
                cart.order_id if cart and cart.order_id else self.order(paid, currency, cancelled)
            )
            offer.order_total = Decimal(paid)
        self.session.add(offer)
        return offer

    def shop(self, **values: Any) -> None:
        """Change the shop row (time zone, currency)."""
        shop = self.session.get(Shop, self.shop_id)
        assert shop is not None
        for name, value in values.items():
            setattr(shop, name, value)


@pytest.fixture
def rows(ctx: Context, shopify_shop: dict[str, Any]) -> Rows:
    return Rows(ctx, shopify_shop["id"])


@pytest.fixture
def get_metrics(client: Any, shopify_shop: dict[str, Any]) -> Callable[[str], Any]:
    """GET /api/v1/metrics with a raw query string (sent as written: a bare '+' stays unencoded)."""
    auth = {"Authorization": f"Bearer {shopify_shop['api_key']}"}
    return lambda query: client.get(f"/api/v1/metrics?{query}", headers=auth)


def figures(get_metrics: Callable[[str], Any], query: str) -> dict[str, Any]:
    answer = get_metrics(query)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json


def test_every_key_of_the_contract_is_there(get_metrics: Callable[[str], Any]) -> None:
    body = figures(get_metrics, NOVEMBER)
    assert set(body) >= {"from", "to", "carts", "recovery", "offers", "revenue", "sources", "tiers"}
    assert set(body["carts"]) == {
        "created",
        "abandoned",
        "recovered",
        "recovered_treated",
        "recovered_holdout",
    }
    assert set(body["offers"]) == {"sent", "redeemed", "redemption_rate"}
    assert set(body["revenue"]) == {
        "recovered",
        "recovered_treated",
        "recovered_holdout",
        "from_codes",
        "discount_cost",
        "currency",
        "by_currency",
    }
    assert body["redemption"] == {"sent": 0, "redeemed": 0, "rate": None}
    assert body["tiers_over_time"] == []


def test_codes_sent_before_the_period_never_push_the_redemption_rate_over_one(
    rows: Rows, get_metrics: Callable[[str], Any]
) -> None:
    with rows:
        for _ in range(3):  # sent on November 30, redeemed on December 1
            rows.offer(status="redeemed", sent="2026-11-30T18:00", redeemed="2026-12-01T09:00", paid="10.00")
        rows.offer(status="redeemed", sent="2026-12-01T10:00", redeemed="2026-12-03T09:00", paid="10.00")
        rows.offer(status="sent", sent="2026-12-01T11:00")
        rows.offer(status="suppressed", holdout=True)
    body = figures(get_metrics, "from=2026-12-01&to=2026-12-02")
    assert body["offers"] == {"sent": 2, "redeemed": 3, "redemption_rate": 0.5}
    assert body["redemption"] == {"sent": 2, "redeemed": 1, "rate": 0.5}


def test_a_date_only_to_includes_that_day_and_tiers_over_time_agree(
    ctx: Context, rows: Rows, get_metrics: Callable[[str], Any]
) -> None:
    with rows:
        rows.cart("2026-11-30T23:59")
        rows.cart("2026-12-01T00:00")
        for day in (28, 29, 30):
            rows.session.add(
                TierSnapshot(shop_id=rows.shop_id, day=date(2026, 11, day), counts={"cold": day, "hot": 1})
            )
        rows.session.add(TierSnapshot(shop_id=rows.shop_id, day=date(2026, 12, 1), counts={"cold": 31}))
    whole_day = figures(get_metrics, "from=2026-11-29&to=2026-11-30")
    assert (whole_day["from"], whole_day["to"]) == ("2026-11-29T00:00:00+00:00", "2026-12-01T00:00:00+00:00")
    assert whole_day["carts"]["abandoned"] == 1
    assert whole_day["tiers_over_time"] == [
        {"day": "2026-11-29", "cold": 29, "hot": 1},
        {"day": "2026-11-30", "cold": 30, "hot": 1},
    ]
    up_to_midnight = figures(get_metrics, "from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z")
    assert up_to_midnight["carts"]["abandoned"] == 0
    assert [row["day"] for row in up_to_midnight["tiers_over_time"]] == ["2026-11-29"]


def test_days_are_those_of_the_shops_time_zone(rows: Rows, get_metrics: Callable[[str], Any]) -> None:
    with rows:
        rows.shop(timezone="Europe/Paris")
        rows.cart("2026-11-30T23:30")  # December 1, 00:30 in Paris
        rows.cart("2026-12-01T23:30")  # December 2 in Paris
    body = figures(get_metrics, "from=2026-12-01&to=2026-12-01")
    assert (body["from"], body["to"]) == ("2026-11-30T23:00:00+00:00", "2026-12-01T23:00:00+00:00")
    assert body["carts"]["abandoned"] == 1
    summer = figures(get_metrics, "from=2026-07-01T12:00:00&to=2026-07-31")
    assert (summer["from"], summer["to"]) == ("2026-07-01T10:00:00+00:00", "2026-07-31T22:00:00+00:00")


def test_an_unknown_shop_time_zone_falls_back_to_utc(rows: Rows, get_metrics: Callable[[str], Any]) -> None:
    with rows:
        rows.shop(timezone="Mars/Olympus_Mons")
    body = figures(get_metrics, "from=2026-12-01&to=2026-12-01")
    assert (body["from"], body["to"]) == ("2026-12-01T00:00:00+00:00", "2026-12-02T00:00:00+00:00")


def test_an_unencoded_plus_of_an_offset_is_read_as_a_plus(get_metrics: Callable[[str], Any]) -> None:
    body = figures(get_metrics, "from=2026-12-01T10:00:00+02:00&to=2026-12-02T10:00+02:00")
    assert (body["from"], body["to"]) == ("2026-12-01T08:00:00+00:00", "2026-12-02T08:00:00+00:00")


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("from=yesterday", {"from"}),
        ("to=2026-13-01", {"to"}),
        ("from=nope&to=never", {"from", "to"}),
        ("to=0001-01-01", {"to"}),  # the default 30 days before it would start before year 1
        ("to=9999-12-31", {"to"}),  # the day ends after year 9999
        ("from=0001-01-01T00:00:00%2B01:00", {"from"}),  # before year 1 in UTC
        ("from=2026-12-02&to=2026-12-01", {"from"}),
        ("from=2026-12-01T10:00:00Z&to=2026-12-01T10:00:00Z", {"from"}),  # an empty period
        ("from=2030-01-01", {"from"}),  # after now, the default `to`
    ],
)
def test_unusable_periods_are_a_422_per_field(
    get_metrics: Callable[[str], Any], query: str, fields: set[str]
) -> None:
    answer = get_metrics(query)
    assert answer.status_code == 422
    errors = answer.json["errors"]
    assert set(errors) == fields
    assert all(messages and all(isinstance(m, str) and m for m in messages) for messages in errors.values())


def test_the_422_messages_say_what_is_wrong(get_metrics: Callable[[str], Any]) -> None:
    errors = get_metrics("from=2026-12-02&to=2026-12-31T25:00").json["errors"]
    assert errors == {"to": ["Not a date (2026-11-30) or a date and time (2026-11-30T09:00:00+01:00)."]}
    errors = get_metrics("from=2026-12-02&to=2026-12-01").json["errors"]
    assert errors == {"from": ["Must be earlier than `to` (the period ends at 2026-12-02T00:00:00+00:00)."]}


def test_treated_and_holdout_are_compared_by_intention_to_treat(
    rows: Rows, get_metrics: Callable[[str], Any]
) -> None:
    with rows:
        rows.offer(rows.cart(paid="100.00"), status="sent")
        rows.offer(rows.cart(paid="60.00"), status="cancelled")  # an order came before the send
        rows.offer(rows.cart(), status="failed")
        rows.offer(rows.cart(), status="expired")
        rows.offer(rows.cart(paid="80.00"), status="suppressed")  # skipped by the policy: no group
        rows.offer(rows.cart(paid="40.00"), status="suppressed", holdout=True)
        rows.offer(rows.cart(), status="suppressed", holdout=True)
        rows.offer(rows.cart(paid="90.00", cancelled=True), status="suppressed", holdout=True)
        rows.offer(rows.cart(paid="30.00"), status="sent", reason="hot_lead")  # not a cart recovery offer
    body = figures(get_metrics, NOVEMBER)
    recovery = body["recovery"]
    assert (recovery["treated_carts"], recovery["holdout_carts"]) == (4, 3)
    assert recovery["treated_rate"] == 0.5 and recovery["holdout_rate"] == pytest.approx(1 / 3)
    assert recovery["difference"] == pytest.approx(0.5 - 1 / 3)
    assert body["carts"] == {
        "created": 9,
        "abandoned": 9,
        "recovered": 5,
        "recovered_treated": 2,
        "recovered_holdout": 1,
    }
    revenue = body["revenue"]
    assert (revenue["recovered"], revenue["recovered_treated"], revenue["recovered_holdout"]) == (
        "310.00",
        "160.00",
        "40.00",
    )


def test_revenue_leaves_out_cancelled_orders_and_never_adds_currencies(
    rows: Rows, get_metrics: Callable[[str], Any]
) -> None:
    with rows:
        rows.shop(currency="EUR")
        redeemed = {"status": "redeemed", "sent": "2026-11-10T11:00", "redeemed": "2026-11-20T12:00"}
        rows.offer(rows.cart(paid="100.00"), **redeemed, paid="100.00", cost="10.00")
        rows.offer(
            rows.cart(paid="500.00", cancelled=True), **redeemed, paid="500.00", cost="50.00", cancelled=True
        )
        usd = rows.cart(paid="70.00", currency="USD")
        rows.offer(usd, **redeemed, paid="70.00", cost="7.00", currency="USD")
        rows.offer(rows.cart(paid="40.00"), status="suppressed", holdout=True)
        rows.cart(paid="25.00", currency=None)  # no currency known: counted in the shop's
    body = figures(get_metrics, NOVEMBER)
    assert body["carts"]["recovered"] == 4
    assert body["offers"]["redeemed"] == 3  # codes used, even on an order cancelled later
    assert body["revenue"] == {
        "recovered": "165.00",
        "recovered_treated": "100.00",
        "recovered_holdout": "40.00",
        "from_codes": "100.00",
        "discount_cost": "10.00",
        "currency": "EUR",
        "by_currency": {
            "EUR": {
                "recovered": "165.00",
                "recovered_treated": "100.00",
                "recovered_holdout": "40.00",
                "from_codes": "100.00",
                "discount_cost": "10.00",
            },
            "USD": {
                "recovered": "70.00",
                "recovered_treated": "70.00",
                "recovered_holdout": "0.00",
                "from_codes": "70.00",
                "discount_cost": "7.00",
            },
        },
    }


def test_without_a_shop_currency_the_most_common_one_leads(
    rows: Rows, get_metrics: Callable[[str], Any]
) -> None:
    with rows:
        rows.shop(currency=None)
        rows.cart(paid="10.00", currency="USD")
        rows.cart(paid="20.00", currency="USD")
        rows.cart(paid="300.00", currency="EUR")
    revenue = figures(get_metrics, NOVEMBER)["revenue"]
    assert (revenue["currency"], revenue["recovered"]) == ("USD", "30.00")
    assert sorted(revenue["by_currency"]) == ["EUR", "USD"]
    assert revenue["by_currency"]["EUR"]["recovered"] == "300.00"


def test_money_is_summed_exactly(rows: Rows, get_metrics: Callable[[str], Any]) -> None:
    with rows:
        redeemed = {"status": "redeemed", "sent": "2026-11-10T11:00", "redeemed": "2026-11-20T12:00"}
        rows.offer(**redeemed, paid="19.90", cost="48.9020")
        rows.offer(**redeemed, paid="0.10", cost="33.5130")
    revenue = figures(get_metrics, NOVEMBER)["revenue"]
    # 82.4150 exactly, so 82.42; as binary floating point (SQLite's SUM of text) 82.41499999999999.
    assert (revenue["from_codes"], revenue["discount_cost"]) == ("20.00", "82.42")


def test_sources_group_blank_values_with_missing_ones(rows: Rows, get_metrics: Callable[[str], Any]) -> None:
    with rows:
        rows.cart(None, source={"utm_source": "", "referrer": "google.com"}, status="converted", paid="5.00")
        rows.cart(None, source={"utm_source": "  ", "referrer": "", "landing_page": "/sale"})
        rows.cart(None, source={"utm_source": "newsletter"}, status="converted", paid="5.00", cancelled=True)
        rows.cart(None, source={"referrer": ""})
        rows.cart(None, source={}, status="converted", paid="5.00")
    sources = figures(get_metrics, NOVEMBER)["sources"]
    assert sources[0] == {"source": "direct", "carts": 2, "orders": 1, "conversion": 0.5}
    assert sorted(sources[1:], key=lambda s: s["source"]) == [
        {"source": "/sale", "carts": 1, "orders": 0, "conversion": 0.0},
        {"source": "google.com", "carts": 1, "orders": 1, "conversion": 1.0},
        {"source": "newsletter", "carts": 1, "orders": 0, "conversion": 0.0},
    ]


def test_conversion_by_each_source_field_on_its_own(rows: Rows, get_metrics: Callable[[str], Any]) -> None:
    """UTM source, referring site and landing page each get their own table; referrers count by site and
    landing pages by path, so one page's many query strings and a site's many pages are one row each."""
    with rows:
        rows.cart(
            None,
            source={"utm_source": "Newsletter", "referrer": "https://www.google.com/search?q=a"},
            status="converted",
            paid="5.00",
        )
        rows.cart(None, source={"utm_source": "newsletter", "referrer": "https://google.com/"})
        rows.cart(None, source={"landing_page": "/sale?utm_source=x"}, status="converted", paid="5.00")
        rows.cart(None, source={"landing_page": "https://shop.example/sale"})
        news = {"referrer": "news.example.org"}
        rows.cart(None, source=news, status="converted", paid="5.00", cancelled=True)
    by = figures(get_metrics, NOVEMBER)["sources_by"]
    assert by["utm_source"] == [
        {"source": "(none)", "carts": 3, "orders": 1, "conversion": 0.3333},
        {"source": "newsletter", "carts": 2, "orders": 1, "conversion": 0.5},
    ]
    assert by["referrer"] == [
        {"source": "(none)", "carts": 2, "orders": 1, "conversion": 0.5},
        {"source": "google.com", "carts": 2, "orders": 1, "conversion": 0.5},
        {"source": "news.example.org", "carts": 1, "orders": 0, "conversion": 0.0},
    ]
    assert by["landing_page"] == [
        {"source": "(none)", "carts": 3, "orders": 1, "conversion": 0.3333},
        {"source": "/sale", "carts": 2, "orders": 1, "conversion": 0.5},
    ]
