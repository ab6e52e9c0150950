"""The token helpers against the fake Shopify's token endpoint, and a client that refreshes on 401."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests

from connectors.base import StoreError
from connectors.shopify import oauth
from connectors.shopify.client import ShopifyClient
from tests.fakes.shopify_store import FakeShopify


@pytest.fixture
def fake() -> Iterator[FakeShopify]:
    with FakeShopify() as store:
        yield store


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_code_grant_gives_an_expiring_token_that_the_api_accepts(
    fake: FakeShopify, http: requests.Session
) -> None:
    code = fake.new_auth_code()
    tokens = oauth.exchange_code(http, fake.shop, fake.api_key, fake.api_secret, code, api_origin=fake.url)
    assert tokens.refresh_token and tokens.expires_at and tokens.expires_at > datetime.now(UTC)
    ShopifyClient(fake.shop, tokens.access_token, api_origin=fake.url).shop_info()
    with pytest.raises(StoreError) as raised:  # codes are single use
        oauth.exchange_code(http, fake.shop, fake.api_key, fake.api_secret, code, api_origin=fake.url)
    assert raised.value.code == "invalid_request"


def test_wrong_client_secret_is_refused(fake: FakeShopify, http: requests.Session) -> None:
    with pytest.raises(StoreError) as raised:
        oauth.exchange_code(
            http, fake.shop, fake.api_key, "shpss_" + "1" * 32, fake.new_auth_code(), api_origin=fake.url
        )
    assert raised.value.code == "invalid_client"


def test_outage_of_the_token_endpoint_is_transient(fake: FakeShopify, http: requests.Session) -> None:
    fake.fail_next(1, status=503)
    with pytest.raises(StoreError) as raised:
        oauth.refresh(http, fake.shop, fake.api_key, fake.api_secret, "shprt_x", api_origin=fake.url)
    assert raised.value.transient


def test_token_exchange_and_migration(fake: FakeShopify, http: requests.Session) -> None:
    now = datetime.now(UTC)
    claims = {
        "iss": f"https://{fake.shop}/admin",
        "dest": f"https://{fake.shop}",
        "aud": fake.api_key,
        "sub": "1",
        "exp": now + timedelta(minutes=1),
        "nbf": now,
    }
    session_token = jwt.encode(claims, fake.api_secret, algorithm="HS256")
    assert oauth.decode_session_token(f"Bearer {session_token}", fake.api_key, fake.api_secret)["sub"] == "1"
    exchanged = oauth.token_exchange(
        http, fake.shop, fake.api_key, fake.api_secret, session_token, api_origin=fake.url
    )
    assert exchanged.refresh_token
    fake.require_token("shpat_legacy")
    migrated = oauth.migrate_to_expiring(
        http, fake.shop, fake.api_key, fake.api_secret, "shpat_legacy", api_origin=fake.url
    )
    assert migrated.refresh_token and "shpat_legacy" not in fake.tokens


class RefreshingTokens:
    """What the bridge does: keep the token set, refresh it when asked to."""

    def __init__(self, store: FakeShopify, http: requests.Session, tokens: oauth.TokenSet) -> None:
        self.store, self.http, self.tokens, self.refreshes = store, http, tokens, 0

    def __call__(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            assert self.tokens.refresh_token
            s = self.store
            self.tokens = oauth.refresh(
                self.http, s.shop, s.api_key, s.api_secret, self.tokens.refresh_token, api_origin=s.url
            )
            self.refreshes += 1
        return self.tokens.access_token


def test_client_refreshes_a_revoked_token_once(fake: FakeShopify, http: requests.Session) -> None:
    code = fake.new_auth_code()
    tokens = oauth.exchange_code(http, fake.shop, fake.api_key, fake.api_secret, code, api_origin=fake.url)
    provider = RefreshingTokens(fake, http, tokens)
    client = ShopifyClient(fake.shop, tokens.access_token, api_origin=fake.url, token_provider=provider)
    fake.revoke_token(tokens.access_token)  # the hour is over
    assert client.shop_info().domain == fake.shop
    assert provider.refreshes == 1
    assert [c.outcome for c in fake.calls if c.operation != "oauth"] == ["unauthorized", "ok"]
