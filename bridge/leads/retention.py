"""Data retention: erase the personal data of leads inactive for RETENTION_MONTHS (default 24; 0 = off).

A lead is inactive when neither its last activity nor (without any) its creation is newer than the cutoff.
Its profile, carts and activity references are erased with `privacy.redact_lead` (counts and amounts stay
for the merchant's metrics); the same run scrubs anonymous carts and deletes stored webhook payloads older
than the cutoff, since those hold the same personal data, and forgets storefront visitors never identified
and not seen since the cutoff (joined ones go with their lead).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Cart, Event, Lead, Offer, Visitor
from bridge.infra.context import Context
from bridge.leads.erasure import redact_lead

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class Outcome:
    """What one retention run erased."""

    leads: int = 0
    carts: int = 0
    events: int = 0
    visitors: int = 0


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (clamped to the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (following - datetime(year, month, 1, tzinfo=moment.tzinfo)).days
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _redact_batch(ctx: Context, cutoff: datetime, now: datetime) -> int:
    with transaction(ctx.sessions) as session:
        last_seen = sa.func.coalesce(Lead.last_activity_at, Lead.created_at)
        query = (
            sa.select(Lead)
            .where(Lead.redacted_at.is_(None), last_seen < cutoff)
            .order_by(Lead.id)
            .limit(BATCH)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # two runs at once take different leads
        leads = list(session.scalars(query))
        for lead in leads:
            redact_lead(session, lead, now)
            session.execute(sa.update(Offer).where(Offer.lead_id == lead.id).values(recipient=None))
        return len(leads)


def _scrub_anonymous_carts(ctx: Context, cutoff: datetime) -> int:
    with transaction(ctx.sessions) as session:
        result = session.execute(
            sa.update(Cart)
            .where(Cart.lead_id.is_(None), Cart.last_activity_at < cutoff, Cart.email.is_not(None))
            .values(email=None, items={}, recovery_url=None, source={}, cart_token=None, checkout_token=None)
        )
        return cast(sa.CursorResult[Any], result).rowcount


def _delete_old_events(ctx: Context, cutoff: datetime) -> int:
    total = 0
    while True:
        with transaction(ctx.sessions) as session:
            ids = (
                sa.select(Event.id)
                .where(Event.received_at < cutoff, Event.status != "pending")
                .limit(BATCH)
                .scalar_subquery()
            )
            result = session.execute(sa.delete(Event).where(Event.id.in_(ids)))
            deleted = cast(sa.CursorResult[Any], result).rowcount
        total += deleted
        if deleted < BATCH:
            return total


def _forget_anonymous_visitors(ctx: Context, cutoff: datetime) -> int:
    with transaction(ctx.sessions) as session:
        result = session.execute(
            sa.delete(Visitor).where(Visitor.lead_id.is_(None), Visitor.last_seen_at < cutoff)
        )
        return cast(sa.CursorResult[Any], result).rowcount


def run(ctx: Context, months: int | None = None) -> Outcome:
    """Erase what is older than the retention period; nothing when it is 0."""
    months = ctx.settings.retention_months if months is None else months
    outcome = Outcome()
    if months <= 0:
        return outcome
    now = ctx.now()
    cutoff = months_before(now, months)
    while (done := _redact_batch(ctx, cutoff, now)) > 0:
        outcome.leads += done
        if done < BATCH:
            break
    outcome.carts = _scrub_anonymous_carts(ctx, cutoff)
    outcome.events = _delete_old_events(ctx, cutoff)
    outcome.visitors = _forget_anonymous_visitors(ctx, cutoff)
    if outcome.leads or outcome.carts or outcome.events:
        log.info(
            "retention: %d lead(s) erased, %d cart(s) scrubbed, %d event(s) deleted",
            outcome.leads,
            outcome.carts,
            outcome.events,
        )
    return outcome
