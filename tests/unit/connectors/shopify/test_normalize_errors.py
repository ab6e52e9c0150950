"""Unreadable payloads raise PayloadError with a message naming the field; nothing else escapes."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import PayloadError
from connectors.shopify.webhooks import SUPPORTED_TOPICS, ShopifyWebhooks

from .support import changed, load

adapter = ShopifyWebhooks()

SAMPLES = {
    "customers/create": "customers__create.json",
    "customers/update": "customers__update.json",
    "carts/create": "carts__create.json",
    "carts/update": "carts__update.json",
    "checkouts/create": "checkouts__create.json",
    "checkouts/update": "checkouts__update.json",
    "orders/create": "orders__create.discount-code.json",
    "orders/paid": "orders__paid.json",
    "orders/cancelled": "orders__create.json",
    "customers/redact": "customers__redact.json",
    "customers/data_request": "customers__data_request.json",
    "shop/redact": "shop__redact.json",
    "app/uninstalled": "app__uninstalled.json",
}
CONSENT = {"customer_id": 1, "email_address": "a@b.c", "email_marketing_consent": {"state": "subscribed"}}
INLINE = {  # topics without a fixture file
    "customers_email_marketing_consent/update": CONSENT,
    "shop/update": {"id": 1, "name": "Shop", "currency": "EUR", "iana_timezone": "Europe/Paris"},
    "app/scopes_update": {"id": 1, "previous": [], "current": ["read_orders"]},
}


def sample(topic: str) -> dict[str, Any]:
    return dict(INLINE[topic]) if topic not in SAMPLES else load(SAMPLES[topic])


def test_every_supported_topic_has_a_sample() -> None:
    assert set(SAMPLES) | set(INLINE) == SUPPORTED_TOPICS


@pytest.mark.parametrize("topic", ["orders/edited", "products/update", "", "ORDERS_CREATE"])
@pytest.mark.parametrize("payload", [{}, {"id": "x"}, [], None])
def test_unknown_topics_give_no_facts(topic: str, payload: Any) -> None:
    assert adapter.normalize(topic, payload) == []


@pytest.mark.parametrize("topic", sorted(SUPPORTED_TOPICS))
@pytest.mark.parametrize("payload", [[], None, "{}", 42])
def test_a_payload_that_is_not_an_object(topic: str, payload: Any) -> None:
    with pytest.raises(PayloadError, match=f"^{topic}: payload must be an object, got "):
        adapter.normalize(topic, payload)


BAD = [
    ("orders/create", {"id": ...}, "orders/create: id is missing"),
    ("orders/create", {"id": 8.2e17}, "id must be an integer id, got float"),
    ("orders/create", {"id": True}, "id must be an integer id, got bool"),
    ("orders/create", {"id": 2**64}, "id is out of range for an id"),
    ("orders/create", {"id": "order-1"}, "id must be an integer id, got str"),
    ("orders/create", {"created_at": "31/12/2021"}, "created_at is not an ISO-8601 timestamp: '31/12/2021'"),
    ("orders/create", {"created_at": 1640995200}, "created_at must be a string, got int"),
    ("orders/create", {"total_price": "abc"}, "total_price must be a decimal amount, got str"),
    ("orders/create", {"total_price": "NaN"}, "total_price is not a plausible amount"),
    ("orders/create", {"total_price": "1e999999"}, "total_price is not a plausible amount"),
    ("orders/create", {"total_price": None}, "total_price is missing"),
    ("orders/create", {"customer": "bob"}, "customer must be an object, got str"),
    ("orders/create", {"customer": {"id": 1.5}}, "customer.id must be an integer id, got float"),
    ("orders/create", {"discount_codes": {"code": "X"}}, "discount_codes must be a list, got dict"),
    ("orders/create", {"discount_codes": ["X"]}, r"discount_codes\[0\] must be an object, got str"),
    ("orders/create", {"email": ["a@b.c"]}, "email must be a string, got list"),
    ("orders/create", {"buyer_accepts_marketing": "yes"}, "buyer_accepts_marketing must be a boolean"),
    (
        "orders/cancelled",
        {"cancelled_at": ..., "updated_at": ...},
        "cancelled_at and updated_at are missing",
    ),
    ("checkouts/create", {"token": ...}, "checkouts/create: token is missing"),
    ("checkouts/update", {"token": "  "}, "checkouts/update: token is missing"),
    ("checkouts/create", {"line_items": [{"price": "1"}]}, r"line_items\[0\]\.quantity is missing"),
    ("checkouts/create", {"line_items": [{"quantity": 1}]}, r"line_items\[0\]\.price is missing"),
    (
        "checkouts/create",
        {"line_items": [{"quantity": "1", "price": "1"}]},
        "quantity must be an integer, got str",
    ),
    ("checkouts/create", {"line_items": [{"quantity": -1, "price": "1"}]}, r"quantity is out of range: -1"),
    ("checkouts/create", {"updated_at": "soon"}, "updated_at is not an ISO-8601 timestamp"),
    (
        "checkouts/create",
        {"created_at": "9999-12-31T23:59:59-05:00"},
        "created_at is not an ISO-8601 timestamp",
    ),
    ("carts/update", {"token": ..., "id": ...}, "carts/update: token is missing"),
    ("carts/create", {"updated_at": ..., "created_at": ...}, "updated_at and created_at are missing"),
    ("customers/update", {"id": None}, "customers/update: id is missing"),
    ("customers/create", {"created_at": ..., "updated_at": ...}, "created_at and updated_at are missing"),
    ("customers/update", {"default_address": []}, "default_address must be an object, got list"),
    ("customers/redact", {"customer": ...}, "customer.id and customer.email are both missing"),
    ("customers/data_request", {"customer": {"id": None}}, "customer.id and customer.email are both missing"),
    ("customers/data_request", {"data_request": {"id": "?"}}, "data_request.id must be an integer id"),
]


@pytest.mark.parametrize(("topic", "fields", "message"), BAD, ids=[m for _, _, m in BAD])
def test_unreadable_payloads_raise_a_clear_payload_error(
    topic: str, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(PayloadError, match=message):
        adapter.normalize(topic, changed(sample(topic), **fields))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"customer_id": 1}, "email_marketing_consent.state is missing"),
        (
            {"customer_id": 1, "email_marketing_consent": {"state": 3}},
            "email_marketing_consent.state must be a string",
        ),
        (
            {"email_marketing_consent": {"state": "subscribed"}},
            "customer_id and email_address are both missing",
        ),
        (
            {"customer_id": 1, "email_marketing_consent": {"state": "subscribed", "consent_updated_at": "x"}},
            "email_marketing_consent.consent_updated_at is not an ISO-8601 timestamp",
        ),
    ],
)
def test_unreadable_consent_updates(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError, match=f"customers_email_marketing_consent/update: {message}"):
        adapter.normalize("customers_email_marketing_consent/update", payload)


# property: whatever JSON arrives, normalize returns facts or raises PayloadError ---------------------

KEYS = sorted(
    {key for topic in SUPPORTED_TOPICS for key in sample(topic)}
    | {"price", "quantity", "line_price", "code", "state", "country_code", "currency", "price_set"}
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(
        ["398.00", "1e999999", "NaN", "-0", "2026-03-26T11:02:38-04:00", "9999-12-31T23:59:59-12:00"]
    )
    | st.decimals()
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(), inner, max_size=6)
    ),
    max_leaves=25,
)
OVERRIDES = st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6)


@settings(database=None, deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(topic=st.sampled_from(sorted(SUPPORTED_TOPICS)), overrides=OVERRIDES, start_empty=st.booleans())
def test_normalize_raises_nothing_but_payload_error(
    topic: str, overrides: dict[str, Any], start_empty: bool
) -> None:
    payload = {**({} if start_empty else sample(topic)), **overrides}
    try:
        facts = adapter.normalize(topic, payload)
    except PayloadError as exc:
        assert str(exc).startswith(f"{topic}: ")
    else:
        assert isinstance(facts, list)


@settings(database=None, deadline=None, max_examples=200)
@given(topic=st.sampled_from(sorted(SUPPORTED_TOPICS)), payload=JSON)
def test_normalize_on_arbitrary_json_values(topic: str, payload: Any) -> None:
    with contextlib.suppress(PayloadError):
        adapter.normalize(topic, payload)
