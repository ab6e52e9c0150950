"""Webhook receivers: verify, store once, enqueue the id after commit, answer at once."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import cast

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy.dialects import postgresql, sqlite

from bridge.db import transaction
from bridge.db.models import Event
from bridge.infra import jobnames, observability, queue
from bridge.infra.context import Context, Signer
from bridge.infra.web import context
from connectors import registry as vendors
from connectors.base import Envelope, PayloadError, WebhookAdapter

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)
PLUGIN_MAX_BODY = 256 * 1024  # the companion plugin's cart events are small
RELAY_BATCH = 128
# Shopify waits 5 s for an answer: a delivery whose row is not committed by then answers 503 (it retries).
DB_WAIT_SECONDS = 4.0
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


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
    note_api_version(request.headers.get("X-Shopify-API-Version", ""), ctx.settings.shopify_api_version)
    domain = request.headers.get("X-Shopify-Shop-Domain", "").strip().lower()
    signer = ctx.signers.by_domain("shopify", domain) if domain else None
    adapter = ctx.adapters["shopify"]
    if signer is None and _compliance_for_gone_shop(ctx, adapter, raw):
        return Response(_NOTHING_HELD, mimetype="application/json")
    return accept(ctx, signer, adapter, raw)


def _compliance_for_gone_shop(ctx: Context, adapter: WebhookAdapter, raw: bytes) -> bool:
    """A privacy webhook, signed with our app secret, for a shop we do not know (never installed, or
    already erased by shop/redact): there is nothing to export or erase, and a 401 would only make
    Shopify retry an authentic delivery."""
    if request.headers.get("X-Shopify-Topic", "").strip().lower() not in COMPLIANCE_TOPICS:
        return False
    found = [s for s in (ctx.settings.shopify_api_secret, ctx.settings.shopify_previous_secret) if s]
    return bool(found) and adapter.verify(raw, _headers(), found)


def note_api_version(version: str, pinned: str) -> None:
    """Log each Admin API version Shopify serializes payloads with, once per process; warn when it is
    not the pinned one (payload fields may differ)."""
    version = version.strip()[:20]
    seen: set[str] = current_app.extensions.setdefault("relance.webhook_api_versions", set())
    if not version or version in seen:
        return
    seen.add(version)  # a race logs a version twice at worst
    if version == pinned:
        log.info("Shopify webhooks arrive in API version %s", version)
    else:
        log.warning(
            "Shopify webhooks arrive in API version %s, not the pinned %s (SHOPIFY_API_VERSION)",
            version,
            pinned,
        )


@bp.post("/webhooks/woocommerce/<shop_key>")
def woocommerce(shop_key: str) -> Response | tuple[Response, int]:
    """WooCommerce deliveries; the creation ping gets exactly 200 and is not an event."""
    ctx = context()
    raw = read_body(ctx.settings.max_body_bytes)
    adapter = ctx.adapters["woocommerce"]
    if adapter.is_ping(raw, _headers()):
        return jsonify(ok=True, ping=True)
    signer = ctx.signers.by_key(shop_key)
    return accept(ctx, signer if signer and signer.platform == "woocommerce" else None, adapter, raw)


def accept(
    ctx: Context, signer: Signer | None, adapter: WebhookAdapter, raw: bytes
) -> Response | tuple[Response, int]:
    """Verify, insert once, commit, enqueue; 401 when the delivery is not authentic."""
    if signer is None or not adapter.verify(raw, _headers(), signer.secrets):
        return jsonify(error="unknown shop or bad signature"), 401
    envelope = _envelope(adapter, raw, _headers())
    row = event_values(ctx, signer.shop_id, envelope, raw)
    try:
        event_id = ctx.writer.submit(row, timeout=DB_WAIT_SECONDS)
    except TimeoutError:  # a held lock or a full pool: answer before Shopify gives up and counts a failure
        log.error("webhook not stored within %.0f s: answering 503", DB_WAIT_SECONDS)
        busy = jsonify(error="database busy, retry later")
        busy.headers["Retry-After"] = "5"
        return busy, 503
    observability.webhook_stored(envelope.topic, event_id is None)
    return Response(_DUPLICATE if event_id is None else _STORED, mimetype="application/json")


_STORED, _DUPLICATE = b'{"ok":true,"duplicate":false}\n', b'{"ok":true,"duplicate":true}\n'
_NOTHING_HELD = b'{"ok":true,"shop":"unknown"}\n'


def _headers() -> Mapping[str, str]:
    """The request's headers as the adapters read them (`get` and `items`, names in any case): werkzeug's
    Headers does both, but is not registered as a Mapping."""
    return cast("Mapping[str, str]", request.headers)


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
        event_id: int | None = conn.scalar(stmt)
    return event_id


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
            carriers.setdefault(job_id or jobnames.event_id(event_id), []).append(event_id)
        orphans: list[int] = []
        touched: list[int] = []
        for job_id, event_ids in carriers.items():
            try:
                live = queue.job_is_live(ctx.redis, job_id)
            except (RedisError, OSError):
                break  # Redis still down: leave the rest due for the next run
            (touched if live else orphans).extend(event_ids)
        requeued: list[int] = []
        for at in range(0, len(orphans), RELAY_BATCH):  # batches the size of an ingest batch at most
            chunk = orphans[at : at + RELAY_BATCH]
            job_id = jobnames.relay_batch_id(secrets.token_hex(8))
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


@bp.post("/webhooks/wordpress/<shop_key>")
def wordpress(shop_key: str) -> Response | tuple[Response, int]:
    """Signed cart events of the companion plugin; stored and processed like webhooks."""
    ctx = context()
    raw = read_body(min(ctx.settings.max_body_bytes, PLUGIN_MAX_BODY))
    signer = ctx.signers.by_key(shop_key)
    if signer is not None and signer.platform != "woocommerce":
        signer = None
    return accept(ctx, signer, vendors.webhook_adapter("wordpress", clock=ctx.now), raw)
