"""Free-shipping codes, minimum subtotals, guests' codes and the shop's primary locale, against the local fake
Shopify (the real 2026-10 schema checks every document and its variables)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import CodeTaken, DiscountRef, DiscountSpec, StoreError
from connectors.shopify import graphql as gql
from connectors.shopify.client import ShopifyClient
from tests.fakes.shopify_store import FakeShopify

TOKEN = "shpat_fake"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def fake() -> Iterator[FakeShopify]:
    with FakeShopify() as store:
        store.require_token(TOKEN)
        yield store


def connect(store: FakeShopify) -> ShopifyClient:
    return ShopifyClient(store.shop, TOKEN, api_origin=store.url)


def spec(**changes: Any) -> DiscountSpec:
    base: dict[str, Any] = {
        "code": "SHIP-7Q2M9X",
        "title": "Relance journey step SHIP-7Q2M9X",
        "kind": "free_shipping",
        "value": Decimal(0),
        "currency": "EUR",
        "starts_at": NOW,
        "ends_at": NOW + timedelta(hours=48),
        "customer_external_id": "7261",
        "minimum_subtotal": Decimal("40.00"),
    }
    return DiscountSpec(**{**base, **changes})


def test_a_free_shipping_code_is_created_found_and_deleted(fake: FakeShopify) -> None:
    client = connect(fake)
    ref = client.create_discount(spec())
    node = fake.discounts["ship-7q2m9x"]
    assert node["codeDiscount"]["__typename"] == "DiscountCodeFreeShipping"
    sent = node["input"]
    assert sent["context"] == {"customers": {"add": ["gid://shopify/Customer/7261"]}}
    assert sent["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "40.00"}}
    assert sent["destination"] == {"all": True} and sent["usageLimit"] == 1
    assert client.find_discount("SHIP-7Q2M9X") == DiscountRef("SHIP-7Q2M9X", ref.platform_id, True)
    assert client.create_discount(spec()) == ref  # a retried job gets its own code back
    assert client.deactivate_discount(ref).active is False
    assert client.find_discount("SHIP-7Q2M9X").active is False  # type: ignore[union-attr]
    client.delete_discount(ref)
    assert fake.discounts == {} and client.find_discount("SHIP-7Q2M9X") is None


def test_a_free_shipping_code_with_our_code_but_not_our_title_is_not_ours(fake: FakeShopify) -> None:
    connect(fake).create_discount(spec(title="Livraison offerte"))  # the merchant's own
    client = connect(fake)
    assert client.find_discount("SHIP-7Q2M9X") is None
    with pytest.raises(CodeTaken):
        client.create_discount(spec())


def test_a_guest_without_a_customer_record_gets_a_single_use_code_open_to_all(fake: FakeShopify) -> None:
    client = connect(fake)
    for kind, code in (("free_shipping", "SHIP-GUEST1"), ("percentage", "BACK-GUEST1")):
        value = Decimal(10) if kind == "percentage" else Decimal(0)
        client.create_discount(
            spec(
                code=code,
                title=f"Relance journey step {code}",
                kind=kind,
                value=value,
                customer_external_id=None,
            )
        )
        sent = fake.discounts[code.lower()]["input"]
        assert sent["context"] == {"all": "ALL"}
        assert sent["usageLimit"] == 1 and sent["appliesOncePerCustomer"] is True
        assert sent["endsAt"] == (NOW + timedelta(hours=48)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_percentage_code_with_a_minimum_subtotal(fake: FakeShopify) -> None:
    connect(fake).create_discount(
        spec(kind="percentage", value=Decimal(15), code="BACK-MIN1", title="Relance x BACK-MIN1")
    )
    sent = fake.discounts["back-min1"]["input"]
    assert sent["customerGets"]["value"] == {"percentage": 0.15}
    assert sent["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "40.00"}}


def test_the_fake_refuses_a_zero_minimum_as_shopify_does(fake: FakeShopify) -> None:
    # The client never sends one (0 means no minimum); the fake must still refuse it.
    variables = {
        "input": {
            "title": "t", "code": "ZERO-1", "startsAt": "2026-01-01T00:00:00Z", "context": {"all": "ALL"},
            "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "0"}},
        }
    }  # fmt: skip
    answer = connect(fake).execute(gql.CREATE_FREE_SHIPPING, variables)["discountCodeFreeShippingCreate"]
    assert answer["codeDiscountNode"] is None
    assert answer["userErrors"][0]["code"] == "GREATER_THAN"


def test_the_primary_locale_comes_from_shop_locales(fake: FakeShopify) -> None:
    assert connect(fake).primary_locale() == "fr"
    fake.data.locales = [
        {"locale": "fr", "name": "French", "primary": False, "published": True},
        {"locale": "en-CA", "name": "English", "primary": True, "published": True},
    ]
    assert connect(fake).primary_locale() == "en-CA"


def test_without_read_locales_shopify_denies_the_shop_locales() -> None:
    with (
        FakeShopify(scopes="read_customers,read_orders,write_discounts") as store,
        pytest.raises(StoreError) as denied,
    ):
        ShopifyClient(store.shop, TOKEN, api_origin=store.url).primary_locale()
    assert denied.value.code == "access_denied" and denied.value.transient is False
