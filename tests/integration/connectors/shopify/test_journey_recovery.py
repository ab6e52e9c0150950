"""A French shopper's abandoned checkout through a two-step journey on a (fake) Shopify store and a real SMTP
server: a French reminder without a code, then a French email whose code was created on the store just
before it went out (customer-bound, single use, expiring), then the order with it; the third step never
goes and the run ends "cart_ordered". Every GraphQL document is validated against the 2026-10 schema."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

import campaigns
from bridge.db import transaction
from bridge.db.models import JourneyRun, Offer, Ruleset, Shop
from bridge.outreach import journey_sweep, sweep
from tests.conftest import fixture
from tests.fakes.smtp import SMTPServer
from tests.integration.connectors.shopify.conftest import SHOP

REMINDER = {
    "fr": {"subject": "Votre panier vous attend", "body": "Bonjour {{ first_name }}, vos articles sont là."},
    "en": {"subject": "Your cart is waiting", "body": "Hello {{ first_name }}, your items are here."},
}
CODE = {
    "fr": {"subject": "{{ discount }} sur votre panier", "body": "Votre code : {{ code }}."},
    "en": {"subject": "{{ discount }} off your cart", "body": "Your code: {{ code }}."},
}
JOURNEY = {
    "key": "cart",
    "trigger": "cart_abandoned",
    "holdout_share": 0,
    "steps": [
        {"after_minutes": 60, "messages": REMINDER},
        {
            "after_minutes": 24 * 60,
            "offer": {"kind": "percentage", "value": 10, "expires_hours": 48},
            "messages": CODE,
        },
        {"after_minutes": 72 * 60, "messages": REMINDER},
    ],
}


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def shop_id(ctx, install, run_jobs, smtp) -> int:
    ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url)
    assert install().status_code == 302
    run_jobs()
    with transaction(ctx.sessions) as session:
        shop = session.scalar(sa.select(Shop).where(Shop.domain == SHOP))
        document = {
            "campaign": {
                **campaigns.DEFAULT_CAMPAIGN,
                "quiet_hours": None,
                "locale": "en",
                "timezone": "Europe/Paris",
            },
            "journeys": [JOURNEY],
        }
        session.add(
            Ruleset(shop_id=shop.id, version=1, document=document, created_at=ctx.now(), created_by="t")
        )
        return shop.id


def french_checkout(clock) -> dict:
    payload = json.loads(fixture("shopify", "checkouts__create.json"))
    at = (clock() - timedelta(minutes=5)).isoformat()
    email = "amelie@example.fr"
    payload.update(
        email=email,
        token="tok-fr",
        cart_token="cart-fr",
        created_at=at,
        updated_at=at,
        buyer_accepts_marketing=True,
        customer_locale="fr",
    )
    payload["customer"].update(id=int(hashlib.sha256(email.encode()).hexdigest()[:12], 16), email=email)
    return payload


def step(ctx, clock, run_jobs, **delta) -> None:
    clock.advance(**delta)
    journey_sweep.sweep_due(ctx)
    run_jobs()


def test_a_french_checkout_gets_french_steps_and_a_code_minted_at_its_step(
    ctx, clock, fake, shop_id, smtp, post_shopify, run_jobs
):
    checkout = french_checkout(clock)
    assert post_shopify("checkouts/create", checkout, shop=SHOP).status_code == 200
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 1
    run_jobs()

    step(ctx, clock, run_jobs, minutes=60)
    [reminder] = smtp.messages
    assert reminder["Subject"] == "Votre panier vous attend"
    assert not [c for c in fake.calls if c.operation and "iscount" in c.operation]  # no code yet

    step(ctx, clock, run_jobs, hours=23)
    with ctx.sessions() as s:
        coded = s.scalars(sa.select(Offer).where(Offer.step == 1)).one()
    assert coded.status == "sent" and coded.locale == "fr" and coded.platform_discount_id
    [discount] = [d for d in fake.discounts.values() if coded.code in json.dumps(d)]
    text = json.dumps(discount)
    assert f"gid://shopify/Customer/{checkout['customer']['id']}" in text and '"usageLimit": 1' in text
    second = smtp.messages[1]
    # CLDR's French percent has a no-break space before "%" (the parsed header may fold it away)
    assert second["Subject"].replace("\u00a0", "").replace(" %", "%") == "10% sur votre panier"
    body = second.get_body(("plain",)).get_content()
    assert f"Votre code : {coded.code}." in body
    expiry = campaigns.format_expiry(coded.expires_at, "Europe/Paris", locale="fr")
    assert re.search(r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d+ \w+", expiry)
    html = second.get_body(("html",)).get_content()
    assert expiry in body and 'lang="fr"' in html and coded.code in html

    order = json.loads(fixture("shopify", "orders__create.json"))
    now = clock().isoformat()
    order.update(
        checkout_token=checkout["token"],
        cart_token=checkout["cart_token"],
        email=checkout["email"],
        created_at=now,
        updated_at=now,
        total_price="358.20",
        currency="EUR",
        discount_codes=[{"code": coded.code, "amount": "39.80", "type": "percentage"}],
    )
    order["customer"] = {**order["customer"], "id": checkout["customer"]["id"], "email": checkout["email"]}
    assert post_shopify("orders/create", order, shop=SHOP).status_code == 200
    run_jobs()
    step(ctx, clock, run_jobs, days=3)
    assert len(smtp.messages) == 2
    with ctx.sessions() as s:
        run = s.scalars(sa.select(JourneyRun)).one()
        redeemed = s.get(Offer, coded.id)
    assert (run.status, run.exit_reason) == ("ended", "cart_ordered") and redeemed.status == "redeemed"
