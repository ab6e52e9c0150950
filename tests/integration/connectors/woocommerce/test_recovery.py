"""The whole loop on WooCommerce: install, plugin checkout, abandonment, store coupon, order, redeemed."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

import campaigns
from bridge.db import transaction
from bridge.db.models import Cart, JourneyRun, Offer, Ruleset
from bridge.outreach import sweep
from tests.fakes.smtp import SMTPServer
from tests.integration.connectors.woocommerce.conftest import cart_event, order
from tests.integration.outreach.journeys_helpers import send_due_steps

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def shop(woo, install, smtp):
    """An installed store whose campaign sends at once and holds nobody out."""
    woo.settings = woo.settings.with_overrides(smtp_url=smtp.url)
    installed = install()
    document = {"campaign": {**campaigns.DEFAULT_CAMPAIGN, "quiet_hours": None, "holdout_share": 0}}
    with transaction(woo.sessions) as session:
        session.add(
            Ruleset(
                shop_id=installed["id"], version=1, document=document, created_at=woo.now(), created_by="t"
            )
        )
    return installed


def one(ctx, model):
    with ctx.sessions() as session:
        return session.scalars(sa.select(model)).one()


def send_offer(woo, shop, store, clock, post_plugin, deliver, run_jobs) -> Offer:
    """A checkout abandoned with an email, swept an hour later: the offer, sent."""
    now, restore = int(clock.now.timestamp()), f"{store.url}/cart/?relance_restore={TOKEN}"
    typed = cart_event(
        "checkout.email", ts=now - 600, email="jane@example.com", marketing_consent=True, recovery_url=restore
    )
    assert post_plugin(shop, typed).status_code == 200
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(woo) == 1
    run_jobs()
    send_due_steps(woo, clock, run_jobs)  # the converted journey: one code step a minute after abandonment
    offer = one(woo, Offer)
    assert offer.status == "sent"
    return offer


def test_the_store_coupon_expires_when_the_offer_does(
    woo, shop, store, clock, post_plugin, deliver, run_jobs
):
    store.timezone_string = "Europe/Paris"  # WooCommerce reads a date without offset in the site's zone
    offer = send_offer(woo, shop, store, clock, post_plugin, deliver, run_jobs)
    [coupon] = store.coupons.values()
    shown = store.coupons_shown()[0]
    assert shown["date_expires_gmt"] == offer.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert not store.coupon_expired(coupon["code"], offer.expires_at - timedelta(seconds=1))
    assert store.coupon_expired(coupon["code"], offer.expires_at + timedelta(seconds=1))


def test_an_order_after_the_code_expired_is_not_a_redemption(
    woo, shop, store, clock, post_plugin, deliver, run_jobs
):
    offer = send_offer(woo, shop, store, clock, post_plugin, deliver, run_jobs)
    late = offer.expires_at + timedelta(hours=2)
    stamp = late.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    placed = order(951, "processing", token=TOKEN, coupons=(offer.code.lower(),), created=stamp)
    placed["date_modified_gmt"] = stamp
    clock.advance(hours=30)
    assert deliver("order.created", placed).status_code == 200
    run_jobs()
    offer = one(woo, Offer)
    assert offer.status != "redeemed" and offer.order_id is None and offer.redeemed_at is None


def test_an_abandoned_woocommerce_checkout_is_recovered_with_a_store_coupon(
    woo, shop, store, smtp, clock, client, post_plugin, deliver, run_jobs
):
    now, restore = int(clock.now.timestamp()), f"{store.url}/cart/?relance_restore={TOKEN}"
    typed = cart_event(
        "checkout.email", ts=now - 600, email="jane@example.com", marketing_consent=True, recovery_url=restore
    )
    assert post_plugin(shop, typed).status_code == 200
    draft = order(950, "checkout-draft", token=TOKEN, modified="2026-11-25T09:51:00")
    assert deliver("order.updated", draft).status_code == 200  # block checkout: the same cart
    run_jobs()
    assert one(woo, Cart).checkout_token == "950"
    clock.advance(minutes=61)
    assert sweep.sweep(woo) == 1
    run_jobs()
    send_due_steps(woo, clock, run_jobs)

    offer = one(woo, Offer)
    assert offer.status == "sent" and offer.platform_discount_id
    [coupon] = store.coupons.values()
    assert coupon["code"] == offer.code.lower() and str(coupon["id"]) == offer.platform_discount_id
    assert (coupon["discount_type"], coupon["amount"], coupon["usage_limit"]) == ("percent", "10.00", 1)
    assert coupon["email_restrictions"] == ["jane@example.com"] and coupon["individual_use"] is True
    [message] = smtp.messages
    html = message.get_body(("html",)).get_content()
    click = re.search(r'href="http://relance\.test(/t/c/[^"]+)"', html).group(1)
    assert client.get(click).location == f"{restore}&coupon={offer.code.lower()}"  # the plugin's restore link

    placed = order(
        950, "processing", token=TOKEN, coupons=(offer.code.lower(),), created="2026-11-25T11:20:00"
    )
    placed["date_modified_gmt"] = "2026-11-25T11:20:00"
    assert deliver("order.created", placed).status_code == 200
    run_jobs()
    offer, cart = one(woo, Offer), one(woo, Cart)
    assert (offer.status, offer.order_id, offer.order_total) == ("redeemed", "950", Decimal("34.49"))
    assert (cart.status, cart.order_id) == ("recovered", "950")


def test_an_order_while_the_step_waits_for_quiet_hours_ends_the_run_before_any_code(
    woo, shop, store, clock, post_plugin, deliver, run_jobs
):
    with transaction(woo.sessions) as session:
        ruleset = session.scalars(sa.select(Ruleset)).one()
        quiet = {"start": "09:00", "end": "20:00"}  # the shop's zone is UTC: the step waits until 20:00
        ruleset.document = {"campaign": {**ruleset.document["campaign"], "quiet_hours": quiet}}
    now = int(clock.now.timestamp())
    typed = cart_event("checkout.email", ts=now - 600, email="jane@example.com", marketing_consent=True)
    assert post_plugin(shop, typed).status_code == 200
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(woo) == 1
    run_jobs()
    send_due_steps(woo, clock, run_jobs)
    run = one(woo, JourneyRun)
    assert (run.status, run.deferred_reason) == ("active", "quiet_hours")
    assert run.next_due_at.isoformat() == "2026-11-25T20:00:00+00:00"
    assert store.coupons == {}  # the code is minted just before its step, never while it waits
    placed = order(960, "processing", token=TOKEN, created="2026-11-25T11:30:00")
    placed["date_modified_gmt"] = "2026-11-25T11:30:00"
    clock.advance(minutes=30)
    assert deliver("order.created", placed).status_code == 200
    run_jobs()
    run = one(woo, JourneyRun)
    assert (run.status, run.exit_reason) == ("ended", "cart_ordered")
    assert store.coupons == {}
    with woo.sessions() as session:
        assert session.scalars(sa.select(Offer)).all() == []
