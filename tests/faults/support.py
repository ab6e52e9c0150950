"""Signed Shopify deliveries for the fault and scale-out suites: customers, checkouts and orders."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tests.conftest import APP_SECRET, fixture, shopify_sign

Delivery = tuple[str, bytes, dict[str, str]]  # (path, body, headers)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def customer_id(i: int) -> int:
    return 7_000_000 + i


def customer(i: int, at: datetime, first_name: str = "Ann") -> dict[str, Any]:
    """customers/create (or update) of customer `i`."""
    body = json.loads(fixture("shopify", "customers__create.json"))
    body.update(
        id=customer_id(i),
        email=f"c{i}@example.com",
        first_name=first_name,
        created_at=_iso(at),
        updated_at=_iso(at),
    )
    body["admin_graphql_api_id"] = f"gid://shopify/Customer/{customer_id(i)}"
    return body


def checkout(
    i: int, at: datetime, created: datetime | None = None, subtotal: str = "120.00"
) -> dict[str, Any]:
    """checkouts/create (or update) of customer `i`'s checkout, last changed at `at`."""
    body = json.loads(fixture("shopify", "checkouts__create.json"))
    body.update(
        token=f"chk-{i}",
        cart_token=f"cart-{i}",
        email=f"c{i}@example.com",
        created_at=_iso(created or at),
        updated_at=_iso(at),
        buyer_accepts_marketing=True,
        subtotal_price=subtotal,
        total_price=subtotal,
    )
    body["customer"] = {**body["customer"], "id": customer_id(i), "email": f"c{i}@example.com"}
    return body


def order(i: int, at: datetime) -> dict[str, Any]:
    """orders/create for customer `i`'s checkout."""
    body = json.loads(fixture("shopify", "orders__create.json"))
    body.update(
        id=9_000_000 + i,
        checkout_token=f"chk-{i}",
        cart_token=f"cart-{i}",
        email=f"c{i}@example.com",
        contact_email=f"c{i}@example.com",
        created_at=_iso(at),
        updated_at=_iso(at),
        processed_at=_iso(at),
        cancelled_at=None,
        cancel_reason=None,
        financial_status="paid",
        discount_codes=[],
    )
    body["admin_graphql_api_id"] = f"gid://shopify/Order/{9_000_000 + i}"
    body["customer"] = {**body["customer"], "id": customer_id(i), "email": f"c{i}@example.com"}
    return body


def signed(
    topic: str, body: dict[str, Any], event_id: str, domain: str, secret: str = APP_SECRET
) -> Delivery:
    """One delivery as Shopify sends it, signed for real."""
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": domain,
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Webhook-Id": f"wh-{event_id}",
        "X-Shopify-Hmac-Sha256": shopify_sign(raw, secret),
    }
    return "/webhooks/shopify", raw, headers


def store_shop(ctx: Any, domain: str) -> int:
    """A Shopify shop with a fresh expiring access token (no refresh needed during the test)."""
    from datetime import timedelta

    from bridge.db import transaction
    from bridge.shops.registry import create_shop

    with transaction(ctx.sessions) as s:
        shop = create_shop(
            s, ctx.vault, platform="shopify", domain=domain, now=ctx.now(), access_token="shpat_live"
        ).shop
        shop.refresh_token_enc = ctx.vault.encrypt("shprt_live")
        shop.token_expires_at = ctx.now() + timedelta(days=1)
        shop.refresh_expires_at = ctx.now() + timedelta(days=90)
        shop.currency = "EUR"
        s.flush()
        return int(shop.id)


def planned_offer(ctx: Any, shop_id: int, i: int, attempts: int = 0) -> int:
    """An abandoned cart of lead `i` with its planned offer (code chosen, not yet on the store)."""
    from datetime import timedelta
    from decimal import Decimal

    import campaigns
    from bridge.db import transaction
    from bridge.db.models import Cart, Lead, Offer

    now = ctx.now()
    with transaction(ctx.sessions) as s:
        lead = Lead(  # a lead the policy would offer to: consent given (the final check looks again)
            shop_id=shop_id,
            email=f"c{i}@example.com",
            external_id=str(customer_id(i)),
            created_at=now,
            accepts_marketing=True,
        )
        s.add(lead)
        s.flush()
        cart = Cart(
            shop_id=shop_id,
            lead_id=lead.id,
            checkout_token=f"chk-{i}",
            email=lead.email,
            created_at=now,
            last_activity_at=now - timedelta(hours=2),
            status="abandoned",
            abandoned_at=now,
            subtotal=Decimal(120),
        )
        s.add(cart)
        s.flush()
        starts, expires = campaigns.offer_window(now, 24)
        offer = Offer(
            shop_id=shop_id,
            lead_id=lead.id,
            cart_id=cart.id,
            reason="abandoned_cart",
            kind="percentage",
            value=Decimal(10),
            currency="EUR",
            created_at=now,
            recipient=lead.email,
            status="planned",
            code=campaigns.generate_code("RL"),
            starts_at=starts,
            expires_at=expires,
            send_at=now,
            attempts=attempts,
        )
        s.add(offer)
        s.flush()
        return int(offer.id)
