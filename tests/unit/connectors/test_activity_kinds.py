"""Every activity a connector emits is one of scoring's kinds (scoring owns the list; see base.Activity)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.base import Activity, Fact
from connectors.woocommerce.webhooks import WooWebhooks
from connectors.woocommerce.wordpress import WordPressEvents
from scoring import ACTIVITY_KINDS
from tests.conftest import FIXTURES

WOO_FIXTURES = sorted((FIXTURES / "woocommerce").glob("*.json"))
CART = {
    "cart_token": "0123456789abcdef0123456789abcdef",
    "ts": 1795600000,
    "email": "ana@example.com",
    "currency": "EUR",
    "subtotal": "24.00",
    "items": [{"title": "Mug", "quantity": 2, "price": "12.00", "product_id": 7}],
}


def kinds(facts: list[Fact]) -> set[str]:
    return {fact.kind for fact in facts if isinstance(fact, Activity)}


@pytest.mark.parametrize("path", WOO_FIXTURES, ids=lambda path: path.name)
def test_woocommerce_resources_give_known_kinds(path: Path) -> None:
    topic = ".".join(path.name.split(".")[:2])  # order.updated.processing.json: order.updated
    found = kinds(WooWebhooks().normalize(topic, json.loads(path.read_bytes())))
    assert found and found <= set(ACTIVITY_KINDS)


@pytest.mark.parametrize("event", ["cart.updated", "checkout.email", "cart.emptied"])
def test_plugin_events_give_known_kinds(event: str) -> None:
    found = kinds(WordPressEvents().normalize(f"wordpress/{event}", CART))
    assert found <= set(ACTIVITY_KINDS) and (found or event == "cart.emptied")


@pytest.mark.parametrize(
    ("event", "body", "expected"),
    [
        ("product.viewed", {"product_id": 31, "customer_id": 7}, {"product_view"}),
        ("product.viewed", {"product_id": 31}, set()),  # a guest's view: the session's history only
        ("newsletter.signup", {"email": "ana@example.com", "marketing_consent": True}, {"newsletter_signup"}),
        ("newsletter.signup", {"email": "ana@example.com"}, set()),  # no consent, no sign-up
    ],
)
def test_plugin_views_and_signups_give_known_kinds(
    event: str, body: dict[str, object], expected: set[str]
) -> None:
    payload = {"event": event, "session_key": "s" * 32, "ts": 1795600000, **body}
    assert (
        kinds(WordPressEvents().normalize(f"wordpress/{event}", payload)) == expected <= set(ACTIVITY_KINDS)
    )
