"""A product's details asked of its store once (bridge.leads.products records what leads do with it)."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Product, Shop
from bridge.infra.context import Context
from bridge.leads import products as leads_products
from bridge.shops import stores
from connectors.base import ProductDetails, StoreClient, StoreError

log = logging.getLogger(__name__)
MAX_NAMES = 50  # collections and tags kept per product
SWEEP_BATCH = 200  # products queued per shop and periodic run, at most


def look_up(ctx: Context, shop_id: int, product_id: str, client: StoreClient | None = None) -> str:
    """Describe one product from its store: "looked_up", "gone" (the store no longer has it: nothing but
    the time is recorded), "skipped" (already described, or the shop is gone) or "refused" (the store
    refuses for good: scope not granted, keys revoked; a later product asks again).

    A transient store error raises, so RQ retries the job with its backoff; the product stays unlooked-up.
    """
    with ctx.sessions() as session:
        product = session.scalar(_product(shop_id, product_id))
        shop = session.get(Shop, shop_id)
        if product is None or shop is None or product.looked_up_at is not None:
            return "skipped"
        try:
            store = client or stores.client_for(ctx, shop)
        except StoreError as exc:
            log.info("shop %s: no store client to look up product %s (%s)", shop_id, product_id, exc.code)
            return "refused"
    try:
        details = store.product_details(product_id)
    except StoreError as exc:
        if exc.transient:
            raise
        log.warning("shop %s: the store refused the lookup of product %s (%s)", shop_id, product_id, exc.code)
        return "refused"
    with transaction(ctx.sessions) as session:
        row = session.scalar(_product(shop_id, product_id))
        if row is None or row.looked_up_at is not None:
            return "skipped"
        now = ctx.now()
        row.looked_up_at = row.updated_at = now
        if details is None:
            return "gone"
        describe(row, details)
    return "looked_up"


def requeue_missing(ctx: Context) -> int:
    """Periodic: schedule again the lookups of products never described whose job is gone (Redis was away,
    the job failed after its retries, or the merchant granted read_products since); at most SWEEP_BATCH
    per shop and run, oldest first. How many were scheduled."""
    cutoff = ctx.now() - 2 * leads_products.LOOKUP_DELAY  # the products just seen have their own job
    with ctx.sessions() as session:
        shops = [
            s
            for s in session.scalars(sa.select(Shop).where(Shop.uninstalled_at.is_(None)))
            if leads_products.can_look_up(s)
        ]
        wanted = {
            shop.id: list(
                session.scalars(
                    sa.select(Product.product_id)
                    .where(
                        Product.shop_id == shop.id,
                        Product.looked_up_at.is_(None),
                        Product.first_seen_at < cutoff,
                    )
                    .order_by(Product.first_seen_at, Product.id)
                    .limit(SWEEP_BATCH)
                )
            )
            for shop in shops
        }
    return sum(
        leads_products.queue_lookups(ctx.redis, shop_id, ids) for shop_id, ids in wanted.items() if ids
    )


def _product(shop_id: int, product_id: str) -> sa.Select[Product]:
    return sa.select(Product).where(Product.shop_id == shop_id, Product.product_id == product_id)


def describe(row: Product, details: ProductDetails) -> None:
    """What the store says of the product replaces what payloads said (a picture it lacks is kept)."""
    row.title = (details.title or row.title or "")[:255] or None
    row.handle = (details.handle or "")[:255] or row.handle
    row.url = details.url or row.url
    row.image_url = details.image_url or row.image_url
    row.collections = _names(details.collections)
    row.tags = _names(details.tags)
    if details.price is not None:
        row.price, row.currency = details.price, (details.currency or "")[:3].upper() or None


def _names(values: tuple[str, ...]) -> list[str]:
    """Lower-cased, stripped, without blanks or repeats, in the store's order."""
    names = (v.strip().lower()[:255] for v in values if isinstance(v, str))
    return list(dict.fromkeys(n for n in names if n))[:MAX_NAMES]
