"""WooCommerce payloads to facts: every one of our payloads (tests/fixtures/woocommerce), every order status,
and bad input."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import (
    Activity,
    CartSnapshot,
    CustomerSeen,
    LineItem,
    OrderCancelled,
    OrderPlaced,
    PayloadError,
)
from connectors.woocommerce.webhooks import WooWebhooks
from tests.conftest import FIXTURES as ALL_FIXTURES

FIXTURES = ALL_FIXTURES / "woocommerce"
CHECKOUT_ORDER = "order.updated.completed-checkout.json"  # WooCommerce 8.x shape, a storefront checkout
woo = WooWebhooks()


def sample(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return payload


def checkout(topic: str, payload: dict[str, Any]) -> tuple[CustomerSeen, CartSnapshot, Activity]:
    """The three facts of a started checkout, typed."""
    seen, cart, started = woo.normalize(topic, payload)
    assert isinstance(seen, CustomerSeen) and isinstance(cart, CartSnapshot) and isinstance(started, Activity)
    return seen, cart, started


def placed_order(topic: str, payload: dict[str, Any]) -> tuple[CustomerSeen, OrderPlaced, Activity]:
    """The three facts of a placed order, typed."""
    seen, order, placed = woo.normalize(topic, payload)
    assert isinstance(seen, CustomerSeen) and isinstance(order, OrderPlaced) and isinstance(placed, Activity)
    return seen, order, placed


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_every_payload_is_covered_here() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == [
        "customer.created.json",
        "order.created.json",
        "order.updated.completed-checkout.json",
        "order.updated.json",
        "order.updated.processing.json",
    ]


def test_customer_created() -> None:
    seen, created = woo.normalize("customer.created", sample("customer.created.json"))
    assert isinstance(seen, CustomerSeen)
    assert seen == CustomerSeen(
        external_id="58",
        email="lucia.moreno@example.org",
        first_name="Lucia",
        last_name="Moreno",
        country="ES",
        accepts_marketing=None,
        created_at=at("2024-05-06T08:12:40"),
        updated_at=at("2024-05-06T08:12:41"),
    )
    assert created == Activity("account_created", at("2024-05-06T08:12:40"), "customer:58", "58", seen.email)


def test_customer_updated_is_only_a_sighting() -> None:
    facts = woo.normalize("customer.updated", sample("customer.created.json"))
    assert [type(f) for f in facts] == [CustomerSeen]


def test_pending_order_created_is_a_started_checkout() -> None:
    seen, cart, started = checkout("order.created", sample("order.created.json"))
    assert seen == CustomerSeen(
        external_id=None,  # customer_id 0: a guest
        email="lucia.moreno@example.org",
        first_name="Lucia",
        last_name="Moreno",
        country="ES",
        updated_at=at("2024-05-06T09:02:15"),
    )
    assert cart == CartSnapshot(
        token="wc-order:1188",
        checkout_token="1188",
        email="lucia.moreno@example.org",
        customer_external_id=None,
        currency="EUR",
        subtotal=Decimal("28.50"),  # 9 + 7 + 12.50: lines before coupons, without tax or the 6.00 shipping
        items=(
            LineItem("Beeswax pillar candle", 1, Decimal("9.00"), "44", None, None),
            LineItem("Enamel camping mug", 1, Decimal("7.00"), "41", None, "MUG-ENML"),
            LineItem("Waxed canvas tote \u2013 Colour: Olive", 1, Decimal("12.50"), "36", "37", "TOTE-OLV"),
        ),
        recovery_url=None,  # no companion-plugin restore link on this order
        updated_at=at("2024-05-06T09:02:15"),
        source={},
    )
    assert started == Activity("checkout_started", at("2024-05-06T09:02:15"), "order:1188", None, seen.email)


def test_completed_order_is_an_order_placed() -> None:
    seen, order, placed = placed_order("order.updated", sample("order.updated.json"))
    assert seen.email == "lucia.moreno@example.org" and seen.external_id is None
    assert order == OrderPlaced(
        order_id="1187",
        cart_token="wc-order:1187",
        checkout_token="1187",
        email="lucia.moreno@example.org",
        customer_external_id=None,
        total=Decimal("34.49"),
        currency="EUR",
        discount_codes=(),
        created_at=at("2024-05-06T08:40:05"),
        source={},
        items=(
            LineItem("Enamel camping mug", 2, Decimal("7.00"), "41", None, "MUG-ENML"),
            LineItem("Waxed canvas tote \u2013 Colour: Olive", 1, Decimal("12.50"), "36", "37", "TOTE-OLV"),
        ),
    )
    assert placed == Activity("order_placed", at("2024-05-06T08:40:05"), "order:1187", None, seen.email)


def test_processing_order_is_the_same_order_placed() -> None:
    _, order, _ = placed_order("order.updated", sample("order.updated.processing.json"))
    _, completed, _ = placed_order("order.updated", sample("order.updated.json"))
    assert order == completed  # one order: the later status changes nothing the bridge keys on


def test_an_order_from_a_storefront_checkout() -> None:
    seen, order, placed = placed_order("order.updated", sample(CHECKOUT_ORDER))
    assert (seen.external_id, seen.email, seen.first_name, seen.country) == (
        "61",
        "sven.halvorsen@example.com",
        "Sven",
        "NO",
    )
    assert (order.order_id, order.checkout_token, order.cart_token) == ("2043", "2043", "wc-order:2043")
    assert (order.total, order.currency, order.discount_codes) == (Decimal("32.00"), "EUR", ())
    assert order.created_at == at("2024-09-12T18:20:31")
    assert placed.external_id == "61"
    (item,) = order.items  # WooCommerce 8 shows the line's picture (a simple product: no parent name)
    assert (item.product_id, item.variant_id, item.title) == ("52", None, "Birch-handle bread knife")
    assert item.image_url == "https://shop.example.org/wp-content/uploads/2024/09/bread-knife.jpg"
    assert item.product_title is None


def test_a_variation_line_names_its_parent_product_and_a_picture_must_be_a_web_address() -> None:
    payload = copy.deepcopy(sample(CHECKOUT_ORDER))
    line = payload["line_items"][0]
    line.update(variation_id=53, parent_name="Birch-handle bread knife &amp; sheath", name="Knife - Large")
    line["image"] = {"id": "88", "src": "javascript:alert(1)"}
    _, order, _ = placed_order("order.updated", payload)
    (item,) = order.items
    assert (item.variant_id, item.title, item.product_title) == (
        "53",
        "Knife - Large",
        "Birch-handle bread knife & sheath",
    )
    assert item.image_url is None


def draft(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(sample(CHECKOUT_ORDER))
    payload.update(status="checkout-draft", date_paid_gmt=None, date_completed_gmt=None)
    payload.update(changes)
    return payload


def test_a_block_checkout_draft_with_an_email_is_a_cart() -> None:
    seen, cart, started = checkout("order.updated", draft())
    assert isinstance(cart, CartSnapshot)
    assert (cart.token, cart.checkout_token, cart.email) == (
        "wc-order:2043",
        "2043",
        "sven.halvorsen@example.com",
    )
    assert cart.customer_external_id == "61" and seen.external_id == "61"
    assert cart.recovery_url is None  # no plugin link: the bridge falls back to the cart page
    assert cart.updated_at == at("2024-09-12T18:20:33")
    assert started.kind == "checkout_started" and started.ref == "order:2043"


RESTORE = "https://shop.example/cart/?relance_restore=0123456789abcdef0123456789abcdef"


def plugin_meta(url: object = RESTORE) -> list[dict[str, Any]]:
    """The meta the companion plugin writes on an order: its cart token and that cart's restore link."""
    return [
        {"id": 8, "key": "_relance_cart_token", "value": "0123456789abcdef0123456789abcdef"},
        {"id": 9, "key": "_relance_recovery_url", "value": url},
    ]


