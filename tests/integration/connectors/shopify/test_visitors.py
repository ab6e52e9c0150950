"""The storefront's anonymous history joins the lead a store-signed event names (bridge.events.visitors)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, Lead, LeadProduct, Shop, Visitor, VisitorEvent, VisitorToken
from bridge.leads import erasure
from tests.conftest import fixture
from tests.integration.connectors.shopify.test_collect import event, post

CART = "a3d9e6f1c2b84f07b5e1d2c3f4a5b6c7"  # the checkout sample's cart token
BUYER = "kwame.asante@example.net"  # the checkout names its customer account


@pytest.fixture
def key(ctx, shopify_shop) -> str:
    with ctx.sessions() as s:
        return s.get(Shop, shopify_shop["id"]).public_key


def pixel(clock, hours_ago: float, **fields):
    at = (clock() - timedelta(hours=hours_ago)).isoformat()
    return event(clock, **{"email": None, "client_id": "browser-9", "timestamp": at, **fields})


def day(clock, hours_ago: float) -> str:
    return (clock() - timedelta(hours=hours_ago)).date().isoformat()


def signed_checkout(post_shopify) -> None:
    payload = json.loads(fixture("shopify", "checkouts__create.json"))
    payload["created_at"] = payload["updated_at"] = "2026-11-25T09:30:00Z"
    assert post_shopify("checkouts/create", payload).status_code == 200


def lead_activities(ctx) -> list[tuple[str, str, bool]]:
    with ctx.sessions() as s:
        rows = s.execute(
            sa.select(Activity.kind, Activity.ref, Activity.storefront)
            .join(Lead, Lead.id == Activity.lead_id)
            .where(Lead.email == BUYER)
            .order_by(Activity.kind, Activity.ref)
        ).all()
    return [tuple(row) for row in rows]


def buyer(ctx) -> Lead:
    with ctx.sessions() as s:
        return s.scalars(sa.select(Lead).where(Lead.email == BUYER)).one()


def test_anonymous_views_join_the_lead_a_signed_checkout_names(
    ctx, client, key, clock, post_shopify, run_jobs
):
    post(client, key, pixel(clock, 3, id="v1", product_id=11))
    post(client, key, pixel(clock, 2, id="v2", product_id=12))
    post(client, key, pixel(clock, 1, id="a1", event="product_added_to_cart", product_id=12, cart_token=CART))
    run_jobs()
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0  # anonymous: nobody yet
    signed_checkout(post_shopify)
    run_jobs()
    found = lead_activities(ctx)
    assert ("product_view", f"view:11:{day(clock, 3)}", True) in found
    assert ("product_view", f"view:12:{day(clock, 2)}", True) in found
    assert ("checkout_started", "checkout:5f0c2e8b9a41d7366e2b0c9f4a8d1e73", False) in found
    lead = buyer(ctx)
    lines = {line["rule"]: line for line in lead.breakdown["lines"]}
    assert lines["activity:product_view"]["count"] == 2  # scored, within the storefront's caps
    with ctx.sessions() as s:
        visitor = s.scalars(sa.select(Visitor)).one()
        assert visitor.lead_id == lead.id and visitor.identified_at is not None
        touched = {(p, a) for p, a in s.execute(sa.select(LeadProduct.product_id, LeadProduct.action))}
    assert {("11", "viewed"), ("12", "viewed")} <= touched  # the joined views are the lead's products too
    before = lead.score
    # From then on, the browser's anonymous events score for the lead.
    post(client, key, pixel(clock, 0.5, id="v3", product_id=13))
    run_jobs()
    assert ("product_view", f"view:13:{day(clock, 0.5)}", True) in lead_activities(ctx)
    lead = buyer(ctx)
    assert {line["rule"]: line for line in lead.breakdown["lines"]}["activity:product_view"]["count"] == 3
    assert lead.score >= before
    # An event of the same browser naming someone else is not the lead's.
    post(client, key, pixel(clock, 0.4, id="v4", product_id=14, email="other@example.com"))
    run_jobs()
    assert not [a for a in lead_activities(ctx) if a[1].startswith("view:14:")]
    # Replaying the checkout adds nothing twice.
    count = len(lead_activities(ctx))
    signed_checkout(post_shopify)
    run_jobs()
    assert len(lead_activities(ctx)) == count
    # Erasing the person erases the browsers joined to her, with their tokens and links.
    with transaction(ctx.sessions) as s:
        erasure.redact_lead(s, s.get(Lead, lead.id), ctx.now())
    with ctx.sessions() as s:
        for model in (Visitor, VisitorToken, VisitorEvent):
            assert s.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_a_signed_checkout_first_then_the_pixel_event_with_its_token(
    ctx, client, key, clock, post_shopify, run_jobs
):
    post(client, key, pixel(clock, 3, id="v1", product_id=11))
    run_jobs()
    signed_checkout(post_shopify)
    run_jobs()
    assert not [a for a in lead_activities(ctx) if a[0] == "product_view"]
    # The pixel's cart event, processed after the store's checkout, names a cart a signed event made.
    post(client, key, pixel(clock, 1, id="a1", event="product_added_to_cart", cart_token=CART))
    run_jobs()
    assert ("product_view", f"view:11:{day(clock, 3)}", True) in lead_activities(ctx)


def test_a_storefront_email_alone_creates_no_lead_and_identifies_nobody(ctx, client, key, clock, run_jobs):
    post(client, key, pixel(clock, 2, id="v1", product_id=11))
    post(client, key, pixel(clock, 1, id="v2", product_id=12, email="Someone@Example.com"))
    run_jobs()
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0
        visitor = s.scalars(sa.select(Visitor)).one()
        assert visitor.lead_id is None and visitor.identified_at is None
