"""Privacy webhooks and uninstall: nothing personal left after customers/redact, exports, token removal."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bridge.db.models import Base, Event, Order, PrivacyExport, Shop
from bridge.events import reconcile_shopify
from bridge.infra import jobnames, queue
from bridge.shops import tokens
from connectors.base import StoreError
from tests.integration.connectors.shopify.conftest import SHOP
from tests.integration.connectors.shopify.test_reconcile import CUSTOMER_ID, EMAIL, checkout, order


def rows_mentioning(ctx, *needles: str, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every row of every table whose text contains one of `needles` (case-insensitive)."""
    found: dict[str, list[str]] = {}
    with ctx.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            for row in conn.execute(sa.select(table)):
                text = " ".join(str(v) for v in row).lower()
                if any(n.lower() in text for n in needles):
                    found.setdefault(table.name, []).append(text[:200])
    return found


@pytest.fixture
def shop_id(ctx, install, run_jobs) -> int:
    assert install().status_code == 302
    run_jobs()
    with ctx.sessions() as s:
        return s.scalar(sa.select(Shop.id).where(Shop.domain == SHOP))


@pytest.fixture
def customer(ctx, shop_id, client, post_shopify, run_jobs, clock) -> None:
    """A customer known from every source: a checkout, an order, the storefront pixel."""
    post_shopify("checkouts/update", checkout(clock())[0], shop=SHOP)
    post_shopify("orders/create", order(clock())[0], shop=SHOP)
    with ctx.sessions() as s:
        key = s.get(Shop, shop_id).public_key
    body = {"event": "product_viewed", "client_id": "c1", "timestamp": clock().isoformat(), "email": EMAIL,
            "product_id": "7"}  # fmt: skip
    assert client.post(f"/collect/{key}", data=json.dumps(body)).status_code == 202
    run_jobs()
    assert rows_mentioning(ctx, EMAIL, skip=("events",))  # it is there before
    assert rows_mentioning(ctx, str(CUSTOMER_ID), skip=("events",))


def redact_body() -> dict:
    return {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": CUSTOMER_ID, "email": EMAIL},
            "orders_to_redact": [9001]}  # fmt: skip


def data_request_body() -> dict:
    body = redact_body()
    body["orders_requested"] = body.pop("orders_to_redact")
    return body


def test_customers_redact_leaves_nothing_personal_outside_the_event_log(
    ctx, customer, post_shopify, run_jobs
):
    assert post_shopify("customers/redact", redact_body(), shop=SHOP).status_code == 200
    run_jobs()
    assert rows_mentioning(ctx, EMAIL, "ana", str(CUSTOMER_ID), skip=("events",)) == {}
    with ctx.sessions() as s:
        [kept] = s.scalars(sa.select(Order)).all()
    assert kept.total > 0  # the anonymous amount stays for the merchant's metrics


def test_customers_redact_also_scrubs_the_event_log(ctx, customer, post_shopify, run_jobs):
    post_shopify("customers/redact", redact_body(), shop=SHOP)
    run_jobs()
    assert rows_mentioning(ctx, EMAIL, str(CUSTOMER_ID)) == {}


def test_customers_data_request_produces_an_export(ctx, customer, post_shopify, run_jobs):
    body = {**data_request_body(), "data_request": {"id": 9999}}
    post_shopify("customers/data_request", body, shop=SHOP)
    run_jobs()
    with ctx.sessions() as s:
        [export] = s.scalars(sa.select(PrivacyExport)).all()
    assert export.request_id == "9999" and export.document["found"] is True
    assert export.document["lead"]["email"] == EMAIL
    kinds = {a["kind"] for a in export.document["activities"]}
    assert {"checkout_started", "order_placed", "product_view"} <= kinds


def test_uninstall_clears_tokens_and_later_events_are_ignored(ctx, shop_id, post_shopify, run_jobs, clock):
    assert queue.enqueue(
        ctx.redis, jobnames.RECONCILE_SHOPIFY, shop_id, job_id=jobnames.reconcile_shopify_id(shop_id)
    )
    post_shopify("app/uninstalled", {"id": 1, "domain": SHOP, "myshopify_domain": SHOP}, shop=SHOP)
    with ctx.sessions() as s:
        uninstalled = s.get(Shop, shop_id)
    waiting = [jobnames.setup_shop_id(shop_id), jobnames.reconcile_shopify_id(shop_id)]
    assert queue.drop_waiting(ctx.redis, waiting) == 1  # what the uninstall's follow-up does
    run_jobs()
    with ctx.sessions() as s:
        shop = s.get(Shop, shop_id)
    assert shop.uninstalled_at is not None and uninstalled.access_token_enc is not None
    assert (shop.access_token_enc, shop.refresh_token_enc, shop.token_expires_at) == (None, None, None)
    with pytest.raises(StoreError):
        tokens.shopify_client_for(ctx, shop).shop_info()
    clock.advance(minutes=1)
    post_shopify("orders/create", order(clock())[0], shop=SHOP)
    post_shopify("customers/data_request", {**data_request_body(), "data_request": {"id": 1}}, shop=SHOP)
    run_jobs()
    with ctx.sessions() as s:
        by_topic = dict(s.execute(sa.select(Event.topic, Event.status)).all())
        assert s.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(PrivacyExport)) == 1
    assert by_topic == {"app/uninstalled": "processed", "orders/create": "ignored",
                        "customers/data_request": "processed"}  # fmt: skip
    assert reconcile_shopify.reconcile_shop(ctx, shop_id) == 0


def test_shop_redact_after_uninstall_erases_the_shop(ctx, customer, shop_id, post_shopify, run_jobs, clock):
    post_shopify("app/uninstalled", {"id": 1, "domain": SHOP}, shop=SHOP)
    run_jobs()
    clock.advance(hours=48)
    post_shopify("shop/redact", {"shop_id": 1, "shop_domain": SHOP}, shop=SHOP)
    run_jobs()
    assert rows_mentioning(ctx, EMAIL, str(CUSTOMER_ID), SHOP) == {}
