"""Carts and orders: snapshots joined on tokens, conversions, and code attribution."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from redis import Redis
from sqlalchemy.orm import Session

from bridge.db import insert_now
from bridge.db.models import Cart, JourneyRun, Lead, Offer, Order, Shop
from bridge.infra import jobnames, queue
from bridge.leads import preload, rules
from bridge.leads.emails import normalize_email
from bridge.leads.people import lead_for, set_consent
from connectors import base as facts

log = logging.getLogger(__name__)
CLOSED = ("converted", "recovered")


def find_cart(
    session: Session, shop_id: int, checkout_token: str | None, cart_token: str | None
) -> Cart | None:
    """The cart known by its checkout token, else by its cart token (one query)."""
    return _by_tokens(session, Cart, shop_id, checkout_token, cart_token)


Tokened = TypeVar("Tokened", Cart, Order)


def _by_tokens(
    session: Session, model: type[Tokened], shop_id: int, checkout_token: str | None, cart_token: str | None
) -> Tokened | None:
    """The cart or order holding this checkout token, else this cart token: one query, or none when the
    batch transaction preloaded both keys."""
    if not checkout_token and not cart_token:
        return None
    kind = "cart" if model is Cart else "order"
    keys = {f"{kind}_checkout_token": checkout_token, f"{kind}_cart_token": cart_token}
    if preload.covers(session, shop_id, **keys):
        found: Sequence[Tokened] = list(preload.rows(session, model, shop_id))
    else:
        wanted = [
            c == v for c, v in ((model.checkout_token, checkout_token), (model.cart_token, cart_token)) if v
        ]
        found = session.scalars(sa.select(model).where(model.shop_id == shop_id, sa.or_(*wanted))).all()
    by_checkout = [r for r in found if checkout_token and r.checkout_token == checkout_token]
    return next(iter(by_checkout or [r for r in found if cart_token and r.cart_token == cart_token]), None)


def _items(snapshot: facts.CartSnapshot) -> dict[str, Any]:
    return {
        "lines": [
            {
                "title": i.title,
                "quantity": i.quantity,
                "price": str(i.price),
                "product_id": i.product_id,
                "variant_id": i.variant_id,
                "sku": i.sku,
                # for the messages' product blocks, when the payload says (bridge.outreach.message)
                **({"variant_title": i.variant_title} if i.variant_title else {}),
                **({"image_url": i.image_url} if i.image_url else {}),
            }
            for i in snapshot.items
        ]
    }


def apply_snapshot(session: Session, shop: Shop, snap: facts.CartSnapshot, now: datetime) -> Lead | None:
    """Create or update a cart; an older snapshot only fills in links it lacked."""
    if not snap.token and not snap.checkout_token:
        raise facts.PayloadError("cart snapshot without any token")
    lead = lead_for(session, shop, snap.customer_external_id, snap.email, now)
    cart = find_cart(session, shop.id, snap.checkout_token, snap.token)
    if cart is None:
        cart = _new_cart(session, shop.id, snap, lead)
    cart.cart_token = cart.cart_token or snap.token
    cart.checkout_token = cart.checkout_token or snap.checkout_token
    cart.email = normalize_email(snap.email) or cart.email or (lead.email if lead else None)
    cart.lead_id = cart.lead_id or (lead.id if lead else None)
    if cart.id is None or snap.updated_at >= cart.last_activity_at:
        cart.currency = snap.currency or cart.currency
        cart.subtotal = snap.subtotal
        cart.items = _items(snap)
        cart.recovery_url = snap.recovery_url or cart.recovery_url
        cart.source = dict(snap.source) or cart.source or {}
        cart.last_activity_at = snap.updated_at
        if snap.accepts_marketing is not None:
            cart.accepts_marketing = snap.accepts_marketing
    if cart.status not in CLOSED:
        _close_if_ordered(session, shop.id, cart)
    if lead is not None and snap.accepts_marketing is not None:
        set_consent(lead, snap.accepts_marketing, snap.updated_at)
    if lead is not None and snap.source and not lead.source:
        lead.source = dict(snap.source)
    if not preload.active(session):  # a batch writes its rows together, when it next queries or commits
        session.flush()
    return lead


def _new_cart(session: Session, shop_id: int, snap: facts.CartSnapshot, lead: Lead | None) -> Cart:
    """A cart inserted at once with what the snapshot says, for its id (an order later in the batch needs
    it), without flushing the transaction's other changes: a batch writes those together."""
    values: dict[str, Any] = {
        "shop_id": shop_id,
        "created_at": snap.updated_at,
        "last_activity_at": snap.updated_at,
        "status": "active",
        "cart_token": snap.token,
        "checkout_token": snap.checkout_token,
        "email": normalize_email(snap.email) or (lead.email if lead else None),
        "lead_id": lead.id if lead else None,
        "currency": snap.currency,
        "subtotal": snap.subtotal,
        "items": _items(snap),
        "recovery_url": snap.recovery_url,
        "source": dict(snap.source),
    }
    if snap.accepts_marketing is not None:
        values["accepts_marketing"] = snap.accepts_marketing
    cart = insert_now(session, Cart, values)
    preload.remember(session, cart)
    return cart


