"""Offer codes on the store and their delivery: create, final check, send, cancel, expire."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge import mailer, queue, stores, tracking
from bridge.db import transaction
from bridge.models import Cart, Lead, Offer, Order, Shop
from bridge.runtime import Context
from connectors.base import DiscountRef, DiscountSpec, StoreError

log = logging.getLogger(__name__)
MAX_STORE_ATTEMPTS = 5  # the first try and RQ's four retries (5 s, 30 s, 2 min, 10 min)


class StoreRetry(RuntimeError):
    """A transient store failure: RQ retries the job with backoff."""


def spec_of(offer: Offer, lead: Lead | None, shop: Shop) -> DiscountSpec:
    """What the store must create for this offer."""
    assert offer.code and offer.starts_at and offer.expires_at
    return DiscountSpec(
        code=offer.code,
        title=f"Relance {offer.reason.replace('_', ' ')} {offer.code}",
        kind=offer.kind,
        value=offer.value,
        currency=offer.currency or shop.currency,
        starts_at=offer.starts_at,
        ends_at=offer.expires_at,
        customer_external_id=lead.external_id if lead else None,
        email=offer.recipient,
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
        spec = spec_of(offer, lead, shop)
        try:
            client = stores.client_for(ctx, shop)
            ref = client.find_discount(spec.code) or client.create_discount(spec)
        except StoreError as exc:
            return _store_failed(ctx, offer_id, exc)
    with transaction(ctx.sessions) as session:
        session.execute(
            sa.update(Offer)
            .where(Offer.id == offer_id, Offer.status == "planned")
            .values(status="created", platform_discount_id=ref.platform_id, error=None)
        )
    schedule_delivery(ctx, offer_id, offer.send_at)
    return "created"


def _store_failed(ctx: Context, offer_id: int, exc: StoreError) -> str:
    message = f"{exc.code or type(exc).__name__}: {exc}"[:1000]
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


def schedule_delivery(ctx: Context, offer_id: int, send_at: datetime | None) -> None:
    """Deliver now, or at the end of quiet hours (RQ's scheduler)."""
    job_id = f"deliver-{offer_id}"
    if send_at is not None and send_at > ctx.now():
        queue.get_queue(ctx.redis, queue.CAMPAIGNS).enqueue_at(
            send_at, deliver, offer_id, job_id=job_id, retry=queue.DEFAULT_RETRY
        )
    else:
        queue.enqueue(ctx.redis, deliver, offer_id, job_id=job_id, queue=queue.CAMPAIGNS)


def deliver(offer_id: int) -> str:
    """Final check, then send: an order that arrived meanwhile cancels the offer and its code."""
    from bridge import runtime

    ctx = runtime.current()
    with transaction(ctx.sessions) as session:
        offer = session.get(Offer, offer_id, with_for_update=True)
        if offer is None or offer.status != "created":
            return "not_ready"
        reason = _stale_reason(session, offer)
        if reason is None:
            return _send(ctx, session, offer)
        offer.status, offer.decision = "cancelled", reason
        shop = session.get(Shop, offer.shop_id)
    _remove_code(ctx, shop, offer)
    return "cancelled"


def _send(ctx: Context, session: Session, offer: Offer) -> str:
    """Send through every configured channel; no channel leaves the offer `created`, with the reason."""
    from bridge.campaign import settings_for
    from bridge.outbound import post_offer

    settings = settings_for(session, offer.shop_id)
    message = _render(ctx, session, offer)
    channels = []
    if ctx.settings.smtp_url:
        mailer.send(ctx, offer.recipient or "", message, unsubscribe_url=tracking.unsubscribe_url(ctx, offer))
        channels.append("email")
    if settings.webhook_url:
        post_offer(ctx, session, offer, message, settings.webhook_url)
        channels.append("webhook")
    if not channels:
        offer.error = "no delivery channel: set SMTP_URL or a webhook URL in the campaign settings"
        return "no_channel"
    offer.status, offer.sent_at, offer.error = "sent", ctx.now(), None
    return "sent"


def _stale_reason(session: Session, offer: Offer) -> str | None:
    """Why the offer must not be sent any more, or None."""
    lead = session.get(Lead, offer.lead_id) if offer.lead_id else None
    if lead is None or lead.redacted_at is not None:
        return "lead_gone"
    if lead.unsubscribed_at is not None:
        return "unsubscribed"
    cart = session.get(Cart, offer.cart_id) if offer.cart_id else None
    if cart is not None and cart.status in ("converted", "recovered"):
        return "ordered_meanwhile"
    since = cart.created_at if cart is not None else offer.created_at
    ordered = session.scalar(
        sa.select(Order.id).where(Order.lead_id == lead.id, Order.created_at >= since).limit(1)
    )
    return "ordered_meanwhile" if ordered is not None else None


def _render(ctx: Context, session: Session, offer: Offer) -> campaigns.RenderedMessage:
    from bridge.campaign import settings_for

    shop, lead = session.get(Shop, offer.shop_id), session.get(Lead, offer.lead_id)
    cart = session.get(Cart, offer.cart_id) if offer.cart_id else None
    assert shop is not None and lead is not None and offer.code and offer.expires_at
    settings = settings_for(session, shop.id)
    lines = (cart.items or {}).get("lines", []) if cart else []
    items = tuple(campaigns.MessageItem(i["title"], int(i["quantity"]), Decimal(i["price"])) for i in lines)
    recovery = recovery_url(shop, cart, offer.code)
    context = campaigns.MessageContext(
        merchant_name=settings.sender_name or shop.name or shop.domain,
        first_name=lead.first_name,
        items=items,
        currency=offer.currency or shop.currency,
        code=offer.code,
        discount=campaigns.format_discount(offer.kind, offer.value, offer.currency or shop.currency),
        expires_at=offer.expires_at,
        timezone=settings.timezone,
        recovery_url=recovery,
        unsubscribe_url=tracking.unsubscribe_url(ctx, offer),
        open_pixel_url=tracking.open_url(ctx, offer),
        tracked_recovery_url=tracking.click_url(ctx, offer, recovery),
    )
    return campaigns.render_offer_message(settings, context)


def recovery_url(shop: Shop, cart: Cart | None, code: str) -> str:
    """The link that brings the shopper back with the code applied."""
    from urllib.parse import quote, urlsplit

    if shop.platform == "shopify":
        base = f"https://{shop.domain}"
        target = "/cart"
        if cart is not None and cart.recovery_url:
            parts = urlsplit(cart.recovery_url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        return f"{base}/discount/{quote(code)}?redirect={quote(target, safe='')}"
    if cart is not None and cart.recovery_url:
        sep = "&" if "?" in cart.recovery_url else "?"
        return f"{cart.recovery_url}{sep}coupon={quote(code.lower())}"
    return f"{shop.domain.rstrip('/')}/cart/?coupon={quote(code.lower())}"


def _remove_code(ctx: Context, shop: Shop | None, offer: Offer) -> None:
    if shop is None or not offer.platform_discount_id or not offer.code:
        return
    try:
        stores.client_for(ctx, shop).delete_discount(DiscountRef(offer.code, offer.platform_discount_id))
    except StoreError as exc:
        log.warning("could not remove code of offer %s: %s", offer.id, exc.code or type(exc).__name__)


def remove_expired(ctx: Context, limit: int = 200) -> int:
    """Expire unused codes whose time has passed and remove them from the store."""
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        rows = session.scalars(
            sa.select(Offer).where(Offer.status.in_(("created", "sent")), Offer.expires_at < now).limit(limit)
        ).all()
        for offer in rows:
            offer.status = "expired"
        expired = [(o, session.get(Shop, o.shop_id)) for o in rows]
    for offer, shop in expired:
        _remove_code(ctx, shop, offer)
    return len(expired)
