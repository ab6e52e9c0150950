"""Reconciliation: recent checkouts and orders re-read through the API add only what webhooks missed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bridge import jobs
from bridge.db import transaction
from bridge.db.models import Activity, Cart, Event, Lead, Order, Shop
from bridge.events import reconcile_shopify
from bridge.infra import jobnames, queue
from bridge.shops.registry import create_shop
from bridge.shops.shopify_setup import WEBHOOK_TOPICS
from tests.integration.connectors.shopify.conftest import SHOP

EMAIL = "ana@example.com"
CUSTOMER_ID = 880011223344  # distinctive: the privacy tests search every table for it


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "EUR"}}


def checkout(now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same abandoned checkout as a checkouts/update webhook body and as an API node."""
    created, updated = iso(now - timedelta(hours=3)), iso(now - timedelta(hours=2))
    url = "https://relance-test.myshopify.com/1/checkouts/tok1/recover?key=k1"
    webhook = {
        "token": "tok1", "email": EMAIL, "currency": "EUR", "subtotal_price": "40.00", "total_price": "42.00",
        "customer": {"id": CUSTOMER_ID, "email": EMAIL, "first_name": "Ana",
                     "email_marketing_consent": {"state": "not_subscribed"}},
        "abandoned_checkout_url": url, "completed_at": None, "created_at": created, "updated_at": updated,
        "line_items": [{"title": "Mug", "quantity": 2, "price": "20.00"}],
    }  # fmt: skip
    node = {
        "id": "gid://shopify/AbandonedCheckout/77", "abandonedCheckoutUrl": url, "discountCodes": [],
        "createdAt": created, "updatedAt": updated, "completedAt": None,
        "totalPriceSet": money("42.00"), "subtotalPriceSet": money("40.00"),
        "customer": {"id": f"gid://shopify/Customer/{CUSTOMER_ID}", "firstName": "Ana", "lastName": None,
                     "defaultEmailAddress": {"emailAddress": EMAIL, "marketingState": "NOT_SUBSCRIBED"}},
        "lineItems": {"nodes": [{"title": "Mug", "quantity": 2, "originalUnitPriceSet": money("20.00")}]},
    }  # fmt: skip
    return webhook, node


