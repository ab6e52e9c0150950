"""WooCommerce webhooks on the store: registration, repair, removal at uninstall, and the state the admin
page shows (`shop.state["woo_webhooks"]`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import campaigns
from bridge.db import locked, transaction
from bridge.db.models import Shop
from bridge.infra.context import Context
from bridge.shops import locales, stores
from bridge.shops.stores import make_client
from connectors.base import StoreError
from connectors.registry import WebhookStatus, WooClient

log = logging.getLogger(__name__)

TOPICS = ("order.created", "order.updated", "customer.created", "customer.updated")
STATUS_KEY, RECONCILED_KEY = "woo_webhooks", "woo_reconciled_at"
HOOK_IDS_KEY, HOOK_IDS_KEPT = "woo_webhook_ids", 50  # ids our deliveries were keyed with, recreated ones too
UNSIGNED_REFUSED = "no webhook secret: refusing to register webhooks that could not be verified"


@dataclass(frozen=True)
class WooShop:
    """What the upkeep jobs need of a shop, read once and decrypted."""

    id: int
    shop_key: str
    url: str
    consumer_key: str
    consumer_secret: str
    secret: str | None
    state: Mapping[str, Any]  # the shop row's state, read once


def delivery_url(ctx: Context, shop_key: str) -> str:
    """Where the store delivers this shop's webhooks."""
    return f"{ctx.settings.public_url.rstrip('/')}/webhooks/woocommerce/{shop_key}"


def load_shop(ctx: Context, shop_id: int) -> WooShop | None:
    """An installed WooCommerce shop with REST keys, or None."""
    with ctx.sessions() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or shop.platform != "woocommerce" or shop.uninstalled_at is not None:
            return None
        key, secret = ctx.vault.decrypt(shop.consumer_key_enc), ctx.vault.decrypt(shop.consumer_secret_enc)
        if not key or not secret:
            return None
        hook_secret = ctx.vault.decrypt(shop.webhook_secret_enc)
        return WooShop(shop.id, shop.shop_key, shop.domain, key, secret, hook_secret, dict(shop.state or {}))


def register(ctx: Context, shop_id: int) -> int:
    """Register the webhooks Relance needs, signed with the shop's secret; refuse without a secret."""
    shop = load_shop(ctx, shop_id)
    if shop is None:
        return 0
    url = delivery_url(ctx, shop.shop_key)
    if not shop.secret:
        record_status(ctx, shop.id, url, error=UNSIGNED_REFUSED)
        return 0
    client = make_client(ctx, shop.url, shop.consumer_key, shop.consumer_secret)
    try:
        client.register_webhooks(url, shop.secret, TOPICS)
        ours = our_webhooks(client.webhook_statuses(), url)
        refresh_store_info(ctx, shop.id, client)
        locales.refresh(ctx, shop.id, shop.state, client.site_locale, force=True)
    except StoreError as exc:
        record_failure(ctx, shop.id, url, exc)
        if exc.transient:
            raise  # RQ retries with backoff
        return 0
    stores.mark_connected(ctx, shop.id)
    record_status(ctx, shop.id, url, webhooks=ours)
    return sum(w.status == "active" for w in ours)


def refresh_store_info(ctx: Context, shop_id: int, client: WooClient) -> None:
    """Keep the shop's name, time zone and currency as the store states them (subjects, quiet hours, the
    expiry in the email); a store that will not tell keeps what we had. Unauthorized is raised."""
    try:
        info = client.store_info()
    except StoreError as exc:
        if exc.code == "unauthorized":
            raise
        log.warning("shop %s: store name, zone or currency unread: %s", shop_id, exc.code or "error")
        return
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return
        if info.name:
            shop.name = info.name[:255]
        if campaigns.zone_or_utc(info.timezone).key == info.timezone:
            shop.timezone = info.timezone
        if len(info.currency) == 3 and info.currency.isalpha():
            shop.currency = info.currency


def record_failure(ctx: Context, shop_id: int, url: str, exc: StoreError) -> None:
    """Record a failed call; refused keys mark the shop disconnected (logged once, not each pass)."""
    record_status(ctx, shop_id, url, error=str(exc))
    if exc.code == "unauthorized":
        stores.mark_disconnected(ctx, shop_id)
    else:
        log.warning("woocommerce upkeep of shop %s failed: %s", shop_id, exc.code or "error")


