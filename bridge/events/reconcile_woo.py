"""WooCommerce reconciliation: poll the orders and customers the webhooks missed, and repair the webhooks.

What the REST API returns is stored as deliveries of the topic a webhook would have brought, under every
delivery key such a webhook had or would have had, so a state already delivered is not stored twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bridge.db.models import Event, Shop
from bridge.events.ingest import store_event
from bridge.events.woo_webhooks import (
    RECONCILED_KEY,
    TOPICS,
    delivery_url,
    hook_ids,
    load_shop,
    record_failure,
    record_status,
    refresh_store_info,
    repair,
)
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.shops import locales, stores
from bridge.shops.stores import make_client
from connectors import registry as vendors
from connectors.base import Envelope, StoreError

EVERY_SECONDS = 900
OVERLAP = timedelta(minutes=15)  # deliveries coalesce for up to 10 minutes; clocks drift
FIRST_LOOKBACK = timedelta(days=1)
MAX_LOOKBACK = timedelta(days=7)


def reconcile(ctx: Context, shop_id: int) -> int:
    """One reconciliation pass of one shop; errors are recorded for the admin page, not raised."""
    shop = load_shop(ctx, shop_id)
    if shop is None:
        return 0
    started, url = ctx.now(), delivery_url(ctx, shop.shop_key)
    client = make_client(ctx, shop.url, shop.consumer_key, shop.consumer_secret)
    try:
        ours, reactivated, error = repair(client, shop, url)
        since = _since(shop.state, started)
        hooks: dict[str, str] = {}
        for webhook in ours:  # active ones come first
            hooks.setdefault(webhook.topic, webhook.webhook_id)
        # Deliveries are keyed with the webhook's id: the ids of webhooks since recreated still name them.
        seen = {*hook_ids(shop.state), *(w.webhook_id for w in ours)}
        stored = _feed(ctx, shop.id, "customer.created", client.recent_customers(since), hooks, seen)
        stored += _feed(ctx, shop.id, "order.updated", client.recent_orders(since), hooks, seen)
        refresh_store_info(ctx, shop.id, client)
        locales.refresh(ctx, shop.id, shop.state, client.site_locale)  # once a day: the report is slow
    except StoreError as exc:
        record_failure(ctx, shop.id, url, exc)
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
    name, job_id = jobnames.RECONCILE_WOOCOMMERCE, jobnames.reconcile_woocommerce_id
    return queue.requeue_all(ctx.redis, name, shop_ids, job_id, queue=queue.MAINTENANCE, retry=None)


def _since(settings: Mapping[str, Any], now: datetime) -> datetime:
    last = settings.get(RECONCILED_KEY)
    try:
        previous = datetime.fromisoformat(last) if isinstance(last, str) else None
    except ValueError:
        previous = None
    if previous is None:
        return now - FIRST_LOOKBACK
    return max(previous - OVERLAP, now - MAX_LOOKBACK)


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
    webhook_ids = sorted({*seen_hooks, *hooks.values(), ""})
    prepared = []
    for resource in resources:
        raw = json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode()
        # The keys a webhook of this state had or would have had: delivered once, stored once.
        keys = [_envelope(raw, t, hook).delivery_key for t in family for hook in webhook_ids]
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
    return vendors.woocommerce_envelope(raw, topic, webhook_id)


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
