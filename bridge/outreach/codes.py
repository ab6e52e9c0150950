"""Offer codes on the store: find-or-create each planned offer's code, then schedule its delivery; codes
whose creation job was lost are queued again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Lead, Offer, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.outreach.delivery import schedule_delivery
from bridge.shops import stores
from connectors.base import DiscountSpec, StoreError, relance_title

MAX_STORE_ATTEMPTS = 5  # the first try and RQ's four retries (5 s, 30 s, 2 min, 10 min)
STUCK_BATCH = 2000  # planned offers queued again per run


class StoreRetry(RuntimeError):
    """A transient store failure: RQ retries the job with backoff."""


def spec_of(offer: Offer, lead: Lead | None, shop: Shop) -> DiscountSpec:
    """What the store must create for this offer."""
    assert offer.code and offer.starts_at and offer.expires_at
    return DiscountSpec(
        code=offer.code,
        title=relance_title(offer.reason, offer.code),
        kind=offer.kind,
        value=Decimal(0) if offer.kind == "free_shipping" else offer.value,
        currency=offer.currency or shop.currency,
        starts_at=offer.starts_at,
        ends_at=offer.expires_at,
        customer_external_id=lead.external_id if lead else None,
        email=offer.recipient,
        minimum_subtotal=offer.minimum_order,
    )


def create_on_store(ctx: Context, offer_id: int) -> str:
    """Find-or-create the code on the store; then schedule delivery at the offer's send time."""
    with ctx.sessions() as session:
        offer = session.get(Offer, offer_id)
        if offer is None or offer.status != "planned":
            return "not_planned"
        shop, lead = (
            session.get(Shop, offer.shop_id),
            session.get(Lead, offer.lead_id) if offer.lead_id else None,
        )
        assert shop is not None
        spec, send_at = spec_of(offer, lead, shop), offer.send_at
        try:
            client = stores.client_for(ctx, shop)
            ref = client.find_discount(spec.code) or client.create_discount(spec)
        except StoreError as exc:
            return _store_failed(ctx, offer_id, exc)
    if not _mark_created(ctx, offer_id, ref.platform_id):
        return "not_planned"
    schedule_delivery(ctx, offer_id, send_at)  # lost (a crash, Redis down): redeliver_lost queues it again
    return "created"


def _mark_created(ctx: Context, offer_id: int, platform_id: str) -> bool:
    """Move the offer to `created` with its store id; False when it is no longer planned."""
    with transaction(ctx.sessions) as session:
        # Session.execute answers a DML statement with a CursorResult (SQLAlchemy's documented cast).
        moved = cast(
            "sa.CursorResult[Any]",
            session.execute(
                sa.update(Offer)
                .where(Offer.id == offer_id, Offer.status == "planned")
                .values(status="created", platform_discount_id=platform_id, error=None)
            ),
        ).rowcount
        if (
            not moved
        ):  # cancelled (an unsubscribe) during the store call: note the code so the clean-up removes it
            session.execute(
                sa.update(Offer)
                .where(Offer.id == offer_id, Offer.platform_discount_id.is_(None))
                .values(platform_discount_id=platform_id)
            )
    return bool(moved)


def _store_failed(ctx: Context, offer_id: int, exc: StoreError) -> str:
    message = f"{exc.code or type(exc).__name__}: {exc}"[:1000]
    with transaction(ctx.sessions) as session:
        offer = session.get(Offer, offer_id)
        assert offer is not None
        shop_id = offer.shop_id
    if exc.code == "unauthorized":
        stores.mark_disconnected(ctx, shop_id)  # a revoked key: say so, instead of failing offer after offer
    with transaction(ctx.sessions) as session:
        offer = session.get(Offer, offer_id)
        assert offer is not None
        offer.attempts += 1
        offer.error = message
        retry = exc.transient and offer.attempts < MAX_STORE_ATTEMPTS
        if not retry:
            offer.status = "failed"
    if retry:
        raise StoreRetry(message) from exc
    return "failed"


def retry_stuck_codes(ctx: Context, older_than: timedelta = timedelta(minutes=15)) -> int:
    """Queue code creation again for offers left `planned` (their job was lost with Redis)."""
    with ctx.sessions() as session:
        stuck = list(
            session.scalars(
                sa.select(Offer.id)
                .where(Offer.status == "planned", Offer.created_at < ctx.now() - older_than)
                .limit(STUCK_BATCH)
            )
        )
    # create_code looks the code up on the store first, so a repeat is harmless
    return queue.requeue_all(ctx.redis, jobnames.CREATE_CODE, stuck, jobnames.code_id, queue=queue.CAMPAIGNS)
