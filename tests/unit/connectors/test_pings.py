"""`is_ping` is part of every webhook adapter: only WooCommerce sends an unsigned test request."""

from __future__ import annotations

import pytest

from connectors.base import WebhookAdapter
from connectors.shopify.webhooks import ShopifyWebhooks
from connectors.woocommerce.webhooks import WooWebhooks
from connectors.woocommerce.wordpress import WordPressEvents

WOO_PING = b"webhook_id=12"


def test_woocommerce_recognises_its_creation_ping() -> None:
    adapter: WebhookAdapter = WooWebhooks()
    assert adapter.is_ping(WOO_PING, {})


@pytest.mark.parametrize("adapter", [ShopifyWebhooks(), WordPressEvents()], ids=lambda a: a.platform)
@pytest.mark.parametrize("body", [WOO_PING, b"", b"{}"])
def test_platforms_without_a_ping_never_see_one(adapter: WebhookAdapter, body: bytes) -> None:
    assert adapter.is_ping(body, {}) is False
