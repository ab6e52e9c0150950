"""A journey run's due step: the checks before it (exits, pressure, quiet hours, the holdout), then the
step itself as an offer row (a reminder, or a code minted just before it goes out), then the next due time.

Everything about one step happens in one transaction that holds the run and the lead locked: two steps
of one lead (two journeys) decide one after the other, so the second sees the first (pressure, one live
code). The offer row is unique per (run, step): a retried job finds the step done.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge.db import locked, transaction
from bridge.db.models import Cart, JourneyRun, Lead, Offer, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.outreach import pressure, runs
from bridge.outreach.decision_inputs import DecisionInputs, budget_spent, load_inputs
from bridge.outreach.delivery import schedule_delivery
from campaigns.journeys import run_step

log = logging.getLogger(__name__)


def advance_runs(ctx: Context, run_ids: list[int]) -> int:
    """Send the due step of each run of a sweep batch (runs.each: a failure holds up no other run)."""
    return runs.each(run_ids, lambda run_id: advance(ctx, run_id), "journey step of run")


def advance(ctx: Context, run_id: int) -> str:
    """Decide and record the run's due step; what happened ("sent", "deferred", "ended:<why>", ...)."""
    with transaction(ctx.sessions) as session:
        run = locked(session, JourneyRun, run_id, JourneyRun.step)
        now = ctx.now()
        if run is None or run.status != "active" or run.next_due_at is None or run.next_due_at > now:
            return "not_due"
        lead = session.get(Lead, run.lead_id, with_for_update=True)
        shop = session.get(Shop, run.shop_id)
        assert lead is not None and shop is not None
        outcome, offer = _step(ctx, session, run, shop, lead, now)
        after = (offer.id, offer.status, offer.send_at) if offer is not None else None
    if after is not None:
        _after_commit(ctx, *after)
    return outcome


def offer_reason(run: JourneyRun) -> str:
    """The offer's reason as integrators know it ("abandoned_cart", "hot_lead"), else the trigger."""
    if run.trigger == "cart_abandoned":
        return "abandoned_cart"
    if run.instance.startswith("tier:hot:"):
        return "hot_lead"
    return run.trigger


def _journey(session: Session, run: JourneyRun) -> campaigns.Journey | None:
    journeys = rules.journeys_for(session, run.shop_id)
    return next((journey for journey in journeys if journey.key == run.journey_key), None)


def _step(
    ctx: Context, session: Session, run: JourneyRun, shop: Shop, lead: Lead, now: datetime
) -> tuple[str, Offer | None]:
    settings = rules.campaign_settings_for(session, run.shop_id)
    journey = _journey(session, run)
    cart = session.get(Cart, run.cart_id) if run.cart_id else None
    reason = _exit(session, run, journey, shop, lead, cart, settings)
    if reason is not None:
        runs.end_and_withdraw(session, run, reason, now)
        return f"ended:{reason}", None
    assert journey is not None
    # The run's A/B variant of this step (none when held out here): its content, code and delay.
    variant, step = run_step(journey, run.step, runs.key_of(run), run.holdout_stop)
    pacing = pressure.pace(session, run, journey, step, lead, settings, now)
    if pacing.action == "defer":
        run.next_due_at, run.deferred_reason = pacing.at, pacing.reason
        return f"deferred:{pacing.reason}", None
    if pacing.action == "skip":
        _record(
            session, run, lead, cart, step, now, status="suppressed", decision=f"skipped:{pacing.reason}"
        ).variant = variant
        _next(run, journey, now)
        return f"skipped:{pacing.reason}", None
    if run.holdout_stop == run.step:
        _record(session, run, lead, cart, step, now, status="suppressed", decision="holdout", holdout=True)
        runs.end(run, "holdout", now)
        return "holdout", None
    offer = _send(session, run, shop, lead, cart, step, settings, now)
    offer.variant = variant
    _next(run, journey, now)
    return "sent", offer


def _exit(
    session: Session,
    run: JourneyRun,
    journey: campaigns.Journey | None,
    shop: Shop,
    lead: Lead,
    cart: Cart | None,
    settings: campaigns.CampaignSettings,
) -> str | None:
    """Why the run ends before this step (the journey gone or off, the lead gone, an order, ...), or None."""
    if journey is None:
        return "journey_removed"
    if not journey.enabled:
        return "journey_disabled"
    if run.step >= len(journey.steps):
        return "completed"  # the merchant removed steps since
    if shop.uninstalled_at is not None:
        return "uninstalled"
    if (
        shop.disconnected_at is not None
        and run_step(journey, run.step, runs.key_of(run), run.holdout_stop)[1].offer is not None
    ):
        return "store_disconnected"
    if lead.redacted_at is not None:
        return "lead_gone"
    if run.cart_id is not None and cart is None:
        return "cart_gone"
    inputs = load_inputs(session, lead, cart, run.trigger_at, percentage=False)
    # An order since the cart began ends a cart's run (as the delivery's final check sees it: an order that
    # came before the checkout's webhook leaves the cart open); since the trigger, any other run.
    since = cart.created_at if cart is not None else run.trigger_at
    return campaigns.exit_reason(
        inputs.lead, cart.status if cart else None, inputs.last_order, since, settings
    )