@pytest.mark.parametrize("status", ["pending", "failed", "checkout-draft"])
def test_an_unpaid_order_never_links_to_its_payment_page(status: str) -> None:
    # A coupon applied to the cart session does not discount an order already created on order-pay.
    payload = draft(status=status)
    assert "order-pay" in payload["payment_url"]
    cart = checkout("order.updated", payload)[1]
    assert cart.recovery_url is None  # the bridge then sends the shopper to the store's cart page


@pytest.mark.parametrize("status", ["pending", "failed", "checkout-draft"])
def test_an_unpaid_order_tagged_by_the_plugin_links_to_its_cart_restore(status: str) -> None:
    cart = checkout("order.updated", draft(status=status, meta_data=plugin_meta()))[1]
    assert (cart.token, cart.recovery_url) == ("0123456789abcdef0123456789abcdef", RESTORE)


@pytest.mark.parametrize(
    ("url", "link"),
    [
        (RESTORE + "#top", RESTORE),  # the bridge appends &coupon=: nothing may follow the query
        (
            "https://shop.example/?page_id=7&coupon=old&relance_restore=ab",
            "https://shop.example/?page_id=7&relance_restore=ab",
        ),
        ("https://shop.example/cart/?", "https://shop.example/cart/"),
        ("javascript:alert(1)", None),
        ("https://shop.example/a b", None),
        ("https://[::1/cart", None),
        ("", None),
        (7, None),
        (None, None),
    ],
)
def test_the_plugin_link_is_cleaned_or_dropped(url: object, link: str | None) -> None:
    cart = checkout("order.updated", draft(status="pending", meta_data=plugin_meta(url)))[1]
    assert cart.recovery_url == link


