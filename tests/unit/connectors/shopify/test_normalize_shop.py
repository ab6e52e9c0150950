"""shop/update and app/scopes_update become facts; withheld personal fields are flagged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import CustomerSeen, PayloadError, ScopesGranted, ShopUpdated
from connectors.shopify.webhooks import ShopifyWebhooks

adapter = ShopifyWebhooks()
AT = "2026-11-25T10:00:00-05:00"
WHEN = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def shop_payload(**changes: Any) -> dict[str, Any]:
    base = {
        "id": 548380009, "name": "Maison Ana", "email": "owner@example.com", "currency": "EUR",
        "iana_timezone": "Europe/Paris", "timezone": "(GMT+01:00) Europe/Paris",
        "myshopify_domain": "relance-test.myshopify.com", "updated_at": AT,
    }  # fmt: skip
    return {**base, **changes}


def test_shop_update_carries_name_currency_and_time_zone() -> None:
    assert adapter.normalize("shop/update", shop_payload()) == [
        ShopUpdated(name="Maison Ana", currency="EUR", timezone="Europe/Paris", updated_at=WHEN)
    ]


def test_shop_update_without_the_fields_says_nothing_of_them() -> None:
    (fact,) = adapter.normalize("shop/update", {"id": 1})
    assert fact == ShopUpdated(name=None, currency=None, timezone=None)


def test_shop_update_refuses_a_currency_that_is_no_code() -> None:
    with pytest.raises(PayloadError, match="shop/update: currency"):
        adapter.normalize("shop/update", shop_payload(currency="euros"))


def test_scopes_update_records_the_current_scopes() -> None:
    payload = {
        "id": 1, "shop_id": 548380009, "previous": ["read_customers"],
        "current": ["write_customers", "read_customers", " read_orders "], "updated_at": AT,
    }  # fmt: skip
    assert adapter.normalize("app/scopes_update", payload) == [
        ScopesGranted(("read_customers", "read_orders", "write_customers"), WHEN)
    ]


@pytest.mark.parametrize("current", [None, "read_orders", [1, 2]])
def test_scopes_update_without_a_list_of_scopes_is_unreadable(current: Any) -> None:
    with pytest.raises(PayloadError, match="app/scopes_update: current"):
        adapter.normalize("app/scopes_update", {"current": current})


WITHHELD = {"id": 7261, "email": None, "phone": None, "first_name": None, "last_name": None}


def test_a_customer_with_every_personal_field_withheld_is_flagged() -> None:
    (seen, _created) = adapter.normalize("customers/create", {**WITHHELD, "created_at": AT})
    assert isinstance(seen, CustomerSeen) and seen.redacted and seen.external_id == "7261"


@pytest.mark.parametrize(
    "field", [{"email": "ana@example.com"}, {"phone": "+33612345678"}, {"first_name": "Ana"}]
)
def test_a_customer_with_any_personal_field_is_not_flagged(field: dict[str, str]) -> None:
    (seen,) = adapter.normalize("customers/update", {**WITHHELD, **field, "updated_at": AT})
    assert isinstance(seen, CustomerSeen) and not seen.redacted


def test_an_order_whose_customer_is_withheld_is_flagged() -> None:
    order = {
        "id": 9001, "email": None, "contact_email": None, "total_price": "36.00", "created_at": AT,
        "customer": WITHHELD, "billing_address": {"first_name": None},
    }  # fmt: skip
    seen = next(f for f in adapter.normalize("orders/create", order) if isinstance(f, CustomerSeen))
    assert seen.redacted and seen.email is None


def test_a_checkout_of_a_known_customer_is_not_flagged() -> None:
    checkout = {
        "token": "tok1", "email": "ana@example.com", "created_at": AT, "line_items": [],
        "customer": {"id": 7261, "email": "ana@example.com", "first_name": "Ana"},
    }  # fmt: skip
    seen = next(f for f in adapter.normalize("checkouts/update", checkout) if isinstance(f, CustomerSeen))
    assert not seen.redacted


def test_a_guest_order_without_a_customer_object_is_not_flagged() -> None:
    order = {"id": 9002, "email": "guest@example.com", "total_price": "5.00", "created_at": AT}
    seen = next(f for f in adapter.normalize("orders/paid", order) if isinstance(f, CustomerSeen))
    assert not seen.redacted
