"""Journey runs begin here: a trigger (an abandoned cart, a sign-up, a browse, a tier entered) starts the
first enabled journey whose audience admits the lead, once per trigger instance.

A run is unique per shop and instance ("cart:<id>", "signup:<lead>", ...): a redelivered webhook, a retried
job or two sweeps side by side find the run already there. A cart that no journey admits still gets an
ended run ("no_journey"), so the merchant sees why it received nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import campaigns
from bridge.db.models import JourneyRun, Lead, Offer, Shop
from bridge.leads import rules, segments

log = logging.getLogger(__name__)
NO_JOURNEY = "no_journey"


def each(ids: list[int], action: Callable[[int], object], what: str) -> int:
    """Apply `action` to each id of a job's batch; one that fails does not hold up the others: the job fails
    at the end (naming them), and RQ's retry finds the rest done (every action here is idempotent)."""
    failed = []
    for row_id in ids:
        try:
            action(row_id)
        except Exception:
            log.exception("%s %s failed", what, row_id)
            failed.append(row_id)
    if failed:
        raise RuntimeError(f"{what} failed for {len(failed)} of {len(ids)}: {failed[:10]}")
    return len(ids)


def instance_of(trigger: str, lead_id: int, cart_id: int | None = None, detail: str = "") -> str:
    """The trigger instance a run belongs to: the cart for carts, the lead (and what it entered) else."""
    if trigger == "cart_abandoned":
        return f"cart:{cart_id}"
    if trigger == "tier_entered":
        return f"tier:{detail}:{lead_id}"
    if trigger == "browse_abandoned":
        return f"browse:{lead_id}:{detail}"
    return f"{trigger}:{lead_id}"


def run_key(shop_id: int, instance: str) -> str:
    """The key a run's control group and A/B variants are drawn from (its shop and trigger instance)."""
    return f"{shop_id}:{instance}"


def key_of(run: JourneyRun) -> str:
    return run_key(run.shop_id, run.instance)


def existing(session: Session, shop_id: int, instance: str) -> JourneyRun | None:
    return session.scalar(
        sa.select(JourneyRun).where(JourneyRun.shop_id == shop_id, JourneyRun.instance == instance)
    )


def start(
    session: Session,
    shop: Shop,
    lead: Lead,
    trigger: str,
    trigger_at: datetime,
    now: datetime,
    cart_id: int | None = None,
    detail: str = "",
    record_miss: bool = False,
) -> JourneyRun | None:
    """Start the journey this trigger routes to (None: already started, or no journey and no record)."""
    instance = instance_of(trigger, lead.id, cart_id, detail)
    if existing(session, shop.id, instance) is not None:
        return None
    journey = campaigns.route(
        rules.journeys_for(session, shop.id),
        trigger,
        lead.tier,
        detail or None,
        in_segment=lambda key: _in_segment(session, shop.id, lead.id, key, now),
    )
    if journey is None and not record_miss:
        return None
    key = run_key(shop.id, instance)
    stop = campaigns.holdout_stop(key, journey.holdout_share, len(journey.steps)) if journey else None
    run = JourneyRun(
        shop_id=shop.id,
        lead_id=lead.id,
        cart_id=cart_id,
        journey_key=journey.key if journey else "",
        trigger=trigger,
        instance=instance,
        trigger_at=trigger_at,
        status="active" if journey else "ended",
        step=0,
        holdout_stop=stop,
        # The first step's variant (its delay) is drawn now, from the run's key: the send finds the same.
        next_due_at=campaigns.first_due(journey, trigger_at, key, stop) if journey else None,
        exit_reason=None if journey else NO_JOURNEY,
        created_at=now,
        ended_at=None if journey else now,
    )
    return _insert_once(session, run)


def _in_segment(session: Session, shop_id: int, lead_id: int, key: str, now: datetime) -> bool:
    """Whether the lead is in the shop's segment now (a segment no longer defined admits nobody)."""
    segment = segments.shop_segments(session, shop_id).get(key)
    return segment is not None and segments.is_member(session, shop_id, segment, lead_id, now)


def _insert_once(session: Session, run: JourneyRun) -> JourneyRun | None:
    """Insert the run unless another transaction just did (the unique instance decides)."""
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        log.info("journey run %s of shop %s already started", run.instance, run.shop_id)
        return None
    return run


# Exits after which the run's codes leave the store (the clean-up removes cancelled codes): the customer
# opted out or is gone. After an order, a completed run or a cart back in use, a code already sent stands.
WITHDRAW_CODES = frozenset({"unsubscribed", "no_consent", "consent_withdrawn", "lead_gone", "uninstalled"})


def end(run: JourneyRun, reason: str, now: datetime) -> None:
    """End a run: no further step is sent."""
    run.status, run.exit_reason, run.ended_at, run.next_due_at = "ended", reason, now, None


def end_and_withdraw(session: Session, run: JourneyRun, reason: str, now: datetime) -> None:
    """End a run and, for an exit in WITHDRAW_CODES, cancel its codes not redeemed (removed from the store
    by code_cleanup.remove_expired, which retries until the store confirms)."""
    end(run, reason, now)
    if reason in WITHDRAW_CODES:
        session.execute(
            sa.update(Offer)
            .where(
                Offer.run_id == run.id,
                Offer.code.is_not(None),
                Offer.status.in_(("planned", "created", "sent")),
            )
            .values(status="cancelled", decision=reason)
        )


def end_active_runs(
    session: Session, lead_id: int, reason: str, now: datetime, cart_id: int | None = None
) -> int:
    """End the lead's active runs (of one cart only, with `cart_id`); how many ended."""
    query = sa.select(JourneyRun).where(JourneyRun.lead_id == lead_id, JourneyRun.status == "active")
    if cart_id is not None:
        query = query.where(JourneyRun.cart_id == cart_id)
    found = session.scalars(query.with_for_update()).all()
    for run in found:
        end(run, reason, now)
    return len(found)
