"""Storefront events are unverified: they name known leads only and cannot make a lead hot on their own."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, Event, Lead, Shop
from bridge.leads import scores
from bridge.leads.people import add_activity

EMAIL = "ana@example.com"


@pytest.fixture
def key(ctx, shopify_shop) -> str:
    with ctx.sessions() as s:
        return s.get(Shop, shopify_shop["id"]).public_key


def storefront(client, key: str, clock, n: int | str, **fields) -> int:
    body = {"event": "product_viewed", "id": f"ev-{n}", "client_id": "c-1", "timestamp": clock().isoformat(),
            "email": EMAIL} | fields  # fmt: skip
    return client.post(f"/collect/{key}", data=json.dumps(body)).status_code


def flood(client, key: str, clock, day: int = 0) -> None:
    """What anyone can post from a browser: views, cart adds and checkouts, all naming one address."""
    n = day * 100
    for product in range(8):
        for kind in ("product_viewed", "product_added_to_cart"):
            n += 1
            assert storefront(client, key, clock, n, event=kind, product_id=str(product)) == 202
    for token in ("t1", "t2", "t3"):
        n += 1
        assert storefront(client, key, clock, n, event="checkout_started", checkout_token=token) == 202
    assert storefront(client, key, clock, n + 1, event="newsletter_signup") == 202


def warm_lead(ctx, shop_id: int) -> int:
    """A named customer at 70 points from the store's own events (warm)."""
    now = ctx.now()
    with transaction(ctx.sessions) as s:
        lead = Lead(shop_id=shop_id, email=EMAIL, first_name="Ana", accepts_marketing=True, created_at=now,
                    source={}, breakdown={})  # fmt: skip
        s.add(lead)
        s.flush()
        for kind, ref in [("checkout_started", "checkout:a"), ("add_to_cart", "cart:a"),
                          ("promo_email_open", "offer:1"), ("promo_email_open", "offer:2")]:  # fmt: skip
            s.add(Activity(shop_id=shop_id, lead_id=lead.id, kind=kind, occurred_at=now, ref=ref))
        s.flush()
        scores.score_leads(s, s.get(Shop, shop_id), [lead.id], now, "test")
        assert (lead.score, lead.tier) == (70, "warm")
        return lead.id


def lead_score(ctx, lead_id: int) -> tuple[int, str]:
    with ctx.sessions() as s:
        lead = s.get(Lead, lead_id)
        return lead.score, lead.tier


def test_storefront_events_never_make_a_warm_lead_hot(ctx, client, key, clock, shopify_shop, run_jobs):
    lead_id = warm_lead(ctx, shopify_shop["id"])
    flood(client, key, clock)
    run_jobs()
    assert lead_score(ctx, lead_id) == (79, "warm")  # was (100, "hot")
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Activity).where(Activity.storefront)) == 20
        lines = {line["rule"]: line for line in s.get(Lead, lead_id).breakdown["lines"]}
    assert lines["cap:storefront"]["points"] < 0  # the breakdown says why


def test_storefront_events_add_at_most_ten_points_a_day(ctx, client, key, clock, shopify_shop, run_jobs):
    with transaction(ctx.sessions) as s:
        s.add(Lead(shop_id=shopify_shop["id"], email=EMAIL, created_at=ctx.now(), source={}, breakdown={}))
    flood(client, key, clock)
    run_jobs()
    with ctx.sessions() as s:
        lead = s.scalars(sa.select(Lead)).one()
    assert (lead.score, lead.tier) == (10, "cold")
    clock.advance(days=1)  # another day, another ten at most
    flood(client, key, clock, day=1)
    run_jobs()
    with ctx.sessions() as s:
        assert s.scalars(sa.select(Lead.score)).one() == 20


def test_the_store_confirming_a_checkout_makes_it_count_in_full(
    ctx, client, key, clock, shopify_shop, run_jobs
):
    with transaction(ctx.sessions) as s:
        lead = Lead(shop_id=shopify_shop["id"], email=EMAIL, created_at=ctx.now(), source={}, breakdown={})
        s.add(lead)
    assert storefront(client, key, clock, 1, event="checkout_started", checkout_token="tok") == 202
    run_jobs()
    assert lead_score(ctx, lead.id)[0] == 10
    with transaction(ctx.sessions) as s:  # what the checkouts/* webhook adds: the same activity, trusted
        add_activity(s, s.get(Lead, lead.id), "checkout_started", ctx.now(), "checkout:tok", None)
        scores.score_leads(s, s.get(Shop, shopify_shop["id"]), [lead.id], ctx.now(), "test")
    assert lead_score(ctx, lead.id)[0] == 20


def test_an_email_nobody_verified_makes_no_lead(ctx, client, key, clock, run_jobs):
    flood(client, key, clock)
    run_jobs()
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0
        assert {e.status for e in s.scalars(sa.select(Event))} == {"processed"}


def test_an_address_is_rate_limited_whatever_the_email(ctx, client, key, clock):
    answers = [storefront(client, key, clock, n, email=f"x{n}@example.com") for n in range(125)]
    assert answers.count(202) == 120 and answers[120:] == [429] * 5
    clock.advance(seconds=timedelta(minutes=1).total_seconds())
    assert storefront(client, key, clock, 999) == 202
