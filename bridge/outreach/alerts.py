"""Sending merchant alerts: one job per delivery row (a signed event, a Slack message or an email to the
sales address), retried by RQ with backoff; the test event; the daily digest; the relay of lost jobs.

Every attempt updates the row (attempts, response code, duration, error without personal data or URL): the
admin's delivery log reads it. A signed event carries `X-Relance-Timestamp` (Unix seconds) and
`X-Relance-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}." + raw body>` under the subscription's own
secret; receivers verify the raw bytes in constant time and refuse a timestamp older than five minutes (a
replayed request), then de-duplicate on the payload's `id` (delivery is at least once).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from rq import get_current_job

import campaigns
from bridge.db import transaction
from bridge.db.models import AlertDelivery, Lead, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import alerts
from bridge.leads.rules import alerts_for
from bridge.outreach import alert_content, mailer, outbound
from campaigns.alert_texts import AlertEmail, digest_email, hot_lead_email, slack_text
from campaigns.alerts import EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, envelope, sign

log = logging.getLogger(__name__)
RELAY_AFTER = timedelta(minutes=2)
LOG_KEPT = timedelta(days=90)  # the delivery log's age limit
PRUNE_BATCH = 5000
SAMPLE_REFS: dict[str, Any] = {
    "test": True,
    "lead_id": 0,
    "email": "lead@example.com",
    "score": 85,
    "tier": "hot",
    "reasons": [{"label": "Added to cart", "points": 15}],
}


class AlertFailed(RuntimeError):
    """The endpoint or the mail server did not take the alert: RQ tries again after its backoff."""


@dataclass(frozen=True)
class _Mail:
    to: str
    email: AlertEmail


@dataclass(frozen=True)
class _Post:
    url: str
    slack: bool
    key: str
    shop_id: int
    event: dict[str, Any]


def deliver(ctx: Context, delivery_id: int) -> str:
    """Job (queue `campaigns`, ALERT_RETRY): send one delivery row once; its status afterwards."""
    outgoing = _prepare(ctx, delivery_id)
    if isinstance(outgoing, str):
        return outgoing
    if isinstance(outgoing, _Mail):
        return _send_email(ctx, delivery_id, outgoing.to, outgoing.email)
    return _post(ctx, delivery_id, outgoing)


def _prepare(ctx: Context, delivery_id: int) -> _Mail | _Post | str:
    """What to send for a pending row, read in one session; a status when there is nothing to send."""
    with ctx.sessions() as session:
        row = session.get(AlertDelivery, delivery_id)
        if row is None or row.status != "pending":
            return row.status if row is not None else "gone"
        shop = session.get(Shop, row.shop_id)
        if shop is None:
            return "gone"
        settings = alerts_for(session, row.shop_id)
        if row.channel in ("email", "digest"):
            email = _email(ctx, session, shop, row)
            if email is None or not settings.sales_email:
                return _finish(ctx, delivery_id, "nothing to send (no sales address, or no lead)", final=True)
            return _Mail(settings.sales_email, email)
        subscription = settings.subscription(row.target)
        if subscription is None or not (subscription.enabled or row.test):
            return _finish(ctx, delivery_id, "subscription removed or disabled", final=True)
        data = alert_content.event_data(session, row)
        if data is None:
            return _finish(ctx, delivery_id, "lead erased", final=True)
        event = envelope(row.event_type, row.event_id, row.occurred_at, shop.domain, data)
        return _Post(subscription.url, subscription.format == "slack", subscription.key, shop.id, event)


def _post(ctx: Context, delivery_id: int, out: _Post) -> str:
    """POST one signed event (or its Slack text) through the SSRF guard and record the attempt."""
    body = json.dumps({"text": slack_text(out.event)} if out.slack else out.event).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: out.event["type"],
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(alerts.ensure_secret(ctx, out.shop_id, out.key), timestamp, body),
    }
    posted = outbound.post(ctx, out.url, body, headers)
    refused = posted.failure == outbound.REFUSED  # the address stays refused: no retry
    code, duration = posted.status_code, posted.duration_ms
    return _finish(ctx, delivery_id, posted.failure, code=code, duration=duration, final=refused)


def _email(ctx: Context, session: Any, shop: Shop, row: AlertDelivery) -> AlertEmail | None:
    """The hot-lead email or the digest of one row, in the merchant's language."""
    locale = alert_content.language(session, shop)
    name, url = shop.name or shop.domain, ctx.settings.public_url
    if row.channel == "digest":
        day = str(row.refs.get("day"))
        start, end = alert_content.day_bounds(day, shop.timezone)
        leads = alert_content.new_hot_leads(session, shop.id, start, end)
        facts = [alert_content.hot_lead(session, shop, lead, locale, url) for lead in leads]
        return digest_email(facts, name, day, locale) if facts else None
    lead = session.get(Lead, row.refs.get("lead_id"))
    if lead is None or lead.redacted_at is not None:
        return None
    return hot_lead_email(alert_content.hot_lead(session, shop, lead, locale, url), name, locale)


