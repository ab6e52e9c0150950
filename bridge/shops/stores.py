"""The store client of a shop: the one place that turns stored credentials into an API client."""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from typing import Any, TypedDict, Unpack, cast

import sqlalchemy as sa
from redis import Redis

from bridge.db import transaction
from bridge.db.models import Shop
from bridge.infra import observability
from bridge.infra.context import Context
from bridge.infra.netguard import guard_for
from bridge.shops import tokens
from connectors import registry as vendors
from connectors.base import StoreClient, StoreError
from connectors.registry import WooClient

log = logging.getLogger(__name__)


class RedisHash(MutableMapping[str, str]):
    """A Redis hash seen as a mapping (the demo store's code book)."""

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis, self.key = redis, key

    def __getitem__(self, name: str) -> str:
        value = self.redis.hget(self.key, name)
        if value is None:
            raise KeyError(name)
        return value.decode() if isinstance(value, bytes) else str(value)

    def __setitem__(self, name: str, value: str) -> None:
        self.redis.hset(self.key, name, value)

    def __delitem__(self, name: str) -> None:
        if not self.redis.hdel(self.key, name):
            raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        names = cast(list[bytes | str], self.redis.hkeys(self.key))  # redis-py types sync and async replies
        return (k.decode() if isinstance(k, bytes) else str(k) for k in names)

    def __len__(self) -> int:
        return cast(int, self.redis.hlen(self.key))


def client_for(ctx: Context, shop: Shop) -> StoreClient:
    """The API client for this shop's store, with its decrypted credentials."""
    if shop.uninstalled_at is not None:
        raise StoreError("the shop has uninstalled Relance", code="uninstalled")
    if (shop.state or {}).get("demo"):
        return vendors.demo_client(RedisHash(ctx.redis, f"relance:demo:{shop.id}:codes"))
    if shop.platform == "shopify":
        session = observability.store_session(ctx.redis, "shopify")
        return tokens.shopify_client_for(ctx, shop, session)
    if shop.platform == "woocommerce":
        if shop.disconnected_at is not None:
            raise StoreError("the store refused Relance's REST keys: reconnect the shop", code="disconnected")
        key, secret = ctx.vault.decrypt(shop.consumer_key_enc), ctx.vault.decrypt(shop.consumer_secret_enc)
        if not key or not secret:
            raise StoreError("no WooCommerce REST keys for this shop", code="no_credentials")
        return vendors.woocommerce_client(shop.domain, key, secret, session=guard_for(ctx).session())
    raise StoreError(f"unknown platform {shop.platform}", code="unknown_platform")


def mark_disconnected(ctx: Context, shop_id: int) -> bool:
    """The WooCommerce store refused the shop's REST keys (revoked): record it once, so offers stop and the
    admin page shows how to reconnect; True when this call marked it."""
    with transaction(ctx.sessions) as session:
        changed = session.execute(
            sa.update(Shop)
            .where(Shop.id == shop_id, Shop.platform == "woocommerce", Shop.disconnected_at.is_(None))
            .values(disconnected_at=ctx.now())
        )
        marked = cast(sa.CursorResult[Any], changed).rowcount
    if marked:
        log.warning(
            "shop %s: the store refused its REST keys; marked disconnected until reinstalled", shop_id
        )
    return bool(marked)


def mark_connected(ctx: Context, shop_id: int) -> None:
    """The store accepted the shop's keys again."""
    with transaction(ctx.sessions) as session:
        session.execute(
            sa.update(Shop)
            .where(Shop.id == shop_id, Shop.disconnected_at.is_not(None))
            .values(disconnected_at=None)
        )


class ClientOptions(TypedDict, total=False):
    """What a caller may change of a WooCommerce REST client (the client's defaults otherwise)."""

    timeout: float
    attempts: int


def make_client(
    ctx: Context, store_url: str, key: str, secret: str, **options: Unpack[ClientOptions]
) -> WooClient:
    """A REST client for a store (public addresses only), from the context's factory when one is set."""
    factory = ctx.woo_client
    client: WooClient = factory(store_url, key, secret, session=guard_for(ctx).session(), **options)
    return client