def test_a_draft_before_the_email_is_typed_gives_nothing() -> None:
    assert woo.normalize("order.updated", draft(billing={"email": "", "first_name": ""}, customer_id=0)) == []


STATUS_FACTS = [
    ("checkout-draft", [CustomerSeen, CartSnapshot, Activity]),
    ("pending", [CustomerSeen, CartSnapshot, Activity]),
    ("failed", [CustomerSeen, CartSnapshot, Activity]),
    ("processing", [CustomerSeen, OrderPlaced, Activity]),
    ("completed", [CustomerSeen, OrderPlaced, Activity]),
    ("on-hold", [CustomerSeen, OrderPlaced, Activity]),
    ("cancelled", [OrderCancelled]),
    ("refunded", [OrderCancelled]),
    ("trash", []),
    ("draft", []),
    ("wc-custom-status", []),
]


@pytest.mark.parametrize(("status", "kinds"), STATUS_FACTS)
@pytest.mark.parametrize("topic", ["order.created", "order.updated"])
def test_statuses(topic: str, status: str, kinds: list[type]) -> None:
    assert [type(f) for f in woo.normalize(topic, draft(status=status))] == kinds


def test_a_cancellation_happens_at_the_modification_time() -> None:
    assert woo.normalize("order.updated", draft(status="refunded")) == [
        OrderCancelled(order_id="2043", occurred_at=at("2024-09-12T18:20:33"))
    ]


@pytest.mark.parametrize(
    "topic", ["order.deleted", "product.updated", "coupon.created", "customer.deleted", "x"]
)
def test_other_topics_give_nothing(topic: str) -> None:
    assert woo.normalize(topic, {"id": 15}) == []


def test_coupons_are_lower_cased_once_each() -> None:
    lines = [{"id": 1, "code": "BACK-7Q2M9X", "discount": "5"}, {"code": "back-7q2m9x"}, {"code": "Summer"}]
    order = placed_order("order.updated", draft(status="processing", coupon_lines=lines))[1]
    assert isinstance(order, OrderPlaced)
    assert order.discount_codes == ("back-7q2m9x", "summer")


def test_each_coupon_carries_its_discount_without_tax_under_the_upper_cased_code() -> None:
    lines = [
        {"id": 1, "code": "back-7q2m9x", "discount": "5.00", "discount_tax": "1.00", "meta_data": []},
        {"id": 2, "code": "Summer", "discount": "2.5"},
        {"id": 3, "code": "summer", "discount": 1},
    ]
    order = placed_order("order.updated", draft(status="processing", coupon_lines=lines))[1]
    assert order.discounts == {"BACK-7Q2M9X": Decimal("5.00"), "SUMMER": Decimal("3.5")}
    assert order.discount_codes == ("back-7q2m9x", "summer")


@pytest.mark.parametrize("discount", [None, "", "five", "NaN", "-1.00", "1e30", True, {"v": "1"}, ["1"]])
def test_an_unreadable_coupon_discount_leaves_its_code_out_and_the_order_stands(discount: object) -> None:
    odd = {"code": "back-1"} if discount is None else {"code": "back-1", "discount": discount}
    lines = [odd, {"code": "other", "discount": "3.00"}]
    order = placed_order("order.updated", draft(status="completed", coupon_lines=lines))[1]
    assert order.discount_codes == ("back-1", "other")
    assert order.discounts == {"OTHER": Decimal("3.00")}


def test_orders_without_coupons_have_no_discounts() -> None:
    for name in ("order.updated.json", CHECKOUT_ORDER):
        assert placed_order("order.updated", sample(name))[1].discounts == {}


def test_the_companion_plugin_token_is_the_cart_identity_on_both_sides() -> None:
    meta = [
        {"id": 9, "key": "_relance_cart_token", "value": "t_8f2c"},
        {"key": "is_vat_exempt", "value": "no"},
    ]
    cart = checkout("order.updated", draft(meta_data=meta))[1]
    order = placed_order("order.updated", draft(meta_data=meta, status="processing"))[1]
    assert isinstance(cart, CartSnapshot) and isinstance(order, OrderPlaced)
    assert cart.token == order.cart_token == "t_8f2c"
    assert cart.checkout_token == order.checkout_token == "2043"


