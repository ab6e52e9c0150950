"""ShopifyWebhooks.normalize on each of our Shopify payloads (tests/fixtures/shopify, documented shapes)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.base import (
    Activity,
    AppUninstalled,
    CartSnapshot,
    ConsentChanged,
    CustomerRedact,
    CustomerSeen,
    DataRequest,
    LineItem,
    OrderCancelled,
    OrderPlaced,
    ShopRedact,
)
from connectors.shopify.webhooks import SUPPORTED_TOPICS, ShopifyWebhooks
from scoring import ACTIVITY_KINDS

from .support import changed, fixture_files, load, only, topic_of

adapter = ShopifyWebhooks()
MOMENT = datetime(2022, 3, 1, 8, tzinfo=UTC)  # our payloads' "2022-03-01T09:00:00+01:00"
DISCOUNTED = "orders__create.discount-code.json"
CART = "Z2NwLWV1cm9wZS13ZXN0MTowMUhGRVJOSElMTFBPVFRFUlkwMDAx"
CHECKOUT, CHECKOUT_CART = "5f0c2e8b9a41d7366e2b0c9f4a8d1e73", "a3d9e6f1c2b84f07b5e1d2c3f4a5b6c7"
ORDER = "9105526143380042781"


def test_every_expected_fixture_is_there() -> None:
    names = {path.name for path in fixture_files()}
    assert len(names) >= 15, f"Shopify fixtures missing: {names}"
    assert {topic_of(path) for path in fixture_files()} <= SUPPORTED_TOPICS


@pytest.mark.parametrize("path", fixture_files(), ids=lambda path: path.name)
def test_every_fixture_normalizes_to_well_formed_facts(path: Path) -> None:
    facts = adapter.normalize(topic_of(path), load(path.name))
    assert facts
    for fact in facts:
        if isinstance(fact, Activity):
            assert fact.kind in ACTIVITY_KINDS
        for value in vars(fact).values():
            if isinstance(value, datetime):
                assert value.tzinfo is UTC
            assert not isinstance(value, float)


@pytest.mark.parametrize("path", fixture_files(), ids=lambda path: path.name)
def test_parsing_floats_as_decimals_changes_nothing(path: Path) -> None:
    plain = adapter.normalize(topic_of(path), load(path.name))
    assert adapter.normalize(topic_of(path), load(path.name, parse_float=Decimal)) == plain


def test_customers_create() -> None:
    facts = adapter.normalize("customers/create", load("customers__create.json"))
    assert facts == [
        CustomerSeen(
            external_id="7412093358216704519",
            email="odile.brandt@example.net",
            first_name="Odile",
            last_name="Brandt",
            country="FR",
            accepts_marketing=None,  # consent left customer payloads in 2025-01
            created_at=MOMENT,
            updated_at=MOMENT,
        ),
        Activity(
            "account_created",
            MOMENT,
            "customer:7412093358216704519",
            "7412093358216704519",
            "odile.brandt@example.net",
        ),
    ]


def test_customers_update_is_only_the_customer() -> None:
    facts = adapter.normalize("customers/update", load("customers__update.json"))
    assert [type(fact) for fact in facts] == [CustomerSeen]


@pytest.mark.parametrize(
    ("state", "accepts"), [("subscribed", True), ("unsubscribed", False), ("pending", False)]
)
def test_older_customer_payloads_carry_consent(state: str, accepts: bool) -> None:
    consent = {"state": state, "opt_in_level": "single_opt_in", "consent_updated_at": None}
    payload = changed(
        load("customers__update.json"), email=" Odile.Brandt@Example.NET ", email_marketing_consent=consent
    )
    seen = only(adapter.normalize("customers/update", payload), CustomerSeen)
    assert (seen.accepts_marketing, seen.email) == (accepts, "odile.brandt@example.net")


@pytest.mark.parametrize(
    ("state", "accepts"), [("subscribed", True), ("not_subscribed", False), ("unsubscribed", False)]
)
def test_email_marketing_consent_update(state: str, accepts: bool) -> None:
    payload = {  # the shape of shopify.dev's 2026-04 sample, with our customer
        "customer_id": 7412093358216704519,
        "email_address": "odile.brandt@example.net",
        "email_marketing_consent": {
            "state": state,
            "opt_in_level": "confirmed_opt_in",
            "consent_updated_at": "2026-03-26T11:02:38-04:00",
        },
    }
    facts = adapter.normalize("customers_email_marketing_consent/update", payload)
    moment = datetime(2026, 3, 26, 15, 2, 38, tzinfo=UTC)
    assert facts == [ConsentChanged("7412093358216704519", "odile.brandt@example.net", accepts, moment)]


def test_consent_update_with_a_blank_address_keeps_the_customer_id() -> None:
    payload = {"customer_id": 1, "email_address": "", "email_marketing_consent": {"state": "not_subscribed"}}
    facts = adapter.normalize("customers_email_marketing_consent/update", payload)
    assert facts == [ConsentChanged("1", None, False, None)]


@pytest.mark.parametrize("topic", ["carts/create", "carts/update"])
def test_carts(topic: str) -> None:
    facts = adapter.normalize(topic, load(topic.replace("/", "__") + ".json"))
    item = LineItem(
        "Speckled stoneware mug - Sage", 3, Decimal("18.50"), "8846120517733009152", "4731029384722155613"
    )
    assert facts == [
        CartSnapshot(
            token=CART,
            checkout_token=None,
            email=None,
            customer_external_id=None,
            currency="EUR",
            subtotal=Decimal("55.50"),
            items=(LineItem(**{**vars(item), "sku": "MUG-SPK-SAGE"}),),
            recovery_url=None,
            updated_at=MOMENT,
        ),
        Activity("add_to_cart", MOMENT, f"cart:{CART}"),
    ]


def test_every_delivery_of_one_cart_yields_the_same_add_to_cart() -> None:
    cart = load("carts__update.json")
    later = changed(cart, updated_at="2022-03-02T00:00:00Z")
    first = only(adapter.normalize("carts/create", cart), Activity)
    assert only(adapter.normalize("carts/update", later), Activity) == first
    assert only(adapter.normalize("carts/update", later), CartSnapshot).updated_at > MOMENT


def test_cart_tokens_lose_their_key_suffix_and_lines_without_line_price_use_price_times_quantity() -> None:
    cart = load("carts__create.json")
    lines = [{"title": "Cap", "quantity": 2, "price": "5.50"}, {"title": "Pin", "quantity": 1, "price": 1}]
    payload = changed(cart, token="Z2NwLXVzLWVhc3Qx?key=abc", line_items=lines)
    snapshot = only(adapter.normalize("carts/update", payload), CartSnapshot)
    assert (snapshot.token, snapshot.subtotal, snapshot.currency) == (
        "Z2NwLXVzLWVhc3Qx",
        Decimal("12.00"),
        None,
    )


def checkout_facts(name: str = "checkouts__create.json", **fields: object) -> list[object]:
    return list(adapter.normalize("checkouts/create", changed(load(name), **fields)))


def test_checkouts_without_an_id_since_2026_04() -> None:
    facts = checkout_facts()
    assert "id" not in load("checkouts__create.json")
    seen, snapshot, started = facts
    assert seen == CustomerSeen(
        external_id="6920384715520983112",
        email="kwame.asante@example.net",  # the account's own e-mail; the contact one is on the cart
        first_name="Kwame",
        last_name="Asante",
        country="GB",
        accepts_marketing=False,
        created_at=None,
        updated_at=MOMENT,
    )
    assert isinstance(snapshot, CartSnapshot)
    assert (snapshot.token, snapshot.checkout_token) == (CHECKOUT_CART, CHECKOUT)
    assert (snapshot.email, snapshot.customer_external_id) == (
        "k.asante.orders@example.org",
        "6920384715520983112",
    )
    assert (snapshot.subtotal, snapshot.currency, snapshot.completed) == (Decimal("388.00"), "EUR", False)
    assert snapshot.recovery_url == (
        f"https://fernhill-pottery.example/63215498207/checkouts/{CHECKOUT}/recover?key=6a0e3f9b2c1d"
    )
    assert [item.sku for item in snapshot.items] == ["BOWL-ASH-L", "PLATE-HT-4"]
    assert snapshot.source == {"source_name": "web"}
    assert snapshot.accepts_marketing is False
    assert started == Activity(
        "checkout_started", MOMENT, f"checkout:{CHECKOUT}", "6920384715520983112", "kwame.asante@example.net"
    )


def test_the_2026_01_checkout_with_an_id_gives_the_same_facts() -> None:
    assert load("checkouts__create.2026-01.json")["id"] == 5502918843316620977
    assert checkout_facts("checkouts__create.2026-01.json") == checkout_facts()


def test_checkout_source_and_utm_tags() -> None:
    landing = "/products/shirt?utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale&x=1"
    snapshot = only(
        checkout_facts(landing_site=landing, referring_site="https://www.google.com/"), CartSnapshot
    )
    assert snapshot.source == {
        "landing_page": landing,
        "referrer": "https://www.google.com/",
        "source_name": "web",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring sale",
    }


def test_a_completed_checkout() -> None:
    snapshot = only(checkout_facts(completed_at="2022-01-01T00:10:00Z"), CartSnapshot)
    assert snapshot.completed is True


def test_a_guest_checkout_and_an_anonymous_one() -> None:
    guest = checkout_facts(customer=None, email=" Guest@Example.com", billing_address=None)
    assert only(guest, CustomerSeen) == CustomerSeen(
        None, "guest@example.com", accepts_marketing=False, updated_at=MOMENT
    )
    assert only(guest, Activity).email == "guest@example.com"
    anonymous = checkout_facts(customer=None, email=None)
    assert [type(fact) for fact in anonymous] == [CartSnapshot]


def test_checkout_subtotal_falls_back_to_line_items() -> None:
    without_subtotal = only(checkout_facts(subtotal_price=None, total_line_items_price="10.00"), CartSnapshot)
    assert without_subtotal.subtotal == Decimal("10.00")
    summed = only(checkout_facts(subtotal_price=..., total_line_items_price=...), CartSnapshot)
    assert summed.subtotal == Decimal("388.00")
    free = only(checkout_facts(subtotal_price="0.00"), CartSnapshot)
    assert free.subtotal == Decimal("0.00")


@pytest.mark.parametrize(
    ("topic", "name"),
    [
        ("orders/create", "orders__create.json"),
        ("orders/paid", "orders__paid.json"),
        ("orders/create", "orders__create.2026-01.json"),
    ],
)
def test_orders(topic: str, name: str) -> None:
    facts = adapter.normalize(topic, load(name))
    seen, order, placed = facts
    assert isinstance(order, OrderPlaced)
    assert order.order_id == ORDER  # exact: a float would give 9105526143380042752
    assert (order.total, order.currency, order.email) == (Decimal("406.45"), "EUR", "kwame@example.org")
    assert (order.cart_token, order.checkout_token, order.discount_codes) == (None, None, ())
    assert order.discounts == {}
    assert (order.customer_external_id, order.created_at) == ("5281746093317720461", MOMENT)
    assert seen == CustomerSeen(
        "5281746093317720461",
        "kwame.asante@example.net",
        "Kwame",
        "Asante",
        "GB",
        True,
        None,
        MOMENT,
        locale="en-GB",  # the order's customer_locale, as Shopify gives it
    )
    assert order.locale == "en-GB"
    assert placed == Activity(
        "order_placed", MOMENT, f"order:{ORDER}", "5281746093317720461", "kwame.asante@example.net"
    )


def test_a_storefront_order_with_a_discount_code() -> None:
    seen, order, _placed = adapter.normalize("orders/create", load(DISCOUNTED))
    assert order == OrderPlaced(
        order_id="6630182947115",
        cart_token="Z2NwLWFzaWEtc291dGhlYXN0MTowMUhGRVJOMDAy",  # without its ?key= suffix
        checkout_token="c19e5b7a2f8d4036a1b2c3d4e5f60718",
        email="tamar.rewi@example.com",
        customer_external_id="7719204558821",
        total=Decimal("172.00"),
        currency="NZD",
        discount_codes=("FERN-7QX2M4",),
        created_at=datetime(2024, 11, 18, 1, 25, 10, tzinfo=UTC),
        source={"landing_page": "/products/ash-glaze-serving-bowl", "source_name": "web"},
        discounts={"FERN-7QX2M4": Decimal("15.00")},  # the automatic 5.00 has no code: not counted
        locale="en-GB",
        items=(  # what was bought, for the product store (a custom line has no product)
            LineItem(
                "Ash-glaze serving bowl",
                1,
                Decimal("164.00"),
                "8846120518011",
                "47310293911402",
                "BOWL-ASH-L",
            ),
            LineItem("Linen tea towel", 1, Decimal("20.00"), None, None, "TOWEL-LIN"),
        ),
    )
    assert isinstance(seen, CustomerSeen)
    assert (seen.accepts_marketing, seen.country, seen.last_name) == (False, "NZ", None)
    assert seen.created_at == datetime(2024, 10, 1, 20, 12, 44, tzinfo=UTC)


def test_orders_join_their_checkout_and_cart_by_token() -> None:
    checkout = load("checkouts__create.json")
    order = changed(
        load("orders__create.json"), checkout_token=checkout["token"], cart_token=checkout["cart_token"]
    )
    cart = changed(load("carts__create.json"), token=checkout["cart_token"], id=checkout["cart_token"])
    placed = only(adapter.normalize("orders/create", order), OrderPlaced)
    from_checkout = only(adapter.normalize("checkouts/update", checkout), CartSnapshot)
    from_cart = only(adapter.normalize("carts/update", cart), CartSnapshot)
    assert placed.checkout_token == from_checkout.checkout_token == CHECKOUT
    assert placed.cart_token == from_checkout.token == from_cart.token == CHECKOUT_CART


def test_orders_cancelled() -> None:
    facts = adapter.normalize("orders/cancelled", load("orders__create.json"))
    assert facts == [OrderCancelled(ORDER, MOMENT)]


def test_privacy_and_uninstall_topics() -> None:
    shop = "fernhill-pottery.myshopify.com"
    assert adapter.normalize("customers/redact", load("customers__redact.json")) == [
        CustomerRedact("48213", "kwame.asante@example.net", shop)
    ]
    assert adapter.normalize("customers/data_request", load("customers__data_request.json")) == [
        DataRequest("48213", "kwame.asante@example.net", "4417", shop)
    ]
    assert adapter.normalize("shop/redact", load("shop__redact.json")) == [ShopRedact(shop)]
    # A sample with both domains null names no shop; a real delivery names it.
    assert adapter.normalize("app/uninstalled", load("app__uninstalled.json")) == [AppUninstalled()]
    named = changed(load("app__uninstalled.json"), myshopify_domain="Toys.myshopify.com", domain="toys.com")
    assert adapter.normalize("app/uninstalled", named) == [AppUninstalled("toys.myshopify.com")]


@pytest.mark.parametrize("amount", ["406.45", " 406.45 ", Decimal("406.45"), 406.45])
def test_amounts_arrive_as_strings_decimals_or_floats(amount: object) -> None:
    order = only(
        adapter.normalize("orders/paid", changed(load("orders__paid.json"), total_price=amount)), OrderPlaced
    )
    assert order.total == Decimal("406.45")
    assert str(order.total) == "406.45"


def test_integer_amounts_and_digit_string_ids() -> None:
    payload = changed(load("orders__paid.json"), total_price=12, id=ORDER)
    order = only(adapter.normalize("orders/paid", payload), OrderPlaced)
    assert (order.total, order.order_id) == (Decimal(12), ORDER)
