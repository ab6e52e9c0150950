"""Free-shipping coupons, minimum amounts and the site's language, against the fake WooCommerce store."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from connectors.base import DiscountSpec
from connectors.woocommerce.client import WooClient, coupon_body
from tests.fakes.woocommerce_store import FakeWooStore

START = datetime(2026, 5, 7, 10, 0, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[FakeWooStore]:
    with FakeWooStore(consumer_key="ck_fake", consumer_secret="cs_fake") as fake:
        yield fake


@pytest.fixture
def client(store: FakeWooStore) -> WooClient:
    return WooClient(store.url, "ck_fake", "cs_fake", sleep=lambda _: None, timeout=5)


def spec(code: str, kind: str, value: Decimal, **changes: Any) -> DiscountSpec:
    title = f"Relance journey step {code.upper()}"
    return dataclasses.replace(
        DiscountSpec(code, title, kind, value, "EUR", START, START.replace(day=9)), **changes
    )


def test_a_free_shipping_coupon_is_a_worthless_fixed_cart_coupon_with_free_shipping(
    store: FakeWooStore, client: WooClient
) -> None:
    made = client.create_discount(
        spec("Ship-1", "free_shipping", Decimal(0), email="Jane@Example.com", minimum_subtotal=Decimal("40"))
    )
    [coupon] = store.coupons_shown()
    assert (coupon["discount_type"], coupon["amount"], coupon["free_shipping"]) == (
        "fixed_cart",
        "0.00",
        True,
    )
    assert coupon["minimum_amount"] == "40.00"
    assert coupon["email_restrictions"] == ["jane@example.com"]
    assert (coupon["usage_limit"], coupon["usage_limit_per_user"], coupon["individual_use"]) == (1, 1, True)
    assert coupon["date_expires_gmt"] == "2026-05-09T10:00:00"
    assert client.find_discount("SHIP-1") == made
    client.delete_discount(made)
    assert store.coupons_shown() == [] and client.find_discount("ship-1") is None


def test_a_percentage_coupon_with_a_minimum_amount(store: FakeWooStore, client: WooClient) -> None:
    client.create_discount(spec("Pct-1", "percentage", Decimal(10), minimum_subtotal=Decimal("55.50")))
    [coupon] = store.coupons_shown()
    assert (coupon["discount_type"], coupon["amount"], coupon["minimum_amount"]) == (
        "percent",
        "10.00",
        "55.50",
    )
    assert coupon["free_shipping"] is False


def test_a_zero_minimum_sends_no_minimum_amount() -> None:
    body = coupon_body(spec("x", "fixed_amount", Decimal(5), minimum_subtotal=Decimal(0)))
    assert "minimum_amount" not in body and body["free_shipping"] is False


def test_a_guest_coupon_without_email_is_still_single_use_and_expiring(
    store: FakeWooStore, client: WooClient
) -> None:
    client.create_discount(spec("Guest-1", "free_shipping", Decimal(0)))
    [coupon] = store.coupons_shown()
    assert coupon["email_restrictions"] == [] and coupon["usage_limit"] == 1
    assert coupon["date_expires_gmt"] == "2026-05-09T10:00:00"


def test_the_fake_refuses_free_shipping_that_is_not_a_boolean(store: FakeWooStore) -> None:
    answer = requests.post(
        f"{store.url}/wp-json/wc/v3/coupons",
        json={"code": "x", "free_shipping": "yes"},
        auth=("ck_fake", "cs_fake"),
        timeout=5,
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "rest_invalid_param")


def test_the_site_language_comes_from_the_system_status(store: FakeWooStore, client: WooClient) -> None:
    assert client.site_locale() == "fr_FR"
    store.language = "en_US"
    assert client.site_locale() == "en_US"
    calls = [c for c in store.calls if c.path == "/wp-json/wc/v3/system_status"]
    assert len(calls) == 2 and calls[-1].query.get("_fields") == "environment"
