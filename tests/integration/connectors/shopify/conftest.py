"""Fixtures for the Shopify app: a local fake Shopify, settings pointing at it, signed requests, installs."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from bridge import wiring
from bridge.app import create_app
from bridge.events.collect import WithCollect
from bridge.infra.settings import Settings
from tests.conftest import APP_SECRET, Clock
from tests.fakes.shopify_store import FakeShopify

SHOP = "relance-test.myshopify.com"
# Shopify's `host` parameter: the shop's admin, base64-encoded (admin.shopify.com/store/relance-test)
ADMIN_HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvcmVsYW5jZS10ZXN0"
APP_IN_ADMIN = "https://admin.shopify.com/store/relance-test/apps/test-api-key"


@pytest.fixture
def clock() -> Clock:
    """Real time: the fake store checks session tokens against its own clock."""
    return Clock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def fake() -> Iterator[FakeShopify]:
    # a fast bucket: throttling is the client's business (tests/unit/connectors), not these tests
    with FakeShopify(shop=SHOP, api_key="test-api-key", api_secret=APP_SECRET, restore_rate=100_000) as store:
        yield store


@pytest.fixture
def settings(settings: Settings, fake: FakeShopify, database_url: str) -> Settings:
    # database_url is named so that pytest still parametrizes the overridden fixture (sqlite, postgresql)
    return settings.with_overrides(shopify_api_origin=fake.url)


@pytest.fixture(autouse=True)
def collect_topics(ctx: wiring.Context) -> None:
    """The pipeline reads storefront topics with CollectAdapter (the integrator may wire it differently)."""
    ctx.adapters = {name: WithCollect(adapter) for name, adapter in ctx.adapters.items()}


@pytest.fixture
def app(ctx: wiring.Context) -> Any:
    """The bridge alone: these tests do not need the admin page (admin_ui), only the URLs it is served at."""
    return create_app(ctx.settings, ctx=ctx, extensions=())


def sign_query(params: dict[str, str], clock: Clock, secret: str = APP_SECRET) -> dict[str, str]:
    """Query parameters as Shopify signs them (timestamp added, hex HMAC over the sorted pairs)."""
    signed = {**params, "timestamp": str(int(clock().timestamp()))}
    message = "&".join(f"{k}={v}" for k, v in sorted(signed.items()))
    signed["hmac"] = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return signed


def session_token(clock: Clock, shop: str = SHOP, secret: str = APP_SECRET, **claims: Any) -> str:
    """An App Bridge session token for `shop`."""
    now = clock()
    body = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": "test-api-key",
        "sub": "42",
        "exp": now + timedelta(minutes=1),
        "nbf": now - timedelta(seconds=5),
        "iat": now - timedelta(seconds=5),
        "jti": "f8912129-1af6-4cad-9ca3-76b0f7621087",
        "sid": "aaea182f-1d10-4c3e-9a5c-4a9b4d6bbd2f",
        **claims,
    }
    return jwt.encode(body, secret, algorithm="HS256")


@pytest.fixture
def install(client: Any, fake: FakeShopify, clock: Clock) -> Callable[..., Any]:
    """Run the whole code grant (install, then Shopify's redirect to the callback); the callback response."""

    def run(**overrides: str) -> Any:
        """`overrides` change the callback's parameters (the install is always for SHOP)."""
        started = client.get("/install/shopify", query_string=sign_query({"shop": SHOP}, clock))
        assert started.status_code == 302, started.get_data(as_text=True)
        state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
        params = {
            "code": fake.new_auth_code(),
            "shop": SHOP,
            "state": state,
            "host": ADMIN_HOST,
        }
        return client.get("/auth/shopify/callback", query_string=sign_query({**params, **overrides}, clock))

    return run