def _send_email(ctx: Context, delivery_id: int, to: str, email: AlertEmail) -> str:
    message = campaigns.RenderedMessage(email.subject, email.text, email.html, "Relance", email.locale)
    started = time.monotonic()
    try:
        mailer.send(ctx, to, message, f"{ctx.settings.public_url}/admin/alerts")
        failure, final = None, False
    except (mailer.MailNotConfigured, mailer.BadRecipient) as exc:
        failure, final = type(exc).__name__, True
    except mailer.MailNotSent as exc:
        failure, final = str(exc)[:200], exc.permanent
    except mailer.MailOutcomeUnknown as exc:
        failure, final = str(exc)[:200], False
    duration = int((time.monotonic() - started) * 1000)
    return _finish(ctx, delivery_id, failure, duration=duration, final=final)


def _finish(
    ctx: Context,
    delivery_id: int,
    failure: str | None,
    *,
    code: int | None = None,
    duration: int | None = None,
    final: bool = False,
) -> str:
    """Write one attempt's outcome; raise AlertFailed while RQ has retries left."""
    job = get_current_job()
    last = final or not (job and job.retries_left)
    status = "sent" if failure is None else "failed" if last else "pending"
    with transaction(ctx.sessions) as session:
        row = session.get(AlertDelivery, delivery_id)
        if row is not None:
            row.attempts += 1
            row.status, row.response_code, row.duration_ms = status, code, duration
            row.error = failure[:255] if failure else None
            row.updated_at = ctx.now()
    if status == "pending":
        log.warning("alert delivery %s failed, retried later: %s", delivery_id, failure)
        raise AlertFailed(f"alert delivery {delivery_id}: {failure}")
    return status


def send_test(ctx: Context, shop_id: int, key: str) -> int | None:
    """Queue a test event (marked `"test": true`) to one subscription; the delivery's id, or None when the
    subscription does not exist."""
    with ctx.sessions() as session:
        subscription = alerts_for(session, shop_id).subscription(key)
    if subscription is None:
        return None
    channel = "slack" if subscription.format == "slack" else "webhook"
    event_type = subscription.events[0]
    event = alerts.event_id(shop_id, event_type, None)
    ids = alerts.record(ctx, shop_id, event_type, [(SAMPLE_REFS, event)], [(channel, key)], test=True)
    alerts.enqueue(ctx, ids)
    return ids[0]


def send_digests(ctx: Context) -> int:
    """Periodic (hourly): for each shop asking for a digest, yesterday's (by its clock) once; how many
    queued. A day without new hot leads sends nothing."""
    queued: list[int] = []
    with ctx.sessions() as session:
        shops = session.execute(
            sa.select(Shop.id, Shop.timezone).where(Shop.uninstalled_at.is_(None)).order_by(Shop.id)
        ).all()
        due = [(shop_id, day) for shop_id, zone in shops if (day := _digest_day(ctx, session, shop_id, zone))]
    for shop_id, day in due:
        event = alerts.event_id(shop_id, "digest", day)
        refs = {"day": day, "occurred_at": ctx.now().isoformat()}
        queued += alerts.record(ctx, shop_id, "lead.hot", [(refs, event)], [("digest", alerts.SALES_EMAIL)])
    alerts.enqueue(ctx, queued)
    return len(queued)


def _digest_day(ctx: Context, session: Any, shop_id: int, zone: str | None) -> str | None:
    """Yesterday in the shop's time zone, when the shop wants a digest and had new hot leads that day."""
    settings = alerts_for(session, shop_id)
    if not (settings.digest and settings.sales_email):
        return None
    day = (ctx.now().astimezone(campaigns.zone_or_utc(zone)).date() - timedelta(days=1)).isoformat()
    start, end = alert_content.day_bounds(day, zone)
    return day if alert_content.new_hot_leads(session, shop_id, start, end, limit=1) else None


def requeue_lost(ctx: Context) -> int:
    """Periodic: queue again pending deliveries whose job RQ no longer holds (a lost enqueue); how many."""
    cutoff = ctx.now() - RELAY_AFTER
    with ctx.sessions() as session:
        ids = session.scalars(
            sa.select(AlertDelivery.id)
            .where(AlertDelivery.status == "pending", AlertDelivery.updated_at < cutoff)
            .order_by(AlertDelivery.id)
            .limit(500)
        ).all()
    return queue.requeue_all(
        ctx.redis,
        jobnames.DELIVER_ALERT,
        ids,
        jobnames.alert_id,
        queue=queue.CAMPAIGNS,
        retry=alerts.ALERT_RETRY,
    )


def prune_log(ctx: Context) -> int:
    """Delete delivery log rows older than LOG_KEPT, a batch at a time; how many."""
    with transaction(ctx.sessions) as session:
        old = (
            sa.select(AlertDelivery.id)
            .where(AlertDelivery.created_at < ctx.now() - LOG_KEPT, AlertDelivery.status != "pending")
            .limit(PRUNE_BATCH)
        )
        result = session.execute(sa.delete(AlertDelivery).where(AlertDelivery.id.in_(old)))
        return int(getattr(result, "rowcount", 0) or 0)


def deliveries(session: Any, shop_id: int, limit: int = 50, before: int | None = None) -> list[AlertDelivery]:
    """The delivery log of a shop, newest first."""
    query = sa.select(AlertDelivery).where(AlertDelivery.shop_id == shop_id)
    if before is not None:
        query = query.where(AlertDelivery.id < before)
    return list(session.scalars(query.order_by(AlertDelivery.id.desc()).limit(limit)).all())
