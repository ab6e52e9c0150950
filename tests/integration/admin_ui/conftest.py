"""Admin page fixtures: two shops with a user each, sign-in through the real form, CSRF tokens from pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.db import transaction
from bridge.db.models import Activity, Cart, Event, Lead, Offer, ScoreChange, Shop
from bridge.infra.context import Context
from bridge.shops import users
from bridge.shops.registry import create_shop
from tests.conftest import APP_SECRET
from tests.integration.connectors.shopify.conftest import session_token as shopify_session_token

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def make_shop(ctx: Context, domain: str, email: str) -> dict[str, Any]:
    """A Shopify shop and its admin user."""
    with transaction(ctx.sessions) as session:
        new = create_shop(
            session,
            ctx.vault,
            platform="shopify",
            domain=domain,
            now=ctx.now(),
            access_token="shpat_x",
            webhook_secret="hook-secret-" + domain,
        )
        users.create_user(session, email, PASSWORD, new.shop.id, ctx.now())
        return {"id": new.shop.id, "domain": domain, "email": email, "api_key": new.api_key}


@pytest.fixture
def shop_a(ctx: Context) -> dict[str, Any]:
    return make_shop(ctx, "shop-a.myshopify.com", "owner@shop-a.test")


@pytest.fixture
def shop_b(ctx: Context) -> dict[str, Any]:
    return make_shop(ctx, "shop-b.myshopify.com", "owner@shop-b.test")


@pytest.fixture
def login(client: Any) -> Callable[..., Any]:
    """Sign in through the form (GET for the token, then POST)."""

    def sign_in(email: str, password: str = PASSWORD, follow: bool = False) -> Any:
        token = csrf_from(client.get("/admin/login").get_data(as_text=True))
        return client.post(
            "/admin/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=follow,
        )

    return sign_in


@pytest.fixture
def signed_in(shop_a: dict[str, Any], login: Callable[..., Any]) -> dict[str, Any]:
    """Shop A's owner, signed in."""
    response = login(shop_a["email"])
    assert response.status_code == 302, response.get_data(as_text=True)
    return shop_a


@pytest.fixture
def post_form(client: Any) -> Callable[..., Any]:
    """POST a form with the CSRF token read from `page` (default: the overview)."""

    def post(path: str, data: dict[str, Any] | None = None, page: str = "/admin/", **kw: Any) -> Any:
        token = csrf_from(client.get(page).get_data(as_text=True))
        return client.post(path, data={**(data or {}), "csrf_token": token}, **kw)

    return post


def seed(ctx: Context, shop_id: int, email: str = "ana@example.com") -> dict[str, int]:
    """One lead with activities, a score change, an abandoned cart, a sent offer and a failed event."""
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        event = Event(
            shop_id=shop_id,
            topic="checkouts/update",
            delivery_key=f"k-{email}",
            received_at=now,
            payload="{}",
            status="failed",
            attempts=1,
            available_at=now,
            error="PayloadError: token is missing",
        )
        session.add(event)
        lead = Lead(
            shop_id=shop_id,
            email=email,
            created_at=now - timedelta(days=2),
            source={},
            score=35,
            tier="cold",
            first_name="Ana",
            accepts_marketing=True,
            breakdown={
                "raw": 35.0,
                "lines": [
                    {
                        "rule": "activity:add_to_cart",
                        "label": "Added to cart",
                        "count": 2,
                        "points_before": 30.0,
                        "points": 29.3,
                    }
                ],
            },
        )
        session.add(lead)
        session.flush()
        session.add(Activity(shop_id=shop_id, lead_id=lead.id, kind="add_to_cart", occurred_at=now, ref="c1"))
        session.add(
            ScoreChange(
                lead_id=lead.id,
                at=now,
                old_score=0,
                new_score=35,
                old_tier="cold",
                new_tier="cold",
                reason="event carts/create",
            )
        )
        cart = Cart(
            shop_id=shop_id,
            lead_id=lead.id,
            cart_token=f"ct-{email}",
            email=email,
            currency="EUR",
            subtotal=Decimal("80.00"),
            items={"lines": []},
            source={},
            created_at=now - timedelta(hours=3),
            last_activity_at=now - timedelta(hours=2),
            status="abandoned",
            abandoned_at=now - timedelta(hours=1),
        )
        session.add(cart)
        session.flush()
        offer = Offer(
            shop_id=shop_id,
            lead_id=lead.id,
            cart_id=cart.id,
            reason="abandoned_cart",
            code=f"RL{shop_id}CODE{lead.id}",
            kind="percentage",
            value=Decimal(10),
            currency="EUR",
            starts_at=now,
            expires_at=now + timedelta(hours=24),
            status="sent",
            created_at=now,
            sent_at=now,
            platform_discount_id=f"demo-RL{shop_id}CODE{lead.id}",
            recipient=email,
        )
        session.add(offer)
        session.flush()
        return {"lead": lead.id, "cart": cart.id, "offer": offer.id, "event": event.id}


def session_token(ctx: Context, shop: str, secret: str = APP_SECRET, **claims: Any) -> str:
    """An App Bridge session token for `shop`, signed like Shopify does (at the context's time)."""
    return shopify_session_token(ctx.now, shop, secret, **claims)


def demo_store(ctx: Context, shop_id: int) -> None:
    """Make a shop use the built-in demo store (codes in Redis), so offer actions need no network."""
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        shop.state = {**(shop.state or {}), "demo": True}
