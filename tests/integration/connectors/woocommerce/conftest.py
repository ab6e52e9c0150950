"""A fake WooCommerce store, the install flow driven for real, and signed deliveries from store and plugin."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from bridge.db.models import Shop
from bridge.shops.woo_access import issue_invite
from connectors.woocommerce.client import WooClient
from connectors.woocommerce.wordpress import sign
from tests.conftest import fixture
from tests.fakes.woocommerce_store import FakeWooStore

ALLOWED = "https://shop.example.com"  # on the woo fixture's WOOCOMMERCE_ALLOWED_STORES
CK, CS = "ck_" + "a" * 40, "cs_" + "b" * 40


@pytest.fixture
def store() -> Iterator[FakeWooStore]:
    """A fake WooCommerce store that accepts one key pair."""
    with FakeWooStore(consumer_key=CK, consumer_secret=CS) as fake:
        yield fake


@pytest.fixture
def woo(ctx: Any) -> Any:
    """The context, with REST clients that never sleep between retries, for local stores (fake ones on
    127.0.0.1 and an http PUBLIC_URL need ALLOW_PRIVATE_NETWORK_URLS) and one allow-listed store."""
    ctx.woo_client = functools.partial(WooClient, sleep=lambda _: None)
    ctx.settings = ctx.settings.with_overrides(
        allow_private_network_urls=True, woocommerce_allowed_stores=(ALLOWED,)
    )
    return ctx


def authorize(client: Any, store_url: str) -> str:
    """Start the install through an operator's install link; the one-time user_id in the redirect."""
    link = issue_invite(client.application.extensions["relance"], store_url)
    page = client.get(link.split("relance.test", 1)[1])  # the link's page: a button, nothing used up yet
    assert page.status_code == 200 and b'method="post"' in page.data, page.get_data(as_text=True)
    invite = parse_qs(urlsplit(link).query)["invite"][0]
    response = client.post("/install/woocommerce", data={"store_url": store_url, "invite": invite})
    assert response.status_code == 302, response.get_data(as_text=True)
    return parse_qs(urlsplit(response.headers["Location"]).query)["user_id"][0]


def send_keys(client: Any, user_id: str, key: str = CK, secret: str = CS) -> Any:
    """What WooCommerce posts to the callback once the merchant approves."""
    body = {
        "key_id": 7,
        "user_id": user_id,
        "consumer_key": key,
        "consumer_secret": secret,
        "key_permissions": "read_write",
    }
    return client.post("/auth/woocommerce/callback", json=body)


@pytest.fixture
def install(
    woo: Any, client: Any, store: FakeWooStore, run_jobs: Callable[[], None]
) -> Callable[[], dict[str, Any]]:
    """Run the whole install (webhook registration job included); the shop's id, key and secret."""

    def run() -> dict[str, Any]:
        user_id = authorize(client, store.url)
        response = send_keys(client, user_id, store.consumer_key, store.consumer_secret)
        assert response.status_code == 200, response.get_data(as_text=True)
        run_jobs()
        with woo.sessions() as session:
            shop = session.scalars(sa.select(Shop).where(Shop.platform == "woocommerce")).one()
            secret = woo.vault.decrypt(shop.webhook_secret_enc)
            status = shop.state.get("woo_webhooks")
        assert len(store.webhooks) >= 4, f"webhooks not registered: {status}"
        return {"id": shop.id, "shop_key": shop.shop_key, "secret": secret, "user_id": user_id}

    return run


@pytest.fixture
def deliver(client: Any, store: FakeWooStore) -> Callable[[str, dict[str, Any]], Any]:
    """POST what the store's active webhook for a topic would deliver, signed by the store."""

    def post(topic: str, resource: dict[str, Any]) -> Any:
        url, raw, headers = store.delivery(topic, resource)
        return client.post(urlsplit(url).path, data=raw, headers=headers)

    return post


@pytest.fixture
def post_plugin(client: Any, clock: Any) -> Callable[..., Any]:
    """POST a companion-plugin event signed like the plugin does (timestamp + "." + body)."""

    def post(
        shop: dict[str, Any], payload: dict[str, Any], *, secret: str | None = None, age: int = 0
    ) -> Any:
        raw = json.dumps(payload).encode()
        stamp = int(clock.now.timestamp()) - age
        headers = {
            "X-Relance-Timestamp": str(stamp),
            "Content-Type": "application/json",
            "X-Relance-Signature": sign(raw, secret or shop["secret"], stamp),
        }
        return client.post(f"/webhooks/wordpress/{shop['shop_key']}", data=raw, headers=headers)

    return post


def order(
    order_id: int = 501,
    status: str = "processing",
    *,
    modified: str = "2026-11-25T09:50:00",
    created: str = "2026-11-25T09:40:00",
    email: str = "jane@example.com",
    token: str | None = None,
    coupons: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Our order fixture (total 34.49), recent, with a status, an email and the plugin's cart token if any."""
    body = json.loads(fixture("woocommerce", "order.updated.json"))
    body.update(id=order_id, status=status, date_created_gmt=created, date_modified_gmt=modified)
    body["billing"]["email"] = email
    body["meta_data"] = [{"id": 90, "key": "_relance_cart_token", "value": token}] if token else []
    body["coupon_lines"] = [{"id": 3, "code": code, "discount": "1.00"} for code in coupons]
    return body


def customer(
    customer_id: int = 58, *, created: str = "2026-11-25T09:30:00", email: str = "lucia.moreno@example.org"
) -> dict[str, Any]:
    """Our customer fixture, registered recently."""
    body = json.loads(fixture("woocommerce", "customer.created.json"))
    body.update(id=customer_id, email=email, date_created_gmt=created, date_modified_gmt=created)
    return body


def cart_event(
    event: str = "cart.updated", *, ts: int, email: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A plugin event body as Relance_Core::build_payload() makes it."""
    token = extra.pop("cart_token", "0123456789abcdef0123456789abcdef")
    body: dict[str, Any] = {
        "event": event,
        "cart_token": token,
        "session_key": "5f1e" * 8,
        "items": [{"product_id": 31, "variation_id": 0, "title": "Tee", "quantity": 2, "price": "12.50"}],
        "subtotal": "25.00",
        "currency": "USD",
        "recovery_url": f"https://shop.example.com/cart/?relance_restore={token}",
        "ts": ts,
    }
    if email:
        body["email"] = email
    return {**body, **extra}
