"""The demo's player: posts signed deliveries to the app's own endpoints and runs the jobs they queue."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import sqlalchemy as sa

from bridge.app import create_app
from bridge.db.models import Event, Shop
from bridge.demo.story import DOMAIN
from bridge.infra import queue
from bridge.infra.context import Context
from connectors import registry as vendors

log = logging.getLogger(__name__)


class Player:
    """Posts signed deliveries to the app's webhook endpoint and runs the jobs they queue."""

    def __init__(self, ctx: Context, shop_id: int, secret: str) -> None:
        self.ctx, self.shop_id, self.secret = ctx, shop_id, secret
        self.client = create_app(ctx.settings, ctx=ctx, extensions=()).test_client()

    def play(self, deliveries: list[tuple[str, dict[str, Any]]]) -> None:
        """Sign and post each (topic, payload) like Shopify would."""
        for topic, payload in deliveries:
            raw = json.dumps(payload).encode()
            headers = {
                "X-Shopify-Topic": topic,
                "X-Shopify-Shop-Domain": DOMAIN,
                "X-Shopify-Hmac-Sha256": vendors.shopify_signature(raw, self.secret),
                "X-Shopify-Event-Id": str(uuid.uuid4()),
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Triggered-At": payload.get("updated_at") or payload.get("created_at") or "",
                "Content-Type": "application/json",
            }
            response = self.client.post("/webhooks/shopify", data=raw, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"demo delivery {topic} refused: {response.status_code}")

    def collect(self, events: list[dict[str, Any]]) -> None:
        """Post storefront events (product views, sign-ups) like the web pixel would."""
        with self.ctx.sessions() as session:
            key = session.scalar(sa.select(Shop.public_key).where(Shop.id == self.shop_id))
        for event in events:
            response = self.client.post(f"/collect/{key}", json=event)
            if response.status_code != 202:
                raise RuntimeError(f"demo storefront event refused: {response.status_code}")

    def drain(self, timeout: float = 120.0) -> None:
        """Run queued jobs until the demo shop has no pending event (another worker may help)."""
        deadline = time.monotonic() + timeout
        worker = queue.thread_worker(self.ctx.redis)
        while time.monotonic() < deadline:
            worker.work(burst=True, logging_level="WARNING")
            with self.ctx.sessions() as session:
                pending = session.scalar(
                    sa.select(sa.func.count()).where(Event.shop_id == self.shop_id, Event.status == "pending")
                )
            if not pending and not any(queue.queue_depths(self.ctx.redis).values()):
                return
            time.sleep(0.2)
        log.warning("demo: jobs still pending after %.0f s", timeout)
