"""The plugin adapter on its own: signature window, delivery identity, facts (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.base import Activity, CartSnapshot, CustomerSeen, LineItem, PayloadError, VisitorSeen
from connectors.woocommerce.wordpress import WordPressEvents, sign
from tests.integration.connectors.woocommerce.conftest import cart_event

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
SECRET = "f" * 64
events = WordPressEvents(clock=lambda: NOW)


def signed(raw: bytes, stamp: int | str = TS, secret: str = SECRET) -> dict[str, str]:
    return {"X-Relance-Timestamp": str(stamp), "X-Relance-Signature": sign(raw, secret, stamp)}


def test_a_fresh_signature_verifies_with_any_current_secret() -> None:
    raw = json.dumps(cart_event(ts=TS)).encode()
    assert events.verify(raw, signed(raw), ["old-secret", SECRET])
    lower = {k.lower(): v for k, v in signed(raw).items()}
    assert events.verify(raw, lower, [SECRET])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Relance-Timestamp": str(TS)},
        {"X-Relance-Signature": "abc="},
        {"X-Relance-Timestamp": "-5", "X-Relance-Signature": "abc="},
        {"X-Relance-Timestamp": "1e9", "X-Relance-Signature": "abc="},
        {"X-Relance-Timestamp": "9" * 40, "X-Relance-Signature": "abc="},
    ],
)
def test_missing_or_malformed_headers_are_refused(headers: dict[str, str]) -> None:
    assert not events.verify(b"{}", headers, [SECRET])


def test_the_timestamp_window_is_five_minutes_both_ways() -> None:
    raw = b'{"event":"cart.updated"}'
    assert events.verify(raw, signed(raw, TS - 300), [SECRET])
    assert not events.verify(raw, signed(raw, TS - 301), [SECRET])
    assert not events.verify(raw, signed(raw, TS + 301), [SECRET])


def test_body_timestamp_and_secret_are_all_signed() -> None:
    raw = b'{"event":"cart.updated"}'
    headers = signed(raw)
    assert not events.verify(raw + b" ", headers, [SECRET])
    assert not events.verify(raw, {**headers, "X-Relance-Timestamp": str(TS - 1)}, [SECRET])
    assert not events.verify(raw, headers, ["", "other"])  # an empty secret never authenticates


def test_the_envelope_names_the_event_and_dedups_on_session_and_body() -> None:
    raw = json.dumps(cart_event("checkout.email", ts=TS, email="a@b.co")).encode()
    envelope = events.envelope(raw, {})
    assert envelope.topic == "wordpress/checkout.email" and envelope.triggered_at == NOW
    assert (
        envelope.delivery_key.startswith("wp:" + "5f1e" * 8 + ":")
        and len(envelope.delivery_key) == 3 + 32 + 1 + 64
    )
    assert events.envelope(raw + b"\n", {}).delivery_key != envelope.delivery_key
    assert events.envelope(b"not json", {}).topic == "wordpress/invalid"
    assert events.envelope(b'{"event": "cart.exploded"}', {}).topic == "wordpress/invalid"


def test_a_cart_update_is_a_snapshot_and_an_add_to_cart() -> None:
    payload = cart_event(ts=TS, customer_id=7)
    snapshot, added, visitor = events.normalize("wordpress/cart.updated", payload)
    assert isinstance(snapshot, CartSnapshot) and isinstance(added, Activity)
    # The session is a storefront visitor, with its cart token, named by the signed customer id.
    assert visitor == VisitorSeen("wp:" + "5f1e" * 8, NOW, (payload["cart_token"],), "7", None)
    assert snapshot.token == payload["cart_token"] and snapshot.checkout_token is None
    assert snapshot.items == (LineItem("Tee", 2, Decimal("12.50"), "31", None),)
    assert (snapshot.subtotal, snapshot.currency, snapshot.updated_at) == (Decimal("25.00"), "USD", NOW)
    assert (
        snapshot.email is None and snapshot.customer_external_id == "7" and snapshot.accepts_marketing is None
    )
    assert (added.kind, added.ref, added.external_id) == ("add_to_cart", f"cart:{payload['cart_token']}", "7")


def test_a_typed_email_is_a_shopper_a_snapshot_and_a_started_checkout() -> None:
    payload = cart_event(
        "checkout.email", ts=TS, email="Jane@Example.com", marketing_consent=True, order_id=55
    )
    seen, snapshot, started, visitor = events.normalize("wordpress/checkout.email", payload)
    assert (visitor.client_id, visitor.email) == ("wp:" + "5f1e" * 8, "Jane@Example.com")
    assert seen == CustomerSeen(external_id=None, email="Jane@Example.com")
    assert snapshot.accepts_marketing is True and snapshot.checkout_token == "55"
    assert (started.kind, started.ref) == ("checkout_started", "order:55")  # the draft order's own activity
    _, _, without_draft, _ = events.normalize(
        "wordpress/checkout.email", cart_event("checkout.email", ts=TS, email="a@b.co")
    )
    assert without_draft.ref == f"checkout:{payload['cart_token']}"


def test_an_emptied_cart_is_an_empty_snapshot_without_activity() -> None:
    snapshot, visitor = events.normalize(
        "wordpress/cart.emptied", cart_event("cart.emptied", ts=TS, items=[])
    )
    assert isinstance(visitor, VisitorSeen) and visitor.email is None
    assert snapshot.items == () and snapshot.subtotal == 0


@pytest.mark.parametrize(
    ("topic", "change"),
    [
        ("wordpress/invalid", {}),
        ("order.updated", {}),
        ("wordpress/cart.updated", {"cart_token": ""}),
        ("wordpress/cart.updated", {"cart_token": 5}),
        ("wordpress/cart.updated", {"ts": "yesterday"}),
        ("wordpress/cart.updated", {"items": {"a": 1}}),
        ("wordpress/cart.updated", {"items": ["x"]}),
        ("wordpress/cart.updated", {"items": [{"title": "x", "quantity": -1, "price": "1"}]}),
        ("wordpress/cart.updated", {"items": [{"title": "x", "quantity": 1, "price": "free"}]}),
        ("wordpress/cart.updated", {"subtotal": "-4"}),
        ("wordpress/cart.updated", {"customer_id": "abc"}),
    ],
)
def test_unreadable_events_raise_payload_errors(topic: str, change: dict) -> None:
    with pytest.raises(PayloadError):
        events.normalize(topic, {**cart_event(ts=TS), **change})


def test_amounts_parsed_as_decimals_by_the_pipeline_are_accepted() -> None:
    raw = json.dumps(cart_event(ts=TS, subtotal=25.5)).encode()
    payload = json.loads(raw, parse_float=Decimal)
    snapshot = events.normalize("wordpress/cart.updated", payload)[0]
    assert snapshot.subtotal == Decimal("25.5")
