"""The customer's pages in the customer's language: unsubscribe, and a tracked link whose code has expired."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.db import transaction
from bridge.db.models import Lead, Offer, Shop
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.outreach import tracking
from bridge.outreach.customer_pages import WORDS
from tests.integration.admin_ui.conftest import make_shop

CART = "https://shop-a.myshopify.com/cart/c/abc?key=k1"
LINK = "https://shop-a.myshopify.com/discount/RL-1?redirect=%2Fcart%2Fc%2Fabc%3Fkey%3Dk1"


@pytest.fixture
def shop(ctx: Context) -> dict[str, Any]:
    found = make_shop(ctx, "shop-a.myshopify.com", "owner@shop-a.test")
    with transaction(ctx.sessions) as session:
        row = session.get(Shop, found["id"])
        assert row is not None
        row.name = "Maison <Ana>"
    return found


def add_offer(
    ctx: Context, shop_id: int, offer_locale: str | None, lead_locale: str | None, status: str = "sent"
) -> int:
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        number = session.query(Lead).count() + 1  # a new lead and code each time
        email = f"ana{number}@example.com"
        lead = Lead(shop_id=shop_id, email=email, created_at=now, locale=lead_locale)
        session.add(lead)
        session.flush()
        offer = Offer(
            shop_id=shop_id,
            lead_id=lead.id,
            reason="abandoned_cart",
            code=f"RL-{number}",
            value=Decimal(10),
            expires_at=now + timedelta(hours=24),
            status=status,
            created_at=now,
            recipient=email,
            locale=offer_locale,
        )
        session.add(offer)
        session.flush()
        return offer.id


def link(ctx: Context, offer_id: int, kind: str, target: str = LINK) -> str:
    with ctx.sessions() as session:
        offer = session.get(Offer, offer_id)
        assert offer is not None
        url = tracking.unsubscribe_url(ctx, offer) if kind == "u" else tracking.click_url(ctx, offer, target)
    return url.removeprefix(ctx.settings.public_url)


@pytest.mark.parametrize(
    ("offer_locale", "lead_locale", "lang", "heading"),
    [
        ("de-AT", "fr", "de", "Abmelden"),  # the offer's (its email's) language first
        (None, "es-MX", "es", "Darse de baja"),  # then the lead's
        ("ja", "nl_BE", "nl", "Afmelden"),  # a language without words is skipped
        (None, None, "fr", "Désinscription"),  # then the shop's campaign setting (French by default)
    ],
)
def test_the_unsubscribe_page_speaks_the_customers_language(
    ctx: Context,
    client: Any,
    shop: dict[str, Any],
    offer_locale: str | None,
    lead_locale: str | None,
    lang: str,
    heading: str,
) -> None:
    page = client.get(link(ctx, add_offer(ctx, shop["id"], offer_locale, lead_locale), "u"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Content-Language"] == lang
    assert f'<html lang="{lang}">' in html and f"<h1>{heading}</h1>" in html
    assert "Maison &lt;Ana&gt;" in html and "<Ana>" not in html  # the shop's name is escaped
    done = client.post(link(ctx, add_offer(ctx, shop["id"], offer_locale, lead_locale), "u"))
    assert WORDS[lang]["unsubscribed_title"] in done.get_data(as_text=True)


def test_without_any_locale_a_shop_set_to_italian_speaks_italian_and_an_unknown_one_english(
    ctx: Context, client: Any, shop: dict[str, Any]
) -> None:
    document = rules.defaults()
    for setting, heading in (("it", "Annulla iscrizione"), ("pt-BR", "Unsubscribe")):
        document["campaign"] = {**document["campaign"], "locale": setting}
        with transaction(ctx.sessions) as session:
            rules.save(session, shop["id"], document, "test", "", ctx.now())
        html = client.get(link(ctx, add_offer(ctx, shop["id"], None, None), "u")).get_data(as_text=True)
        assert f"<h1>{heading}</h1>" in html


def test_a_live_code_redirects_and_an_expired_one_explains_in_the_customers_language(
    ctx: Context, client: Any, shop: dict[str, Any], clock: Any
) -> None:
    live = add_offer(ctx, shop["id"], "fr-CA", None)
    response = client.get(link(ctx, live, "c"))
    assert response.status_code == 302 and response.headers["Location"] == LINK
    cancelled = add_offer(ctx, shop["id"], None, "it", status="cancelled")
    page = client.get(link(ctx, cancelled, "c"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Content-Language"] == "it"
    assert "<h1>Questo codice è scaduto</h1>" in html and "RL-2" in html
    assert f'href="{CART.replace("&", "&amp;")}"' in html  # the cart, without the dead code
    clock.advance(hours=25)  # the live one's expiry passes
    page = client.get(link(ctx, live, "c"))
    assert page.status_code == 200 and "<h1>Ce code promo a expiré</h1>" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (LINK, CART),
        (
            "https://shop-a.myshopify.com/discount/RL-1?redirect=%2F%2Fevil.test",
            "https://shop-a.myshopify.com/",
        ),
        ("https://shop.example/cart/?coupon=rl-1&x=1", "https://shop.example/cart/?x=1"),
        ("https://shop.example/?wc-api=recover&coupon=rl-1", "https://shop.example/?wc-api=recover"),
    ],
)
def test_the_link_on_drops_the_code_and_stays_on_the_store(target: str, expected: str) -> None:
    assert tracking.without_code(target) == expected
