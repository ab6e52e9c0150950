"""Storefront events: CORS, shape, rate limit, durable storage, and activities that score."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from redis import Redis

from bridge.db import transaction
from bridge.db.models import Activity, Event, Lead, Shop, Visitor, VisitorEvent
from bridge.events import collect
from bridge.infra import ratelimit


@pytest.fixture
def key(ctx, shopify_shop) -> str:
    with ctx.sessions() as s:
        return s.get(Shop, shopify_shop["id"]).public_key


def event(clock, **fields) -> dict:
    body = {
        "event": "product_viewed", "id": "sh-123", "client_id": "c-1", "timestamp": clock().isoformat(),
        "email": "Ana@Example.com", "product_id": 7001, "url": "https://demo.myshopify.com/products/mug?ref=x",
    }  # fmt: skip
    return {k: v for k, v in {**body, **fields}.items() if v is not None}


def post(client, key: str, body, content_type: str = "text/plain;charset=UTF-8"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(f"/collect/{key}", data=raw, headers={"Content-Type": content_type})


@pytest.fixture
def known(ctx, shopify_shop) -> None:
    """Ana, as the store's own events made her known: storefront events only name known leads."""
    with transaction(ctx.sessions) as s:
        s.add(Lead(shop_id=shopify_shop["id"], email="ana@example.com", created_at=ctx.now(), source={},
                   breakdown={}))  # fmt: skip


def events(ctx) -> list[Event]:
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(Event).order_by(Event.id)))


def test_preflight_allows_any_origin_without_credentials(client, key):
    response = client.options(
        f"/collect/{key}",
        headers={"Origin": "https://demo.myshopify.com", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_product_view_with_an_email_becomes_a_scored_activity(ctx, client, key, clock, run_jobs, known):
    response = post(client, key, event(clock))
    assert response.status_code == 202 and response.headers["Access-Control-Allow-Origin"] == "*"
    [stored] = events(ctx)
    assert stored.topic == "collect/product_viewed" and stored.delivery_key == "collect:c-1:sh-123"
    document = json.loads(stored.payload)
    assert document["email"] == "ana@example.com"
    assert document["url"] == "https://demo.myshopify.com/products/mug"  # no query string kept
    run_jobs()
    with ctx.sessions() as s:
        lead = s.scalars(sa.select(Lead)).one()
        [activity] = s.scalars(sa.select(Activity)).all()
    assert lead.email == "ana@example.com" and lead.score > 0
    assert (activity.kind, activity.ref) == ("product_view", f"view:7001:{clock().date().isoformat()}")
    assert events(ctx)[0].status == "processed"


def test_every_storefront_event_kind(ctx, client, key, clock, run_jobs, known):
    for name, extra in [
        ("product_added_to_cart", {"cart_token": "gid://shopify/Cart/c1-abc?key=secret"}),
        ("checkout_started", {"checkout_token": "tok9", "id": "e2"}),
        ("form_submitted", {"id": "e3"}),
        ("newsletter_signup", {"id": "e4"}),
    ]:
        assert post(client, key, event(clock, event=name, **extra)).status_code == 202
    run_jobs()
    with ctx.sessions() as s:
        refs = sorted((a.kind, a.ref) for a in s.scalars(sa.select(Activity)))
    assert refs == [
        ("add_to_cart", "cart:c1-abc"),  # the same ref the carts/* webhooks use
        ("checkout_started", "checkout:tok9"),
        ("newsletter_signup", "newsletter"),  # signing up twice counts once
    ]


def test_an_anonymous_event_is_kept_but_makes_no_lead(ctx, client, key, clock, run_jobs):
    assert post(client, key, event(clock, email=None)).status_code == 202
    run_jobs()
    # Kept as its browser's history (bridge.events.visitors), for the day a signed event names the shopper.
    assert [e.status for e in events(ctx)] == ["processed"]
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Lead)) == 0
        assert s.scalars(sa.select(Visitor.client_id)).all() == ["c-1"]
        assert s.scalar(sa.select(sa.func.count()).select_from(VisitorEvent)) == 1


def test_a_resent_event_is_stored_once(ctx, client, key, clock):
    assert post(client, key, event(clock)).get_json()["duplicate"] is False
    assert post(client, key, event(clock)).get_json()["duplicate"] is True
    without_id = event(clock, id=None)
    post(client, key, without_id)
    post(client, key, without_id)
    assert len(events(ctx)) == 2


def test_invalid_events_get_422_with_errors_per_field(ctx, client, key, clock):
    body = event(clock, event="page_hacked", client_id="", email="not-an-email", timestamp="yesterday",
                 url="javascript:alert(1)")  # fmt: skip
    response = post(client, key, body, content_type="application/json")
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"event", "client_id", "email", "timestamp", "url"}
    missing = post(client, key, {"event": "product_viewed"})
    assert set(missing.get_json()["errors"]) == {"client_id", "timestamp"}
    assert post(client, key, [1, 2]).status_code == 422
    assert events(ctx) == []


