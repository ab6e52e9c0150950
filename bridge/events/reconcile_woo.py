"""WooCommerce upkeep: webhook registration and repair, and polling what webhooks missed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

import campaigns
from bridge.db import locked, transaction
from bridge.db.models import Event, Shop
from bridge.events.ingest import store_event
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.shops import stores
from bridge.shops.stores import make_client
from connectors.base import Envelope, StoreError
from connectors.woocommerce.client import WebhookStatus, WooClient
from connectors.woocommerce.webhooks import TOPIC_HEADER, WEBHOOK_ID_HEADER, WooWebhooks

log = logging.getLogger(__name__)

TOPICS = ("order.created", "order.updated", "customer.created", "customer.updated")
EVERY_SECONDS = 900
OVERLAP = timedelta(minutes=15)  # deliveries coalesce for up to 10 minutes; clocks drift
FIRST_LOOKBACK = timedelta(days=1)
MAX_LOOKBACK = timedelta(days=7)
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
    settings: Mapping[str, Any]


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
        return WooShop(
            shop.id, shop.shop_key, shop.domain, key, secret, hook_secret, dict(shop.settings or {})
        )


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
    except StoreError as exc:
        _refused(ctx, shop.id, url, exc)
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


def _refused(ctx: Context, shop_id: int, url: str, exc: StoreError) -> None:
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


def reconcile(ctx: Context, shop_id: int) -> int:
    """One reconciliation pass of one shop; errors are recorded for the admin page, not raised."""
    shop = load_shop(ctx, shop_id)
    if shop is None:
        return 0
    started, url = ctx.now(), delivery_url(ctx, shop.shop_key)
    client = make_client(ctx, shop.url, shop.consumer_key, shop.consumer_secret)
    try:
        ours, reactivated, error = _repair(client, shop, url)
        since = _since(shop.settings, started)
        hooks: dict[str, str] = {}
        for webhook in ours:  # active ones come first
            hooks.setdefault(webhook.topic, webhook.webhook_id)
        # Deliveries are keyed with the webhook's id: the ids of webhooks since recreated still name them.
        seen = {*_hook_ids(shop.settings), *(w.webhook_id for w in ours)}
        stored = _feed(ctx, shop.id, "customer.created", client.recent_customers(since), hooks, seen)
        stored += _feed(ctx, shop.id, "order.updated", client.recent_orders(since), hooks, seen)
        refresh_store_info(ctx, shop.id, client)
    except StoreError as exc:
        _refused(ctx, shop.id, url, exc)
        return 0
    stores.mark_connected(ctx, shop.id)
    record_status(ctx, shop.id, url, webhooks=ours, reactivated=reactivated, error=error, reconciled=started)
    return stored


def enqueue_all(ctx: Context) -> int:
    """Queue one reconciliation per installed WooCommerce shop; how many were queued."""
    with ctx.sessions() as session:
        shop_ids = session.scalars(
            sa.select(Shop.id).where(
                Shop.platform == "woocommerce",
                Shop.uninstalled_at.is_(None),
                Shop.disconnected_at.is_(None),  # refused keys stay refused until the merchant reinstalls
                Shop.consumer_key_enc.is_not(None),
            )
        ).all()
    queued = 0
    for shop_id in shop_ids:
        job_id = jobnames.reconcile_woocommerce_id(shop_id)
        name = jobnames.RECONCILE_WOOCOMMERCE
        outcome = queue.requeue(ctx.redis, name, shop_id, job_id=job_id, queue=queue.MAINTENANCE, retry=None)
        if outcome == "refused":
            break
        queued += outcome == "queued"
    return queued


def our_webhooks(webhooks: Iterable[WebhookStatus], url: str) -> list[WebhookStatus]:
    """The store's webhooks that deliver one of our topics to us, active ones first."""
    ours = [w for w in webhooks if w.delivery_url == url and w.topic in TOPICS]
    return sorted(ours, key=lambda w: (w.topic, w.status != "active"))


