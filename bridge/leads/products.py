"""The product store: what each lead viewed, added to a cart and bought, and what those products are.

Recording happens while facts are applied (bridge.events.apply): a product's row is made from the payload's
line (title, picture when the payload has them), and the store's API describes it once afterwards
(bridge.shops.products, queued after the commit by `queue_lookups`). A lead's row per product and action
keeps a count of distinct occurrences, the first and the latest time, and the latest variant:

- viewed: the days the lead viewed the product (a storefront view's activity ref, one per product a day);
- added: the carts the product went into (`cart:<token>`, the ref the add_to_cart activity has);
- bought: the orders that had it (`order:<id>`).

An occurrence is counted once (lead_product_refs remembers it), so a replayed event adds nothing; the
first and latest times move to an older or newer occurrence whenever it arrives (webhooks come in any order).

Readers: `lead_products` (a lead's products, newest first, with their details) and `products_by_id`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.db.models import PRODUCT_ACTIONS, LeadProduct, LeadProductRef, Product, Shop
from bridge.infra import jobnames, queue
from connectors import base as facts

log = logging.getLogger(__name__)
MAX_TITLE = 255
MAX_URL = 2048
LOOKUP_DELAY = timedelta(minutes=2)
SHOPIFY_SCOPE = (
    "shopify_scope"  # the scopes a Shopify shop granted, in its state (bridge.shops.updates.SCOPE)
)


@dataclass(frozen=True)
class Seen:
    """One product as an event shows it (only the ids when the event is a storefront's)."""

    product_id: str
    variant_id: str | None = None
    title: str | None = None
    image_url: str | None = None
    price: Decimal | None = None  # a unit price (a line's)
    currency: str | None = None


@dataclass(frozen=True)
class LeadProductView:
    """A lead's view, add or purchase of a product, with what the store says of the product."""

    product_id: str
    variant_id: str | None
    action: str
    count: int
    first_at: datetime
    last_at: datetime
    title: str | None
    handle: str | None
    url: str | None
    image_url: str | None
    collections: tuple[str, ...]
    tags: tuple[str, ...]
    price: Decimal | None = None
    currency: str | None = None


def seen_lines(items: Iterable[facts.LineItem], currency: str | None = None) -> list[Seen]:
    """The products of some line items, priced in `currency` (lines without a product id, say a custom
    item, are skipped)."""
    out: dict[str, Seen] = {}
    for item in items:
        if not item.product_id or len(item.product_id) > 64:
            continue
        title = (item.product_title or item.title or "").strip()[:MAX_TITLE] or None
        image = _http_url(item.image_url)
        variant = item.variant_id if item.variant_id and len(item.variant_id) <= 64 else None
        price = item.price if item.price.is_finite() and item.price >= 0 else None
        seen = Seen(item.product_id, variant, title, image, price, (currency or "")[:3].upper() or None)
        out.setdefault(item.product_id, seen)
    return list(out.values())


def _http_url(value: str | None) -> str | None:
    if not value or len(value) > MAX_URL:
        return None
    return value if value.lower().startswith(("https://", "http://")) else None


def record(
    session: Session, shop_id: int, lead_id: int, action: str, ref: str, at: datetime, seen: Sequence[Seen]
) -> list[str]:
    """Record that a lead `action`ed these products in the occurrence `ref` at `at`; the ids of products the
    shop's store did not have yet (to look up once the transaction commits: `queue_lookups`)."""
    if action not in PRODUCT_ACTIONS:
        raise ValueError(f"unknown product action {action!r}")
    if not seen:
        return []
    new = _upsert_products(session, shop_id, seen, at)
    for product in seen:
        if _claim(session, lead_id, product.product_id, action, ref[:255]):
            _count(session, shop_id, lead_id, product, action, at)
    return new


def _insert(session: Session, model: type[object]) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(model)
    return postgresql.insert(model)


def product_row(shop_id: int, seen: Seen, at: datetime) -> dict[str, Any]:
    """A new `products` row from what a payload shows of the product."""
    return {
        "shop_id": shop_id,
        "product_id": seen.product_id,
        "title": seen.title,
        "image_url": seen.image_url,
        "price": seen.price,
        "currency": seen.currency if seen.price is not None else None,
        "collections": [],
        "tags": [],
        "first_seen_at": at,
        "updated_at": at,
    }


def _upsert_products(session: Session, shop_id: int, seen: Sequence[Seen], at: datetime) -> list[str]:
    """Make the missing product rows; fill in a title or picture a row lacks from the payload (the store's
    own description, once looked up, is never overwritten)."""
    rows = [product_row(shop_id, s, at) for s in seen]
    stmt = (
        _insert(session, Product)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["shop_id", "product_id"])
    )
    new = [str(pid) for pid in session.scalars(stmt.returning(Product.product_id)).all()]
    lacking = [s for s in seen if s.product_id not in new and (s.title or s.image_url or s.price is not None)]
    if lacking:
        known = session.scalars(
            sa.select(Product).where(
                Product.shop_id == shop_id, Product.product_id.in_([s.product_id for s in lacking])
            )
        ).all()
        by_id = {p.product_id: p for p in known}
        for s in lacking:
            product = by_id.get(s.product_id)
            if product is None:
                continue
            if product.title is None and s.title:
                product.title, product.updated_at = s.title, at
            if product.image_url is None and s.image_url:
                product.image_url, product.updated_at = s.image_url, at
            if product.price is None and s.price is not None:
                product.price, product.currency, product.updated_at = s.price, s.currency, at
    return new


