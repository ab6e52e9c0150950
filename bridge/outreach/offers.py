"""Offer decisions: for an abandoned cart or a hot lead, load what the pure policy needs, call
`campaigns.decide`, record the offer (planned or suppressed) and queue its code's creation.

Each decision reads the shop's live campaign settings once and uses them throughout.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge.db import transaction
from bridge.db.models import Cart, Lead, Offer, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.leads.people import add_activity
from bridge.leads.rules import lock_shop
from bridge.leads.scores import score_leads
from bridge.outreach.decision_inputs import DecisionInputs, budget_spent, load_inputs

log = logging.getLogger(__name__)
ORPHAN_BATCH = 2000  # abandoned carts without a decision queued again per run


def plan_cart_offers(ctx: Context, cart_ids: list[int]) -> int:
    """Decide the offers of a batch of abandoned carts (each idempotent, so a retried batch is harmless).
    A cart that fails does not hold up the rest of its batch: the job fails at the end, and RQ's retry
    finds the others already planned."""
    failed: list[int] = []
    for cart_id in cart_ids:
        try:
            plan_cart_offer(ctx, cart_id)
        except Exception:
            log.exception("offer decision for cart %s failed", cart_id)
            failed.append(cart_id)
    if failed:
        raise RuntimeError(f"offer decision failed for {len(failed)} of {len(cart_ids)} carts: {failed[:10]}")
    return len(cart_ids)


def replan_orphans(ctx: Context, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue the offer decision again for abandoned carts that have none (Redis was down at the sweep)."""
    with ctx.sessions() as session:
        orphans = list(
            session.scalars(
                sa.select(Cart.id)
                .where(
                    Cart.status == "abandoned",
                    Cart.lead_id.is_not(None),
                    Cart.abandoned_at < ctx.now() - older_than,
                    ~sa.exists().where(Offer.cart_id == Cart.id),
                )
                .limit(ORPHAN_BATCH)
            )
        )
    if orphans:
        queue.enqueue(
            ctx.redis,
            jobnames.PLAN_CART_OFFERS,
            orphans,
            job_id=jobnames.replan_id(orphans),
            queue=queue.CAMPAIGNS,
        )
    return len(orphans)


def plan_cart_offer(ctx: Context, cart_id: int) -> str:
    """Decide the offer for an abandoned cart and, if any, queue its code's creation."""
    with transaction(ctx.sessions) as session:
        cart = session.get(Cart, cart_id)
        shop = session.get(Shop, cart.shop_id) if cart is not None else None
        if cart is None or shop is None or cart.lead_id is None or cart.status != "abandoned":
            return "no_cart"  # (a cart whose shop is gone is being erased with it)
        if session.scalar(sa.select(Offer.id).where(Offer.cart_id == cart_id)) is not None:
            return "already_planned"
        settings = rules.campaign_settings_for(session, cart.shop_id)  # this decision's one read
        if cart.last_activity_at + timedelta(minutes=settings.abandonment_delay_minutes) > ctx.now():
            # The shopper came back after the sweep marked the cart (or the merchant lengthened the delay):
            # not abandoned after all. Active again, it is swept anew once idle for the delay.
            cart.status, cart.abandoned_at = "active", None
            return "active_again"
        lead = _locked_lead(session, cart.lead_id)
        assert lead is not None and cart.abandoned_at is not None
        if add_activity(session, lead, "cart_abandoned", cart.abandoned_at, f"cart:{cart_id}", None):
            score_leads(session, shop, [lead.id], ctx.now(), "cart abandoned")
        offer = _plan(ctx, session, settings, shop, lead, cart, "abandoned_cart")
    return _after_plan(ctx, offer)


def plan_hot_offer(ctx: Context, lead_id: int) -> str:
    """Decide a personal offer for a lead that became hot."""
    with transaction(ctx.sessions) as session:
        lead = _locked_lead(session, lead_id)
        shop = session.get(Shop, lead.shop_id) if lead is not None else None
        if lead is None or shop is None or lead.redacted_at is not None or lead.tier != "hot":
            return "not_hot"
        settings = rules.campaign_settings_for(session, lead.shop_id)  # this decision's one read
        offer = _plan(ctx, session, settings, shop, lead, None, "hot_lead")
    return _after_plan(ctx, offer)


