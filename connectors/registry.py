"""The one door from the bridge to the store vendors: webhook adapters by platform name, store clients,
and the few vendor details the bridge needs.

The bridge imports connectors.base (the facts and the protocols), this module, and connectors.shopify.oauth
(Shopify's install and session-token flow, which no other platform has). Everything else under
connectors/<vendor>/ may move without the bridge noticing.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime

import requests

from connectors.base import Envelope, WebhookAdapter
from connectors.demo import DemoStoreClient
from connectors.shopify import graphql as shopify_graphql
from connectors.shopify.client import ShopifyClient as ShopifyClient
from connectors.shopify.client import TokenProvider as TokenProvider
from connectors.shopify.fields import cart_token
from connectors.shopify.webhooks import SUBSCRIBED_TOPICS, ShopifyWebhooks, signature
from connectors.woocommerce.client import WebhookStatus as WebhookStatus
from connectors.woocommerce.client import WooClient as WooClient
from connectors.woocommerce.webhooks import WooWebhooks, polled_envelope
from connectors.woocommerce.wordpress import WordPressEvents

Clock = Callable[[], datetime]

PLATFORMS = ("shopify", "woocommerce", "wordpress", "demo")
# The platforms that deliver webhooks ("wordpress": the companion plugin's cart events of a WooCommerce shop;
# the demo store has none, it only keeps codes).
WEBHOOK_PLATFORMS = ("shopify", "woocommerce", "wordpress")
# Shopify topics an older install subscribes shop by shop, as the GraphQL enum (ORDERS_PAID), sorted.
SHOPIFY_WEBHOOK_TOPICS: tuple[str, ...] = tuple(
    sorted(shopify_graphql.webhook_topic(topic) for topic in SUBSCRIBED_TOPICS)
)


class UnknownPlatform(KeyError):
    """No connector of that kind for this platform name."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def webhook_adapter(platform: str, *, clock: Clock = _utcnow) -> WebhookAdapter:
    """The inbound adapter of `platform` (`clock` dates the plugin's signed requests); UnknownPlatform for a
    platform without webhooks."""
    if platform == "shopify":
        return ShopifyWebhooks()
    if platform == "woocommerce":
        return WooWebhooks()
    if platform == "wordpress":
        return WordPressEvents(clock=clock)
    raise UnknownPlatform(platform)


def webhook_adapters(*, clock: Clock = _utcnow) -> dict[str, WebhookAdapter]:
    """Every platform's inbound adapter, by platform name."""
    return {platform: webhook_adapter(platform, clock=clock) for platform in WEBHOOK_PLATFORMS}


def demo_client(codes: MutableMapping[str, str]) -> DemoStoreClient:
    """The StoreClient of a demo shop, keeping its codes in `codes` (code -> JSON)."""
    return DemoStoreClient(codes)


def shopify_client(
    shop_domain: str,
    token_provider: TokenProvider,
    *,
    api_version: str = shopify_graphql.API_VERSION,
    api_origin: str | None = None,
    session: requests.Session | None = None,
) -> ShopifyClient:
    """The StoreClient of a Shopify shop, asking `token_provider` for its access token before each call."""
    return ShopifyClient(
        shop_domain,
        "",
        api_version=api_version,
        api_origin=api_origin,
        session=session,
        token_provider=token_provider,
    )


def woocommerce_client(
    store_url: str,
    consumer_key: str,
    consumer_secret: str,
    *,
    session: requests.Session | None = None,
    timeout: float = 20,
    attempts: int = 4,
) -> WooClient:
    """The StoreClient of a WooCommerce store, with its REST API keys; `session` decides where it may
    connect (the bridge passes a guarded one)."""
    return WooClient(
        store_url, consumer_key, consumer_secret, session=session, timeout=timeout, attempts=attempts
    )


def woocommerce_envelope(raw: bytes, topic: str, webhook_id: str | None) -> Envelope:
    """The envelope of a WooCommerce resource read over REST: the one its webhook delivery has or would have
    had, so that a reconciled resource and its webhook are stored once."""
    return polled_envelope(raw, topic, webhook_id)


def shopify_signature(raw: bytes, secret: str) -> str:
    """The X-Shopify-Hmac-Sha256 header Shopify sends with `raw` (the demo signs its deliveries with it)."""
    return signature(raw, secret).decode()


def shopify_cart_token(value: str | None) -> str | None:
    """A Shopify cart token without the `?key=…` suffix storefront tokens carry (the pixel's and the carts/*
    webhooks' tokens then match)."""
    return cart_token(value)
