"""What the pure pacing (campaigns.pace) needs about one lead: the emails it received lately (from any
run), its other runs due now, and when this step was first due (a deferral never moves that)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge.db.models import JourneyRun, Lead, Offer
from bridge.leads import rules
from bridge.outreach import runs

# Offers that reached (or are about to reach) the customer's inbox: they count against the pressure.
MAILED = ("planned", "created", "sent", "redeemed", "expired")


def first_due(run: JourneyRun, journey: campaigns.Journey) -> datetime:
    """When the run's current step was due before any deferral."""
    if run.step == 0 or run.last_sent_at is None:
        return campaigns.first_due(journey, run.trigger_at, runs.key_of(run), run.holdout_stop)
    due = campaigns.next_due(
        journey, run.trigger_at, run.step - 1, run.last_sent_at, runs.key_of(run), run.holdout_stop
    )
    return due if due is not None else run.trigger_at


def recent_emails(session: Session, lead_id: int, since: datetime) -> list[campaigns.SentEmail]:
    sent = sa.func.coalesce(Offer.sent_at, Offer.send_at, Offer.created_at)
    rows = session.execute(
        sa.select(sent, Offer.run_id).where(
            Offer.lead_id == lead_id, Offer.holdout.is_(False), Offer.status.in_(MAILED), sent >= since
        )
    ).all()
    return [campaigns.SentEmail(at, run_id) for at, run_id in rows]


def rivals(session: Session, run: JourneyRun, now: datetime) -> list[campaigns.Rival]:
    """The lead's other active runs whose step is due too, ranked by their journeys' priority."""
    others = session.execute(
        sa.select(JourneyRun.id, JourneyRun.journey_key, JourneyRun.next_due_at).where(
            JourneyRun.lead_id == run.lead_id,
            JourneyRun.status == "active",
            JourneyRun.id != run.id,
            JourneyRun.next_due_at <= now,
        )
    ).all()
    if not others:
        return []
    ranks = {journey.key: journey.rank for journey in rules.journeys_for(session, run.shop_id)}
    return [campaigns.Rival(run_id, due, ranks.get(key, 0)) for run_id, key, due in others if due is not None]


def pace(
    session: Session,
    run: JourneyRun,
    journey: campaigns.Journey,
    step: campaigns.Step,
    lead: Lead,
    settings: campaigns.CampaignSettings,
    now: datetime,
) -> campaigns.Pacing:
    """Send now, defer, or skip the run's due step (campaigns.pace) from what the database knows."""
    limits = settings.pressure
    days = limits.window_days if limits is not None else 0
    hours = limits.min_gap_hours if limits is not None else 0
    since = now - max(timedelta(days=days), timedelta(hours=hours), timedelta(days=1))
    return campaigns.pace(
        now,
        first_due(run, journey),
        step.max_delay_hours,
        run.id,
        journey.rank,
        recent_emails(session, lead.id, since),
        rivals(session, run, now),
        settings,
    )