def test_bad_json_unknown_key_and_oversized_bodies(ctx, client, key, clock):
    assert post(client, key, b"{not json").status_code == 400
    assert post(client, "pk_unknown", event(clock)).status_code == 404
    huge = event(clock, url="https://x.test/" + "a" * collect.MAX_BODY)
    assert post(client, key, huge).status_code == 413
    assert events(ctx) == []


def test_an_uninstalled_shop_collects_nothing(ctx, client, key, clock, shopify_shop):
    with transaction(ctx.sessions) as s:
        s.get(Shop, shopify_shop["id"]).uninstalled_at = ctx.now()
    assert post(client, key, event(clock)).status_code == 404


def test_rate_limit_per_key_and_address(ctx, client, key, clock):
    for _ in range(collect.RATE_LIMIT):
        assert post(client, key, b"").status_code == 400  # counted before anything else
    limited = post(client, key, event(clock))
    assert limited.status_code == 429 and limited.headers["Access-Control-Allow-Origin"] == "*"
    other = client.post(
        f"/collect/{key}", data=json.dumps(event(clock)), environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 202  # another visitor is not held back
    clock.advance(seconds=ratelimit.WINDOW_SECONDS)
    assert post(client, key, event(clock, id="later")).status_code == 202
    assert len(events(ctx)) == 2


def test_the_rate_limit_lets_events_through_when_redis_is_down(clock):
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert ratelimit.allow(down, "pk:1.2.3.4", clock(), collect.RATE_LIMIT)


def test_times_are_clamped_to_the_receipt(ctx, client, key, clock):
    post(client, key, event(clock, id="future", timestamp=(clock() + timedelta(days=3)).isoformat()))
    post(client, key, event(clock, id="old", timestamp=(clock() - timedelta(days=30)).isoformat()))
    future, old = (json.loads(e.payload)["occurred_at"] for e in events(ctx))
    assert future == clock().isoformat()
    assert old == (clock() - collect.MAX_AGE).isoformat()


def test_collect_adapter_reads_only_storefront_topics():
    adapter = collect.CollectAdapter()
    assert adapter.normalize("orders/create", {"email": "a@b.c"}) == []
    assert adapter.normalize("collect/page_viewed", {"email": "a@b.c"}) == []
    with pytest.raises(collect.PayloadError):
        adapter.normalize("collect/product_viewed", {"email": "a@b.c", "occurred_at": "soon"})


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_proxy_each_shopper_has_their_own_limit(ctx, key, clock, hops):
    from bridge.app import create_app

    ctx.settings = ctx.settings.with_overrides(proxy_hops=hops)
    client = create_app(ctx.settings, ctx=ctx, extensions=()).test_client()

    def via_proxy(shopper: str, n: int):
        headers = {"X-Forwarded-For": shopper, "Content-Type": "text/plain"}
        body = json.dumps(event(clock, id=f"{shopper}-{n}"))
        return client.post(
            f"/collect/{key}", data=body, headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}
        )

    for n in range(collect.RATE_LIMIT):
        assert via_proxy("203.0.113.7", n).status_code == 202
    assert via_proxy("203.0.113.7", 99).status_code == 429
    # Trusting one proxy, another shopper behind it still gets through; trusting none (the default), the
    # header could be forged, so everyone behind the proxy shares its address and its limit.
    assert via_proxy("198.51.100.4", 0).status_code == (202 if hops else 429)


def test_a_guest_email_from_checkout_contact_info_joins_the_checkout(
    ctx, client, key, clock, run_jobs, known
):
    # The pixel's checkout_started fires before the contact step; the guest's e-mail comes with this one.
    # The store named that e-mail already (`known`): storefront events alone make no lead (events.collect).
    started = event(clock, event="checkout_started", checkout_token="tok9", id="e1", email=None)
    contact = event(clock, event="checkout_contact_info_submitted", checkout_token="tok9", id="e2")
    assert post(client, key, started).status_code == 202
    assert post(client, key, contact).status_code == 202
    run_jobs()
    with ctx.sessions() as s:
        lead = s.scalars(sa.select(Lead)).one()
        refs = [(a.kind, a.ref) for a in s.scalars(sa.select(Activity))]
    assert lead.email == "ana@example.com"
    assert refs == [("checkout_started", "checkout:tok9")]  # the same ref the checkouts/* webhooks use


def test_a_guest_email_no_store_event_named_makes_no_lead(ctx, client, key, clock, run_jobs):
    contact = event(clock, event="checkout_contact_info_submitted", checkout_token="tok9", id="e2")
    assert post(client, key, contact).status_code == 202
    run_jobs()
    with ctx.sessions() as s:
        assert s.scalars(sa.select(Lead)).all() == [] and s.scalars(sa.select(Activity)).all() == []