def apply_order(
    session: Session,
    redis: Redis,
    shop: Shop,
    order: facts.OrderPlaced,
    now: datetime,
    follow_ups: list[Callable[[], None]],
) -> Lead | None:
    """Record an order once; close its cart; mark our codes redeemed; make the lead a customer."""
    lead = lead_for(session, shop, order.customer_external_id, order.email, now)
    cart = find_cart(session, shop.id, order.checkout_token, order.cart_token)
    if cart is not None and cart.id is None:  # made earlier in this batch, not written yet: its id
        session.flush()
    row, first_time = _order_row(session, shop.id, order)
    row.lead_id = lead.id if lead else row.lead_id
    row.cart_id = cart.id if cart else row.cart_id
    row.total, row.currency = order.total, order.currency
    row.discount_codes = {"codes": list(order.discount_codes)}
    row.source = dict(order.source)
    row.checkout_token, row.cart_token = order.checkout_token, order.cart_token
    window = _attribution_window(session, shop.id)
    if cart is not None and cart.status not in CLOSED:
        _close_cart(cart, order, window)
    if lead is not None:
        lead.is_customer = True
        if first_time:
            lead.orders_count += 1
            lead.total_spent = (lead.total_spent or Decimal(0)) + order.total
    for offer in redeem_codes(session, shop.id, order):
        _recover_offer_cart(session, offer, order, window, cart)
    if lead is not None:
        waiting = cancel_waiting_offers(session, lead, order)
        if waiting:
            follow_ups.append(lambda: _remove_codes_soon(redis, waiting))
    if not preload.active(session):
        session.flush()
    return lead


def _order_row(session: Session, shop_id: int, order: facts.OrderPlaced) -> tuple[Order, bool]:
    """The order's row, and True when this call created it (the order was not known yet)."""
    if preload.covers(session, shop_id, order_order_id=order.order_id):
        row = next((o for o in preload.rows(session, Order, shop_id) if o.order_id == order.order_id), None)
    else:
        row = session.scalar(
            sa.select(Order).where(Order.shop_id == shop_id, Order.order_id == order.order_id)
        )
    if row is not None:
        return row, False
    row = Order(shop_id=shop_id, order_id=order.order_id, created_at=order.created_at, total=order.total)
    session.add(row)
    preload.remember(session, row)
    return row, True


def cancel_waiting_offers(session: Session, lead: Lead, order: facts.OrderPlaced) -> list[int]:
    """Cancel the lead's offers not sent yet (waiting for quiet hours, or for their code) that this order
    makes moot, as delivery's final check would at the send time; the ids whose code is on the store."""
    if preload.unknown_elsewhere(session, lead, partial(_engaged, session, lead.shop_id)):
        return []  # a batch knows its leads without offers or journeys: nothing to cancel or end
    waiting = session.scalars(
        sa.select(Offer).where(
            Offer.lead_id == lead.id, Offer.status.in_(("planned", "created")), Offer.sent_at.is_(None)
        )
    ).all()
    on_store = []
    for offer in waiting:
        cart = session.get(Cart, offer.cart_id) if offer.cart_id else None
        since = cart.created_at if cart is not None else offer.created_at
        if order.created_at < since:
            continue  # an older order, delivered late: the offer still stands
        offer.status, offer.decision = "cancelled", "ordered_meanwhile"
        if offer.platform_discount_id:
            on_store.append(offer.id)
    end_runs_on_order(session, lead, order)
    return on_store


def _engaged(session: Session, shop_id: int, lead_ids: set[int]) -> set[int]:
    """Which of these leads have an offer not sent yet or an active journey (one query)."""
    offers = sa.select(Offer.lead_id).where(
        Offer.shop_id == shop_id,
        Offer.lead_id.in_(lead_ids),
        Offer.status.in_(("planned", "created")),
        Offer.sent_at.is_(None),
    )
    runs = sa.select(JourneyRun.lead_id).where(
        JourneyRun.shop_id == shop_id, JourneyRun.lead_id.in_(lead_ids), JourneyRun.status == "active"
    )
    return {lead_id for lead_id in session.scalars(sa.union(offers, runs)) if lead_id is not None}


def end_runs_on_order(session: Session, lead: Lead, order: facts.OrderPlaced) -> None:
    """An order ends the lead's journeys started before it: a cart's run ends "cart_ordered" when the order
    is that cart's, "ordered" otherwise (the delivery's final check would find the same)."""
    active = session.scalars(
        sa.select(JourneyRun).where(
            JourneyRun.lead_id == lead.id,
            JourneyRun.status == "active",
            JourneyRun.trigger_at <= order.created_at,
        )
    ).all()
    tokens = {token for token in (order.checkout_token, order.cart_token) if token}
    for run in active:
        cart = session.get(Cart, run.cart_id) if run.cart_id else None
        own = cart is not None and bool(tokens & {cart.checkout_token, cart.cart_token})
        run.status, run.exit_reason = "ended", "cart_ordered" if own else "ordered"
        run.ended_at, run.next_due_at = order.created_at, None


