"""A Shopify shop's setup after install (a job): its name, currency, time zone and primary locale, its
webhook subscriptions and the web pixel that sends storefront events."""

from __future__ import annotations

import logging
from typing import Any

import requests

from bridge.db import locked, transaction
from bridge.db.models import Shop
from bridge.infra.context import Context
from bridge.shops import locales, tokens
from connectors import registry as vendors
from connectors.base import StoreError
from connectors.registry import ShopifyClient

log = logging.getLogger(__name__)

# Per-shop subscriptions, kept only for shops installed before the app configuration declared the topics.
WEBHOOK_TOPICS = vendors.SHOPIFY_WEBHOOK_TOPICS


def set_up(ctx: Context, shop_id: int, http: requests.Session | None = None) -> list[str]:
    """Body of the `setup_shop` job; the per-shop webhook subscription ids (none once the app config has
    them)."""
    with ctx.sessions() as session:
        shop = session.get(Shop, shop_id)
    if shop is None or shop.uninstalled_at is not None:
        return []
    client = tokens.shopify_client_for(ctx, shop, http)
    info = client.shop_info()
    locale = locales.ask(client.primary_locale, shop_id)  # needs read_locales: None without it
    hooks = subscribe(ctx, client, shop)
    pixel_settings = {"bridgeUrl": ctx.settings.public_url, "publicKey": shop.public_key}
    pixel_id = activate_pixel(client, pixel_settings)
    with transaction(ctx.sessions) as session:
        row = locked(session, Shop, shop_id, Shop.name)  # settings are rewritten whole: no lost update
        if row is not None:
            row.name, row.currency, row.timezone = info.name or row.name, info.currency, info.timezone
            state = {**(row.state or {}), "webhooks": hooks, "web_pixel_id": pixel_id}
            row.state = locales.with_locale(state, locale, ctx.now())
    return list(hooks.get("ids") or [])


def per_shop_webhooks(shop: Shop) -> bool:
    """Whether the shop was subscribed topic by topic by API (installed before shopify.app.toml declared
    the topics): Shopify deletes such subscriptions after repeated failed deliveries, so they are checked."""
    return bool(((shop.state or {}).get("webhooks") or {}).get("ids"))


def subscribe(ctx: Context, client: ShopifyClient, shop: Shop) -> dict[str, Any]:
    """The shop's `webhooks` setting: app-specific subscriptions (shopify.app.toml, deployed with the CLI)
    for new installs; an older install's per-shop subscriptions are re-created where missing."""
    address = f"{ctx.settings.public_url}/webhooks/shopify"
    stamp = {"address": address, "registered_at": ctx.now().isoformat()}
    if not per_shop_webhooks(shop):
        return {"source": "app_config", **stamp}
    return {"source": "shop", "ids": client.register_webhooks(address, WEBHOOK_TOPICS), **stamp}


def activate_pixel(client: ShopifyClient, settings: dict[str, str]) -> str | None:
    """Create the shop's web pixel with our settings (or update the one it has); its id, None if refused."""
    try:
        payload = client.save_web_pixel(settings)  # a reinstall (a new URL) updates the pixel it has
    except StoreError as exc:
        log.warning("web pixel not activated: %s", exc.code or exc)
        return None
    pixel_id: str | None = (payload.get("webPixel") or {}).get("id")
    if pixel_id is None:
        log.warning("web pixel not activated: %s", payload.get("userErrors") or "no answer")
    return pixel_id
