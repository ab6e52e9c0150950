"""ShopifyClient against the local fake Shopify over real HTTP: bucket, faults, schema, reconciliation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import FOREIGN_CODE, CodeTaken, DiscountSpec, OrderPlaced, StoreError
from connectors.shopify.client import ShopifyClient
from connectors.shopify.normalize import facts_for
from tests.fakes.shopify_store import FakeShopify

TOKEN = "shpat_fake"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def fake() -> Iterator[FakeShopify]:
    with FakeShopify(bucket_size=1000, restore_rate=100) as store:
        store.require_token(TOKEN)
        yield store


def connect(store: FakeShopify, **kwargs: Any) -> ShopifyClient:
    return ShopifyClient(store.shop, TOKEN, api_origin=store.url, **kwargs)


def spec(i: int = 0, **changes: Any) -> DiscountSpec:
    base: dict[str, Any] = {
        "code": f"BACK-{i:04d}-7Q2M9X",
        "title": f"Relance abandoned cart BACK-{i:04d}-7Q2M9X",
        "kind": "percentage",
        "value": Decimal(15),
        "currency": "EUR",
        "starts_at": NOW,
        "ends_at": NOW + timedelta(hours=24),
        "customer_external_id": "7261",
    }
    return DiscountSpec(**{**base, **changes})


def test_create_find_deactivate_delete_round_trip(fake: FakeShopify) -> None:
    client = connect(fake)
    assert client.find_discount("BACK-0000-7Q2M9X") is None
    ref = client.create_discount(spec())
    stored = fake.discounts["back-0000-7q2m9x"]["input"]
    assert stored["customerGets"]["value"] == {"percentage": 0.15}
    assert stored["context"] == {"customers": {"add": ["gid://shopify/Customer/7261"]}}
    assert client.find_discount("back-0000-7q2m9x") == ref.__class__(
        "back-0000-7q2m9x", ref.platform_id, True
    )
    assert client.deactivate_discount(ref).active is False
    assert client.find_discount(ref.code).active is False  # type: ignore[union-attr]
    client.delete_discount(ref)
    client.delete_discount(ref)  # already gone: still fine
    assert fake.discounts == {}
    assert {c.shop for c in fake.calls} == {fake.shop}


def test_retried_create_returns_our_existing_code(fake: FakeShopify) -> None:
    client = connect(fake)
    first = client.create_discount(spec())
    assert client.create_discount(spec()) == first
    with pytest.raises(CodeTaken):
        client.create_discount(spec(title="Someone else's discount"))
    assert len(fake.discounts) == 1


def test_a_merchant_discount_with_our_code_is_never_adopted(fake: FakeShopify) -> None:
    merchant = connect(fake)
    merchant.create_discount(spec(title="Black Friday"))  # the merchant chose the same code
    client = connect(fake)
    assert client.find_discount(spec().code) is None
    with pytest.raises(CodeTaken) as raised:
        client.find_discount(spec().code) or client.create_discount(spec())  # as the bridge calls them
    assert raised.value.code == FOREIGN_CODE and not raised.value.transient
    assert [n["codeDiscount"]["title"] for n in fake.discounts.values()] == ["Black Friday"]


def test_a_timed_out_create_is_not_duplicated(fake: FakeShopify) -> None:
    fake.delay_next(0.6)
    client = connect(fake, timeout=(1.0, 0.3))
    ref = client.create_discount(spec())
    assert len(fake.discounts) == 1
    assert ref.platform_id == fake.discounts["back-0000-7q2m9x"]["id"]


def test_thirty_codes_on_a_small_bucket_are_never_refused_twice_in_a_row() -> None:
    with FakeShopify(bucket_size=40, restore_rate=600) as store:
        client = connect(store)
        for i in range(30):
            client.create_discount(spec(i))
        assert len(store.discounts) == 30
        assert store.max_throttle_streak <= 1
        assert store.throttled_count <= 1  # only before the client has seen the bucket


def test_injected_faults_are_retried(fake: FakeShopify) -> None:
    fake.fail_next(2, status=503)
    fake.throttle_next(1)
    waits: list[float] = []
    connect(fake, sleep=waits.append).create_discount(spec())
    assert [c.outcome for c in fake.calls] == ["failed", "failed", "throttled", "ok"]
    assert len(waits) == 3


def test_429_with_retry_after_is_honoured(fake: FakeShopify) -> None:
    waits: list[float] = []
    fake.fail_next(1, status=429, retry_after="0.1")
    connect(fake, sleep=waits.append).find_discount("X")
    assert waits == [0.1]


def test_persistent_outage_is_a_transient_store_error(fake: FakeShopify) -> None:
    fake.fail_next(3, status=502)
    with pytest.raises(StoreError) as raised:
        connect(fake, max_attempts=3, sleep=lambda _s: None).find_discount("X")
    assert raised.value.transient and raised.value.code == "http_502"


def test_a_document_the_schema_rejects_is_a_permanent_error(fake: FakeShopify) -> None:
    with pytest.raises(StoreError) as raised:
        connect(fake).execute("query { shop { name currency } }")
    assert not raised.value.transient and "currency" in str(raised.value)


def test_wrong_token_is_unauthorized(fake: FakeShopify) -> None:
    with pytest.raises(StoreError) as raised:
        ShopifyClient(fake.shop, "shpat_wrong", api_origin=fake.url).find_discount("X")
    assert raised.value.code == "unauthorized"


def test_register_webhooks_is_idempotent(fake: FakeShopify) -> None:
    client = connect(fake)
    address = "https://relance.test/webhooks/shopify"
    first = client.register_webhooks(address, ["orders/create", "checkouts/update"])
    again = client.register_webhooks(address, ["orders/create", "checkouts/update", "app/uninstalled"])
    assert again[:2] == first and len(fake.data.webhooks) == 3
    client.unregister_webhook(first[0])
    assert len(fake.data.webhooks) == 2


def test_shop_info(fake: FakeShopify) -> None:
    info = connect(fake).shop_info()
    assert (info.domain, info.currency, info.timezone) == (fake.shop, "EUR", "Europe/Paris")


def money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "EUR"}}


def checkout_node(n: int, updated: datetime) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/AbandonedCheckout/{n}",
        "abandonedCheckoutUrl": f"https://shop.test/1/checkouts/tok{n}/recover?key=k{n}",
        "discountCodes": [],
        "createdAt": (updated - timedelta(hours=1)).isoformat(),
        "updatedAt": updated.isoformat(),
        "completedAt": None,
        "totalPriceSet": money("42.00"),
        "subtotalPriceSet": money("40.00"),
        "customer": {
            "id": f"gid://shopify/Customer/{n}",
            "firstName": "Jo",
            "lastName": None,
            "defaultEmailAddress": {"emailAddress": f"jo{n}@x.test", "marketingState": "SUBSCRIBED"},
        },
        "lineItems": {"nodes": [{"title": "Mug", "quantity": 2, "originalUnitPriceSet": money("20.00")}]},
    }


def order_node(n: int, updated: datetime) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Order/{n}",
        "name": f"#{n}",
        "email": f"jo{n}@x.test",
        "cartToken": None,
        "checkoutToken": f"tok{n}",
        "currencyCode": "EUR",
        "discountCodes": ["BACK-0000-7Q2M9X"],
        "customerAcceptsMarketing": False,
        "sourceName": "web",
        "createdAt": updated.isoformat(),
        "updatedAt": updated.isoformat(),
        "cancelledAt": None,
        "totalPriceSet": money("36.00"),
        "subtotalPriceSet": money("40.00"),
        "customer": None,
        "lineItems": {"nodes": []},
    }


def test_reconciliation_reads_recent_records_across_pages() -> None:
    since = NOW - timedelta(hours=2)
    with FakeShopify(restore_rate=10_000) as fake:  # three 600-point pages without waiting
        fake.seed(checkouts=[checkout_node(n, since + timedelta(minutes=n - 3)) for n in range(25)])
        checkouts = connect(fake).recent_abandoned_checkouts(since)
    assert [c["id"] for c in checkouts] == list(range(3, 25))
    assert sum(c.operation == "RelanceAbandonedCheckouts" and c.outcome == "ok" for c in fake.calls) == 3
    first = checkouts[0]
    assert (first["token"], first["email"], first["subtotal_price"]) == ("tok3", "jo3@x.test", "40.00")
    assert first["customer"]["email_marketing_consent"] == {"state": "subscribed"}
    assert first["line_items"] == [
        {
            "title": "Mug",
            "variant_title": None,
            "quantity": 2,
            "sku": None,
            "price": "20.00",
            "product_id": None,
            "variant_id": None,
        }
    ]


def test_reconciled_orders_go_through_the_webhook_normalization(fake: FakeShopify) -> None:
    fake.seed(orders=[order_node(7, NOW)])
    [payload] = connect(fake).recent_orders(NOW - timedelta(minutes=5))
    placed = [f for f in facts_for("orders/create", payload) if isinstance(f, OrderPlaced)]
    assert [(p.order_id, p.checkout_token, p.total, p.discount_codes) for p in placed] == [
        ("7", "tok7", Decimal("36.00"), ("BACK-0000-7Q2M9X",))
    ]
    assert placed[0].discounts == {}  # the ORDERS query reads codes only: their amounts stay unknown


def _customer(number: int, email: str | None = "ana@example.com") -> dict[str, Any]:
    address = {"emailAddress": email, "marketingState": "SUBSCRIBED"} if email else None
    return {"id": f"gid://shopify/Customer/{number}", "defaultEmailAddress": address}


def test_an_unsubscribe_is_written_to_the_customers_email_consent(fake: FakeShopify) -> None:
    fake.seed(customers=[_customer(7261)])
    state = connect(fake).set_email_marketing_consent("7261", False, NOW)
    assert state == "UNSUBSCRIBED"
    assert fake.data.consent_updates == [
        {
            "customerId": "gid://shopify/Customer/7261",
            "marketingState": "UNSUBSCRIBED",
            "consentUpdatedAt": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    assert fake.data.customers["gid://shopify/Customer/7261"]["defaultEmailAddress"]["marketingState"] == (
        "UNSUBSCRIBED"
    )


@pytest.mark.parametrize("customer", [None, _customer(7261, email=None)], ids=["unknown", "no-email"])
def test_a_consent_update_shopify_refuses_is_a_permanent_error(
    fake: FakeShopify, customer: dict[str, Any] | None
) -> None:
    fake.seed(customers=[customer] if customer else [])
    with pytest.raises(StoreError) as refused:
        connect(fake).set_email_marketing_consent("7261", False, NOW)
    assert refused.value.transient is False and refused.value.code == "consent_rejected"
    assert fake.data.consent_updates == []


def test_without_write_customers_shopify_denies_the_consent_update() -> None:
    with FakeShopify(scopes="read_customers,read_orders,write_discounts") as store:
        store.seed(customers=[_customer(7261)])
        with pytest.raises(StoreError) as denied:
            connect(store).set_email_marketing_consent("7261", False, NOW)
    assert denied.value.transient is False and denied.value.code == "access_denied"
    assert [c.outcome for c in store.calls] == ["denied"] and store.data.consent_updates == []
