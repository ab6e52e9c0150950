"""Expiring offline tokens: refresh ahead of expiry, one refresh per shop at a time, migration, 401s."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Shop
from bridge.shops import tokens
from connectors.base import StoreError
from tests.integration.connectors.shopify.conftest import SHOP


def the_shop(ctx) -> Shop:
    with ctx.sessions() as s:
        return s.scalars(sa.select(Shop).where(Shop.domain == SHOP)).one()


def token_calls(fake, grant: str) -> int:
    return sum(1 for c in fake.calls if c.operation == "oauth" and c.variables.get("grant_type") == grant)


def set_expiry(ctx, shop_id: int, left: timedelta) -> None:
    with transaction(ctx.sessions) as s:
        s.get(Shop, shop_id).token_expires_at = ctx.now() + left


@pytest.fixture
def installed(ctx, install) -> Shop:
    assert install().status_code == 302
    return the_shop(ctx)


def test_a_fresh_token_is_used_as_is(ctx, fake, installed):
    provide = tokens.access_token_provider(ctx, installed.id)
    assert provide() == ctx.vault.decrypt(installed.access_token_enc)
    assert token_calls(fake, "refresh_token") == 0


def test_refresh_ahead_of_expiry_persists_both_tokens(ctx, fake, installed, clock):
    set_expiry(ctx, installed.id, timedelta(minutes=4))
    old_refresh = ctx.vault.decrypt(installed.refresh_token_enc)
    token = tokens.access_token_provider(ctx, installed.id)()
    assert token_calls(fake, "refresh_token") == 1
    shop = the_shop(ctx)
    assert ctx.vault.decrypt(shop.access_token_enc) == token != ctx.vault.decrypt(installed.access_token_enc)
    new_refresh = ctx.vault.decrypt(shop.refresh_token_enc)
    assert new_refresh != old_refresh and new_refresh in fake.refresh_tokens  # the pair is the new one
    assert shop.token_expires_at == clock() + timedelta(hours=1)
    assert shop.refresh_expires_at == clock() + timedelta(days=90)
    client = tokens.shopify_client_for(ctx, shop)
    assert client.shop_info().name == "Relance Test"  # the store accepts it
    assert token_calls(fake, "refresh_token") == 1


def test_concurrent_workers_refresh_once(ctx, fake, installed):
    set_expiry(ctx, installed.id, timedelta(minutes=1))
    start, results, errors = threading.Barrier(8), [], []

    def worker() -> None:
        start.wait()
        try:
            results.append(tokens.current_token(ctx, installed.id)[0])
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert token_calls(fake, "refresh_token") == 1
    assert len(set(results)) == 1 and results[0] == ctx.vault.decrypt(the_shop(ctx).access_token_enc)


def test_a_401_forces_one_refresh_and_the_call_goes_through(ctx, fake, installed):
    client = tokens.shopify_client_for(ctx, installed)
    client.shop_info()
    fake.revoke_token(ctx.vault.decrypt(installed.access_token_enc))  # as when the hour is over early
    assert client.shop_info().currency == "EUR"
    assert token_calls(fake, "refresh_token") == 1


def test_a_non_expiring_token_is_migrated_once(ctx, fake, shopify_shop):
    # Non-expiring tokens predate Relance's install flow: the conftest shop has one ("shpat_test").
    fake.require_token("shpat_test")
    with transaction(ctx.sessions) as s:
        s.get(Shop, shopify_shop["id"]).domain = SHOP
    client = tokens.shopify_client_for(ctx, the_shop(ctx))
    client.shop_info()
    client.shop_info()
    assert token_calls(fake, "urn:ietf:params:oauth:grant-type:token-exchange") == 1
    shop = the_shop(ctx)
    assert shop.refresh_token_enc is not None and shop.token_expires_at is not None
    assert "shpat_test" not in fake.tokens  # the old one no longer works
    assert tokens.access_token_provider(ctx, shop.id)() == ctx.vault.decrypt(shop.access_token_enc)


def test_a_refused_migration_keeps_the_old_token_and_is_not_retried(ctx, fake, shopify_shop):
    with transaction(ctx.sessions) as s:
        s.get(Shop, shopify_shop["id"]).domain = SHOP
    # the fake accepts any token until one is required, but refuses to migrate one it never issued
    assert tokens.current_token(ctx, shopify_shop["id"])[0] == "shpat_test"
    assert tokens.current_token(ctx, shopify_shop["id"])[0] == "shpat_test"
    assert token_calls(fake, "urn:ietf:params:oauth:grant-type:token-exchange") == 1
    assert tokens.MIGRATION_FAILED in the_shop(ctx).state
    with pytest.raises(StoreError) as raised:
        tokens.current_token(ctx, shopify_shop["id"], force=True, rejected="shpat_test")
    assert raised.value.code == "reauthorize"


def test_an_uninstalled_shop_has_no_token(ctx, installed):
    with transaction(ctx.sessions) as s:
        shop = s.get(Shop, installed.id)
        shop.access_token_enc, shop.uninstalled_at = None, ctx.now()
    with pytest.raises(StoreError) as raised:
        tokens.access_token_provider(ctx, installed.id)()
    assert raised.value.code == "no_token" and not raised.value.transient


def test_an_expired_refresh_token_needs_the_merchant(ctx, fake, installed):
    set_expiry(ctx, installed.id, timedelta(minutes=1))
    fake.refresh_tokens.clear()  # Shopify no longer knows it (90 days passed)
    with pytest.raises(StoreError) as raised:
        tokens.access_token_provider(ctx, installed.id)()
    assert not raised.value.transient
    assert the_shop(ctx).access_token_enc == installed.access_token_enc  # nothing half-written
