"""Shared steps of the alerts tests: a lead made hot by its own activity, alerts saved through the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, Cart, Lead, LeadProduct, Product
from bridge.leads import scores

HOT_ACTIVITIES = [("checkout_started", 3), ("add_to_cart", 2)]  # 60 + 30 + 5 for consent: 95, hot


def warm_lead(ctx: Any, shop_id: int, email: str = "ana@example.com", **extra: Any) -> int:
    """A lead with activities enough to be hot once scored, a product viewed and an open cart."""
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        lead = Lead(
            shop_id=shop_id,
            email=email,
            first_name="Ana",
            last_name="Lopez",
            accepts_marketing=True,
            created_at=now - timedelta(days=2),
            tier="warm",
            score=50,
            **extra,
        )
        session.add(lead)
        session.flush()
        for kind, count in HOT_ACTIVITIES:
            for n in range(count):
                session.add(
                    Activity(
                        shop_id=shop_id,
                        lead_id=lead.id,
                        kind=kind,
                        occurred_at=now - timedelta(hours=n + 1),
                        ref=f"{kind}-{n}",
                    )
                )
        known = session.scalar(sa.select(Product.id).where(Product.shop_id == shop_id))
        session.add_all(
            []
            if known
            else [
                Product(
                    shop_id=shop_id,
                    product_id="8001",
                    title="Linen shirt",
                    collections=["shirts"],
                    tags=[],
                    first_seen_at=now,
                    updated_at=now,
                )
            ]
        )
        session.add(
            LeadProduct(
                shop_id=shop_id,
                lead_id=lead.id,
                product_id="8001",
                action="viewed",
                count=2,
                first_at=now - timedelta(hours=3),
                last_at=now - timedelta(hours=1),
            )
        )
        session.add(
            Cart(
                shop_id=shop_id,
                lead_id=lead.id,
                cart_token=f"tok-{email}",
                email=email,
                currency="EUR",
                subtotal=Decimal("129.90"),
                created_at=now - timedelta(hours=2),
                last_activity_at=now - timedelta(hours=1),
            )
        )
        return lead.id


def make_hot(ctx: Any, shop_id: int, lead_id: int) -> None:
    """Score the lead after an event of its own, then run the follow-ups (as the pipeline does)."""
    scores.score_and_commit(ctx, shop_id, [lead_id], "event checkouts/create")


def put_alerts(client: Any, api_key: str, document: dict[str, Any]) -> Any:
    return client.put("/api/v1/alerts", json=document, headers={"Authorization": f"Bearer {api_key}"})


def api_get(client: Any, api_key: str, path: str) -> Any:
    return client.get(path, headers={"Authorization": f"Bearer {api_key}"})


def api_post(client: Any, api_key: str, path: str) -> Any:
    return client.post(path, headers={"Authorization": f"Bearer {api_key}"})
