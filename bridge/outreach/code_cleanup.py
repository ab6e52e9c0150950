"""Dead codes off the store: remove one offer's code now, or expire live offers past their expiry and remove
every dead code the store has not yet confirmed removed (retried run after run)."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import CODE_DEAD, Offer, Shop
from bridge.infra.context import Context
from bridge.shops import stores
from connectors.base import DiscountRef, StoreClient, StoreError

log = logging.getLogger(__name__)
BATCH = 200


def remove_code(ctx: Context, offer_id: int) -> bool:
    """Remove the offer's code from the store now; True once the store confirmed (else clean-up retries)."""
    with ctx.sessions() as session:
        offer = session.get(Offer, offer_id)
        shop = session.get(Shop, offer.shop_id) if offer else None
    if offer is None or shop is None or offer.status not in CODE_DEAD:
        return False  # a live or redeemed offer keeps its code
    if not offer.platform_discount_id or offer.code_removed_at:
        return False
    try:
        stores.client_for(ctx, shop).delete_discount(
            DiscountRef(offer.code or "", offer.platform_discount_id)
        )
    except StoreError as exc:
        log.warning("could not remove code of offer %s: %s", offer_id, exc.code or type(exc).__name__)
        return False
    _mark_removed(ctx, [offer_id])
    return True


def _mark_removed(ctx: Context, offer_ids: list[int]) -> None:
    if offer_ids:
        with transaction(ctx.sessions) as session:
            session.execute(
                sa.update(Offer)
                .where(Offer.id.in_(offer_ids), Offer.code_removed_at.is_(None))
                .values(code_removed_at=ctx.now())
            )


def expire_due(ctx: Context, limit: int = BATCH) -> list[int]:
    """Mark `expired` the live offers whose code expired: one conditional UPDATE, so a redemption committed
    meanwhile is never overwritten (the row's status is checked again under its lock)."""
    now = ctx.now()
    live = (Offer.status.in_(("created", "sent")), Offer.expires_at <= now)
    due = sa.select(Offer.id).where(*live).order_by(Offer.id).limit(limit).scalar_subquery()
    with transaction(ctx.sessions) as session:
        return list(
            session.execute(
                sa.update(Offer)
                .where(Offer.id.in_(due), *live)
                .values(status="expired")
                .returning(Offer.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )


def remove_expired(ctx: Context, limit: int = BATCH) -> int:
    """Expire live offers past their expiry, then remove from the store every code of an expired, cancelled,
    failed or suppressed offer not yet confirmed removed; how many the store confirmed.

    A failure is retried on the next run: the offer's `attempts` grows (so failing ones sink behind the
    others) and a shop whose store fails is skipped for the rest of the run. Uninstalled shops are left out.
    """
    expire_due(ctx, limit)
    rows, shops = _dead_codes(ctx, limit)
    removed: list[int] = []
    clients: dict[int, StoreClient] = {}
    failed: dict[int, tuple[list[int], str]] = {}  # shop id -> (offer ids tried or skipped, the error)
    for row in rows:
        if row.shop_id in failed:
            failed[row.shop_id][0].append(row.id)
            continue
        try:
            if row.shop_id not in clients:
                clients[row.shop_id] = stores.client_for(ctx, shops[row.shop_id])
            clients[row.shop_id].delete_discount(DiscountRef(row.code or "", row.platform_discount_id))
        except StoreError as exc:
            failed[row.shop_id] = ([row.id], f"code removal failed: {exc.code or type(exc).__name__}")
            continue
        removed.append(row.id)
    _mark_removed(ctx, removed)
    _note_failures(ctx, list(failed.values()))
    return len(removed)


def _dead_codes(
    ctx: Context, limit: int
) -> tuple[list[sa.Row[int, str | None, str | None, int]], dict[int, Shop]]:
    """Dead offers whose code the store may still have (fewest attempts first), and their shops."""
    with ctx.sessions() as session:
        rows = session.execute(
            sa.select(Offer.id, Offer.code, Offer.platform_discount_id, Offer.shop_id)
            .join(Shop, Shop.id == Offer.shop_id)
            .where(
                Offer.status.in_(CODE_DEAD),
                Offer.platform_discount_id.is_not(None),
                Offer.code_removed_at.is_(None),
                Shop.uninstalled_at.is_(None),
            )
            .order_by(Offer.attempts, Offer.id)
            .limit(limit)
        ).all()
        shops = {
            shop.id: shop
            for shop in session.scalars(sa.select(Shop).where(Shop.id.in_({r.shop_id for r in rows})))
        }
    return list(rows), shops


def _note_failures(ctx: Context, failures: list[tuple[list[int], str]]) -> None:
    if not failures:
        return
    with transaction(ctx.sessions) as session:
        for offer_ids, error in failures:
            session.execute(
                sa.update(Offer)
                .where(Offer.id.in_(offer_ids))
                .values(attempts=Offer.attempts + 1, error=error[:1000])
            )
