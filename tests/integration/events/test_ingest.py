"""Webhook ingest on SQLite and PostgreSQL: verify, store once, enqueue after commit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import sqlalchemy as sa
from rq import Queue
from rq.job import Job

from bridge.db.models import Event
from tests.conftest import fixture


def events(ctx) -> list[Event]:
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(Event).order_by(Event.id)))


def test_signed_delivery_is_stored_once_and_enqueued(ctx, shopify_shop, post_shopify):
    raw = fixture("shopify", "checkouts__create.json")
    first = post_shopify("checkouts/create", raw, event_id="evt-1")
    again = post_shopify("checkouts/create", raw, event_id="evt-1")
    assert first.status_code == 200 and first.json == {"ok": True, "duplicate": False}
    assert again.status_code == 200 and again.json["duplicate"] is True
    stored = events(ctx)
    assert len(stored) == 1
    assert stored[0].status == "pending" and stored[0].delivery_key == "checkouts/create:evt-1"
    assert stored[0].payload.encode() == raw  # raw bytes kept as sent
    [job_id] = Queue("events", connection=ctx.redis).job_ids  # one job per group-commit batch
    assert job_id == stored[0].job_id and Job.fetch(job_id, connection=ctx.redis).args == ([stored[0].id],)


def test_same_event_on_another_topic_is_another_delivery(ctx, shopify_shop, post_shopify):
    raw = fixture("shopify", "orders__create.json")
    post_shopify("orders/create", raw, event_id="evt-9")
    post_shopify("orders/paid", raw, event_id="evt-9")
    assert [e.topic for e in events(ctx)] == ["orders/create", "orders/paid"]


def test_forged_or_unsigned_deliveries_get_401_and_store_nothing(ctx, shopify_shop, post_shopify):
    raw = fixture("shopify", "orders__create.json")
    assert post_shopify("orders/create", raw, secret="not-the-secret").status_code == 401
    assert post_shopify("orders/create", raw, signature="").status_code == 401
    tampered = raw.replace(b"398.00", b"1.00")
    assert (
        post_shopify("orders/create", tampered, signature=base64.b64encode(b"x" * 32).decode()).status_code
        == 401
    )
    assert post_shopify("orders/create", raw, shop="other.myshopify.com").status_code == 401
    assert events(ctx) == []
    assert Queue("events", connection=ctx.redis).count == 0


def test_rotated_secret_still_accepted(ctx, settings, shopify_shop, post_shopify):
    from bridge.app import create_app
    from bridge.shops.registry import SignerCache
    from bridge.wiring import Context

    new_settings = settings.with_overrides(
        shopify_api_secret="new-secret", shopify_previous_secret=settings.shopify_api_secret
    )
    signers = SignerCache(ctx.sessions, ctx.vault, new_settings)
    rotated = Context(**{**ctx.__dict__, "settings": new_settings, "signers": signers})
    client = create_app(rotated.settings, ctx=rotated).test_client()
    raw = b'{"id": 1}'
    for secret in ("new-secret", settings.shopify_api_secret):
        sig = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
        response = client.post(
            "/webhooks/shopify",
            data=raw,
            headers={
                "X-Shopify-Topic": "customers/update",
                "X-Shopify-Shop-Domain": "demo.myshopify.com",
                "X-Shopify-Hmac-Sha256": sig,
                "X-Shopify-Event-Id": secret,
            },
        )
        assert response.status_code == 200
    assert len(events(ctx)) == 2


def test_oversized_body_is_refused_with_413(ctx, shopify_shop, post_shopify):
    raw = json.dumps({"note": "x" * (ctx.settings.max_body_bytes + 10)}).encode()
    assert post_shopify("carts/update", raw).status_code == 413
    assert events(ctx) == []


def test_woocommerce_ping_gets_exactly_200_and_is_not_an_event(ctx, client, woo_shop):
    response = client.post(
        f"/webhooks/woocommerce/{woo_shop['shop_key']}",
        data="webhook_id=17",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "WooCommerce/8.0 Hookshot",
        },
    )
    assert response.status_code == 200
    assert events(ctx) == []


def _woo_headers(raw: bytes, secret: str, topic: str = "order.updated") -> dict[str, str]:
    sig = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return {
        "X-WC-Webhook-Signature": sig,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-ID": "5",
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Delivery-ID": "abc",
        "Content-Type": "application/json",
    }


def test_woocommerce_signed_delivery_is_stored_and_deduplicated(ctx, client, woo_shop):
    raw = fixture("woocommerce", "order.updated.json")
    url = f"/webhooks/woocommerce/{woo_shop['shop_key']}"
    for _ in range(2):
        assert client.post(url, data=raw, headers=_woo_headers(raw, woo_shop["secret"])).status_code == 200
    assert len(events(ctx)) == 1
    assert client.post(url, data=raw, headers=_woo_headers(raw, "wrong")).status_code == 401
    assert (
        client.post(
            "/webhooks/woocommerce/s_unknown", data=raw, headers=_woo_headers(raw, woo_shop["secret"])
        ).status_code
        == 401
    )
    assert len(events(ctx)) == 1


def test_redis_down_at_ingest_still_acknowledges_and_relay_recovers(
    ctx, shopify_shop, post_shopify, clock, run_jobs
):
    from redis import Redis

    from bridge.events.ingest import relay

    live_redis = ctx.redis
    ctx.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)  # nothing listens there
    raw = fixture("shopify", "customers__create.json")
    assert post_shopify("customers/create", raw).status_code == 200
    assert relay(ctx) == 0  # Redis still down: nothing lost, nothing done
    ctx.redis = live_redis
    assert relay(ctx) == 0  # not due yet: a fresh event may still be on its way
    clock.advance(seconds=ctx.settings.relay_after_seconds + 1)
    assert relay(ctx) == 1
    assert relay(ctx) == 0  # its job is queued now: no second copy
    run_jobs()
    assert [e.status for e in events(ctx)] == ["processed"]