def _next(run: JourneyRun, journey: campaigns.Journey, now: datetime) -> None:
    """Move to the following step, due by its offset and never sooner than its gap after this send."""
    due = campaigns.next_due(journey, run.trigger_at, run.step, now, runs.key_of(run), run.holdout_stop)
    run.step += 1
    run.last_sent_at, run.deferred_reason = now, None
    if due is None:
        runs.end(run, "completed", now)
    else:
        run.next_due_at = due


def _record(
    session: Session,
    run: JourneyRun,
    lead: Lead,
    cart: Cart | None,
    step: campaigns.Step,
    now: datetime,
    status: str,
    decision: str,
    holdout: bool = False,
) -> Offer:
    """The step's offer row: sent or not, every step a run reached is on record (the results count them)."""
    offer = Offer(
        shop_id=run.shop_id,
        lead_id=lead.id,
        cart_id=run.cart_id,
        run_id=run.id,
        step=run.step,
        journey_key=run.journey_key,
        reason=offer_reason(run),
        kind=step.offer.kind if step.offer else "reminder",
        value=step.offer.value if step.offer else Decimal(0),
        currency=cart.currency if cart else None,
        holdout=holdout,
        decision=decision,
        created_at=now,
        recipient=(cart.email if cart is not None and cart.email else lead.email),
        status=status,
    )
    session.add(offer)
    session.flush()
    return offer


def _send(
    session: Session,
    run: JourneyRun,
    shop: Shop,
    lead: Lead,
    cart: Cart | None,
    step: campaigns.Step,
    settings: campaigns.CampaignSettings,
    now: datetime,
) -> Offer:
    """The step goes out: with a fresh code when it carries one and the code may be issued, else as a
    reminder (the reason noted)."""
    if step.offer is None:
        offer = _record(session, run, lead, cart, step, now, status="created", decision="reminder")
        offer.send_at = now
        return offer
    if settings.monthly_budget is not None:
        rules.lock_shop(session, shop.id)  # codes of one shop take turns on the budget's last euros
    inputs = load_inputs(session, lead, cart, now, percentage=step.offer.kind == "percentage")
    verdict = campaigns.code_decision(
        step.offer,
        inputs.lead,
        inputs.cart,
        inputs.offers,
        settings,
        budget_spent(session, shop.id, settings, now),
        now,
    )
    if not verdict.issue:
        offer = _record(session, run, lead, cart, step, now, status="created", decision=verdict.reason)
        offer.kind, offer.value, offer.send_at = "reminder", Decimal(0), now
        return offer
    decision = "eligible" if lead.external_id or shop.platform != "shopify" else "guest_code"
    offer = _record(session, run, lead, cart, step, now, status="planned", decision=decision)
    _give_code(session, offer, step.offer, settings, inputs, now)
    return offer


def _give_code(
    session: Session,
    offer: Offer,
    spec: campaigns.StepOffer,
    settings: campaigns.CampaignSettings,
    inputs: DecisionInputs,
    now: datetime,
) -> None:
    """A code valid `expires_hours` from the send, its estimated cost, its minimum order, a fresh value."""
    offer.send_at, offer.starts_at = now, now
    _, offer.expires_at = campaigns.offer_window(now, spec.expires_hours)
    offer.cost = campaigns.estimate_cost(spec, inputs.cart, inputs.lead)
    offer.minimum_order = spec.minimum_order or None
    offer.code = _unique_code(session, offer.shop_id, settings.code_prefix)


def _unique_code(session: Session, shop_id: int, prefix: str) -> str:
    """A fresh code not used by this shop (the unique constraint is the final word)."""
    while True:
        code = campaigns.generate_code(prefix)
        if session.scalar(sa.select(Offer.id).where(Offer.shop_id == shop_id, Offer.code == code)) is None:
            return code


def _after_commit(ctx: Context, offer_id: int, status: str, send_at: datetime | None) -> None:
    """Queue what follows the committed step: the code's creation, or the reminder's delivery. A lost job
    is found again (codes.retry_stuck_codes, delivery.redeliver_lost)."""
    if status == "planned":
        queue.enqueue(
            ctx.redis,
            jobnames.CREATE_CODE,
            offer_id,
            job_id=jobnames.code_id(offer_id),
            queue=queue.CAMPAIGNS,
        )
    elif status == "created":
        schedule_delivery(ctx, offer_id, send_at)
