"""The whole loop on a Shopify store: signed checkout → time passes → sweep → the journey's code step →
code on (fake) Shopify, every GraphQL document validated against the real 2026-10 schema → email on a real
SMTP server → order with the code → offer redeemed, cart recovered, revenue in the metrics."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Cart, JourneyRun, Offer, Ruleset, Shop
from bridge.outreach import codes, steps, sweep, triggers
from bridge.shops.registry import new_api_key
from tests.conftest import fixture
from tests.fakes.smtp import SMTPServer
from tests.integration.connectors.shopify.conftest import SHOP
from tests.integration.outreach.journeys_helpers import campaign, send_due_steps, single_offer_journeys


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def shop_id(ctx, install, run_jobs, smtp) -> int:
    ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url)
    assert install().status_code == 302
    run_jobs()
    with transaction(ctx.sessions) as session:
        shop = session.scalar(sa.select(Shop).where(Shop.domain == SHOP))
        document = {"campaign": campaign(), "journeys": single_offer_journeys()}
        session.add(
            Ruleset(shop_id=shop.id, version=1, document=document, created_at=ctx.now(), created_by="t")
        )
        return shop.id


def checkout_at(clock, email: str = "buyer@example.com") -> dict:
    payload = json.loads(fixture("shopify", "checkouts__create.json"))
    at = (clock() - timedelta(minutes=5)).isoformat()
    customer_id = int(hashlib.sha256(email.encode()).hexdigest()[:12], 16)
    payload.update(
        email=email,
        token="tok-e2e",
        cart_token="cart-e2e",
        created_at=at,
        updated_at=at,
        buyer_accepts_marketing=True,
    )
    payload["customer"].update(id=customer_id, email=email)
    return payload


def test_abandoned_checkout_to_redeemed_code_on_shopify(
    ctx, clock, fake, shop_id, smtp, post_shopify, run_jobs, client
):
    checkout = checkout_at(clock)
    assert post_shopify("checkouts/create", checkout, shop=SHOP).status_code == 200
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 1
    run_jobs()
    assert send_due_steps(ctx, clock, run_jobs) == 1

    with ctx.sessions() as s:
        offer = s.scalars(sa.select(Offer)).one()
    assert offer.status == "sent" and offer.platform_discount_id
    [discount] = [d for d in fake.discounts.values() if offer.code in json.dumps(d)]
    text = json.dumps(discount)
    assert f"gid://shopify/Customer/{checkout['customer']['id']}" in text  # only this customer may use it
    assert '"usageLimit": 1' in text
    creates = [c for c in fake.calls if c.operation and "Create" in c.operation and "iscount" in c.operation]
    assert len(creates) == 1, [c.operation for c in fake.calls]
    [message] = smtp.messages
    body = message.get_body(("plain",)).get_content()
    assert offer.code in body and message["To"] == "buyer@example.com"

    order = json.loads(fixture("shopify", "orders__create.json"))
    order.update(
        checkout_token=checkout["token"],
        cart_token=checkout["cart_token"],
        email=checkout["email"],
        created_at=clock().isoformat(),
        updated_at=clock().isoformat(),
        total_price="358.20",
        currency="EUR",  # Shopify states an order in the shop's currency (the fake shop's is EUR)
        discount_codes=[{"code": offer.code, "amount": "39.80", "type": "percentage"}],
    )
    order["customer"] = {**order["customer"], "id": checkout["customer"]["id"], "email": checkout["email"]}
    assert post_shopify("orders/create", order, shop=SHOP).status_code == 200
    run_jobs()
    with ctx.sessions() as s:
        offer = s.scalars(sa.select(Offer)).one()
        cart = s.scalars(sa.select(Cart)).one()
    assert offer.status == "redeemed" and offer.order_total == Decimal("358.20")
    assert cart.status == "recovered"
    with transaction(ctx.sessions) as session:  # the key is kept only as a hash: give the shop a new one
        api_key = new_api_key(session.get(Shop, shop_id))
    period = {
        "from": (clock() - timedelta(days=1)).isoformat(),
        "to": (clock() + timedelta(days=1)).isoformat(),
    }
    answer = client.get(
        "/api/v1/metrics", query_string=period, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    figures = answer.json
    revenue = figures["revenue"]
    assert revenue["currency"] == "EUR" and list(revenue["by_currency"]) == ["EUR"]
    assert revenue["recovered"] == revenue["recovered_treated"] == revenue["from_codes"] == "358.20"
    assert figures["offers"] == {"sent": 1, "redeemed": 1, "redemption_rate": 1.0}
    assert figures["carts"]["recovered"] == figures["recovery"]["treated_carts"] == 1


def test_store_outage_is_retried_without_duplicate_codes(
    ctx, clock, fake, shop_id, smtp, post_shopify, run_jobs
):
    post_shopify("checkouts/create", checkout_at(clock), shop=SHOP)
    run_jobs()
    clock.advance(minutes=61)
    with ctx.sessions() as s:
        cart_id = s.scalars(sa.select(Cart.id)).one()
    assert sweep.mark_abandoned(ctx, shop_id, [cart_id], clock()) == [cart_id]  # as the sweep's job does
    assert triggers.start_cart_run(ctx, cart_id) == "started"
    clock.advance(minutes=1)
    with ctx.sessions() as s:
        run_id = s.scalars(sa.select(JourneyRun.id)).one()
    assert steps.advance(ctx, run_id) == "sent"  # the code step: planned, its code job queued
    with ctx.sessions() as s:
        offer_id = s.scalars(sa.select(Offer.id)).one()
    fake.fail_next(50, status=503)
    with pytest.raises(codes.StoreRetry):
        codes.create_on_store(ctx, offer_id)
    with ctx.sessions() as s:
        offer = s.get(Offer, offer_id)
    assert offer.status == "planned" and offer.error and offer.attempts == 1
    fake.fail_next(0)
    assert codes.create_on_store(ctx, offer_id) == "created"
    assert codes.create_on_store(ctx, offer_id) == "not_planned"  # a late duplicate job changes nothing
    made = [d for d in fake.discounts.values() if str(offer.code) in json.dumps(d)]
    assert len(made) == 1
