"""Applying facts to the database, idempotently: replays add nothing, older facts never win."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bridge.db.models import Event, Lead, Shop
from bridge.infra.context import Context
from bridge.leads import carts
from bridge.leads import erasure as privacy
from bridge.leads.people import (
    add_activity,
    apply_customer,
    find_lead,
    lead_for,
    normalize_email,
    set_consent,
)
from bridge.shops import updates as shop_updates
from connectors import base as facts

FollowUp = Callable[[], None]
STOREFRONT_PREFIX = "collect/"  # storefront events: anyone can send them (bridge.events.collect)


@dataclass
class Applied:
    """What applying facts changed, and what to do once the transaction has committed."""

    touched_leads: set[int] = field(default_factory=set)
    follow_ups: list[FollowUp] = field(default_factory=list)


def apply_facts(session: Session, ctx: Context, shop: Shop, event: Event | None, items: list[Any]) -> Applied:
    """Apply every fact of one event inside the caller's transaction."""
    out = Applied()
    now = ctx.now()
    event_id = event.id if event is not None else None
    storefront = event is not None and event.topic.startswith(STOREFRONT_PREFIX)
    for fact in items:
        lead = _apply_one(session, ctx, shop, fact, event_id, now, out, storefront)
        if lead is not None and lead.redacted_at is None:
            out.touched_leads.add(lead.id)
    withheld = sum(1 for fact in items if isinstance(fact, facts.CustomerSeen) and fact.redacted)
    if withheld:
        shop_updates.count_redacted(session, shop, event.topic if event else "api", withheld, now)
    return out


def _apply_one(
    session: Session,
    ctx: Context,
    shop: Shop,
    fact: Any,
    event_id: int | None,
    now: datetime,
    out: Applied,
    storefront: bool = False,
) -> Lead | None:
    if isinstance(fact, facts.CustomerSeen):
        return apply_customer(session, shop, fact, now)
    if isinstance(fact, facts.ConsentChanged):
        lead = lead_for(session, shop, fact.external_id, fact.email, now)
        if lead is not None:
            set_consent(lead, fact.accepts_marketing, fact.occurred_at or now)
        return lead
    if isinstance(fact, facts.Activity):
        if storefront:  # an email typed into a storefront is nobody's proof: it names known leads only
            email = normalize_email(fact.email)
            lead = find_lead(session, shop.id, fact.external_id, email) if email or fact.external_id else None
        else:
            lead = lead_for(session, shop, fact.external_id, fact.email, now)
        if lead is not None:
            add_activity(session, lead, fact.kind, fact.occurred_at, fact.ref, event_id, storefront)
        return lead
    if isinstance(fact, facts.CartSnapshot):
        return carts.apply_snapshot(session, shop, fact, now)
    if isinstance(fact, facts.OrderPlaced):
        return carts.apply_order(session, ctx.redis, shop, fact, now, out.follow_ups)
    if isinstance(fact, facts.OrderCancelled):
        carts.cancel_order(session, shop, fact)
        return None
    if isinstance(fact, facts.ShopUpdated):
        shop_updates.apply_shop_update(session, shop, fact)
        return None
    if isinstance(fact, facts.ScopesGranted):
        shop_updates.record_scopes(session, shop, fact)
        return None
    step = privacy.apply(session, ctx, shop, fact, now)
    if step is not None:
        out.follow_ups.append(step)
    return None
