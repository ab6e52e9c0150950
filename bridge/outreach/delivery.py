"""Offer codes on the store and their delivery: create, final check, send, cancel, expire, clean up."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from marshmallow import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

import campaigns
from bridge.db import locked, transaction
from bridge.db.models import CODE_DEAD, Cart, Lead, Offer, Order, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.outreach import mailer, tracking
from bridge.shops import stores
from connectors.base import DiscountRef, DiscountSpec, StoreClient, StoreError, relance_title

log = logging.getLogger(__name__)
MAX_STORE_ATTEMPTS = 5  # the first try and RQ's four retries (5 s, 30 s, 2 min, 10 min)
REDELIVER_AFTER = timedelta(minutes=5)  # a `created` offer this far past its send time has lost its job
BATCH = 200
NO_CHANNEL = "no delivery channel: set SMTP_URL or a webhook URL in the campaign settings"
# `error` while the SMTP server has the message and has not answered; if it stays, the outcome is unknown.
EMAIL_IN_FLIGHT = "email: handed to the SMTP server, no answer yet (if this stays, it is not sent again)"
EMAIL_RETRY = "email: not sent, retrying: "  # back to `created`; its webhook job was queued on the first try


class StoreRetry(RuntimeError):
    """A transient store failure: RQ retries the job with backoff."""


class NotQueued(RuntimeError):
    """Redis refused the webhook job: the delivery rolls back and RQ retries it."""


def spec_of(offer: Offer, lead: Lead | None, shop: Shop) -> DiscountSpec:
    """What the store must create for this offer."""
    assert offer.code and offer.starts_at and offer.expires_at
    return DiscountSpec(
        code=offer.code,
        title=relance_title(offer.reason, offer.code),
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
        moved = session.execute(
            sa.update(Offer)
            .where(Offer.id == offer_id, Offer.status == "planned")
            .values(status="created", platform_discount_id=ref.platform_id, error=None)
        ).rowcount
        if (
            not moved
        ):  # cancelled (an unsubscribe) during the store call: note the code so the clean-up removes it
            session.execute(
                sa.update(Offer)
                .where(Offer.id == offer_id, Offer.platform_discount_id.is_(None))
                .values(platform_discount_id=ref.platform_id)
            )
    if not moved:
        return "not_planned"
    schedule_delivery(
        ctx, offer_id, offer.send_at
    )  # lost (a crash, Redis down): redeliver_lost queues it again
    return "created"


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


def schedule_delivery(ctx: Context, offer_id: int, send_at: datetime | None, job_id: str = "") -> bool:
    """Deliver now, or at the end of quiet hours (RQ's scheduler); False when Redis refused the job."""
    job_id = job_id or jobnames.deliver_id(offer_id)
    if send_at is not None and send_at > ctx.now():
        try:
            queue.get_queue(ctx.redis, queue.CAMPAIGNS).enqueue_at(
                send_at, jobnames.DELIVER_OFFER, offer_id, job_id=job_id, retry=queue.DEFAULT_RETRY
            )
        except (RedisError, OSError) as exc:
            log.warning("delivery of offer %s not scheduled: %s", offer_id, type(exc).__name__)
            return False
        return True
    return queue.enqueue(ctx.redis, jobnames.DELIVER_OFFER, offer_id, job_id=job_id, queue=queue.CAMPAIGNS)


def redeliver_lost(ctx: Context, older_than: timedelta = REDELIVER_AFTER, limit: int = 500) -> int:
    """Queue the delivery again of `created` offers past their send time whose job RQ no longer holds."""
    now = ctx.now()
    with ctx.sessions() as session:
        due = list(
            session.scalars(
                sa.select(Offer.id)
                .where(
                    Offer.status == "created",
                    sa.func.coalesce(Offer.send_at, Offer.created_at) < now - older_than,
                    Offer.expires_at > now,  # an expired one is the clean-up's
                )
                .order_by(Offer.id)
                .limit(limit)
            )
        )
    queued = 0
    for offer_id in due:
        job_id = jobnames.deliver_id(offer_id)
        outcome = queue.requeue(
            ctx.redis, jobnames.DELIVER_OFFER, offer_id, job_id=job_id, queue=queue.CAMPAIGNS
        )
        if outcome == "refused":
            break
        queued += outcome == "queued"
    return queued


def deliver(ctx: Context, offer_id: int) -> str:
    """Job: final check, then send; an order that arrived meanwhile cancels the offer, expiry expires it.

    The email goes out at most once per offer. The offer is claimed first (`sent`, with EMAIL_IN_FLIGHT as its
    error) in a committed transaction, then handed to SMTP, then settled. A refusal the server answered
    (4xx) puts it back to `created` for RQ's retry; a 5xx fails it. If the worker dies, or the connection
    breaks, after the claim, nobody can tell whether the server took the message, and it is not sent again:
    the offer stays `sent` with that error (the merchant can resend it from the admin page). We chose this
    over at-least-once (send, then commit) because a retry after a lost commit would mail the customer
    twice, and the window here (one SMTP exchange) shows itself in `error` instead of passing silently.
    The webhook is a job of its own (outbound.post_offer), queued in the claim's transaction.
    """
    with transaction(ctx.sessions) as session:
        offer = locked(session, Offer, offer_id, Offer.status)
        if offer is None or offer.status != "created":
            return "not_ready"
        outcome, message = _claim(ctx, session, offer)
        to, unsubscribe = offer.recipient or "", tracking.unsubscribe_url(ctx, offer)
    if outcome == "quiet_hours":  # a late run (a retry, a redelivery) never mails at night: later, same job
        assert offer.send_at is not None
        later = jobnames.deliver_later_id(offer_id, int(offer.send_at.timestamp()))
        schedule_delivery(ctx, offer_id, offer.send_at, job_id=later)  # if refused, redeliver_lost retries
    if outcome == "email" and message is not None:
        outcome = _send_email(ctx, offer_id, to, message, unsubscribe)
    if outcome in ("cancelled", "expired", "failed"):
        remove_code(ctx, offer_id)  # now; the clean-up job retries it if the store fails
    return outcome


def _claim(ctx: Context, session: Session, offer: Offer) -> tuple[str, campaigns.RenderedMessage | None]:
    """Decide in the locked transaction: cancel, expire, fail, wait for a channel, or mark it sent."""

    try:
        settings = rules.campaign_settings_for(session, offer.shop_id)
    except ValidationError as exc:  # rules saved before a check that now refuses them (a costly template)
        offer.status, offer.error = "failed", f"the campaign settings are invalid: {exc.messages}"[:1000]
        return "failed", None
    reason = _stale_reason(session, offer, settings)
    if reason is not None:
        offer.status, offer.decision = "cancelled", reason
        return "cancelled", None
    if offer.expires_at is None or offer.expires_at <= ctx.now():
        offer.status = "expired"  # never mail a code that no longer works
        return "expired", None
    if (later := campaigns.quiet_until(settings, ctx.now())) is not None:
        offer.send_at = later
        return "quiet_hours", None
    email, webhook = bool(ctx.settings.smtp_url), bool(settings.webhook_url)
    if not (email or webhook):
        offer.error = NO_CHANNEL
        return "no_channel", None
    try:
        if email:
            mailer.recipient(offer.recipient)
        message = render(ctx, session, offer, settings)
    except (mailer.BadRecipient, campaigns.TemplateProblem) as exc:
        offer.status, offer.error = "failed", str(exc)[:1000]
        return "failed", None
    if webhook and not (offer.error or "").startswith(EMAIL_RETRY):
        job_id = jobnames.webhook_id(offer.id)  # before the commit: a refused job rolls the claim back
        if not queue.enqueue(ctx.redis, jobnames.POST_OFFER, offer.id, job_id=job_id, queue=queue.CAMPAIGNS):
            raise NotQueued(job_id)
    offer.status, offer.sent_at = "sent", ctx.now()
    offer.error = EMAIL_IN_FLIGHT if email else None
    return ("email" if email else "sent"), message


def _send_email(
    ctx: Context, offer_id: int, to: str, message: campaigns.RenderedMessage, unsubscribe: str
) -> str:
    """Hand the claimed offer's email to SMTP and settle the claim by what the server answered."""
    try:
        mailer.send(ctx, to, message, unsubscribe_url=unsubscribe)
    except mailer.MailNotSent as exc:
        if exc.permanent:
            _settle(ctx, offer_id, status="failed", error=f"email refused: {exc}")
            return "failed"
        _settle(ctx, offer_id, status="created", sent_at=None, error=f"{EMAIL_RETRY}{exc}")
        raise
    except mailer.MailOutcomeUnknown as exc:
        _settle(ctx, offer_id, error=f"email outcome unknown, not sent again: {exc}")
        return "unknown"
    _settle(ctx, offer_id, error=None)
    return "sent"


def _settle(ctx: Context, offer_id: int, **values: object) -> None:
    """Change the claimed offer, unless something else (a cancel, a redemption) changed it meanwhile."""
    with transaction(ctx.sessions) as session:
        session.execute(
            sa.update(Offer)
            .where(Offer.id == offer_id, Offer.status == "sent", Offer.error == EMAIL_IN_FLIGHT)
            .values(**values)
        )


def _stale_reason(session: Session, offer: Offer, settings: campaigns.CampaignSettings) -> str | None:
    """Why the offer must not be sent any more, or None."""
    lead = session.get(Lead, offer.lead_id) if offer.lead_id else None
    if lead is None or lead.redacted_at is not None:
        return "lead_gone"
    if lead.unsubscribed_at is not None:
        return "unsubscribed"
    if settings.require_consent and lead.accepts_marketing is not True:
        return "consent_withdrawn"  # between the decision and the send (quiet hours can make that 11 hours)
    cart = session.get(Cart, offer.cart_id) if offer.cart_id else None
    if cart is not None and cart.status in ("converted", "recovered"):
        return "ordered_meanwhile"
    since = cart.created_at if cart is not None else offer.created_at
    ordered = session.scalar(
        sa.select(Order.id).where(Order.lead_id == lead.id, Order.created_at >= since).limit(1)
    )
    return "ordered_meanwhile" if ordered is not None else None


def render(
    ctx: Context, session: Session, offer: Offer, settings: campaigns.CampaignSettings | None = None
) -> campaigns.RenderedMessage:
    """The offer's message as its shop's template renders it (the same every time: tokens carry no time);
    `settings`: the shop's campaign settings when the caller has them already."""

    shop, lead = session.get(Shop, offer.shop_id), session.get(Lead, offer.lead_id)
    cart = session.get(Cart, offer.cart_id) if offer.cart_id else None
    assert shop is not None and lead is not None and offer.code and offer.expires_at
    settings = settings or rules.campaign_settings_for(session, shop.id)
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
