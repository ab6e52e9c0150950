"""A signed body sent again under another topic: each privacy topic only reads a body of its own shape."""

from __future__ import annotations

import pytest

from connectors.base import PayloadError
from connectors.shopify.webhooks import ShopifyWebhooks

from .support import changed, load

adapter = ShopifyWebhooks()
PRIVACY = {
    "customers/redact": "customers__redact.json",
    "customers/data_request": "customers__data_request.json",
    "shop/redact": "shop__redact.json",
    "app/uninstalled": "app__uninstalled.json",
}
OTHERS = ["customers__create.json", "orders__create.json", "checkouts__create.json", "carts__create.json"]
PAIRS = [
    (topic, name)
    for topic in PRIVACY
    for name in [*OTHERS, *(other for t, other in PRIVACY.items() if t != topic)]
]


@pytest.mark.parametrize(("topic", "name"), PAIRS, ids=[f"{n}->{t}" for t, n in PAIRS])
def test_a_body_of_another_topic_is_refused(topic: str, name: str) -> None:
    with pytest.raises(PayloadError, match=f"^{topic}: "):
        adapter.normalize(topic, load(name))


def test_a_shop_redact_body_must_carry_its_shop() -> None:
    with pytest.raises(PayloadError, match="shop_domain is missing"):
        adapter.normalize("shop/redact", changed(load("shop__redact.json"), shop_domain=...))
    with pytest.raises(PayloadError, match="shop_id is missing"):
        adapter.normalize("shop/redact", changed(load("shop__redact.json"), shop_id=...))


def test_a_redact_body_with_a_data_request_is_not_a_redact_body() -> None:
    body = changed(load("customers__redact.json"), data_request={"id": 1})
    with pytest.raises(PayloadError, match=r"not a customers/redact body \(has data_request\)"):
        adapter.normalize("customers/redact", body)


def test_the_payloads_shop_is_given_lower_cased() -> None:
    body = changed(load("shop__redact.json"), shop_domain="Other.myshopify.com")
    [fact] = adapter.normalize("shop/redact", body)
    assert fact.shop_domain == "other.myshopify.com"
