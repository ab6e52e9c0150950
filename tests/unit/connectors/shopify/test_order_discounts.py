"""What an order got from each discount code (`OrderPlaced.discounts`), from `discount_codes[].amount`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import OrderPlaced
from connectors.shopify.webhooks import ShopifyWebhooks

from .support import changed, load, only

adapter = ShopifyWebhooks()


def order_with(codes: Any) -> OrderPlaced:
    payload = changed(load("orders__create.discount-code.json"), discount_codes=codes)
    return only(adapter.normalize("orders/create", payload), OrderPlaced)


def test_each_code_carries_its_amount_under_the_upper_cased_code() -> None:
    order = order_with(
        [
            {"code": " back-7q2m9x ", "amount": "12.50", "type": "percentage"},
            {"code": "SHIPFREE", "amount": "4.90", "type": "shipping"},
        ]
    )
    assert order.discounts == {"BACK-7Q2M9X": Decimal("12.50"), "SHIPFREE": Decimal("4.90")}
    assert order.discount_codes == ("back-7q2m9x", "SHIPFREE")  # unchanged: as the shopper typed them


def test_a_code_listed_twice_sums_its_amounts() -> None:
    order = order_with([{"code": "Back-1", "amount": "10.00"}, {"code": "BACK-1", "amount": 2.5}])
    assert order.discounts == {"BACK-1": Decimal("12.50")}


@pytest.mark.parametrize("amount", [None, "", "ten", "NaN", "-5.00", "1e40", True, {"amount": "1"}, ["1"]])
def test_an_unreadable_amount_leaves_its_code_out_and_the_order_stands(amount: object) -> None:
    entry = {"code": "BACK-1"} if amount is None else {"code": "BACK-1", "amount": amount}
    order = order_with([entry, {"code": "OTHER", "amount": "3.00"}])
    assert order.discount_codes == ("BACK-1", "OTHER")
    assert order.discounts == {"OTHER": Decimal("3.00")}


def test_one_unreadable_amount_of_a_repeated_code_leaves_the_whole_code_out() -> None:
    order = order_with([{"code": "BACK-1", "amount": "10.00"}, {"code": "back-1", "amount": "?"}])
    assert order.discounts == {}


def test_entries_without_a_code_are_skipped() -> None:
    assert order_with([{"amount": "5.00"}, {"code": " ", "amount": "1.00"}]).discounts == {}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.decimals(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(amount=JSON)
def test_any_amount_value_never_breaks_the_order(amount: object) -> None:
    order = order_with([{"code": "back-1", "amount": amount}])
    assert set(order.discounts) <= {"BACK-1"}
    assert all(isinstance(v, Decimal) and v.is_finite() and v >= 0 for v in order.discounts.values())