def _claim(session: Session, lead_id: int, product_id: str, action: str, ref: str) -> bool:
    """Remember one occurrence; False when it was already counted (a replay)."""
    values = {"lead_id": lead_id, "product_id": product_id, "action": action, "ref": ref}
    stmt = _insert(session, LeadProductRef).values(**values).on_conflict_do_nothing()
    return session.scalar(stmt.returning(LeadProductRef.id)) is not None


def _count(session: Session, shop_id: int, lead_id: int, seen: Seen, action: str, at: datetime) -> None:
    """One more occurrence of the lead's action on the product: the count, the first and latest times and,
    when this occurrence is the latest, its variant."""
    table = LeadProduct.__table__.c
    stmt = _insert(session, LeadProduct).values(
        shop_id=shop_id,
        lead_id=lead_id,
        product_id=seen.product_id,
        variant_id=seen.variant_id,
        action=action,
        count=1,
        first_at=at,
        last_at=at,
    )
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["lead_id", "product_id", "action"],
        set_={
            "count": table.count + 1,
            "first_at": sa.case((new.first_at < table.first_at, new.first_at), else_=table.first_at),
            "last_at": sa.case((new.last_at > table.last_at, new.last_at), else_=table.last_at),
            "variant_id": sa.case(
                (sa.and_(new.last_at >= table.last_at, new.variant_id.is_not(None)), new.variant_id),
                else_=table.variant_id,
            ),
        },
    )
    session.execute(stmt)


def can_look_up(shop: Shop) -> bool:
    """Whether the shop's store can describe its products: a Shopify shop that granted read_products (or
    write_products), a WooCommerce store that accepts our keys; never a demo shop (it has no catalogue)."""
    state = shop.state or {}
    if shop.uninstalled_at is not None or state.get("demo"):
        return False
    if shop.platform == "shopify":
        granted = {s.strip() for s in str(state.get(SHOPIFY_SCOPE) or "").split(",")}
        return bool(granted & {"read_products", "write_products"})
    return shop.platform == "woocommerce" and shop.disconnected_at is None


def queue_lookups(redis: Redis, shop_id: int, product_ids: Iterable[str]) -> int:
    """After the commit: schedule one store lookup per new product, LOOKUP_DELAY later (a cart, its
    checkout and its order name the same products within seconds: the store is asked after the burst);
    a job RQ still holds under the product's id is not doubled. How many were scheduled."""
    scheduled = 0
    try:
        lookups = queue.get_queue(redis, queue.MAINTENANCE)
        for product_id in dict.fromkeys(product_ids):
            job_id = jobnames.product_lookup_id(shop_id, product_id)
            if queue.job_is_live(redis, job_id):
                continue
            lookups.enqueue_in(
                LOOKUP_DELAY,
                jobnames.LOOK_UP_PRODUCT,
                shop_id,
                product_id,
                job_id=job_id,
                retry=queue.DEFAULT_RETRY,
                job_timeout=120,
                result_ttl=600,
                failure_ttl=7 * 86400,
            )
            scheduled += 1
    except (RedisError, OSError) as exc:
        log.warning("shop %s: product lookups not scheduled (%s)", shop_id, type(exc).__name__)
    return scheduled


