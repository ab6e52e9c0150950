"""The shopper's locale carried from each platform's payload into the facts, as the store gave it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from connectors.base import CartSnapshot, CustomerSeen, OrderPlaced, ShopUpdated
from connectors.shopify.normalize import facts_for
from connectors.shopify.payloads import order_payload
from connectors.woocommerce.webhooks import WooWebhooks
from connectors.woocommerce.wordpress import WordPressEvents
from tests.conftest import fixture


def load(platform: str, name: str, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(fixture(platform, name))
    return {**payload, **changes}


def one(facts: list[Any], kind: type[Any]) -> Any:
    [found] = [fact for fact in facts if isinstance(fact, kind)]
    return found


@pytest.mark.parametrize("topic", ["checkouts/create", "checkouts/update"])
def test_a_shopify_checkout_carries_its_customer_locale_to_the_cart_and_the_buyer(topic: str) -> None:
    facts = facts_for(topic, load("shopify", "checkouts__create.json", customer_locale="fr-FR"))
    assert one(facts, CartSnapshot).locale == "fr-FR"
    assert one(facts, CustomerSeen).locale == "fr-FR"


def test_a_shopify_checkout_without_customer_locale_says_nothing() -> None:
    facts = facts_for("checkouts/create", load("shopify", "checkouts__create.json"))  # customer_locale: null
    assert one(facts, CartSnapshot).locale is None and one(facts, CustomerSeen).locale is None


def test_a_malformed_customer_locale_is_unknown_not_a_failed_event() -> None:
    facts = facts_for("checkouts/create", load("shopify", "checkouts__create.json", customer_locale=7))
    assert one(facts, CartSnapshot).locale is None


def test_a_shopify_order_carries_its_customer_locale() -> None:
    facts = facts_for("orders/create", load("shopify", "orders__create.json", customer_locale="fr-CA"))
    assert one(facts, OrderPlaced).locale == "fr-CA" and one(facts, CustomerSeen).locale == "fr-CA"


def test_a_shopify_buyer_without_customer_locale_keeps_the_accounts_locale() -> None:
    payload = load("shopify", "orders__create.json", customer_locale=None)
    payload["customer"] = {**payload["customer"], "locale": "fr"}
    facts = facts_for("orders/create", payload)
    assert one(facts, CustomerSeen).locale == "fr" and one(facts, OrderPlaced).locale is None


@pytest.mark.parametrize("topic", ["customers/create", "customers/update"])
def test_a_shopify_customer_payload_with_a_locale(topic: str) -> None:
    assert one(facts_for(topic, load("shopify", "customers__create.json")), CustomerSeen).locale is None
    facts = facts_for(topic, load("shopify", "customers__create.json", locale="fr"))
    assert one(facts, CustomerSeen).locale == "fr"


def test_a_reconciled_shopify_order_keeps_the_locales_graphql_gives() -> None:
    node = {
        "id": "gid://shopify/Order/42", "email": "a@example.com", "customerLocale": "fr-FR",
        "createdAt": "2026-11-25T10:00:00Z", "updatedAt": "2026-11-25T10:00:00Z",
        "totalPriceSet": {"shopMoney": {"amount": "10.00", "currencyCode": "EUR"}},
        "customer": {"id": "gid://shopify/Customer/7", "firstName": "A", "lastName": None, "locale": "fr",
                     "defaultEmailAddress": {"emailAddress": "a@example.com", "marketingState": None}},
    }  # fmt: skip
    facts = facts_for("orders/create", order_payload(node))
    assert one(facts, OrderPlaced).locale == "fr-FR" and one(facts, CustomerSeen).locale == "fr-FR"


def test_shop_update_carries_the_primary_locale() -> None:
    shop = load("shopify", "app__uninstalled.json")
    [fact] = facts_for("shop/update", shop)
    assert isinstance(fact, ShopUpdated) and fact.primary_locale == shop["primary_locale"]


def _woo_order(status: str, meta: list[dict[str, Any]]) -> dict[str, Any]:
    order = copy.deepcopy(load("woocommerce", "order.updated.completed-checkout.json"))
    order.update(status=status, meta_data=[*order.get("meta_data", []), *meta])
    return order


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ([{"id": 1, "key": "_relance_locale", "value": "fr_FR"}], "fr_FR"),
        ([{"id": 1, "key": "wpml_language", "value": "fr"}], "fr"),
        (
            [
                {"id": 1, "key": "wpml_language", "value": "en"},
                {"id": 2, "key": "_relance_locale", "value": "fr_BE"},
            ],
            "fr_BE",
        ),
        ([{"id": 1, "key": "_relance_locale", "value": ["fr"]}], None),
        ([], None),
    ],
    ids=["plugin", "wpml", "plugin-first", "not-text", "none"],
)
def test_a_woocommerce_order_carries_the_locale_of_its_meta(
    meta: list[dict[str, Any]], expected: str | None
) -> None:
    woo = WooWebhooks()
    placed = woo.normalize("order.updated", _woo_order("processing", meta))
    assert one(placed, OrderPlaced).locale == expected and one(placed, CustomerSeen).locale == expected
    pending = woo.normalize("order.updated", _woo_order("pending", meta))
    assert one(pending, CartSnapshot).locale == expected and one(pending, CustomerSeen).locale == expected


def test_the_plugins_cart_event_carries_the_shoppers_locale() -> None:
    body = {
        "event": "checkout.email", "cart_token": "0123456789abcdef0123456789abcdef", "session_key": "s",
        "items": [], "subtotal": "0", "currency": "EUR", "recovery_url": "", "ts": 1795600000,
        "email": "jane@example.com", "locale": "fr_FR",
    }  # fmt: skip
    facts = WordPressEvents().normalize("wordpress/checkout.email", body)
    assert one(facts, CartSnapshot).locale == "fr_FR" and one(facts, CustomerSeen).locale == "fr_FR"
    older = WordPressEvents().normalize("wordpress/checkout.email", {**body, "locale": None})
    assert one(older, CartSnapshot).locale is None  # an older plugin sends none
