"""Applying facts to the database, idempotently: replays add nothing, older facts never win.

Each kind of fact has one small handler in `HANDLERS`, looked up by the fact's type (as Saleor's and
Sentry's ingest dispatch inbound events); a fact no handler takes fails its event with a PayloadError.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bridge.db.models import Event, Lead, Shop
from bridge.events import locales
from bridge.infra.context import Context
from bridge.leads import carts, erasure
from bridge.leads.alert_events import order_follow_up
from bridge.leads.emails import normalize_email
from bridge.leads.people import add_activity, apply_customer, find_lead, lead_for, set_consent
from bridge.shops import updates
from connectors import base as facts

FollowUp = Callable[[], None]
STOREFRONT_PREFIX = "collect/"  # storefront events: anyone can send them (bridge.events.collect)


@dataclass
class Applied:
    """What applying facts changed, and what to do once the transaction has committed."""

    touched_leads: set[int] = field(default_factory=set)
    follow_ups: list[FollowUp] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """Where the facts of one event land: its transaction, shop and event, and what they changed so far."""

    session: Session
    ctx: Context
    shop: Shop
    event_id: int | None
    now: datetime
    out: Applied
    storefront: bool  # anyone can send a storefront event: it names known leads only


def apply_facts(
    session: Session, ctx: Context, shop: Shop, event: Event | None, items: Sequence[facts.Fact]
) -> Applied:
    """Apply every fact of one event inside the caller's transaction."""
    out = Applied()
    now = ctx.now()
    event_id = event.id if event is not None else None
    storefront = event is not None and event.topic.startswith(STOREFRONT_PREFIX)
    target = Target(session, ctx, shop, event_id, now, out, storefront)
    for fact in items:
        lead = apply_fact(target, fact)
        if lead is not None and lead.redacted_at is None:
            out.touched_leads.add(lead.id)
    withheld = sum(1 for fact in items if isinstance(fact, facts.CustomerSeen) and fact.redacted)
    if withheld:
        updates.count_redacted(session, shop, event.topic if event else "api", withheld, now)
    return out


def apply_fact(target: Target, fact: object) -> Lead | None:
    """Apply one fact by the handler of its type; the lead it concerns, if any."""
    handler = HANDLERS.get(type(fact))
    if handler is None:
        raise facts.PayloadError(f"no handler for fact {type(fact).__name__}")
    return handler(target, fact)


def _customer(t: Target, fact: facts.CustomerSeen) -> Lead | None:
    lead = apply_customer(t.session, t.shop, fact, t.now)
    locales.on_lead(lead, fact)
    return lead


def _consent(t: Target, fact: facts.ConsentChanged) -> Lead | None:
    lead = lead_for(t.session, t.shop, fact.external_id, fact.email, t.now)
    if lead is not None:
        set_consent(lead, fact.accepts_marketing, fact.occurred_at or t.now)
    return lead


def _activity(t: Target, fact: facts.Activity) -> Lead | None:
    if t.storefront:  # an email typed into a storefront is nobody's proof: it names known leads only
        email = normalize_email(fact.email)
        lead = find_lead(t.session, t.shop.id, fact.external_id, email) if email or fact.external_id else None
    else:
        lead = lead_for(t.session, t.shop, fact.external_id, fact.email, t.now)
    if lead is not None:
        add_activity(t.session, lead, fact.kind, fact.occurred_at, fact.ref, t.event_id, t.storefront)
    return lead


def _cart(t: Target, fact: facts.CartSnapshot) -> Lead | None:
    lead = carts.apply_snapshot(t.session, t.shop, fact, t.now)
    locales.on_cart(t.session, t.shop.id, fact)
    return lead


def _order(t: Target, fact: facts.OrderPlaced) -> Lead | None:
    lead = carts.apply_order(t.session, t.ctx.redis, t.shop, fact, t.now, t.out.follow_ups)
    t.out.follow_ups.append(order_follow_up(t.ctx, t.shop.id, fact.order_id))
    locales.on_order(t.session, t.shop.id, fact)
    return lead


def _cancellation(t: Target, fact: facts.OrderCancelled) -> None:
    carts.cancel_order(t.session, t.shop, fact)


def _shop_update(t: Target, fact: facts.ShopUpdated) -> None:
    updates.apply_shop_update(t.session, t.shop, fact)


def _scopes(t: Target, fact: facts.ScopesGranted) -> None:
    updates.record_scopes(t.session, t.shop, fact)


def _privacy(
    t: Target, fact: facts.CustomerRedact | facts.DataRequest | facts.ShopRedact | facts.AppUninstalled
) -> None:
    step = erasure.apply(t.session, t.ctx, t.shop, fact, t.now)
    if step is not None:
        t.out.follow_ups.append(step)


# Any: each handler takes its own key's type, which a dict's type cannot say.
Handler = Callable[[Target, Any], Lead | None]
HANDLERS: dict[type[object], Handler] = {
    facts.CustomerSeen: _customer,
    facts.ConsentChanged: _consent,
    facts.Activity: _activity,
    facts.CartSnapshot: _cart,
    facts.OrderPlaced: _order,
    facts.OrderCancelled: _cancellation,
    facts.ShopUpdated: _shop_update,
    facts.ScopesGranted: _scopes,
    **dict.fromkeys(erasure.PRIVACY_FACTS, _privacy),  # redactions, data requests, uninstalls: leads.erasure
}