def order(now: datetime, cancelled: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same order as an orders/create webhook body and as an API node."""
    at = iso(now - timedelta(hours=1))
    webhook = {
        "id": 9001, "email": EMAIL, "checkout_token": "tok1", "cart_token": None, "currency": "EUR",
        "total_price": "36.00", "discount_codes": [], "created_at": at, "updated_at": at,
        "customer": {"id": CUSTOMER_ID, "email": EMAIL}, "buyer_accepts_marketing": False,
    }  # fmt: skip
    node = {
        "id": "gid://shopify/Order/9001", "name": "#1001", "email": EMAIL, "cartToken": None,
        "checkoutToken": "tok1", "currencyCode": "EUR", "discountCodes": [],
        "customerAcceptsMarketing": False, "sourceName": "web", "createdAt": at, "updatedAt": at,
        "cancelledAt": at if cancelled else None,
        "totalPriceSet": money("36.00"), "subtotalPriceSet": money("40.00"),
        "customer": {"id": f"gid://shopify/Customer/{CUSTOMER_ID}", "firstName": None, "lastName": None,
                     "defaultEmailAddress": {"emailAddress": EMAIL, "marketingState": "NOT_SUBSCRIBED"}},
        "lineItems": {"nodes": []},
    }  # fmt: skip
    return webhook, node


def state(ctx) -> dict[str, Any]:
    with ctx.sessions() as s:
        return {
            "leads": [(r.external_id, r.email, r.orders_count) for r in s.scalars(sa.select(Lead))],
            "carts": [(r.checkout_token, r.status, r.order_id) for r in s.scalars(sa.select(Cart))],
            "orders": [(r.order_id, r.total) for r in s.scalars(sa.select(Order))],
            "activities": sorted((r.kind, r.ref) for r in s.scalars(sa.select(Activity))),
        }


def statuses(ctx) -> list[str]:
    with ctx.sessions() as s:
        return sorted(s.scalars(sa.select(Event.status)))


@pytest.fixture
def shop_id(ctx, install, run_jobs) -> int:
    assert install().status_code == 302
    run_jobs()
    with ctx.sessions() as s:
        return s.scalar(sa.select(Shop.id).where(Shop.domain == SHOP))


def test_webhooks_first_then_reconciliation_adds_nothing(ctx, fake, shop_id, post_shopify, run_jobs, clock):
    checkout_hook, checkout_node = checkout(clock())
    order_hook, order_node = order(clock())
    post_shopify("checkouts/update", checkout_hook, shop=SHOP)
    post_shopify("orders/create", order_hook, shop=SHOP)
    run_jobs()
    before = state(ctx)
    assert len(before["carts"]) == 1 and len(before["orders"]) == 1 and before["activities"]
    fake.seed(checkouts=[checkout_node], orders=[order_node])
    assert reconcile_shopify.reconcile_shop(ctx, shop_id) == 2  # stored as events, like any delivery
    run_jobs()
    assert state(ctx) == before
    assert statuses(ctx) == ["processed"] * 4
    assert reconcile_shopify.reconcile_shop(ctx, shop_id) == 0  # unchanged records are not stored twice


def test_reconciliation_brings_what_the_webhooks_missed(ctx, fake, shop_id, run_jobs, clock):
    fake.seed(checkouts=[checkout(clock())[1]], orders=[order(clock())[1]])
    assert jobs.reconcile_shopify_shop(shop_id) == 2
    run_jobs()
    got = state(ctx)
    assert got["leads"] == [(str(CUSTOMER_ID), EMAIL, 1)]
    assert got["carts"] == [("tok1", "converted", "9001")]
    assert got["orders"][0][0] == "9001"
    assert ("checkout_started", "checkout:tok1") in got["activities"]
    assert ("order_placed", "order:9001") in got["activities"]
    with ctx.sessions() as s:
        stamp = s.get(Shop, shop_id).state[reconcile_shopify.STAMP]
    assert datetime.fromisoformat(stamp) == clock()


def test_the_next_run_reads_from_the_last_one(ctx, fake, shop_id, clock):
    reconcile_shopify.reconcile_shop(ctx, shop_id)
    clock.advance(hours=1)
    reconcile_shopify.reconcile_shop(ctx, shop_id)
    queries = [
        c.variables["query"] for c in fake.calls if c.operation == "RelanceOrders" and c.outcome == "ok"
    ]
    first, second = (datetime.fromisoformat(q.split("'")[1].replace("Z", "+00:00")) for q in queries)
    assert first == clock() - timedelta(hours=25)
    assert second == clock() - timedelta(hours=1) - reconcile_shopify.OVERLAP


def test_a_cancelled_order_is_recorded_as_cancelled(ctx, fake, shop_id, run_jobs, clock):
    fake.seed(orders=[order(clock(), cancelled=True)[1]])
    assert reconcile_shopify.reconcile_shop(ctx, shop_id) == 2
    run_jobs()
    with ctx.sessions() as s:
        assert s.scalars(sa.select(Order)).one().cancelled_at is not None


def test_reconcile_all_queues_one_job_per_installed_shopify_shop(ctx, shop_id, woo_shop):
    with transaction(ctx.sessions) as s:
        gone = create_shop(s, ctx.vault, platform="shopify", domain="gone.myshopify.com", now=ctx.now(),
                           access_token="shpat_x").shop  # fmt: skip
        gone.uninstalled_at = ctx.now()
        never_set_up = create_shop(s, ctx.vault, platform="shopify", domain="new.myshopify.com",
                                   now=ctx.now(), access_token="shpat_y").shop  # fmt: skip
        s.flush()
        new_id = never_set_up.id
    assert reconcile_shopify.enqueue_all(ctx) == 2
    waiting = set(queue.get_queue(ctx.redis, queue.MAINTENANCE).job_ids)
    assert waiting == {
        jobnames.reconcile_shopify_id(shop_id),
        jobnames.reconcile_shopify_id(new_id),
        f"shopify-setup-{new_id}",
    }
    assert jobs.reconcile_all_shopify() == 0  # still queued: not queued twice


def test_an_uninstalled_shop_is_not_read(ctx, fake, shop_id):
    with transaction(ctx.sessions) as s:
        s.get(Shop, shop_id).uninstalled_at = ctx.now()
    calls = len(fake.calls)
    assert reconcile_shopify.reconcile_shop(ctx, shop_id) == 0 and len(fake.calls) == calls


def per_shop(ctx, shop_id: int) -> None:
    """Make the shop an older install, subscribed topic by topic by API."""
    with transaction(ctx.sessions) as s:
        row = s.get(Shop, shop_id)
        row.state = {**row.state, "webhooks": {"ids": ["gid://shopify/WebhookSubscription/1"]}}


def test_reconciliation_recreates_the_subscriptions_shopify_deleted(ctx, fake, shop_id):
    per_shop(ctx, shop_id)
    reconcile_shopify.reconcile_shop(ctx, shop_id)
    assert {w["topic"] for w in fake.data.webhooks} == set(WEBHOOK_TOPICS)
    # Shopify removes a subscription after repeated failed deliveries: the next run puts it back.
    fake.data.webhooks = [w for w in fake.data.webhooks if w["topic"] != "CUSTOMERS_UPDATE"]
    reconcile_shopify.reconcile_shop(ctx, shop_id)
    assert {w["topic"] for w in fake.data.webhooks} == set(WEBHOOK_TOPICS)
    with ctx.sessions() as s:
        hooks = s.get(Shop, shop_id).state["webhooks"]
    assert sorted(hooks["ids"]) == sorted(w["id"] for w in fake.data.webhooks)
    assert reconcile_shopify.reconcile_shop(ctx, shop_id) == 0 and len(fake.data.webhooks) == len(
        WEBHOOK_TOPICS
    )


def test_reconciliation_subscribes_nothing_per_shop_for_a_new_install(ctx, fake, shop_id):
    reconcile_shopify.reconcile_shop(ctx, shop_id)
    assert fake.data.webhooks == []
    assert "RelanceWebhooks" not in {c.operation for c in fake.calls}


def test_reconciliation_still_reads_orders_when_subscriptions_cannot_be_checked(ctx, fake, shop_id, clock):
    per_shop(ctx, shop_id)
    fake.seed(orders=[order(clock())[1]])
    fake.fail_next(1, status=403)  # the subscription listing is refused
    assert reconcile_shopify.reconcile_shop(ctx, shop_id) == 1
