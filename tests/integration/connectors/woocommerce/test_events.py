"""Store webhooks and plugin cart events, from signed requests to leads, carts and orders."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from rq import Queue

from bridge.db.models import Activity, Cart, Event, Lead, Order
from connectors.woocommerce.wordpress import WordPressEvents
from tests.integration.connectors.woocommerce.conftest import cart_event, customer, order

TOKEN = "0123456789abcdef0123456789abcdef"


def rows(ctx, model, *where) -> list:
    with ctx.sessions() as session:
        return list(session.scalars(sa.select(model).where(*where)))


def kinds(ctx) -> set[str]:
    return {a.kind for a in rows(ctx, Activity)}


def test_the_runtime_registers_the_plugin_adapter(woo):
    adapter = woo.adapters.get("wordpress")
    assert isinstance(adapter, WordPressEvents), "runtime.build must set ctx.adapters['wordpress']"


def test_signed_customer_and_order_webhooks_become_a_customer_with_an_order(woo, install, deliver, run_jobs):
    install()
    assert deliver("customer.created", customer(email="jane@example.com")).status_code == 200
    assert deliver("order.updated", order(status="processing", coupons=("BACK-1",))).status_code == 200
    run_jobs()
    assert {e.status for e in rows(woo, Event)} == {"processed"}
    [lead] = rows(woo, Lead)
    assert (lead.email, lead.external_id, lead.is_customer) == ("jane@example.com", "58", True)
    [placed] = rows(woo, Order)
    assert (placed.order_id, placed.total, placed.discount_codes) == (
        "501",
        Decimal("34.49"),
        {"codes": ["back-1"]},
    )
    assert kinds(woo) == {"account_created", "order_placed"}


def test_a_checkout_draft_with_an_email_is_an_active_cart(woo, install, deliver, run_jobs):
    install()
    deliver("order.updated", order(777, "checkout-draft", email="shopper@example.com"))
    run_jobs()
    [cart] = rows(woo, Cart)
    assert (cart.status, cart.email, cart.checkout_token, cart.cart_token) == (
        "active",
        "shopper@example.com",
        "777",
        "wc-order:777",
    )
    assert cart.subtotal == Decimal("26.50") and len(cart.items["lines"]) == 2
    assert kinds(woo) == {"checkout_started"}


def test_plugin_events_with_stale_or_wrong_signatures_are_refused(woo, install, post_plugin, clock):
    shop = install()
    now = int(clock.now.timestamp())
    for kwargs in ({"age": 301}, {"age": -301}, {"secret": "not-the-secret"}):
        response = post_plugin(shop, cart_event(ts=now), **kwargs)
        assert response.status_code == 401, kwargs
    other = {**shop, "shop_key": "s_unknown"}
    assert post_plugin(other, cart_event(ts=now)).status_code == 401
    assert rows(woo, Event) == []
    assert Queue("events", connection=woo.redis).count == 0
    assert post_plugin(shop, cart_event(ts=now), age=299).status_code == 200  # inside the window


def test_a_plugin_cart_and_the_order_carrying_its_token_are_one_converted_cart(
    woo, install, post_plugin, deliver, run_jobs, clock
):
    shop = install()
    now = int(clock.now.timestamp())
    added = post_plugin(shop, cart_event(ts=now - 600))
    assert added.status_code == 200 and added.json == {"ok": True, "duplicate": False}
    typed = cart_event("checkout.email", ts=now - 300, email="Jane@Example.com", marketing_consent=True)
    assert post_plugin(shop, typed).status_code == 200
    run_jobs()
    assert {(e.topic, e.status) for e in rows(woo, Event)} == {
        ("wordpress/cart.updated", "processed"),
        ("wordpress/checkout.email", "processed"),
    }, "the pipeline must normalize wordpress/* topics with ctx.adapters['wordpress']"
    [cart] = rows(woo, Cart)
    assert (cart.status, cart.cart_token, cart.email, cart.subtotal) == (
        "active",
        TOKEN,
        "jane@example.com",
        25,
    )
    assert cart.recovery_url == f"https://shop.example.com/cart/?relance_restore={TOKEN}"
    [lead] = rows(woo, Lead)
    # The anonymous cart event of the same session joins her once the typed email names her (visitors).
    assert lead.accepts_marketing is True and kinds(woo) == {"add_to_cart", "checkout_started"}
    deliver("order.updated", order(900, "processing", email="jane@example.com", token=TOKEN))
    run_jobs()
    [cart] = rows(woo, Cart)
    assert (cart.status, cart.order_id) == ("converted", "900")
    assert kinds(woo) == {"add_to_cart", "checkout_started", "order_placed"}


def test_a_plugin_event_is_stored_once(woo, install, post_plugin, clock):
    shop = install()
    body = cart_event(ts=int(clock.now.timestamp()))
    assert post_plugin(shop, body).json["duplicate"] is False
    assert post_plugin(shop, body).json["duplicate"] is True
    [event] = rows(woo, Event)
    assert event.delivery_key.startswith("wp:" + "5f1e" * 8 + ":")


def test_an_emptied_cart_keeps_no_items(woo, install, post_plugin, run_jobs, clock):
    shop = install()
    now = int(clock.now.timestamp())
    post_plugin(shop, cart_event(ts=now - 60, email="jane@example.com"))
    post_plugin(shop, cart_event("cart.emptied", ts=now, items=[], subtotal="0"))
    run_jobs()
    [cart] = rows(woo, Cart)
    assert (cart.items, cart.subtotal) == ({"lines": []}, 0)


def test_a_signed_but_malformed_plugin_event_is_kept_as_failed(woo, install, post_plugin, run_jobs, clock):
    shop = install()
    bad = cart_event(ts=int(clock.now.timestamp()), items=[{"title": "x", "quantity": "lots"}])
    assert post_plugin(shop, bad).status_code == 200
    run_jobs()
    [event] = rows(woo, Event)
    assert event.status == "failed" and "quantity" in event.error
    assert rows(woo, Cart) == []


def test_an_oversized_plugin_event_is_refused(woo, install, post_plugin, clock):
    shop = install()
    huge = cart_event(ts=int(clock.now.timestamp()), padding="x" * 300_000)
    assert post_plugin(shop, huge).status_code == 413
    assert rows(woo, Event) == []
