"""Captured signed bodies sent again under another topic or another shop's domain act on nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Event, Lead, Shop
from bridge.shops.registry import create_shop
from tests.conftest import fixture

VICTIM = "victim.myshopify.com"


@pytest.fixture
def victim(ctx, shopify_shop) -> int:
    """A second installed shop, with a lead; Shopify signs its deliveries with the same app secret."""
    with transaction(ctx.sessions) as session:
        shop = create_shop(
            session, ctx.vault, platform="shopify", domain=VICTIM, now=ctx.now(), access_token="shpat_v"
        ).shop
        session.add(
            Lead(shop_id=shop.id, email="kept@example.com", created_at=ctx.now(), source={}, breakdown={})
        )
        return shop.id


def state(ctx, shop_id: int) -> tuple[bool, bool, int]:
    with ctx.sessions() as s:
        shop = s.get(Shop, shop_id)
        leads = s.scalar(
            sa.select(sa.func.count())
            .select_from(Lead)
            .where(Lead.shop_id == shop_id, Lead.email.is_not(None))
        )
        return shop is not None, shop is not None and shop.uninstalled_at is None, leads


def outcome(ctx, topic: str) -> tuple[str, str]:
    with ctx.sessions() as s:
        event = s.scalars(sa.select(Event).where(Event.topic == topic)).one()
        return event.status, event.error or ""


def own_body(name: str, **changes: object) -> bytes:
    return json.dumps(json.loads(fixture("shopify", name)) | changes).encode()


def test_a_customer_body_sent_again_as_shop_redact_erases_nothing(ctx, victim, post_shopify, run_jobs):
    assert (
        post_shopify("shop/redact", fixture("shopify", "customers__create.json"), shop=VICTIM).status_code
        == 200
    )
    run_jobs()
    assert state(ctx, victim) == (True, True, 1)
    status, error = outcome(ctx, "shop/redact")
    assert status == "failed" and error == "PayloadError: shop/redact: shop_id is missing"


@pytest.mark.parametrize(
    ("topic", "name"),
    [
        ("shop/redact", "shop__redact.json"),
        ("app/uninstalled", "app__uninstalled.json"),
        ("customers/redact", "customers__redact.json"),
        ("customers/data_request", "customers__data_request.json"),
    ],
)
def test_another_shops_body_sent_with_this_shops_domain_acts_on_nothing(
    ctx, victim, post_shopify, run_jobs, topic, name
):
    body = own_body(
        name, shop_domain="demo.myshopify.com", myshopify_domain="demo.myshopify.com",
        customer={"id": 1, "email": "kept@example.com"},
    ) if topic.startswith("customers/") else own_body(
        name, **({"myshopify_domain": "demo.myshopify.com"} if topic == "app/uninstalled" else
                 {"shop_domain": "demo.myshopify.com"})
    )  # fmt: skip
    assert post_shopify(topic, body, shop=VICTIM).status_code == 200
    run_jobs()
    assert state(ctx, victim) == (True, True, 1)
    status, error = outcome(ctx, topic)
    assert status == "failed" and "the payload's shop is not the delivery's shop" in error
    assert "kept@" not in error


def test_a_shops_own_shop_redact_still_erases_it(ctx, victim, post_shopify, run_jobs):
    assert (
        post_shopify(
            "shop/redact", own_body("shop__redact.json", shop_domain=VICTIM), shop=VICTIM
        ).status_code
        == 200
    )
    run_jobs()
    assert state(ctx, victim) == (False, False, 0)