# Readers (the segments' affinity, the messages' product blocks, the admin's lead page, the API).


def lead_products(
    session: Session,
    lead_id: int,
    actions: Sequence[str] = PRODUCT_ACTIONS,
    since: datetime | None = None,
    limit: int = 100,
) -> list[LeadProductView]:
    """A lead's products for these actions, the latest first (optionally only those since `since`), with
    each product's title, link, picture, collections and tags when the store is known to have them."""
    query = (
        sa.select(LeadProduct, Product)
        .outerjoin(
            Product,
            sa.and_(Product.shop_id == LeadProduct.shop_id, Product.product_id == LeadProduct.product_id),
        )
        .where(LeadProduct.lead_id == lead_id, LeadProduct.action.in_(list(actions)))
        .order_by(LeadProduct.last_at.desc(), LeadProduct.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(LeadProduct.last_at >= since)
    return [_view(row, product) for row, product in session.execute(query)]


def _view(row: LeadProduct, product: Product | None) -> LeadProductView:
    return LeadProductView(
        product_id=row.product_id,
        variant_id=row.variant_id,
        action=row.action,
        count=row.count,
        first_at=row.first_at,
        last_at=row.last_at,
        title=product.title if product else None,
        handle=product.handle if product else None,
        url=product.url if product else None,
        image_url=product.image_url if product else None,
        collections=tuple(product.collections or ()) if product else (),
        tags=tuple(product.tags or ()) if product else (),
        price=product.price if product else None,
        currency=product.currency if product else None,
    )


def products_by_id(session: Session, shop_id: int, ids: Iterable[str]) -> dict[str, Product]:
    """The shop's product rows by the store's product id (ids the store does not have are absent)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = session.scalars(
        sa.select(Product).where(Product.shop_id == shop_id, Product.product_id.in_(wanted))
    ).all()
    return {row.product_id: row for row in rows}


def products_matching(
    session: Session, shop_id: int, collections: Iterable[str] = (), tags: Iterable[str] = ()
) -> list[str]:
    """The store ids of the shop's products in any of these collections (or categories) or with any of these
    tags, compared lower-cased (as stored); for a segment's "a product of collection X" (portable: the lists
    are JSON, read here rather than in SQL)."""
    wanted_collections = {c.strip().lower() for c in collections if c.strip()}
    wanted_tags = {t.strip().lower() for t in tags if t.strip()}
    if not wanted_collections and not wanted_tags:
        return []
    rows = session.execute(
        sa.select(Product.product_id, Product.collections, Product.tags).where(Product.shop_id == shop_id)
    )
    return sorted(
        pid
        for pid, in_collections, with_tags in rows
        if wanted_collections & set(in_collections or ()) or wanted_tags & set(with_tags or ())
    )


def view_json(view: LeadProductView) -> dict[str, object]:
    """A lead's product as the API and the data-request export give it."""
    return {
        "product_id": view.product_id,
        "variant_id": view.variant_id,
        "action": view.action,
        "count": view.count,
        "first_at": view.first_at.isoformat(),
        "last_at": view.last_at.isoformat(),
        "title": view.title,
        "url": view.url,
        "image_url": view.image_url,
        "collections": list(view.collections),
        "tags": list(view.tags),
        "price": None if view.price is None else str(view.price),
        "currency": view.currency,
    }


def forget_lead(session: Session, lead_id: int) -> None:
    """Delete a lead's products and counted occurrences (a redaction keeps the lead's row, not these)."""
    session.execute(sa.delete(LeadProductRef).where(LeadProductRef.lead_id == lead_id))
    session.execute(sa.delete(LeadProduct).where(LeadProduct.lead_id == lead_id))
