"""Webhook receivers: verify, store once, enqueue the id after commit, answer at once."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy.dialects import postgresql, sqlite

from bridge import jobs, observability, queue, shops
from bridge.db import transaction
from bridge.models import Event
from bridge.runtime import Context
from bridge.web import context
from connectors.base import Envelope, PayloadError, WebhookAdapter

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)
RELAY_BATCH = 128


def read_body(limit: int) -> bytes:
    """The raw request body, refused with 413 past `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        abort(413)
    return raw


@bp.post("/webhooks/shopify")
def shopify() -> Response | tuple[Response, int]:
    """Shopify deliveries; the shop comes from X-Shopify-Shop-Domain."""
    ctx = context()
    raw = read_body(ctx.settings.max_body_bytes)
    domain = request.headers.get("X-Shopify-Shop-Domain", "").strip().lower()
    signer = ctx.signers.by_domain("shopify", domain) if domain else None
    return accept(ctx, signer, ctx.adapters["shopify"], raw)


@bp.post("/webhooks/woocommerce/<shop_key>")
def woocommerce(shop_key: str) -> Response | tuple[Response, int]:
    """WooCommerce deliveries; the creation ping gets exactly 200 and is not an event."""
    ctx = context()
    raw = read_body(ctx.settings.max_body_bytes)
    adapter = ctx.adapters["woocommerce"]
    if adapter.is_ping(raw, request.headers):  # type: ignore[attr-defined]
        return jsonify(ok=True, ping=True)
    signer = ctx.signers.by_key(shop_key)
    return accept(ctx, signer if signer and signer.platform == "woocommerce" else None, adapter, raw)


def accept(
    ctx: Context, signer: shops.Signer | None, adapter: WebhookAdapter, raw: bytes
) -> Response | tuple[Response, int]:
    """Verify, insert once, commit, enqueue; 401 when the delivery is not authentic."""
    if signer is None or not adapter.verify(raw, request.headers, signer.secrets):
        return jsonify(error="unknown shop or bad signature"), 401
    envelope = _envelope(adapter, raw, request.headers)
    event_id = ctx.writer.submit(event_values(ctx, signer.shop_id, envelope, raw))
    observability.webhook_stored(envelope.topic, event_id is None)
    return Response(_DUPLICATE if event_id is None else _STORED, mimetype="application/json")


_STORED, _DUPLICATE = b'{"ok":true,"duplicate":false}\n', b'{"ok":true,"duplicate":true}\n'


def _envelope(adapter: WebhookAdapter, raw: bytes, headers: Mapping[str, str]) -> Envelope:
    """The delivery's identity; an authentic delivery without a topic is still kept (and flagged)."""
    try:
        return adapter.envelope(raw, headers)
    except PayloadError:
        return Envelope(topic="unknown", delivery_key="body:" + hashlib.sha256(raw).hexdigest())


def event_values(ctx: Context, shop_id: int, env: Envelope, raw: bytes) -> dict[str, object]:
    """The `events` row of one delivery."""
    now = ctx.now()
    return {
        "shop_id": shop_id,
        "topic": env.topic[:100],
        "delivery_key": env.delivery_key[:255],
        "received_at": now,
        "triggered_at": env.triggered_at,
        "payload": raw.decode("utf-8", errors="replace"),
        "status": "pending",
        "attempts": 0,
        "available_at": now + timedelta(seconds=ctx.settings.relay_after_seconds),
    }


def store_event(ctx: Context, shop_id: int, env: Envelope, raw: bytes) -> int | None:
    """Insert the event row and commit (the caller enqueues); None when this delivery was already stored."""
    values = event_values(ctx, shop_id, env, raw)
    dialect = sqlite if ctx.engine.dialect.name == "sqlite" else postgresql
    stmt = (
        dialect.insert(Event)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["shop_id", "delivery_key"])
        .returning(Event.id)
    )
    with ctx.engine.begin() as conn:
        return conn.scalar(stmt)


def relay(ctx: Context, limit: int = 500) -> int:
    """Re-enqueue pending events whose job was lost (Redis down at ingest, worker crash)."""
    now = ctx.now()
    lease = timedelta(seconds=ctx.settings.job_lease_seconds)
    with transaction(ctx.sessions) as session:
        due = session.execute(
            sa.select(Event.id, Event.job_id)
            .where(Event.status == "pending", Event.available_at <= now)
            .order_by(Event.available_at)
            .limit(limit)
        ).all()
        carriers: dict[str, list[int]] = {}
        for event_id, job_id in due:  # a batch job carries many events; a replayed one its own
            carriers.setdefault(job_id or jobs.event_job_id(event_id), []).append(event_id)
        orphans, touched = [], []
        for job_id, event_ids in carriers.items():
            try:
                live = queue.job_is_live(ctx.redis, job_id)
            except (RedisError, OSError):
                break  # Redis still down: leave the rest due for the next run
            (touched if live else orphans).extend(event_ids)
        requeued: list[int] = []
        for at in range(0, len(orphans), RELAY_BATCH):  # batches the size of an ingest batch at most
            chunk = orphans[at : at + RELAY_BATCH]
            job_id = f"events-relay-{secrets.token_hex(8)}"
            if not queue.enqueue_batch(ctx.redis, job_id, chunk):
                break
            requeued += chunk
            session.execute(sa.update(Event).where(Event.id.in_(chunk)).values(job_id=job_id))
        touched += requeued
        if touched:
            session.execute(sa.update(Event).where(Event.id.in_(touched)).values(available_at=now + lease))
    if requeued:
        log.info("relay re-enqueued %d event(s)", len(requeued))
    return len(requeued)
