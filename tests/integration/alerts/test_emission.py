"""Where events are emitted: the recovery loop of an abandoned checkout, driven by signed Shopify webhooks,
the sweep and the journeys, tells a subscribed endpoint of each step in turn (abandoned, offer sent,
journey exited, cart recovered, offer redeemed), once each."""

from __future__ import annotations

import json

import pytest
import responses

from bridge.db import transaction
from bridge.db.models import Ruleset, Shop
from bridge.infra.netguard import Guard
from bridge.leads import alert_events
from campaigns.alerts import EVENT_TYPES
from tests.fakes.smtp import SMTPServer
from tests.integration.alerts.helpers import put_alerts
from tests.integration.outreach.journeys_helpers import campaign, single_offer_journeys
from tests.integration.outreach.test_campaigns import abandon, checkout_payload, order_payload, rows

HOOK = "https://hooks.example.com/relance"


@pytest.fixture
def shop(ctx, shopify_shop, client, run_jobs):
    """A demo store whose journeys send one code a minute after abandonment, subscribed to every event."""
    ctx.guard = Guard(resolve=lambda host, port: ["93.184.216.34"])
    document = {"campaign": campaign(sender_name="Demo Shop"), "journeys": single_offer_journeys()}
    with transaction(ctx.sessions) as session:
        row = session.get(Shop, shopify_shop["id"])
        row.state = {"demo": True}
        session.add(
            Ruleset(shop_id=row.id, version=1, document=document, created_at=ctx.now(), created_by="t")
        )
    subscription = {"key": "crm", "url": HOOK, "events": list(EVENT_TYPES)}
    assert put_alerts(client, shopify_shop["api_key"], {"subscriptions": [subscription]}).status_code == 200
    run_jobs()
    return shopify_shop


def received() -> list[dict]:
    return [json.loads(call.request.body) for call in responses.calls]


@responses.activate
def test_the_recovery_loop_is_told_step_by_step(ctx, clock, shop, post_shopify, run_jobs):
    responses.post(HOOK, status=200)
    with SMTPServer() as smtp:
        ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url)
        checkout = checkout_payload()
        abandon(ctx, clock, post_shopify, run_jobs, checkout)
        assert alert_events.journey_exits(ctx) == 1  # the periodic scan: the run completed
        assert alert_events.journey_exits(ctx) == 0  # seen once
        run_jobs()
        post_shopify("orders/create", order_payload(checkout, [rows_offer_code(ctx)]))
        run_jobs()
        post_shopify("orders/create", order_payload(checkout, [rows_offer_code(ctx)]))  # a redelivery
        run_jobs()

    events = received()
    by_type = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event["data"])
    for once in ("cart.abandoned", "offer.sent", "journey.exited", "cart.recovered", "offer.redeemed"):
        assert len(by_type.get(once, [])) == 1, (once, list(by_type))
    [abandoned] = by_type["cart.abandoned"]
    [sent] = by_type["offer.sent"]
    [exited] = by_type["journey.exited"]
    [recovered] = by_type["cart.recovered"]
    [redeemed] = by_type["offer.redeemed"]
    assert abandoned["email"] == "shopper@example.com" and abandoned["currency"]
    assert sent["reason"] == "abandoned_cart" and sent["discount"]["kind"] == "percentage"
    assert "code" not in sent
    assert (exited["journey"], exited["exit_reason"]) == ("cart", "completed")
    assert recovered["cart_id"] == abandoned["cart_id"] and recovered["order_total"] == "358.20"
    assert redeemed["offer_id"] == sent["offer_id"] and redeemed["order_total"] == "358.20"
    order = [e["type"] for e in events if e["type"] != "lead.tier_changed"]
    assert order.index("cart.abandoned") < order.index("offer.sent") < order.index("cart.recovered")
    assert all(e["version"] == 1 and e["shop"] == "demo.myshopify.com" for e in events)
    assert len({e["id"] for e in events}) == len(events)


def rows_offer_code(ctx) -> str:
    from bridge.db.models import Offer

    [offer] = rows(ctx, Offer)
    return offer.code.lower()
