"""Shopify's webhook contract at the edges: privacy webhooks for shops we no longer hold, a database that
cannot commit within Shopify's 5 s, and payloads serialized in another API version than ours."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Event, Shop
from bridge.events import ingest
from bridge.leads.erasure import erase_shop

COMPLIANCE = {
    "customers/data_request": {
        "shop_id": 9,
        "shop_domain": "gone.myshopify.com",
        "customer": {"id": 7, "email": "ana@example.com"},
        "orders_requested": [],
        "data_request": {"id": 11},
    },
    "customers/redact": {
        "shop_id": 9,
        "shop_domain": "gone.myshopify.com",
        "customer": {"id": 7, "email": "ana@example.com"},
        "orders_to_redact": [],
    },
    "shop/redact": {"shop_id": 9, "shop_domain": "gone.myshopify.com"},
}


def stored(ctx) -> int:
    with ctx.sessions() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(Event)))


@pytest.mark.parametrize("topic", sorted(COMPLIANCE))
def test_privacy_webhooks_for_a_shop_never_installed_answer_200_and_store_nothing(ctx, post_shopify, topic):
    response = post_shopify(topic, COMPLIANCE[topic], shop="gone.myshopify.com")
    assert response.status_code == 200 and response.json["ok"] is True
    assert stored(ctx) == 0


def test_privacy_webhooks_after_shop_redact_erased_the_shop_answer_200(ctx, shopify_shop, post_shopify):
    with transaction(ctx.sessions) as session:
        erase_shop(session, session.get(Shop, shopify_shop["id"]))
    ctx.signers.forget()
    for topic, body in COMPLIANCE.items():
        assert post_shopify(topic, body, shop=shopify_shop["domain"]).status_code == 200
    assert stored(ctx) == 0


@pytest.mark.parametrize("topic", sorted(COMPLIANCE))
def test_a_bad_signature_still_gets_401_for_an_unknown_shop(ctx, post_shopify, topic):
    body = COMPLIANCE[topic]
    assert post_shopify(topic, body, shop="gone.myshopify.com", secret="not-the-secret").status_code == 401
    assert post_shopify(topic, body, shop="gone.myshopify.com", signature="").status_code == 401


def test_other_topics_for_an_unknown_shop_keep_their_401(ctx, post_shopify):
    assert post_shopify("orders/create", {"id": 1}, shop="gone.myshopify.com").status_code == 401


@contextmanager
def events_locked(ctx) -> Iterator[None]:
    """Another transaction holds a lock that blocks every insert into `events` until the block ends."""
    with ctx.engine.connect() as conn:
        if ctx.engine.dialect.name == "postgresql":
            conn.execute(sa.text("LOCK TABLE events IN EXCLUSIVE MODE"))
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite: the database's write lock
        try:
            yield
        finally:
            conn.rollback()


@pytest.mark.timeout(60)
def test_a_webhook_the_database_cannot_commit_in_time_gets_503_before_shopifys_5_s(
    ctx, shopify_shop, post_shopify
):
    body = {"id": 5, "token": "tok-5", "email": "ana@example.com", "updated_at": "2026-11-25T10:00:00Z"}
    assert post_shopify("checkouts/update", {**body, "id": 4}).status_code == 200  # writer thread warm
    with events_locked(ctx):
        started = time.monotonic()
        refused = post_shopify("checkouts/update", body, event_id="late-1")
        waited = time.monotonic() - started
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert ingest.DB_WAIT_SECONDS - 0.5 <= waited < 5.0
    # Shopify retries the same delivery: stored once, whether or not the refused try got in after all.
    deadline = time.monotonic() + 30
    while (again := post_shopify("checkouts/update", body, event_id="late-1")).status_code != 200:
        assert time.monotonic() < deadline
    assert again.json["ok"] is True
    with ctx.sessions() as s:
        keys = s.scalars(sa.select(Event.delivery_key).where(Event.delivery_key.like("%late-1"))).all()
    assert keys == ["checkouts/update:late-1"]


@pytest.mark.timeout(90)
def test_a_full_connection_pool_does_not_hold_up_a_webhook(ctx, shopify_shop, post_shopify):
    """The group commit's leaders write on a connection of their own, outside the pool."""
    body = {"id": 6, "token": "tok-6", "email": "ana@example.com", "updated_at": "2026-11-25T10:00:00Z"}
    assert post_shopify("checkouts/update", {**body, "id": 7}).status_code == 200  # signer cached
    pool = ctx.engine.pool
    held = [ctx.engine.raw_connection() for _ in range(pool.size() + pool._max_overflow - pool.checkedout())]
    try:
        started = time.monotonic()
        accepted = post_shopify("checkouts/update", body, event_id="full-1")
        waited = time.monotonic() - started
    finally:
        for conn in held:
            conn.close()
    assert accepted.status_code == 200 and accepted.json["duplicate"] is False and waited < 1.0
    with ctx.sessions() as s:
        assert s.scalar(sa.select(Event.id).where(Event.delivery_key == "checkouts/update:full-1"))


def test_the_payloads_api_version_is_logged_once_and_a_different_one_warned_once(
    ctx, shopify_shop, post_shopify, caplog
):
    caplog.set_level(logging.INFO, logger="bridge.events.ingest")
    for version in ("2026-10", "2026-10", "2025-07", "2025-07", "2025-07"):
        response = post_shopify(
            "carts/update", {"id": "c", "token": "c"}, headers={"X-Shopify-API-Version": version}
        )
        assert response.status_code == 200
    notes = [(r.levelname, r.getMessage()) for r in caplog.records if "API version" in r.getMessage()]
    assert [level for level, _ in notes] == ["INFO", "WARNING"]
    assert "2025-07" in notes[1][1] and "2026-10" in notes[1][1]
