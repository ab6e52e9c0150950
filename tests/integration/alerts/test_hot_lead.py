"""A lead made hot by its own activity: a signed `lead.hot` event (and `lead.tier_changed`) reaches the
merchant's endpoint, a real local HTTP server, and the alert email reaches the sales address through a real
SMTP server, saying why (the breakdown's top lines, products viewed, cart value, expected order value)."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import AlertDelivery, Cart, Lead, Order, Shop
from bridge.infra.netguard import Guard
from campaigns.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.fakes.alert_receiver import AlertReceiver
from tests.fakes.smtp import SMTPServer
from tests.integration.alerts.helpers import api_get, make_hot, put_alerts, warm_lead


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def hook():
    with AlertReceiver() as receiver:
        yield receiver


@pytest.fixture
def local(ctx, smtp):
    """Endpoints on this machine are allowed (ALLOW_PRIVATE_NETWORK_URLS), mail goes to `smtp`."""
    ctx.guard = Guard(allow_private=True)
    ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url, mail_from="Relance <alerts@relance.test>")
    return ctx


def subscribe(client, api_key, url, **extra):
    document = {
        "sales_email": "sales@shop.example",
        "subscriptions": [{"key": "crm", "url": url, "events": ["lead.hot", "lead.tier_changed"], **extra}],
    }
    response = put_alerts(client, api_key, document)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["secrets"]["crm"]


def test_a_hot_lead_sends_a_signed_event_and_an_email_saying_why(
    local, client, shopify_shop, hook, smtp, run_jobs
):
    ctx, shop_id = local, shopify_shop["id"]
    with transaction(ctx.sessions) as session:
        session.get(Shop, shop_id).state = {"primary_locale": "en-US"}  # the admin in English
    secret = subscribe(client, shopify_shop["api_key"], hook.url)
    lead_id = warm_lead(ctx, shop_id)

    make_hot(ctx, shop_id, lead_id)
    run_jobs()

    events = {json.loads(r.body)["type"]: r for r in hook.received}
    assert set(events) == {"lead.hot", "lead.tier_changed"}
    hot = events["lead.hot"]
    stamp, signature = hot.headers[TIMESTAMP_HEADER], hot.headers[SIGNATURE_HEADER]
    assert verify(secret, stamp, hot.body, signature, now=int(time.time()))
    assert not verify(secret, stamp, hot.body + b" ", signature, now=int(time.time()))
    assert not verify(secret, stamp, hot.body, signature, now=int(stamp) + 301)  # a replay, later
    payload = json.loads(hot.body)
    assert payload["version"] == 1 and payload["shop"] == "demo.myshopify.com"
    assert payload["data"]["lead_id"] == lead_id
    assert payload["data"]["email"] == "ana@example.com"
    assert payload["data"]["new_tier"] == "hot" and payload["data"]["old_tier"] == "warm"
    assert payload["data"]["score"] == 95
    assert payload["data"]["reasons"][0] == {"label": "Started checkout", "points": 60}
    assert "first_name" not in payload["data"] and "Lopez" not in hot.body.decode()

    [mail] = smtp.messages
    assert mail["To"] == "sales@shop.example"
    assert mail["Subject"] == "Hot lead: Ana Lopez <ana@example.com> (score 95)"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Why:\n  - Started checkout: +60 pts\n  - Added to cart: +30 pts\n" in text.replace("\r", "")
    assert "Products viewed: Linen shirt" in text
    assert "Cart value: €129.90" in text
    assert "Expected order value: €129.90 (the open cart's subtotal)" in text
    assert f"http://relance.test/admin/leads/{lead_id}" in text

    with ctx.sessions() as session:
        rows = session.scalars(sa.select(AlertDelivery).order_by(AlertDelivery.id)).all()
        assert {(r.event_type, r.channel, r.status, r.attempts) for r in rows} == {
            ("lead.tier_changed", "webhook", "sent", 1),
            ("lead.hot", "webhook", "sent", 1),
            ("lead.hot", "email", "sent", 1),
        }
        assert all(r.error is None for r in rows)
        assert {r.response_code for r in rows if r.channel == "webhook"} == {200}
        assert "ana@example.com" not in json.dumps([r.refs for r in rows])  # ids in the log, no email

    log = api_get(client, shopify_shop["api_key"], "/api/v1/alerts/deliveries").get_json()["deliveries"]
    assert len(log) == 3 and {d["status"] for d in log} == {"sent"}
    assert "ana@example.com" not in json.dumps(log)


def test_the_alert_email_speaks_the_merchants_language(local, client, shopify_shop, smtp, run_jobs):
    ctx, shop_id = local, shopify_shop["id"]
    with transaction(ctx.sessions) as session:
        session.get(Shop, shop_id).state = {"primary_locale": "fr-FR"}
    assert (
        put_alerts(client, shopify_shop["api_key"], {"sales_email": "ventes@shop.example"}).status_code == 200
    )
    lead_id = warm_lead(ctx, shop_id)

    make_hot(ctx, shop_id, lead_id)
    run_jobs()

    [mail] = smtp.messages
    assert mail["Subject"] == "Lead chaud : Ana Lopez <ana@example.com> (score 95)"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Produits consultés\u00a0: Linen shirt" in text
    assert "129,90\u00a0€" in text
    assert "le sous-total du panier ouvert" in text


def test_a_lead_hot_by_a_rules_change_alerts_nobody(local, client, shopify_shop, hook, smtp, run_jobs):
    ctx, shop_id = local, shopify_shop["id"]
    subscribe(client, shopify_shop["api_key"], hook.url)
    run_jobs()  # the alerts change's own rescore
    lead_id = warm_lead(ctx, shop_id)

    from bridge.leads import scores

    scores.score_and_commit(ctx, shop_id, [lead_id], "rules v7")
    run_jobs()

    with ctx.sessions() as session:
        assert session.get(Lead, lead_id).tier == "hot"
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertDelivery)) == 0
    assert hook.received == [] and smtp.messages == []


def test_without_a_cart_the_expected_value_is_the_shops_average_order(
    local, client, shopify_shop, smtp, run_jobs
):
    ctx, shop_id = local, shopify_shop["id"]
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        shop.state, shop.currency = {"primary_locale": "en"}, "EUR"
        for n, total in enumerate(("100.00", "50.10", "999.00")):
            session.add(
                Order(
                    shop_id=shop_id,
                    order_id=f"o{n}",
                    total=Decimal(total),
                    currency="EUR",
                    created_at=ctx.now(),
                    cancelled_at=ctx.now() if n == 2 else None,  # a cancelled order does not count
                )
            )
    assert (
        put_alerts(client, shopify_shop["api_key"], {"sales_email": "sales@shop.example"}).status_code == 200
    )
    lead_id = warm_lead(ctx, shop_id)
    with transaction(ctx.sessions) as session:
        session.execute(sa.update(Cart).values(status="converted"))

    make_hot(ctx, shop_id, lead_id)
    run_jobs()

    [mail] = smtp.messages
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Cart value: none recorded" in text
    assert "Expected order value: €75.05 (the shop's average order value)" in text