def _locked_lead(session: Session, lead_id: int) -> Lead | None:
    """The lead, locked until the decision commits: a cart job and a hot-lead job for one lead decide one
    after the other, so the second sees the first's offer (frequency cap, one live code)."""
    return session.get(Lead, lead_id, with_for_update=True)


def _after_plan(ctx: Context, offer: Offer | None) -> str:
    if offer is None:
        return "skipped"
    if offer.status == "planned":
        queue.enqueue(
            ctx.redis,
            jobnames.CREATE_CODE,
            offer.id,
            job_id=jobnames.code_id(offer.id),
            queue=queue.CAMPAIGNS,
        )
    return offer.decision


def _plan(
    ctx: Context,
    session: Session,
    settings: campaigns.CampaignSettings,
    shop: Shop,
    lead: Lead,
    cart: Cart | None,
    reason: str,
) -> Offer | None:
    """Decide and record the offer (planned or suppressed); None for a hot lead the policy skipped."""
    now = ctx.now()
    inputs, decision = _decide(session, settings, shop, lead, cart, reason, now)
    if decision.action == "skip" and reason == "hot_lead":
        return None  # nothing to remember: a hot lead may qualify later
    offer = Offer(
        shop_id=lead.shop_id,
        lead_id=lead.id,
        cart_id=cart.id if cart else None,
        reason=reason,
        kind=settings.discount_kind,
        value=settings.discount_value,
        currency=cart.currency if cart else None,
        holdout=decision.holdout,
        decision=decision.reason,
        created_at=now,
        recipient=inputs.lead.email,
        status="planned" if decision.action == "offer" else "suppressed",
    )
    if decision.action == "offer":
        _give_code(session, offer, settings, inputs, decision.send_at or now)
    session.add(offer)
    session.flush()
    return offer


def _decide(
    session: Session,
    settings: campaigns.CampaignSettings,
    shop: Shop,
    lead: Lead,
    cart: Cart | None,
    reason: str,
    now: datetime,
) -> tuple[DecisionInputs, campaigns.Decision]:
    """The pure policy's decision and what it saw; an emptied cart or a disconnected store is skipped."""
    if settings.monthly_budget is not None:
        # Offers of one shop are decided side by side; with a budget they take turns on the shop row, so
        # two decisions never both spend the last of it.
        lock_shop(session, lead.shop_id)
    inputs = load_inputs(session, lead, cart, now, percentage=settings.discount_kind == "percentage")
    spent = budget_spent(session, lead.shop_id, settings, now)
    decision = campaigns.decide(
        inputs.lead, inputs.cart, inputs.offers, inputs.last_order, settings, spent, now, reason=reason
    )
    if cart is not None and not (cart.items or {}).get("lines"):
        decision = campaigns.Decision(action="skip", reason="empty_cart")  # an emptied cart is no lost sale
    if shop.disconnected_at is not None:
        # The store refuses our keys: no code could be made. A suppressed row, visible to the merchant.
        decision = campaigns.Decision(action="skip", reason="store_disconnected")
    return inputs, decision


def _give_code(
    session: Session,
    offer: Offer,
    settings: campaigns.CampaignSettings,
    inputs: DecisionInputs,
    send_at: datetime,
) -> None:
    """An offered code: when it is sent, how long it is valid, its estimated cost, and a fresh code."""
    # The code is valid for its full time from when the customer receives it (quiet hours may delay that).
    offer.send_at = send_at
    _, offer.expires_at = campaigns.offer_window(send_at, settings.code_expiry_hours)
    offer.starts_at = offer.created_at
    offer.cost = campaigns.estimate_cost(settings, inputs.cart, inputs.lead)
    offer.code = _unique_code(session, offer.shop_id, settings.code_prefix)


def _unique_code(session: Session, shop_id: int, prefix: str) -> str:
    """A fresh code not used by this shop (the unique constraint is the final word)."""
    while True:
        code = campaigns.generate_code(prefix)
        if session.scalar(sa.select(Offer.id).where(Offer.shop_id == shop_id, Offer.code == code)) is None:
            return code
