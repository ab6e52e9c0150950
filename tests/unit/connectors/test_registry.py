"""connectors.registry: what the bridge gets from the vendors, by platform name or by vendor."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
import responses

from connectors import registry
from connectors.base import DiscountSpec, StoreError, WebhookAdapter
from connectors.shopify.webhooks import SUBSCRIBED_TOPICS
from connectors.woocommerce.webhooks import WooWebhooks
from connectors.woocommerce.wordpress import sign
from tests.conftest import shopify_sign

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PROTOCOL = ("is_ping", "verify", "envelope", "normalize")


@pytest.mark.parametrize("platform", registry.WEBHOOK_PLATFORMS)
def test_each_webhook_platform_has_its_adapter(platform: str) -> None:
    adapter: WebhookAdapter = registry.webhook_adapter(platform)
    assert adapter.platform == platform
    assert all(callable(getattr(adapter, method)) for method in PROTOCOL)


def test_all_adapters_at_once_by_platform_name() -> None:
    adapters = registry.webhook_adapters()
    assert list(adapters) == ["shopify", "woocommerce", "wordpress"]
    assert all(adapter.platform == name for name, adapter in adapters.items())


@pytest.mark.parametrize("platform", ["demo", "magento", ""])
def test_a_platform_without_webhooks_has_no_adapter(platform: str) -> None:
    assert platform not in registry.WEBHOOK_PLATFORMS
    with pytest.raises(registry.UnknownPlatform):
        registry.webhook_adapter(platform)


def test_every_platform_is_named_once() -> None:
    assert registry.PLATFORMS == ("shopify", "woocommerce", "wordpress", "demo")
    assert set(registry.WEBHOOK_PLATFORMS) < set(registry.PLATFORMS)


def test_the_plugin_adapter_keeps_time_by_the_given_clock() -> None:
    body, stamp = b'{"event":"cart.updated"}', str(int(NOW.timestamp()))
    headers = {"X-Relance-Timestamp": stamp, "X-Relance-Signature": sign(body, "s3cret", stamp)}
    assert registry.webhook_adapter("wordpress", clock=lambda: NOW).verify(body, headers, ["s3cret"])
    late = registry.webhook_adapters(clock=lambda: NOW + timedelta(hours=1))["wordpress"]
    assert not late.verify(body, headers, ["s3cret"])


def test_the_demo_client_keeps_codes_in_the_given_mapping() -> None:
    codes: dict[str, str] = {}
    spec = DiscountSpec("back-1", "Relance cart BACK-1", "percentage", Decimal(10), None, NOW, NOW)
    ref = registry.demo_client(codes).create_discount(spec)
    assert list(codes) == ["BACK-1"] and registry.demo_client(codes).find_discount("back-1") == ref


def test_the_demo_client_keeps_a_free_shipping_code_and_its_minimum() -> None:
    codes: dict[str, str] = {}
    spec = DiscountSpec(
        "ship-1",
        "Relance step SHIP-1",
        "free_shipping",
        Decimal(0),
        None,
        NOW,
        NOW,
        minimum_subtotal=Decimal(40),
    )
    registry.demo_client(codes).create_discount(spec)
    kept = json.loads(codes["SHIP-1"])
    assert (kept["kind"], kept["minimum_subtotal"]) == ("free_shipping", "40")


@responses.activate
def test_the_shopify_client_asks_the_provider_for_its_token() -> None:
    endpoint = "http://mock.test/admin/api/2026-07/graphql.json"
    responses.post(endpoint, json={"data": {"shop": {"name": "Demo"}}})
    asked: list[bool] = []

    def provider(*, force_refresh: bool = False) -> str:
        asked.append(force_refresh)
        return "shpat_fresh"

    client = registry.shopify_client(
        "demo.myshopify.com", provider, api_version="2026-07", api_origin="http://mock.test"
    )
    assert client.execute("query { shop { name } }") == {"shop": {"name": "Demo"}}
    sent = responses.calls[0].request.headers
    assert (sent["X-Shopify-Access-Token"], sent["X-Shopify-Shop-Domain"], asked) == (
        "shpat_fresh",
        "demo.myshopify.com",
        [False],
    )


def test_the_shopify_client_is_on_the_pinned_api_version_by_default() -> None:
    client = registry.shopify_client("demo.myshopify.com", lambda *, force_refresh=False: "t")
    assert client.endpoint == "https://demo.myshopify.com/admin/api/2026-10/graphql.json"


@responses.activate
def test_the_woocommerce_client_uses_the_given_session_and_attempts() -> None:
    responses.get("https://shop.test/wp-json/wc/v3/webhooks", status=503, headers={"Retry-After": "0"})
    client = registry.woocommerce_client(
        "https://shop.test/", "ck_1", "cs_1", session=requests.Session(), attempts=2
    )
    with pytest.raises(StoreError) as failed:
        client.check_credentials()
    assert (failed.value.code, failed.value.transient, len(responses.calls)) == ("http_503", True, 2)


def test_a_reconciled_woocommerce_resource_has_its_webhook_delivery_s_envelope() -> None:
    raw = json.dumps({"id": 7, "date_modified_gmt": "2026-11-25T10:00:00"}).encode()
    expected = WooWebhooks().envelope(raw, {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-ID": "3"})
    assert registry.woocommerce_envelope(raw, "order.updated", "3") == expected
    assert registry.woocommerce_envelope(raw, "order.updated", None).delivery_key.startswith("-:")


def test_the_demo_signs_shopify_deliveries_as_shopify_does() -> None:
    assert registry.shopify_signature(b'{"id":1}', "shpss_x") == shopify_sign(b'{"id":1}', "shpss_x")


def test_pixel_and_webhook_cart_tokens_match() -> None:
    assert registry.shopify_cart_token("c1-abc?key=123") == "c1-abc"
    assert registry.shopify_cart_token(None) is None


def test_shopify_per_shop_topics_are_the_subscribed_ones_as_graphql_enums() -> None:
    assert len(registry.SHOPIFY_WEBHOOK_TOPICS) == len(SUBSCRIBED_TOPICS) == 13
    assert (
        "ORDERS_PAID" in registry.SHOPIFY_WEBHOOK_TOPICS
        and "CUSTOMERS_REDACT" not in registry.SHOPIFY_WEBHOOK_TOPICS
    )
    assert list(registry.SHOPIFY_WEBHOOK_TOPICS) == sorted(registry.SHOPIFY_WEBHOOK_TOPICS)