def unregister_webhooks(ctx: Context, shop_id: int) -> int:
    """Job, after the shop uninstalled: delete our webhooks from the store, then forget its REST keys (the key
    itself can only be revoked in WooCommerce); how many webhooks were deleted."""
    with ctx.sessions() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or shop.platform != "woocommerce" or shop.uninstalled_at is None:
            return 0
        key, secret = ctx.vault.decrypt(shop.consumer_key_enc), ctx.vault.decrypt(shop.consumer_secret_enc)
        store, url = shop.domain, delivery_url(ctx, shop.shop_key)
    removed = 0
    if key and secret:
        client = make_client(ctx, store, key, secret)
        try:
            for webhook in our_webhooks(client.webhook_statuses(), url):
                client.delete_webhook(webhook.webhook_id)
                removed += 1
        except StoreError as exc:  # the store stops delivering on its own once we answer 401
            log.warning("shop %s: webhooks not removed at uninstall: %s", shop_id, exc.code or "error")
    with transaction(ctx.sessions) as session:
        found = session.get(Shop, shop_id)
        if found is not None and found.uninstalled_at is not None:
            found.consumer_key_enc = found.consumer_secret_enc = None
    return removed


def our_webhooks(webhooks: Iterable[WebhookStatus], url: str) -> list[WebhookStatus]:
    """The store's webhooks that deliver one of our topics to us, active ones first."""
    ours = [w for w in webhooks if w.delivery_url == url and w.topic in TOPICS]
    return sorted(ours, key=lambda w: (w.topic, w.status != "active"))


def repair(client: WooClient, shop: WooShop, url: str) -> tuple[list[WebhookStatus], list[str], str | None]:
    """Our webhooks after re-activating disabled ones and re-creating missing ones; the ids re-activated,
    and why nothing was repaired (no secret to sign them with)."""
    ours = our_webhooks(client.webhook_statuses(), url)
    disabled = [w.webhook_id for w in ours if w.status == "disabled"]
    missing = set(TOPICS) - {w.topic for w in ours}
    if not disabled and not missing:
        return ours, [], None
    if not shop.secret:
        return ours, [], UNSIGNED_REFUSED
    client.register_webhooks(url, shop.secret, TOPICS)
    return our_webhooks(client.webhook_statuses(), url), disabled, None


def hook_ids(settings: Mapping[str, Any]) -> list[str]:
    """The ids of every webhook our deliveries were keyed with, as kept in the shop's settings."""
    found = settings.get(HOOK_IDS_KEY)
    return [str(i) for i in found] if isinstance(found, list) else []


def record_status(
    ctx: Context,
    shop_id: int,
    url: str,
    *,
    webhooks: Sequence[WebhookStatus] | None = None,
    reactivated: Sequence[str] = (),
    error: str | None = None,
    reconciled: datetime | None = None,
) -> None:
    """Keep the webhooks' state and the last check in `shop.state["woo_webhooks"]` (admin page)."""
    with transaction(ctx.sessions) as session:
        # Locked: shop.state is rewritten whole, so a writer beside us (the outbound webhook's secret, the
        # token refresh) must not be overwritten with what we read before it committed.
        shop = locked(session, Shop, shop_id, Shop.name)
        if shop is None:
            return
        settings = dict(shop.state or {})
        state = dict(settings.get(STATUS_KEY) or {})
        state.update(checked_at=ctx.now().isoformat(), delivery_url=url, error=error and error[:500])
        if webhooks is not None:
            state["webhooks"] = [{"id": w.webhook_id, "topic": w.topic, "status": w.status} for w in webhooks]
            known = [i for i in hook_ids(settings) if i not in {w.webhook_id for w in webhooks}]
            settings[HOOK_IDS_KEY] = [*known, *(w.webhook_id for w in webhooks)][-HOOK_IDS_KEPT:]
            state["missing"] = sorted(set(TOPICS) - {w.topic for w in webhooks})
            state["reactivated"] = list(reactivated)
        settings[STATUS_KEY] = state
        if reconciled is not None:
            settings[RECONCILED_KEY] = reconciled.isoformat()
        shop.state = settings  # a new dict: JSON columns do not see changes made in place
