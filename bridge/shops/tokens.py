"""Shopify offline tokens: stored encrypted, refreshed ahead of expiry, one refresh at a time per shop.

Shopify's expiring offline tokens last an hour and come with a refresh token; a refresh returns a new pair
that must be persisted together (PLATFORMS §3.4). Workers share the shop row, so a refresh runs under a
lock on that row and re-reads it first: whoever waited finds the new token and uses it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy.orm import Session

from bridge.db import locked, transaction
from bridge.db.models import Shop
from bridge.infra.context import Context
from bridge.infra.crypto import Vault
from bridge.shops import registry
from connectors import registry as vendors
from connectors.base import StoreError
from connectors.registry import ShopifyClient, TokenProvider
from connectors.shopify import oauth

log = logging.getLogger(__name__)

REFRESH_AHEAD = timedelta(minutes=5)
MIGRATION_FAILED = "token_migration_failed_at"  # shop.state key: migration refused, do not retry


def save_offline_token(
    session: Session, vault: Vault, domain: str, tokens: oauth.TokenSet, now: datetime, api_version: str
) -> Shop:
    """Create the Shopify shop, or give an existing one new credentials (same row, keys kept)."""
    shop = registry.by_domain(session, "shopify", domain)
    if shop is None:
        shop = registry.create_shop(session, vault, platform="shopify", domain=domain, now=now).shop
    elif shop.uninstalled_at is not None or shop.installed_at is None:
        shop.installed_at, shop.uninstalled_at = now, None
    shop.api_version = api_version
    store_tokens(shop, vault, tokens)
    session.flush()
    return shop


def store_tokens(shop: Shop, vault: Vault, tokens: oauth.TokenSet) -> None:
    """Write an access token and its refresh token (both encrypted) with their expiries, together."""
    shop.access_token_enc = vault.encrypt(tokens.access_token)
    shop.refresh_token_enc = vault.encrypt(tokens.refresh_token)
    shop.token_expires_at = tokens.expires_at
    shop.refresh_expires_at = tokens.refresh_expires_at
    settings = {k: v for k, v in (shop.state or {}).items() if k != MIGRATION_FAILED}
    shop.state = {**settings, "shopify_scope": tokens.scope}


def has_live_token(ctx: Context, domain: str) -> bool:
    """True when the installed shop holds an expiring token whose refresh token is still valid."""
    with ctx.sessions() as session:
        shop = registry.by_domain(session, "shopify", domain)
        if shop is None or shop.uninstalled_at is not None or shop.refresh_token_enc is None:
            return False
        return shop.refresh_expires_at is None or shop.refresh_expires_at > ctx.now() + timedelta(days=1)


def access_token_provider(ctx: Context, shop_id: int, http: requests.Session | None = None) -> TokenProvider:
    """The shop's current access token for the store client; refreshes ahead of expiry or on a 401."""
    cached = _Cached()

    def provide(*, force_refresh: bool = False) -> str:
        fresh = cached.expires_at is not None and cached.expires_at - ctx.now() > REFRESH_AHEAD
        if not force_refresh and fresh and cached.token is not None:
            return cached.token
        rejected = cached.token if force_refresh else None
        token, expires_at = current_token(ctx, shop_id, force=force_refresh, rejected=rejected, http=http)
        cached.token, cached.expires_at = token, expires_at
        return token

    return provide


@dataclass
class _Cached:
    """A token provider's last token and its expiry (None: never fetched, or a non-expiring token)."""

    token: str | None = None
    expires_at: datetime | None = None


def current_token(
    ctx: Context,
    shop_id: int,
    *,
    force: bool = False,
    rejected: str | None = None,
    http: requests.Session | None = None,
) -> tuple[str, datetime | None]:
    """A usable access token and its expiry: the stored one if fresh, else a refreshed or migrated one."""
    with ctx.sessions() as session:
        found = _usable(ctx, session.get(Shop, shop_id), force, rejected)
    if found is not None:
        return found
    with transaction(ctx.sessions) as session:
        shop = locked(session, Shop, shop_id, Shop.name)
        found = _usable(ctx, shop, force, rejected)  # another worker may have refreshed while we waited
        if found is not None:
            return found
        assert shop is not None  # _usable raises for a missing shop
        tokens = _renew(ctx, shop, http)
        if tokens is None:  # migration refused: keep the old token, never try again
            shop.state = {**(shop.state or {}), MIGRATION_FAILED: ctx.now().isoformat()}
            return str(ctx.vault.decrypt(shop.access_token_enc)), None
        store_tokens(shop, ctx.vault, tokens)
        return tokens.access_token, tokens.expires_at


def _usable(
    ctx: Context, shop: Shop | None, force: bool, rejected: str | None
) -> tuple[str, datetime | None] | None:
    """The stored token when it can be used as is; None when it must be refreshed or migrated."""
    if shop is None or shop.uninstalled_at is not None or shop.access_token_enc is None:
        raise StoreError("the shop has no access token (not installed or uninstalled)", code="no_token")
    token = str(ctx.vault.decrypt(shop.access_token_enc))
    bad = force and (rejected is None or rejected == token)
    if shop.token_expires_at is None and shop.refresh_token_enc is None:
        if MIGRATION_FAILED not in (shop.state or {}):
            return None  # a non-expiring token: migrate it once
        if bad:
            raise StoreError("Shopify rejected the access token; reinstall the app", code="reauthorize")
        return token, None
    if bad or shop.token_expires_at is None or shop.token_expires_at - ctx.now() <= REFRESH_AHEAD:
        return None
    return token, shop.token_expires_at


def _renew(ctx: Context, shop: Shop, http: requests.Session | None) -> oauth.TokenSet | None:
    """Refresh an expiring token, or migrate a non-expiring one (None when Shopify refuses the migration)."""
    s = ctx.settings
    args = (shop.domain, s.shopify_api_key, s.shopify_api_secret)
    origin = s.shopify_api_origin or None
    with requests.Session() as own:
        client = http or own
        if shop.refresh_token_enc is not None:
            refresh_token = str(ctx.vault.decrypt(shop.refresh_token_enc))
            return oauth.refresh(client, *args, refresh_token, api_origin=origin, now=ctx.now())
        old = str(ctx.vault.decrypt(shop.access_token_enc))
        try:
            return oauth.migrate_to_expiring(client, *args, old, api_origin=origin, now=ctx.now())
        except StoreError as exc:
            if exc.transient:
                raise
            log.warning("shop %s: migration to an expiring token refused (%s)", shop.id, exc.code)
            return None


def shopify_client_for(ctx: Context, shop: Shop, http: requests.Session | None = None) -> ShopifyClient:
    """A GraphQL client for the shop, on the pinned API version, whose token refreshes itself."""
    return vendors.shopify_client(
        shop.domain,
        access_token_provider(ctx, shop.id, http),
        api_version=ctx.settings.shopify_api_version,
        api_origin=ctx.settings.shopify_api_origin or None,
        session=http,
    )
