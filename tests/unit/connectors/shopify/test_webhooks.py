"""ShopifyWebhooks.verify and .envelope: real signatures, header spellings, delivery keys."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders, Headers

from connectors.base import PayloadError, WebhookAdapter
from connectors.shopify.webhooks import MAX_KEY_LENGTH, ShopifyWebhooks, header

from .support import raw, sign

SECRET = "shpss_current_client_secret"
OLD_SECRET = "shpss_previous_client_secret"
BODY = raw("orders__create.discount-code.json")
ESCAPED = (
    b'{"admin_graphql_api_id":"gid:\\/\\/shopify\\/Order\\/9105526143380042781","id":9105526143380042781}'
)

adapter = ShopifyWebhooks()


def signed(body: bytes = BODY, secret: str = SECRET, **extra: str) -> dict[str, str]:
    return {"X-Shopify-Hmac-Sha256": sign(body, secret), **extra}


def test_is_a_webhook_adapter_for_shopify() -> None:
    conforming: WebhookAdapter = adapter  # checked by mypy
    assert conforming.platform == "shopify"


@pytest.mark.parametrize("body", [b"webhook_id=12", b"", BODY])
def test_shopify_sends_no_ping(body: bytes) -> None:
    assert not adapter.is_ping(body, {}) and not adapter.is_ping(body, signed(body))


@pytest.mark.parametrize("body", [BODY, ESCAPED, b""])
def test_a_really_signed_body_verifies(body: bytes) -> None:
    assert adapter.verify(body, signed(body), [SECRET])


def test_the_raw_bytes_are_signed_not_the_reparsed_json() -> None:
    # Shopify writes "/" as "\/": re-serializing the parsed JSON would change the bytes and the signature.
    assert adapter.verify(ESCAPED, signed(ESCAPED), [SECRET])
    assert not adapter.verify(ESCAPED.replace(b"\\/", b"/"), signed(ESCAPED), [SECRET])


@pytest.mark.parametrize("position", [0, 1, len(BODY) // 2, len(BODY) - 1])
def test_one_flipped_byte_fails(position: int) -> None:
    tampered = bytearray(BODY)
    tampered[position] ^= 0x01
    assert not adapter.verify(bytes(tampered), signed(BODY), [SECRET])


def test_a_wrong_secret_fails() -> None:
    assert not adapter.verify(BODY, signed(BODY, "someone-else"), [SECRET])


@pytest.mark.parametrize("secrets", [[SECRET, OLD_SECRET], [OLD_SECRET, SECRET], ("", OLD_SECRET)])
def test_the_previous_secret_is_accepted_during_a_rotation(secrets: list[str]) -> None:
    assert adapter.verify(BODY, signed(BODY, OLD_SECRET), secrets)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Shopify-Hmac-Sha256": ""},
        {"X-Shopify-Hmac-Sha256": "   "},
        {"X-Shopify-Topic": "orders/create"},
    ],
)
def test_a_missing_or_blank_signature_header_fails(headers: dict[str, str]) -> None:
    assert not adapter.verify(BODY, headers, [SECRET])


@pytest.mark.parametrize("secrets", [[], [""], (), None])
def test_no_secret_fails(secrets: list[str]) -> None:
    assert not adapter.verify(BODY, signed(BODY, ""), secrets)


def test_a_bare_string_secret_is_one_secret_not_many() -> None:
    assert adapter.verify(BODY, signed(BODY), SECRET)
    assert not adapter.verify(BODY, signed(BODY, "s"), "shh")


@pytest.mark.parametrize("name", ["X-Shopify-Hmac-Sha256", "x-shopify-hmac-sha256", "X-SHOPIFY-HMAC-SHA256"])
def test_header_names_match_in_any_case_in_a_plain_dict(name: str) -> None:
    assert adapter.verify(BODY, {name: sign(BODY, SECRET)}, [SECRET])


def test_werkzeug_headers_work() -> None:
    assert adapter.verify(BODY, Headers(signed(BODY)), [SECRET])  # type: ignore[arg-type]
    environ = {"HTTP_X_SHOPIFY_HMAC_SHA256": sign(BODY, SECRET)}
    assert adapter.verify(BODY, EnvironHeaders(environ), [SECRET])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "headers", "secrets"),
    [
        (None, signed(), [SECRET]),
        ("text, not bytes", signed(), [SECRET]),
        (BODY, None, [SECRET]),
        (BODY, ["not", "a", "mapping"], [SECRET]),
        (BODY, {"X-Shopify-Hmac-Sha256": "é∂ non-ascii"}, [SECRET]),
        (BODY, {"X-Shopify-Hmac-Sha256": b"bytes"}, [SECRET]),
        (BODY, {"X-Shopify-Hmac-Sha256": 12345}, [SECRET]),
        (BODY, {1: "non-string key"}, [SECRET]),
        (BODY, signed(), 42),
        (BODY, signed(), [None, 3, SECRET + "x"]),
        (BODY, signed(), ["\ud800 lone surrogate"]),
    ],
)
def test_garbage_never_raises(body: object, headers: object, secrets: object) -> None:
    assert adapter.verify(body, headers, secrets) is False  # type: ignore[arg-type]


@settings(database=None, deadline=None)
@given(body=st.binary(), sent=st.text(), secret=st.text(min_size=1))
def test_verify_only_says_true_or_false(body: bytes, sent: str, secret: str) -> None:
    assert adapter.verify(body, {"X-Shopify-Hmac-Sha256": sent}, [secret]) in (True, False)
    assert adapter.verify(body, {"X-Shopify-Hmac-Sha256": sign(body, secret)}, [secret])


# envelope ------------------------------------------------------------------------------------------


def test_the_delivery_key_is_topic_and_event_id() -> None:
    headers = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Triggered-At": "2023-03-29T18:00:27.877041743Z",
    }
    envelope = adapter.envelope(BODY, headers)
    assert envelope.topic == "orders/create"
    assert envelope.delivery_key == "orders/create:98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert envelope.triggered_at == datetime(2023, 3, 29, 18, 0, 27, 877041, tzinfo=UTC)


def test_without_an_event_id_the_webhook_id_is_used() -> None:
    headers = {"x-shopify-topic": "carts/update", "x-shopify-webhook-id": "b54557e4"}
    assert adapter.envelope(BODY, headers).delivery_key == "carts/update:b54557e4"


def test_without_any_id_the_body_hash_is_the_identity() -> None:
    headers = {"X-Shopify-Topic": "carts/update"}
    key = adapter.envelope(BODY, headers).delivery_key
    assert key == f"carts/update:sha256:{hashlib.sha256(BODY).hexdigest()}"
    assert adapter.envelope(BODY, dict(headers)).delivery_key == key  # a retry: same body, same key
    assert adapter.envelope(BODY + b" ", headers).delivery_key != key


def test_one_event_delivered_to_two_topics_gets_two_keys() -> None:
    first = adapter.envelope(BODY, {"X-Shopify-Topic": "orders/create", "X-Shopify-Event-Id": "e1"})
    second = adapter.envelope(BODY, {"X-Shopify-Topic": "orders/paid", "X-Shopify-Event-Id": "e1"})
    assert first.delivery_key != second.delivery_key


def test_keys_fit_the_column_even_for_absurd_ids() -> None:
    topic = "t" * 100
    long_a = adapter.envelope(BODY, {"X-Shopify-Topic": topic, "X-Shopify-Event-Id": "a" * 400 + "1"})
    long_b = adapter.envelope(BODY, {"X-Shopify-Topic": topic, "X-Shopify-Event-Id": "a" * 400 + "2"})
    assert len(long_a.delivery_key) <= MAX_KEY_LENGTH
    assert long_a.delivery_key != long_b.delivery_key


@pytest.mark.parametrize("headers", [{}, {"X-Shopify-Topic": " "}, {"X-Shopify-Event-Id": "e1"}])
def test_a_missing_topic_is_a_payload_error(headers: dict[str, str]) -> None:
    with pytest.raises(PayloadError, match="X-Shopify-Topic header is missing"):
        adapter.envelope(BODY, headers)


def test_an_overlong_topic_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="too long"):
        adapter.envelope(BODY, {"X-Shopify-Topic": "x" * 101})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-26T11:02:38-04:00", datetime(2026, 3, 26, 15, 2, 38, tzinfo=UTC)),
        ("2026-03-26T15:02:38.123Z", datetime(2026, 3, 26, 15, 2, 38, 123000, tzinfo=UTC)),
        ("2026-03-26T15:02:38", datetime(2026, 3, 26, 15, 2, 38, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("yesterday", None),
        ("9999-12-31T23:59:59-05:00", None),
    ],
)
def test_triggered_at_is_utc_or_none(value: str | None, expected: datetime | None) -> None:
    headers = {"X-Shopify-Topic": "orders/paid"}
    if value is not None:
        headers["X-Shopify-Triggered-At"] = value
    triggered_at = adapter.envelope(BODY, headers).triggered_at
    assert triggered_at == expected
    assert triggered_at is None or triggered_at.tzinfo is UTC


def test_werkzeug_headers_give_the_same_envelope() -> None:
    environ = {"HTTP_X_SHOPIFY_TOPIC": "orders/paid", "HTTP_X_SHOPIFY_EVENT_ID": "e1"}
    envelope = adapter.envelope(BODY, EnvironHeaders(environ))  # type: ignore[arg-type]
    assert envelope.delivery_key == "orders/paid:e1"


def test_header_lookup() -> None:
    assert header({"x-shopify-topic": " orders/paid "}, "X-Shopify-Topic") == "orders/paid"
    assert header({"X-Shopify-Topic": ""}, "X-Shopify-Topic") is None
    assert header({}, "X-Shopify-Topic") is None
