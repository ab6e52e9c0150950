"""From a signed webhook to leads, carts and orders, through real Redis and a real RQ worker."""

from __future__ import annotations

import json
from decimal import Decimal

import sqlalchemy as sa

from bridge.db.models import Activity, Cart, Event, Lead, Order
from tests.conftest import fixture


def one(ctx, model, *where):
    with ctx.sessions() as s:
        return s.scalars(sa.select(model).where(*where)).one()


def count(ctx, model) -> int:
    with ctx.sessions() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def snapshot(ctx) -> dict:
    """Everything the pipeline writes, to compare before and after a replay."""
    with ctx.sessions() as s:
        return {
            "leads": [
                (r.id, r.email, r.score, r.tier, r.is_customer, r.orders_count)
                for r in s.scalars(sa.select(Lead).order_by(Lead.id))
            ],
            "activities": [
                (r.lead_id, r.kind, r.ref) for r in s.scalars(sa.select(Activity).order_by(Activity.id))
            ],
            "carts": [
                (r.id, r.status, r.cart_token, r.checkout_token, r.subtotal, r.order_id)
                for r in s.scalars(sa.select(Cart).order_by(Cart.id))
            ],
            "orders": [(r.order_id, r.total) for r in s.scalars(sa.select(Order))],
        }


def recent(payload: dict, at: str = "2026-11-25T09:30:00Z") -> dict:
    """A sample payload dated shortly before the test clock (the samples are years old)."""
    payload["created_at"] = payload["updated_at"] = at
    return payload


def test_checkout_becomes_lead_and_cart_with_a_score(ctx, shopify_shop, post_shopify, run_jobs):
    payload = recent(json.loads(fixture("shopify", "checkouts__create.json")))
    post_shopify("checkouts/create", payload)
    run_jobs()
    assert one(ctx, Event).status == "processed"
    lead = one(ctx, Lead)
    assert lead.email == payload["customer"]["email"].lower()  # the account's address
    assert lead.external_id == str(payload["customer"]["id"])
    kinds = {a.kind for a in [one(ctx, Activity)]}
    assert kinds == {"checkout_started"}
    assert lead.score > 0 and lead.tier == "cold"
    assert lead.breakdown["lines"], "the score must be explained"
    cart = one(ctx, Cart)
    assert cart.checkout_token == payload["token"] and cart.cart_token == payload["cart_token"]
    assert cart.recovery_url == payload["abandoned_checkout_url"]
    assert cart.subtotal == Decimal(payload["subtotal_price"])
    assert cart.status == "active" and cart.lead_id == lead.id
    assert cart.email == payload["email"].lower()  # where the buyer asked to be written to


def test_cart_then_checkout_join_on_the_cart_token(ctx, shopify_shop, post_shopify, run_jobs):
    checkout = json.loads(fixture("shopify", "checkouts__create.json"))
    cart = json.loads(fixture("shopify", "carts__create.json"))
    cart["token"] = cart["id"] = checkout["cart_token"]
    post_shopify("carts/create", cart)
    post_shopify("checkouts/create", checkout)
    run_jobs()
    row = one(ctx, Cart)
    assert (row.cart_token, row.checkout_token) == (checkout["cart_token"], checkout["token"])
    assert row.email == checkout["email"].lower()


def test_order_converts_the_cart_and_makes_a_customer(ctx, shopify_shop, post_shopify, run_jobs):
    checkout = json.loads(fixture("shopify", "checkouts__create.json"))
    order = json.loads(fixture("shopify", "orders__create.json"))
    order["checkout_token"] = checkout["token"]
    order["email"] = checkout["customer"]["email"]
    order["customer"]["id"] = checkout["customer"]["id"]
    post_shopify("checkouts/create", checkout)
    run_jobs()
    post_shopify("orders/create", order)
    run_jobs()
    cart = one(ctx, Cart)
    assert cart.status == "converted" and cart.order_id == str(order["id"])
    assert cart.order_total == Decimal(order["total_price"])
    lead = one(ctx, Lead)
    assert lead.is_customer and lead.tier == "customer" and lead.orders_count == 1
    assert one(ctx, Order).order_id == str(order["id"])  # 64-bit id kept exact


