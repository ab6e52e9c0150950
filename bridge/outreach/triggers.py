"""The triggers that start journey runs: a cart marked abandoned, a lead entering a higher tier, a sign-up,
and a browse that added nothing (the last two found by the journeys' sweep, see journey_sweep)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import Cart, JourneyRun, Lead, Offer, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import prospects
from bridge.leads.people import add_activity
from bridge.leads.rules import campaign_settings_for
from bridge.leads.scores import score_leads
from bridge.outreach import runs

log = logging.getLogger(__name__)
ORPHAN_BATCH = 2000  # abandoned carts without a run queued again per repair


def start_cart_runs(ctx: Context, cart_ids: list[int]) -> int:
    """Start the journey of each cart of a batch (runs.each: a failure holds up no other cart)."""
    return runs.each(cart_ids, lambda cart_id: start_cart_run(ctx, cart_id), "journey start of cart")


def start_cart_run(ctx: Context, cart_id: int) -> str:
    """An abandoned cart enters the first journey that admits its lead (scored with the abandonment)."""
    with transaction(ctx.sessions) as session:
        cart = session.get(Cart, cart_id)
        shop = session.get(Shop, cart.shop_id) if cart is not None else None
        if cart is None or shop is None or cart.lead_id is None or cart.status != "abandoned":
            return "no_cart"
        if runs.existing(session, shop.id, runs.instance_of("cart_abandoned", cart.lead_id, cart.id)):
            return "already_started"
        delay = campaign_settings_for(session, shop.id).abandonment_delay_minutes
        if cart.last_activity_at + timedelta(minutes=delay) > ctx.now():
            # The shopper came back after the sweep marked the cart (or the merchant lengthened the delay):
            # not abandoned after all. Active again, it is swept anew once idle for the delay.
            cart.status, cart.abandoned_at = "active", None
            return "active_again"
        lead = session.get(Lead, cart.lead_id, with_for_update=True)
        assert lead is not None and cart.abandoned_at is not None
        if add_activity(session, lead, "cart_abandoned", cart.abandoned_at, f"cart:{cart_id}", None):
            score_leads(session, shop, [lead.id], ctx.now(), "cart abandoned")
        run = runs.start(
            session,
            shop,
            lead,
            "cart_abandoned",
            cart.abandoned_at,
            ctx.now(),
            cart_id=cart.id,
            record_miss=True,
        )
        if run is not None and run.status == "active" and not (cart.items or {}).get("lines"):
            runs.end(run, "empty_cart", ctx.now())  # an emptied cart is no lost sale
        return "started" if run is not None and run.status == "active" else "not_started"


def restart_orphans(ctx: Context, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue the journey start again for abandoned carts that have no run (Redis was down at the sweep).
    Carts abandoned before journeys existed have their offer already: they are left alone."""
    with ctx.sessions() as session:
        orphans = list(
            session.scalars(
                sa.select(Cart.id)
                .where(
                    Cart.status == "abandoned",
                    Cart.lead_id.is_not(None),
                    Cart.abandoned_at < ctx.now() - older_than,
                    ~sa.exists().where(JourneyRun.cart_id == Cart.id),
                    ~sa.exists().where(Offer.cart_id == Cart.id),
                )
                .limit(ORPHAN_BATCH)
            )
        )
    if orphans:
        queue.enqueue(
            ctx.redis,
            jobnames.START_CART_RUNS,
            orphans,
            job_id=jobnames.replan_id(orphans),
            queue=queue.CAMPAIGNS,
        )
    return len(orphans)


def enter_tier(ctx: Context, lead_id: int, tier: str = "hot") -> str:
    """A lead that moved up into `tier` enters the journey of that tier (once per lead and tier), and the
    prospects queue when the tier reaches the queue's entry tier (once while open)."""
    with transaction(ctx.sessions) as session:
        lead = session.get(Lead, lead_id, with_for_update=True)
        shop = session.get(Shop, lead.shop_id) if lead is not None else None
        if lead is None or shop is None or lead.redacted_at is not None or lead.tier != tier:
            return "not_in_tier"
        prospects.enter(session, shop, lead, tier, ctx.now())
        run = runs.start(session, shop, lead, "tier_entered", ctx.now(), ctx.now(), detail=tier)
        return "started" if run is not None else "not_started"


def start_lead_run(
    session: Session, shop: Shop, lead: Lead, trigger: str, at: datetime, now: datetime, detail: str = ""
) -> bool:
    """A sign-up or a browse found by the sweep starts its journey; False when there was nothing to start."""
    if lead.redacted_at is not None or not lead.email:
        return False
    return runs.start(session, shop, lead, trigger, at, now, detail=detail) is not None
