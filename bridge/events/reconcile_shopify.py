"""Reconciliation: Shopify does not guarantee webhook delivery, so recent checkouts and orders are re-read.

What the API returns is reshaped into webhook payloads (connectors.shopify.graphql) and stored as events
through the same durable path as a delivery; the facts are applied idempotently, so anything a webhook
already brought changes nothing. The delivery key names the record and its `updated_at`, so an unchanged
record read twice is stored once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bridge.db import locked, transaction
from bridge.db.models import Shop
from bridge.events.ingest import store_event
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.shops import locales
from bridge.shops.shopify_setup import per_shop_webhooks, subscribe
from bridge.shops.tokens import shopify_client_for
from connectors.base import Envelope, StoreError
from connectors.registry import ShopifyClient

log = logging.getLogger(__name__)

FIRST_WINDOW = timedelta(hours=24)  # how far back the first run looks
OVERLAP = timedelta(minutes=10)  # re-read a little before the last run: clocks and slow writes
STAMP = "reconciled_at"


def enqueue_all(ctx: Context) -> int:
    """Queue one reconciliation per installed Shopify shop (and the setup of shops that never finished it)."""
    with ctx.sessions() as session:
        rows = session.execute(
            sa.select(Shop.id, Shop.state).where(
                Shop.platform == "shopify", Shop.uninstalled_at.is_(None), Shop.access_token_enc.is_not(None)
            )
        ).all()
    queued = 0
    for shop_id, state in rows:
        if not (state or {}).get("webhooks"):  # the install's setup job was lost (Redis down)
            _enqueue_once(ctx, jobnames.SETUP_SHOP, shop_id, jobnames.setup_shop_id(shop_id))
        queued += _enqueue_once(
            ctx, jobnames.RECONCILE_SHOPIFY, shop_id, jobnames.reconcile_shopify_id(shop_id)
        )
    return queued


def _enqueue_once(ctx: Context, func: str, shop_id: int, name: str) -> int:
    return int(queue.requeue(ctx.redis, func, shop_id, job_id=name, queue=queue.MAINTENANCE) == "queued")


def reconcile_shop(ctx: Context, shop_id: int, client: ShopifyClient | None = None) -> int:
    """Read what changed since the last run and store it as events; the number of new events."""
    with ctx.sessions() as session:
        shop = session.get(Shop, shop_id)
    if shop is None or shop.platform != "shopify" or shop.uninstalled_at is not None:
        return 0
    started = ctx.now()
    since = _since(shop, started)
    client = client or shopify_client_for(ctx, shop)
    hooks = _kept_subscriptions(ctx, client, shop)
    locales.refresh(ctx, shop_id, shop.state, client.primary_locale)  # once a day
    records = [("checkouts/update", p) for p in client.recent_abandoned_checkouts(since)]
    records += [("orders/create", p) for p in client.recent_orders(since)]
    new: list[int] = []
    for topic, payload in records:
        for delivery_topic, key in _deliveries(topic, payload):
            envelope = Envelope(topic=delivery_topic, delivery_key=key)
            event_id = store_event(ctx, shop_id, envelope, json.dumps(payload).encode())
            new += [] if event_id is None else [event_id]
    queue.enqueue_events(ctx.redis, new)  # after the commits; the relay covers a Redis outage
    _stamp(ctx, shop_id, started, hooks)
    if new:
        log.info("reconcile: shop %s, %d event(s) the webhooks had not brought", shop_id, len(new))
    return len(new)


def _since(shop: Shop, now: datetime) -> datetime:
    stamp = (shop.state or {}).get(STAMP)
    if not stamp:
        return now - FIRST_WINDOW
    return max(datetime.fromisoformat(stamp) - OVERLAP, now - FIRST_WINDOW)


def _deliveries(topic: str, payload: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(topic, delivery key) of each event a record stands for."""
    if topic == "checkouts/update" and not payload.get("token"):
        log.info("reconcile: checkout %s has no token in its recovery URL; skipped", payload.get("id"))
        return
    identity = payload.get("token") if topic == "checkouts/update" else payload.get("id")
    yield topic, f"reconcile:{topic}:{identity}:{payload.get('updated_at')}"
    if topic == "orders/create" and payload.get("cancelled_at"):
        yield "orders/cancelled", f"reconcile:orders/cancelled:{identity}:{payload['cancelled_at']}"


def _kept_subscriptions(ctx: Context, client: ShopifyClient, shop: Shop) -> dict[str, Any] | None:
    """An older install's per-shop webhook subscriptions, re-created where Shopify deleted them (it does
    after repeated failed deliveries); None for app-specific subscriptions or when the store refused."""
    if not per_shop_webhooks(shop):
        return None
    before = set((shop.state or {})["webhooks"]["ids"])
    try:
        hooks = subscribe(ctx, client, shop)
    except StoreError as exc:  # the checkouts and orders are still worth reading
        log.warning("reconcile: shop %s webhook subscriptions not checked (%s)", shop.id, exc.code or exc)
        return None
    missing = len(set(hooks["ids"]) - before)
    if missing:
        log.warning("reconcile: shop %s had lost %d webhook subscription(s); re-created", shop.id, missing)
    return hooks


def _stamp(ctx: Context, shop_id: int, started: datetime, hooks: dict[str, Any] | None = None) -> None:
    with transaction(ctx.sessions) as session:
        shop = locked(session, Shop, shop_id, Shop.name)  # settings are rewritten whole: no lost write
        if shop is not None:
            kept = {"webhooks": hooks} if hooks else {}
            shop.state = {**(shop.state or {}), STAMP: started.isoformat(), **kept}
