"""One amount reader for WooCommerce orders and the plugin's carts (connectors.woocommerce.values)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import CartSnapshot, OrderPlaced, PayloadError
from connectors.woocommerce.values import money, optional_money
from connectors.woocommerce.webhooks import WooWebhooks
from connectors.woocommerce.wordpress import WordPressEvents
from tests.conftest import FIXTURES

ORDER = json.loads((FIXTURES / "woocommerce" / "order.updated.json").read_text())  # completed, 34.49
CART = {
    "cart_token": "0123456789abcdef0123456789abcdef",
    "ts": 1795600000,
    "subtotal": "24.00",
    "items": [{"title": "Mug", "quantity": 2, "price": "12.00"}],
}
READ = [
    ("12.50", Decimal("12.50")),
    (" 7 ", Decimal(7)),
    (0, Decimal(0)),
    (19, Decimal(19)),
    (12.5, Decimal("12.5")),
    (Decimal("3.10"), Decimal("3.10")),  # a JSON number, as the pipeline parses it (parse_float=Decimal)
    ("0.0000000001", Decimal("1E-10")),
    ("999999999999999.99", Decimal("999999999999999.99")),
]
REFUSED = [None, True, "", "free", "NaN", "Infinity", "-0.01", -5, Decimal(-1), "1e15", "1e-11", ["1"]]


@pytest.mark.parametrize(("value", "amount"), READ)
def test_amounts_are_read_exactly(value: object, amount: Decimal) -> None:
    assert money(value, "total") == amount
    assert optional_money(value) == amount


@pytest.mark.parametrize("value", REFUSED)
def test_anything_else_is_a_payload_error_or_none(value: object) -> None:
    with pytest.raises(PayloadError):
        money(value, "total")
    assert optional_money(value) is None


def order(**changes: Any) -> OrderPlaced:
    payload = {**copy.deepcopy(ORDER), **changes}
    found = [f for f in WooWebhooks().normalize("order.updated", payload) if isinstance(f, OrderPlaced)]
    return found[0]


def cart(**changes: Any) -> CartSnapshot:
    found = WordPressEvents().normalize("wordpress/cart.updated", {**CART, **changes})
    return next(f for f in found if isinstance(f, CartSnapshot))


@pytest.mark.parametrize(("value", "amount"), READ)
def test_both_callers_read_the_same_amounts(value: object, amount: Decimal) -> None:
    assert order(total=value).total == amount
    assert cart(subtotal=value).subtotal == amount
    assert cart(items=[{"title": "Mug", "quantity": 1, "price": value}]).items[0].price == amount


@pytest.mark.parametrize("value", REFUSED)
def test_both_callers_refuse_the_same_amounts(value: object) -> None:
    with pytest.raises(PayloadError):
        order(total=value)
    with pytest.raises(PayloadError):
        cart(subtotal=value)
    with pytest.raises(PayloadError):
        cart(items=[{"title": "Mug", "quantity": 1, "price": value}])


def test_a_negative_order_line_is_refused_as_the_plugin_refuses_a_negative_price() -> None:
    lines = copy.deepcopy(ORDER["line_items"])
    lines[0]["subtotal"] = "-14.00"
    with pytest.raises(PayloadError, match="line subtotal is out of range"):
        order(status="pending", line_items=lines)