def _remove_codes_soon(redis: Redis, offer_ids: list[int]) -> None:
    """After commit: queue the removal of the cancelled offers' codes (the clean-up job retries a failure)."""
    for offer_id in offer_ids:
        job_id = jobnames.remove_code_id(offer_id)
        queue.enqueue(redis, jobnames.REMOVE_CODE, offer_id, job_id=job_id, queue=queue.CAMPAIGNS)


def _close_if_ordered(session: Session, shop_id: int, cart: Cart) -> None:
    """The order may have come first (webhooks arrive in any order): close the cart it already paid for."""
    covered = preload.covers(
        session, shop_id, order_checkout_token=cart.checkout_token, order_cart_token=cart.cart_token
    )
    if cart.id is None and not covered:
        session.flush()  # the query below flushes the new cart anyway; a preloaded batch need not
    order = _by_tokens(session, Order, shop_id, cart.checkout_token, cart.cart_token)
    if order is not None:
        if cart.id is None:
            session.flush()
        cart.status, cart.converted_at = "converted", order.created_at
        cart.order_id, cart.order_total = order.order_id, order.total
        order.cart_id = order.cart_id or cart.id


def _attribution_window(session: Session, shop_id: int) -> timedelta:
    """The shop's attribution window (read once per batch transaction)."""
    settings = preload.once(
        session, ("campaign settings", shop_id), lambda: rules.campaign_settings_for(session, shop_id)
    )
    return timedelta(days=settings.attribution_window_days)


def _close_cart(cart: Cart, order: facts.OrderPlaced, window: timedelta) -> None:
    """Converted; `recovered` when the order came on an abandoned cart within the attribution window (an
    order placed before the sweep marked the cart, but delivered after, was no recovery: merely late news)."""
    cart.status = "recovered" if _recovers(cart, order, window) else "converted"
    cart.converted_at = order.created_at
    cart.order_id = order.order_id
    cart.order_total = order.total


# A code can only be redeemed once it exists on the store and went out (or expired on our side while the store
# still honoured it). A cancelled or failed offer's code that an order still used is logged, not counted.
REDEEMABLE = ("created", "sent", "expired")
# An order placed after the code's advertised expiry did not take our offer: the store failed to enforce
# the expiry (WooCommerce once kept such codes live). It is logged for the merchant, not counted as a
# redemption. The grace covers clock drift between the store and us, not a longer offer.
EXPIRY_GRACE = timedelta(minutes=5)


def _recovers(cart: Cart, order: facts.OrderPlaced, window: timedelta) -> bool:
    return (
        cart.status == "abandoned"
        and cart.abandoned_at is not None
        and timedelta(0) <= order.created_at - cart.abandoned_at <= window
    )


def redeem_codes(session: Session, shop_id: int, order: facts.OrderPlaced) -> list[Offer]:
    """Mark offers whose code the order used as redeemed (codes compared case-insensitively), with the
    discount the order really got as the offer's cost; return the offers this order redeemed."""
    codes = {c.strip().upper() for c in order.discount_codes if c.strip()}
    if not codes:
        return []
    offers = session.scalars(
        sa.select(Offer).where(Offer.shop_id == shop_id, sa.func.upper(Offer.code).in_(codes))
    ).all()
    redeemed = []
    for offer in offers:
        if offer.status == "redeemed":
            if offer.order_id == order.order_id:
                redeemed.append(offer)  # the same order again (a replay or an update)
            continue
        if offer.status not in REDEEMABLE:
            log.warning(
                "order %s used the code of offer %s, which is %s", order.order_id, offer.id, offer.status
            )
            continue
        if offer.expires_at is not None and order.created_at > offer.expires_at + EXPIRY_GRACE:
            log.warning(
                "order %s used the code of offer %s after it expired: not counted", order.order_id, offer.id
            )
            continue
        offer.status = "redeemed"
        offer.redeemed_at = order.created_at
        offer.order_id, offer.order_total = order.order_id, order.total
        amount = order.discounts.get((offer.code or "").upper())
        if amount is not None:
            offer.cost = amount
        redeemed.append(offer)
    return redeemed


def _recover_offer_cart(
    session: Session, offer: Offer, order: facts.OrderPlaced, window: timedelta, order_cart: Cart | None
) -> None:
    """The offer's cart is recovered by an order that used its code, even on another cart or checkout (a
    /discount/<code> link often starts a new one), within the same attribution window."""
    if offer.cart_id is None or (order_cart is not None and order_cart.id == offer.cart_id):
        return
    if order_cart is not None and order_cart.status == "recovered" and order_cart.order_id == order.order_id:
        return  # one order recovers one cart: its own, abandoned too, already counts it
    cart = session.get(Cart, offer.cart_id)
    if cart is not None and _recovers(cart, order, window):
        _close_cart(cart, order, window)


def cancel_order(session: Session, shop: Shop, fact: facts.OrderCancelled) -> None:
    """Remember that an order was cancelled (metrics leave it out)."""
    session.execute(
        sa.update(Order)
        .where(Order.shop_id == shop.id, Order.order_id == fact.order_id)
        .values(cancelled_at=fact.occurred_at)
    )
