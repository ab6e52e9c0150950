"""Offer delivery: schedule the job at the send time, the final check, the email (at most once), the
webhook job, and lost deliveries queued again."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from marshmallow import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

import campaigns
from bridge.db import locked, transaction
from bridge.db.models import Cart, JourneyRun, Lead, Offer, Order
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.leads.alert_events import offer_sent
from bridge.outreach import mailer, runs, tracking
from bridge.outreach.code_cleanup import remove_code
from bridge.outreach.message import render

log = logging.getLogger(__name__)
REDELIVER_AFTER = timedelta(minutes=5)  # a `created` offer this far past its send time has lost its job
REMINDER_LIFETIME = timedelta(days=1)  # a reminder not sent within a day of its time is not sent at all
NO_CHANNEL = "no delivery channel: set SMTP_URL or a webhook URL in the campaign settings"
# `error` while the SMTP server has the message and has not answered; if it stays, the outcome is unknown.
EMAIL_IN_FLIGHT = "email: handed to the SMTP server, no answer yet (if this stays, it is not sent again)"
EMAIL_RETRY = "email: not sent, retrying: "  # back to `created`; its webhook job was queued on the first try


class NotQueued(RuntimeError):
    """Redis refused the webhook job: the delivery rolls back and RQ retries it."""


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
                    sa.or_(
                        Offer.expires_at > now,  # an expired one is the clean-up's
                        # a reminder (no code) is still worth sending within a day of its send time
                        sa.and_(Offer.code.is_(None), Offer.send_at > now - REMINDER_LIFETIME),
                    ),
                )
                .order_by(Offer.id)
                .limit(limit)
            )
        )
    return queue.requeue_all(
        ctx.redis, jobnames.DELIVER_OFFER, due, jobnames.deliver_id, queue=queue.CAMPAIGNS
    )


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
        has_code = offer.code is not None
    if outcome == "quiet_hours":  # a late run (a retry, a redelivery) never mails at night: later, same job
        assert offer.send_at is not None
        later = jobnames.deliver_later_id(offer_id, int(offer.send_at.timestamp()))
        schedule_delivery(ctx, offer_id, offer.send_at, job_id=later)  # if refused, redeliver_lost retries
    if outcome == "email" and message is not None:
        outcome = _send_email(ctx, offer_id, to, message, unsubscribe)
    if outcome in ("cancelled", "expired", "failed") and has_code:
        remove_code(ctx, offer_id)  # now; the clean-up job retries it if the store fails
    offer_sent(ctx, offer_id, outcome)
    return outcome


def _claim(ctx: Context, session: Session, offer: Offer) -> tuple[str, campaigns.RenderedMessage | None]:
    """Decide in the locked transaction: cancel, expire, fail, wait for a channel, or mark it sent."""
    try:  # the delivery's one read of the live rules: every check and the message below use it
        settings = rules.campaign_settings_for(session, offer.shop_id)
    except ValidationError as exc:  # rules saved before a check that now refuses them (a costly template)
        offer.status, offer.error = "failed", f"the campaign settings are invalid: {exc.messages}"[:1000]
        return "failed", None
    held = _hold_back(ctx, session, offer, settings)
    if held is not None:
        return held, None
    return _mark_sent(ctx, session, offer, settings)


def _hold_back(
    ctx: Context, session: Session, offer: Offer, settings: campaigns.CampaignSettings
) -> str | None:
    """Why the offer is not sent now (cancelled, expired, quiet hours, no channel), noted on the offer; None
    when it may go."""
    reason = _stale_reason(session, offer, settings)
    if reason is not None:
        offer.status, offer.decision = "cancelled", reason
        _end_run(session, offer, reason, ctx.now())
        return "cancelled"
    if _too_late(offer, ctx.now()):
        offer.status = "expired"  # never mail a code that no longer works, nor yesterday's reminder
        return "expired"
    if (later := campaigns.quiet_until(settings, ctx.now())) is not None:
        offer.send_at = later
        return "quiet_hours"
    if not (ctx.settings.smtp_url or settings.webhook_url):
        offer.error = NO_CHANNEL
        return "no_channel"
    return None


def _too_late(offer: Offer, now: datetime) -> bool:
    if offer.code is None:
        return (offer.send_at or offer.created_at) <= now - REMINDER_LIFETIME
    return offer.expires_at is None or offer.expires_at <= now


def _end_run(session: Session, offer: Offer, reason: str, now: datetime) -> None:
    """The final check ended the step: the run it belongs to ends with it."""
    run = session.get(JourneyRun, offer.run_id) if offer.run_id else None
    if run is not None and run.status == "active":
        runs.end_and_withdraw(session, run, reason, now)


def _mark_sent(
    ctx: Context, session: Session, offer: Offer, settings: campaigns.CampaignSettings
) -> tuple[str, campaigns.RenderedMessage | None]:
    """Render the message and mark the offer sent: the email in flight, the webhook job queued."""
    email, webhook = bool(ctx.settings.smtp_url), bool(settings.webhook_url)
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
    if cart is not None and cart.status == "active":
        return "cart_active"  # the shopper came back to the cart
    since = cart.created_at if cart is not None else offer.created_at
    ordered = session.scalar(
        sa.select(Order.id).where(Order.lead_id == lead.id, Order.created_at >= since).limit(1)
    )
    return "ordered_meanwhile" if ordered is not None else None
