"""The whole loop on WooCommerce: install, plugin checkout, abandonment, store coupon, order, redeemed."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

import campaigns
from bridge import campaign
from bridge.db import transaction
from bridge.models import Cart, Offer, Ruleset
from tests.fakes.smtp import SMTPServer
from tests.integration.woocommerce.conftest import cart_event, order

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
    assert campaign.sweep(woo) == 1
    run_jobs()

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