def _repair(client: WooClient, shop: WooShop, url: str) -> tuple[list[WebhookStatus], list[str], str | None]:
    """Our webhooks after re-activating disabled ones and re-creating missing ones."""
    ours = our_webhooks(client.webhook_statuses(), url)
    disabled = [w.webhook_id for w in ours if w.status == "disabled"]
    missing = set(TOPICS) - {w.topic for w in ours}
    if not disabled and not missing:
        return ours, [], None
    if not shop.secret:
        return ours, [], UNSIGNED_REFUSED
    client.register_webhooks(url, shop.secret, TOPICS)
    return our_webhooks(client.webhook_statuses(), url), disabled, None


def _since(settings: Mapping[str, Any], now: datetime) -> datetime:
    last = settings.get(RECONCILED_KEY)
    try:
        previous = datetime.fromisoformat(last) if isinstance(last, str) else None
    except ValueError:
        previous = None
    if previous is None:
        return now - FIRST_LOOKBACK
    return max(previous - OVERLAP, now - MAX_LOOKBACK)


def _hook_ids(settings: Mapping[str, Any]) -> list[str]:
    found = settings.get(HOOK_IDS_KEY)
    return [str(i) for i in found] if isinstance(found, list) else []


def _feed(
    ctx: Context,
    shop_id: int,
    topic: str,
    resources: Sequence[dict[str, Any]],
    hooks: Mapping[str, str],
    seen_hooks: Iterable[str] = (),
) -> int:
    """Store resources as deliveries of `topic` unless a delivery of the same state is already stored."""
    family = [t for t in TOPICS if t.split(".")[0] == topic.split(".")[0]]
    hook_ids = sorted({*seen_hooks, *hooks.values(), ""})
    prepared = []
    for resource in resources:
        raw = json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode()
        # The keys a webhook of this state had or would have had: delivered once, stored once.
        keys = [_envelope(raw, t, hook).delivery_key for t in family for hook in hook_ids]
        prepared.append((_envelope(raw, topic, hooks.get(topic)), raw, keys))
    known = _known_keys(ctx, shop_id, [key for _, _, keys in prepared for key in keys])
    stored = 0
    for envelope, raw, keys in prepared:
        if known.intersection(keys):
            continue
        event_id = store_event(ctx, shop_id, envelope, raw)
        if event_id is not None:
            stored += 1
            queue.enqueue(ctx.redis, jobnames.PROCESS_EVENT, event_id, job_id=jobnames.event_id(event_id))
    return stored


def _envelope(raw: bytes, topic: str, webhook_id: str | None) -> Envelope:
    return WooWebhooks().envelope(raw, {TOPIC_HEADER: topic, WEBHOOK_ID_HEADER: webhook_id or ""})


def _known_keys(ctx: Context, shop_id: int, keys: list[str]) -> set[str]:
    known: set[str] = set()
    with ctx.sessions() as session:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            known.update(
                session.scalars(
                    sa.select(Event.delivery_key).where(
                        Event.shop_id == shop_id, Event.delivery_key.in_(chunk)
                    )
                )
            )
    return known


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
    """Keep the webhooks' state and the last check in `shop.settings["woo_webhooks"]` (admin page)."""
    with transaction(ctx.sessions) as session:
        # Locked: shop.settings is rewritten whole, so a writer beside us (the outbound webhook's secret, the
        # token refresh) must not be overwritten with what we read before it committed.
        shop = locked(session, Shop, shop_id, Shop.name)
        if shop is None:
            return
        settings = dict(shop.settings or {})
        state = dict(settings.get(STATUS_KEY) or {})
        state.update(checked_at=ctx.now().isoformat(), delivery_url=url, error=error and error[:500])
        if webhooks is not None:
            state["webhooks"] = [{"id": w.webhook_id, "topic": w.topic, "status": w.status} for w in webhooks]
            known = [i for i in _hook_ids(settings) if i not in {w.webhook_id for w in webhooks}]
            settings[HOOK_IDS_KEY] = [*known, *(w.webhook_id for w in webhooks)][-HOOK_IDS_KEPT:]
            state["missing"] = sorted(set(TOPICS) - {w.topic for w in webhooks})
            state["reactivated"] = list(reactivated)
        settings[STATUS_KEY] = state
        if reconciled is not None:
            settings[RECONCILED_KEY] = reconciled.isoformat()
        shop.settings = settings  # a new dict: JSON columns do not see changes made in place
