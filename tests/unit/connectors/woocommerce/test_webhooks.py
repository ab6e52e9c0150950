"""WooCommerce deliveries: the creation ping, real signatures and delivery identities."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from connectors.base import PayloadError
from connectors.woocommerce.webhooks import WooWebhooks
from tests.conftest import fixture

SECRET = "4f1c0e9a8b7d6c5e4f3a2b1c0d9e8f7a"
ORDER = fixture("woocommerce", "order.updated.json")
woo = WooWebhooks()


def signed(raw: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def headers(topic: str = "order.updated", webhook_id: str = "12", **extra: str) -> dict[str, str]:
    return {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-ID": webhook_id, **extra}


def test_the_adapter_is_the_woocommerce_one() -> None:
    assert woo.platform == "woocommerce"


@pytest.mark.parametrize("body", [b"webhook_id=12", b"webhook_id=1\n", b"webhook_id=98765432101"])
def test_the_creation_ping_is_recognised(body: bytes) -> None:
    assert woo.is_ping(body, {"User-Agent": "WooCommerce/9.0 Hookshot (WordPress/6.5)"})


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        (b"webhook_id=12", {"X-WC-Webhook-Signature": "abc="}),
        (b"webhook_id=12", {"x-wc-webhook-signature": "abc="}),
        (b"webhook_id=", {}),
        (b"webhook_id=12&x=1", {}),
        (b"webhook_id=abc", {}),
        (b'{"webhook_id": 12}', {}),
        (ORDER, {}),
        (b"", {}),
    ],
)
def test_anything_else_is_not_a_ping(body: bytes, extra: dict[str, str]) -> None:
    assert not woo.is_ping(body, extra)


def test_a_real_signature_verifies() -> None:
    assert woo.verify(ORDER, {"X-WC-Webhook-Signature": signed(ORDER)}, [SECRET])


def test_the_signature_header_is_found_in_any_case() -> None:
    assert woo.verify(ORDER, {"x-wc-webhook-signature": signed(ORDER)}, [SECRET])
    assert woo.verify(ORDER, {"X-WC-WEBHOOK-SIGNATURE": signed(ORDER)}, [SECRET])


def test_a_flipped_byte_fails() -> None:
    tampered = bytearray(ORDER)
    tampered[len(tampered) // 2] ^= 0x01
    assert not woo.verify(bytes(tampered), {"X-WC-Webhook-Signature": signed(ORDER)}, [SECRET])


def test_a_wrong_secret_fails_and_a_rotated_one_passes() -> None:
    sent = {"X-WC-Webhook-Signature": signed(ORDER, "old-secret")}
    assert not woo.verify(ORDER, sent, [SECRET])
    assert woo.verify(ORDER, sent, [SECRET, "old-secret"])


@pytest.mark.parametrize(
    ("sent", "secrets"),
    [
        ({}, [SECRET]),
        ({"X-WC-Webhook-Signature": ""}, [SECRET]),
        ({"X-WC-Webhook-Signature": "é\u2603 not base64"}, [SECRET]),
        ({"X-WC-Webhook-Signature": signed(ORDER, "")}, [""]),  # an empty secret never authenticates
        ({"X-WC-Webhook-Signature": signed(ORDER)}, []),
    ],
)
def test_missing_or_unusable_signatures_fail_without_raising(
    sent: dict[str, str], secrets: list[str]
) -> None:
    assert not woo.verify(ORDER, sent, secrets)


def test_the_delivery_key_is_webhook_topic_resource_and_modification() -> None:
    envelope = woo.envelope(ORDER, headers())
    assert envelope.topic == "order.updated"
    assert envelope.delivery_key == "12:order.updated:1187:2024-05-06T08:47:30"
    assert envelope.triggered_at == datetime(2024, 5, 6, 8, 47, 30, tzinfo=UTC)


def test_the_same_delivery_twice_has_one_key_and_a_later_change_another() -> None:
    later = json.loads(ORDER) | {"date_modified_gmt": "2024-05-06T09:15:00"}
    first, again = woo.envelope(ORDER, headers()), woo.envelope(ORDER, headers())
    changed = woo.envelope(json.dumps(later).encode(), headers())
    assert first.delivery_key == again.delivery_key
    assert changed.delivery_key != first.delivery_key


def test_the_delivery_id_header_plays_no_part() -> None:
    one = woo.envelope(ORDER, headers(**{"X-WC-Webhook-Delivery-ID": "aaa"}))
    two = woo.envelope(ORDER, headers(**{"X-WC-Webhook-Delivery-ID": "bbb"}))
    assert one.delivery_key == two.delivery_key


def test_two_webhooks_for_one_change_are_two_deliveries() -> None:
    assert woo.envelope(ORDER, headers(webhook_id="12")) != woo.envelope(ORDER, headers(webhook_id="13"))


def test_headers_are_read_in_any_case() -> None:
    lower = {"x-wc-webhook-topic": "order.updated", "x-wc-webhook-id": "12"}
    assert woo.envelope(ORDER, lower) == woo.envelope(ORDER, headers())


def test_a_deletion_is_keyed_by_its_body() -> None:
    raw = b'{"id":1187}'
    envelope = woo.envelope(raw, headers("order.deleted"))
    assert envelope.delivery_key == f"12:order.deleted:sha256:{hashlib.sha256(raw).hexdigest()}"
    assert envelope.triggered_at is None
    assert woo.envelope(raw, headers("order.deleted")) == envelope


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1, 2]", b'{"id": {"x": 1}, "date_modified_gmt": 5}', b"\xff"]
)
def test_unreadable_bodies_fall_back_to_a_hash(raw: bytes) -> None:
    envelope = woo.envelope(raw, headers())
    assert envelope.delivery_key.endswith(hashlib.sha256(raw).hexdigest())
    assert envelope.triggered_at is None


def test_an_unparsable_modification_date_gives_no_trigger_time() -> None:
    raw = json.dumps({"id": 1, "date_modified_gmt": "yesterday"}).encode()
    envelope = woo.envelope(raw, headers())
    assert envelope.delivery_key == "12:order.updated:1:yesterday"
    assert envelope.triggered_at is None


def test_keys_never_exceed_255_characters() -> None:
    raw = json.dumps({"id": "9" * 300, "date_modified_gmt": "2017-03-22T19:30:35"}).encode()
    envelope = woo.envelope(raw, headers("action." + "x" * 200))
    assert len(envelope.delivery_key) <= 255
    assert envelope == woo.envelope(raw, headers("action." + "x" * 200))


@pytest.mark.parametrize("sent", [{}, {"X-WC-Webhook-Topic": "  "}])
def test_a_delivery_without_a_topic_is_refused(sent: dict[str, str]) -> None:
    with pytest.raises(PayloadError):
        woo.envelope(ORDER, sent)