def test_replaying_every_event_changes_nothing(ctx, shopify_shop, post_shopify, run_jobs):
    from bridge.events.pipeline import replay

    for topic, name in [
        ("customers/create", "customers__create.json"),
        ("checkouts/create", "checkouts__create.json"),
        ("carts/update", "carts__update.json"),
        ("orders/create", "orders__create.json"),
    ]:
        post_shopify(topic, fixture("shopify", name))
    run_jobs()
    before = snapshot(ctx)
    with ctx.sessions() as s:
        ids = list(s.scalars(sa.select(Event.id)))
    replay(ctx, ids)
    run_jobs()
    assert snapshot(ctx) == before
    assert before["leads"] and before["carts"] and before["activities"]


def test_an_older_update_never_overwrites_newer_state(ctx, shopify_shop, post_shopify, run_jobs):
    newer = json.loads(fixture("shopify", "checkouts__update.json"))
    older = json.loads(json.dumps(newer))
    newer["updated_at"] = "2026-11-20T12:00:00-05:00"
    newer["subtotal_price"] = "50.00"
    older["updated_at"] = "2026-11-20T11:00:00-05:00"
    older["subtotal_price"] = "10.00"
    post_shopify("checkouts/update", newer)
    run_jobs()
    post_shopify("checkouts/update", older)
    run_jobs()
    assert one(ctx, Cart).subtotal == Decimal("50.00")


def test_signed_but_unreadable_payload_is_kept_failed_and_replayable(
    ctx, client, shopify_shop, post_shopify, run_jobs
):
    post_shopify("checkouts/create", b'{"email": "x@example.com", "token": null}')
    post_shopify("orders/create", b"this is not json")
    run_jobs()
    with ctx.sessions() as s:
        failed = list(s.scalars(sa.select(Event).order_by(Event.id)))
    assert [e.status for e in failed] == ["failed", "failed"]
    assert all(e.error for e in failed)
    listed = client.get(
        "/api/v1/events?status=failed", headers={"Authorization": f"Bearer {shopify_shop['api_key']}"}
    )
    assert listed.status_code == 200 and len(listed.json["events"]) == 2
    replayed = client.post(
        f"/api/v1/events/{failed[0].id}/replay",
        headers={"Authorization": f"Bearer {shopify_shop['api_key']}"},
    )
    assert replayed.status_code == 202
    assert one(ctx, Event, Event.id == failed[0].id).status == "pending"
    run_jobs()
    assert one(ctx, Event, Event.id == failed[0].id).attempts == 1


def test_unknown_topic_is_ignored_not_failed(ctx, shopify_shop, post_shopify, run_jobs):
    post_shopify("products/update", {"id": 1})
    run_jobs()
    assert one(ctx, Event).status == "ignored"


def test_api_shows_leads_with_score_and_activities(ctx, client, shopify_shop, post_shopify, run_jobs):
    checkout = recent(json.loads(fixture("shopify", "checkouts__create.json")))
    post_shopify("checkouts/create", checkout)
    run_jobs()
    auth = {"Authorization": f"Bearer {shopify_shop['api_key']}"}
    assert client.get("/api/v1/leads").status_code == 401
    assert client.get("/api/v1/leads", headers={"Authorization": "Bearer nope"}).status_code == 401
    found = client.get(f"/api/v1/leads?email={checkout['customer']['email'].upper()}", headers=auth).json[
        "leads"
    ]
    assert len(found) == 1 and found[0]["score"] > 0
    detail = client.get(f"/api/v1/leads/{found[0]['id']}", headers=auth).json
    assert [a["kind"] for a in detail["activities"]] == ["checkout_started"]
    assert detail["breakdown"]["lines"] and detail["score_history"]
    assert client.get("/api/v1/leads/999999", headers=auth).status_code == 404


def test_an_order_that_arrives_before_its_checkout_still_closes_the_cart(
    ctx, shopify_shop, post_shopify, run_jobs
):
    checkout = json.loads(fixture("shopify", "checkouts__create.json"))
    order = json.loads(fixture("shopify", "orders__create.json"))
    order["checkout_token"] = checkout["token"]
    post_shopify("orders/create", order)
    run_jobs()
    post_shopify("checkouts/update", checkout)
    run_jobs()
    cart = one(ctx, Cart)
    assert cart.status == "converted" and cart.order_id == str(order["id"])
    assert one(ctx, Order).cart_id == cart.id