def test_order_attribution_becomes_the_source() -> None:
    meta = [
        {"key": "_wc_order_attribution_source_type", "value": "utm"},
        {"key": "_wc_order_attribution_utm_source", "value": "newsletter"},
        {"key": "_wc_order_attribution_session_entry", "value": "https://shop.example/landing"},
        {"key": "_wc_order_attribution_referrer", "value": ""},
        {"key": "_wc_order_attribution_utm_medium", "value": {"not": "text"}},
    ]
    cart = checkout("order.updated", draft(meta_data=meta))[1]
    assert isinstance(cart, CartSnapshot)
    assert cart.source == {
        "source_type": "utm",
        "utm_source": "newsletter",
        "landing_page": "https://shop.example/landing",
    }


def test_the_subtotal_is_before_coupons_and_unit_prices_keep_precision() -> None:
    lines = [
        {
            "name": "Mug",
            "quantity": 3,
            "subtotal": "10.00",
            "total": "9.00",
            "product_id": 4,
            "variation_id": 0,
        },
        {"name": "Tea", "quantity": 2, "subtotal": "7.500", "total": "7.500", "product_id": 5, "sku": "T-1"},
    ]
    cart = checkout("order.updated", draft(line_items=lines))[1]
    assert isinstance(cart, CartSnapshot)
    assert cart.subtotal == Decimal("17.500")
    assert [(i.quantity, i.price, i.sku) for i in cart.items] == [
        (3, Decimal("3.33"), None),
        (2, Decimal("3.750"), "T-1"),
    ]


def test_gmt_dates_with_an_offset_are_converted_to_utc() -> None:
    cart = checkout("order.updated", draft(date_modified_gmt="2024-09-12T20:20:33+02:00"))[1]
    assert isinstance(cart, CartSnapshot)
    assert cart.updated_at == at("2024-09-12T18:20:33")


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"id": "abc"},
        {"id": True},
        {"status": None},
        {"status": 3},
        {"date_created_gmt": None, "date_modified_gmt": None},
        {"date_modified_gmt": "16/08/2023"},
        {"line_items": "none"},
        {"line_items": [{"quantity": "two", "subtotal": "1"}]},
        {"line_items": [{"quantity": 1, "subtotal": "NaN"}]},
        {"line_items": [{"quantity": 1, "subtotal": "1e30"}]},
        {"billing": "sven.halvorsen@example.com"},
        {"meta_data": {"key": "x"}},
        {"customer_id": -4},
    ],
)
def test_unreadable_orders_are_payload_errors(changes: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        woo.normalize("order.updated", draft(**changes))


@pytest.mark.parametrize("changes", [{"total": "free"}, {"total": None}, {"coupon_lines": [["code"]]}])
def test_unreadable_placed_orders_are_payload_errors(changes: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        woo.normalize("order.updated", draft(status="completed", **changes))


def test_a_payload_that_is_not_an_object_is_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        woo.normalize("order.updated", ["not", "an", "object"])  # type: ignore[arg-type]


def test_a_customer_created_without_dates_is_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        woo.normalize("customer.created", {"id": 3, "email": "a@b.example"})


TOPICS = st.sampled_from(
    ["customer.created", "customer.updated", "order.created", "order.updated", "order.deleted"]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [*sorted(draft()), "email", "first_name", "quantity", "subtotal", "code", "key", "value"]
)


@settings(max_examples=300, deadline=None)
@given(topic=TOPICS, payload=st.dictionaries(KEYS | st.text(max_size=8), JSON, max_size=8))
def test_arbitrary_objects_raise_only_payload_errors(topic: str, payload: dict[str, Any]) -> None:
    with contextlib.suppress(PayloadError):
        woo.normalize(topic, payload)


@settings(max_examples=300, deadline=None)
@given(topic=TOPICS, status=st.sampled_from([s for s, _ in STATUS_FACTS]), key=KEYS, value=JSON)
def test_a_real_order_with_one_field_garbled_raises_only_payload_errors(
    topic: str, status: str, key: str, value: Any
) -> None:
    line = dict(draft()["line_items"][0], **{key: value})
    for candidate in (draft(**{"status": status, key: value}), draft(status=status, line_items=[line])):
        with contextlib.suppress(PayloadError):
            woo.normalize(topic, candidate)


@settings(max_examples=200, deadline=None)
@given(discount=JSON)
def test_any_coupon_discount_value_never_breaks_the_order(discount: Any) -> None:
    lines = [{"code": "Back-1", "discount": discount}]
    order = placed_order("order.updated", draft(status="processing", coupon_lines=lines))[1]
    assert set(order.discounts) <= {"BACK-1"}
    assert all(v.is_finite() and v >= 0 for v in order.discounts.values())
