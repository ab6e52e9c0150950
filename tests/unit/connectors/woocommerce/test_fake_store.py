"""The client end to end against the fake WooCommerce store over real HTTP (OAuth 1.0a on http)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from connectors.base import FOREIGN_CODE, CodeTaken, DiscountSpec, StoreError
from connectors.woocommerce.client import WooClient
from connectors.woocommerce.webhooks import WooWebhooks
from tests.fakes.woocommerce_store import FakeWooStore

DELIVERY_URL = "https://relance.example/webhooks/woocommerce/shop-key"
TOPICS = ["order.created", "order.updated", "customer.created"]


@pytest.fixture
def store() -> Iterator[FakeWooStore]:
    with FakeWooStore(consumer_key="ck_fake", consumer_secret="cs_fake") as fake:
        yield fake


@pytest.fixture
def client(store: FakeWooStore) -> WooClient:
    return WooClient(store.url, "ck_fake", "cs_fake", sleep=lambda _: None, timeout=5)


def spec(code: str, title: str = "", email: str | None = None) -> DiscountSpec:
    start = datetime(2026, 5, 7, 10, 0, tzinfo=UTC)
    title = title or f"Relance abandoned cart {code.upper()}"  # as bridge.outreach.codes.spec_of makes it
    return DiscountSpec(
        code, title, "percentage", Decimal("15"), "USD", start, start.replace(day=8), email=email
    )


def test_create_find_case_insensitively_and_delete(store: FakeWooStore, client: WooClient) -> None:
    created = client.create_discount(spec("BACK-ABCDEF1234"))
    assert created.code == "back-abcdef1234" and created.active
    assert store.coupons[int(created.platform_id)]["amount"] == "15.00"
    assert client.find_discount("Back-AbcDef1234") == created
    client.delete_discount(created)
    assert client.find_discount("back-abcdef1234") is None
    client.delete_discount(created)  # already gone: fine
    assert {call.auth for call in store.calls} == {"oauth1"}


def test_a_code_is_never_created_twice(store: FakeWooStore, client: WooClient) -> None:
    first = client.create_discount(spec("dup-1234567890", email="jane@example.com"))
    again = client.create_discount(spec("DUP-1234567890", email="Jane@Example.com"))  # a retried job
    assert again == first and len(store.coupons) == 1


def test_a_merchant_coupon_with_our_code_is_never_adopted(store: FakeWooStore, client: WooClient) -> None:
    client.create_discount(spec("dup-1234567890", title="Black Friday"))  # the merchant chose the code
    ours = spec("DUP-1234567890", email="jane@example.com")
    assert client.find_discount(ours.code) is None
    with pytest.raises(CodeTaken) as raised:
        client.find_discount(ours.code) or client.create_discount(ours)  # as the bridge calls them
    assert raised.value.code == FOREIGN_CODE and not raised.value.transient
    assert len(store.coupons) == 1


def test_a_coupon_for_another_email_is_not_adopted_on_create(store: FakeWooStore, client: WooClient) -> None:
    client.create_discount(spec("dup-1234567890", email="joe@example.com"))
    with pytest.raises(CodeTaken) as raised:
        client.create_discount(spec("DUP-1234567890", email="jane@example.com"))
    assert raised.value.code == FOREIGN_CODE
    assert [c["email_restrictions"] for c in store.coupons.values()] == [["joe@example.com"]]


def test_store_failures_are_retried(store: FakeWooStore, client: WooClient) -> None:
    store.fail_next(2, 503)
    assert client.create_discount(spec("retry-1234567890")).active
    assert [call.method for call in store.calls] == ["POST", "POST", "POST"]


def test_a_store_that_stays_down_is_a_transient_error(store: FakeWooStore, client: WooClient) -> None:
    store.fail_next(10, 502)
    with pytest.raises(StoreError) as raised:
        client.find_discount("x")
    assert raised.value.transient and len(store.calls) == 4


def test_wrong_keys_are_unauthorized(store: FakeWooStore) -> None:
    with pytest.raises(StoreError) as raised:
        WooClient(store.url, "ck_fake", "cs_wrong", sleep=lambda _: None).check_credentials()
    assert raised.value.code == "unauthorized"
    assert store.calls[-1].auth == "refused"


def test_register_webhooks_is_idempotent_and_revives_disabled_ones(
    store: FakeWooStore, client: WooClient
) -> None:
    first = client.register_webhooks(DELIVERY_URL, "secret-1", TOPICS)
    assert len(store.webhooks) == 3
    assert client.register_webhooks(DELIVERY_URL, "secret-1", TOPICS) == first
    broken = int(first[1])
    while store.webhooks[broken]["status"] == "active":
        store.failed_delivery(broken)  # WooCommerce disables a webhook after 7 failures in a row
    again = client.register_webhooks(DELIVERY_URL, "secret-2", TOPICS)
    assert len(store.webhooks) == 3 and again[0] == first[0] and again[2] == first[2]
    assert {(h["status"], h["secret"]) for h in store.webhooks.values()} == {("active", "secret-2")}
    revived = int(again[1])
    store.failed_delivery(revived)  # one failure after the repair must not disable it again
    assert store.webhooks[revived]["status"] == "active"
    statuses = client.webhook_statuses()
    assert {(s.topic, s.delivery_url, s.status) for s in statuses} == {
        (t, DELIVERY_URL, "active") for t in TOPICS
    }


def test_a_paused_webhook_stays_paused(store: FakeWooStore, client: WooClient) -> None:
    (hook_id,) = client.register_webhooks(DELIVERY_URL, "secret-1", ["order.updated"])
    store.webhooks[int(hook_id)]["status"] = "paused"  # the merchant's choice
    client.register_webhooks(DELIVERY_URL, "secret-1", ["order.updated"])
    assert store.webhooks[int(hook_id)]["status"] == "paused"


def test_duplicate_webhooks_are_reduced_to_one(store: FakeWooStore, client: WooClient) -> None:
    (hook_id,) = client.register_webhooks(DELIVERY_URL, "secret-1", ["order.updated"])
    store.webhooks[9999] = dict(store.webhooks[int(hook_id)], id=9999, status="disabled")
    assert client.register_webhooks(DELIVERY_URL, "secret-1", ["order.updated"]) == [hook_id]
    assert list(store.webhooks) == [int(hook_id)]


def test_an_invalid_topic_is_refused_by_the_store(client: WooClient) -> None:
    with pytest.raises(StoreError) as raised:
        client.register_webhooks(DELIVERY_URL, "secret-1", ["order.paid"])
    assert raised.value.code == "woocommerce_rest_webhook_invalid_topic"


def test_a_delivery_from_the_fake_verifies_with_the_registered_secret(
    store: FakeWooStore, client: WooClient
) -> None:
    client.register_webhooks(DELIVERY_URL, "secret-1", TOPICS)
    order = {"id": 41, "status": "processing", "date_modified_gmt": "2026-05-07T10:00:00"}
    url, raw, headers = store.delivery("order.updated", order)
    woo = WooWebhooks()
    assert url == DELIVERY_URL
    assert woo.verify(raw, headers, ["secret-1"]) and not woo.verify(raw, headers, ["secret-2"])
    assert woo.envelope(raw, headers).delivery_key.endswith(":order.updated:41:2026-05-07T10:00:00")


def test_recent_orders_and_customers_come_from_seeded_data(store: FakeWooStore, client: WooClient) -> None:
    orders = [
        {"id": n, "date_modified_gmt": f"2026-05-0{n}T12:00:00", "date_modified": "x"} for n in (1, 2, 3)
    ]
    customers = [{"id": n, "date_created_gmt": f"2026-05-0{n}T12:00:00"} for n in (1, 2, 3)]
    store.seed(orders=orders, customers=customers)
    since = datetime(2026, 5, 2, tzinfo=UTC)
    assert [o["id"] for o in client.recent_orders(since)] == [3, 2]
    assert [c["id"] for c in client.recent_customers(since)] == [3, 2]


def test_the_fake_refuses_unsigned_calls_and_bad_coupons(store: FakeWooStore) -> None:
    anonymous = requests.get(f"{store.url}/wp-json/wc/v3/coupons", timeout=5)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    keys = ("ck_fake", "cs_fake")
    bad = requests.post(
        f"{store.url}/wp-json/wc/v3/coupons",
        json={"code": "x", "discount_type": "bogo"},
        auth=keys,
        timeout=5,
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "rest_invalid_param")
    missing = requests.post(f"{store.url}/wp-json/wc/v3/coupons", json={"amount": "5"}, auth=keys, timeout=5)
    assert (missing.status_code, missing.json()["code"]) == (400, "rest_missing_callback_param")
    status = requests.get(f"{store.url}/wp-json/wc/v3/system_status", auth=keys, timeout=5)
    assert status.status_code == 200 and status.json()["environment"]["site_url"] == store.url
    nowhere = requests.get(f"{store.url}/wp-json/wc/v3/nowhere", auth=keys, timeout=5)
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "rest_no_route")


def test_the_coupon_expiry_is_stored_and_read_only_fields_are_dropped(store: FakeWooStore) -> None:
    keys, url = ("ck_fake", "cs_fake"), f"{store.url}/wp-json/wc/v3/coupons"
    store.timezone_string = "Europe/Paris"
    body = {"code": "gmt", "date_expires_gmt": "2026-05-08T10:00:00", "usage_count": 9, "bogus": 1}
    made = requests.post(url, json=body, auth=keys, timeout=5).json()
    # What the real store did: no error, and a code that never expires.
    assert (made["date_expires"], made["date_expires_gmt"], made["usage_count"]) == (None, None, 0)
    assert "bogus" not in made
    local = requests.post(
        url, json={"code": "local", "date_expires": "2026-05-08T12:00:00"}, auth=keys, timeout=5
    )
    assert local.json()["date_expires_gmt"] == "2026-05-08T10:00:00"  # read in the site's zone (CEST)
    utc = requests.post(
        url, json={"code": "utc", "date_expires": "2026-05-08T10:00:00+00:00"}, auth=keys, timeout=5
    )
    assert (utc.json()["date_expires"], utc.json()["date_expires_gmt"]) == (
        "2026-05-08T12:00:00",
        "2026-05-08T10:00:00",
    )
    wrong = requests.post(url, json={"code": "w", "usage_limit": "one"}, auth=keys, timeout=5)
    assert (wrong.status_code, wrong.json()["code"]) == (400, "rest_invalid_param")


def test_the_client_sends_an_expiry_the_store_keeps(store: FakeWooStore, client: WooClient) -> None:
    store.timezone_string = "America/New_York"
    client.create_discount(spec("Keep-1"))
    [coupon] = store.coupons_shown()
    assert coupon["date_expires_gmt"] == "2026-05-08T10:00:00"  # spec's end, in UTC
    assert store.coupon_expired("keep-1", datetime(2026, 5, 8, 10, 0, 1, tzinfo=UTC))
    assert not store.coupon_expired("keep-1", datetime(2026, 5, 8, 9, 59, tzinfo=UTC))


def test_the_store_tells_its_name_zone_and_currency(store: FakeWooStore) -> None:
    with FakeWooStore("ck_fake", "cs_fake", name="Caf&eacute; Paris", timezone_string="Europe/Paris") as fake:
        fake.currency = "EUR"
        info = WooClient(fake.url, "ck_fake", "cs_fake", sleep=lambda _: None).store_info()
        assert (info.name, info.timezone, info.currency) == ("Café Paris", "Europe/Paris", "EUR")
        index = [c for c in fake.calls if c.path == "/wp-json/"]
        assert index and index[0].auth == "none"  # the index is public: no keys sent where they are no login
        fake.timezone_string, fake.gmt_offset = "", 2.0  # WordPress's manual "UTC+2"
        manual = WooClient(fake.url, "ck_fake", "cs_fake", sleep=lambda _: None).store_info()
        assert manual.timezone == "Etc/GMT-2"
    with_keys = requests.get(f"{store.url}/wp-json/", auth=("ck_fake", "cs_fake"), timeout=5)
    assert with_keys.status_code == 401  # WordPress takes Basic auth there for an application password
