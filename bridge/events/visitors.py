"""Storefront visitors: anonymous history kept, then joined to the lead a store-signed event names.

A browser is known by its client id (the Shopify web pixel's; the companion plugin's session as
"wp:<session key>"). Its events are kept with the cart and checkout tokens it used. It is identified when:
- a signed plugin event of the same session names the shopper (an e-mail or a customer id), or
- a signed store event (a cart, a checkout, an order: a `CartSnapshot` or `OrderPlaced`) carries one of its
  tokens and names the shopper, before or after the storefront event with that token.
Then the visitor's stored events are read again by their own adapter with the lead's identity in place of
none, and their activities land on the lead (storefront ones still flagged `storefront`, so the engine's
caps apply); its later events score for the lead too. Replays add nothing twice (activities are unique by
lead, kind and ref). A storefront event's e-mail never identifies anyone: "identified" means signed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.db.models import Cart, Event, Lead, Order, Shop, Visitor, VisitorEvent, VisitorToken
from bridge.events.payloads import adapter_for
from bridge.infra.context import Context
from bridge.leads import preload, products
from bridge.leads.people import add_activity, lead_for
from connectors.base import Activity, PayloadError, VisitorSeen

log = logging.getLogger(__name__)

STOREFRONT_PREFIX = "collect/"
MAX_EVENTS = 500  # a visitor's events kept for its replay; a robot's endless browsing stops counting there
PLACEHOLDER_EMAIL = "visitor@relance.invalid"
# What a replayed storefront activity did with its product (as bridge.events.apply records it; the products
# new to the shop are described by the hourly lookup sweep).
PRODUCT_ACTIONS = {
    "product_view": "viewed",
    "add_to_cart": "added",
}  # lets an adapter read an event of a lead without an e-mail


def seen(
    session: Session,
    ctx: Context,
    shop: Shop,
    event_id: int | None,
    now: datetime,
    trusted: bool,
    fact: VisitorSeen,
) -> Lead | None:
    """Record a sighting; the lead the visitor belongs to when it is (or now becomes) identified."""
    visitor = _visitor(session, shop.id, fact.client_id, fact.occurred_at)
    _keep_tokens(session, shop.id, visitor.id, fact.tokens)
    if event_id is not None:
        _keep_event(session, visitor.id, event_id)
    if visitor.lead_id is not None:
        lead = session.get(Lead, visitor.lead_id)
        named = fact.email or fact.external_id  # its own facts go to whom it names, not to the browser's lead
        if lead is not None and event_id is not None and not named:
            replay(session, ctx, shop, lead, [event_id])
        return lead
    lead = None
    if trusted and (fact.email or fact.external_id):
        lead = lead_for(session, shop, fact.external_id, fact.email, now)
    if lead is None:
        lead = _lead_of_tokens(session, shop.id, fact.tokens)
    if lead is None or lead.redacted_at is not None:
        return None
    identify(session, ctx, shop, visitor, lead, now)
    return lead


def identify_by_tokens(
    session: Session, ctx: Context, shop: Shop, lead: Lead, tokens: Iterable[str | None], now: datetime
) -> int:
    """A signed cart, checkout or order of `lead` carried these tokens: join the visitors that used them;
    how many were joined."""
    wanted = sorted({token for token in tokens if token})
    if not wanted or lead.redacted_at is not None:
        return 0
    batch = preload.tokens(session, shop.id)
    if batch is not None and batch.issuperset(wanted):  # a batch asks once which of its tokens have visitors
        used = preload.once(session, ("visitor tokens", shop.id), lambda: _used(session, shop.id, batch))
        if used.isdisjoint(wanted):
            return 0
    visitors = session.scalars(
        sa.select(Visitor)
        .join(VisitorToken, VisitorToken.visitor_id == Visitor.id)
        .where(VisitorToken.shop_id == shop.id, VisitorToken.token.in_(wanted), Visitor.lead_id.is_(None))
        .order_by(Visitor.id)
    ).all()
    for visitor in visitors:
        identify(session, ctx, shop, visitor, lead, now)
    return len(visitors)


def _used(session: Session, shop_id: int, tokens: set[str]) -> set[str]:
    """Which of these tokens a storefront visitor used."""
    return set(
        session.scalars(
            sa.select(VisitorToken.token).where(
                VisitorToken.shop_id == shop_id, VisitorToken.token.in_(sorted(tokens))
            )
        )
    )


def identify(session: Session, ctx: Context, shop: Shop, visitor: Visitor, lead: Lead, now: datetime) -> None:
    """Join a visitor to its lead and give the lead the visitor's history."""
    visitor.lead_id, visitor.identified_at = lead.id, now
    session.flush()
    event_ids = session.scalars(
        sa.select(VisitorEvent.event_id)
        .where(VisitorEvent.visitor_id == visitor.id)
        .order_by(VisitorEvent.event_id)
    ).all()
    replay(session, ctx, shop, lead, list(event_ids))


def replay(session: Session, ctx: Context, shop: Shop, lead: Lead, event_ids: list[int]) -> int:
    """Read stored events again as the lead's, and add their activities to it; how many were new."""
    added = 0
    for event in session.scalars(sa.select(Event).where(Event.id.in_(event_ids), Event.shop_id == shop.id)):
        payload = json.loads(event.payload, parse_float=Decimal)
        if not isinstance(payload, dict):
            continue
        payload["email"] = lead.email or PLACEHOLDER_EMAIL
        if lead.external_id:
            payload["customer_id"] = lead.external_id
        try:
            facts = adapter_for(ctx, shop.platform, event.topic).normalize(event.topic, payload)
        except PayloadError:  # an event its adapter cannot read any more adds nothing (kept as it came)
            log.info("visitor event %s unreadable on replay; skipped", event.id)
            continue
        storefront = event.topic.startswith(STOREFRONT_PREFIX)
        for fact in facts:
            if isinstance(fact, Activity):
                added += add_activity(
                    session, lead, fact.kind, fact.occurred_at, fact.ref, event.id, storefront
                )
                if fact.product_id and fact.kind in PRODUCT_ACTIONS:  # the joined views are its products too
                    seen = [products.Seen(fact.product_id, fact.variant_id)]
                    products.record(
                        session,
                        shop.id,
                        lead.id,
                        PRODUCT_ACTIONS[fact.kind],
                        fact.ref,
                        fact.occurred_at,
                        seen,
                    )
    return added


def _visitor(session: Session, shop_id: int, client_id: str, at: datetime) -> Visitor:
    visitor = session.scalar(
        sa.select(Visitor).where(Visitor.shop_id == shop_id, Visitor.client_id == client_id)
    )
    if visitor is None:
        visitor = Visitor(shop_id=shop_id, client_id=client_id, first_seen_at=at, last_seen_at=at)
        session.add(visitor)
        session.flush()  # a race with another worker fails here, and the pipeline applies the event again
    elif at > visitor.last_seen_at:
        visitor.last_seen_at = at
    return visitor


def _insert(
    session: Session, model: type[VisitorToken] | type[VisitorEvent], rows: list[dict[str, object]]
) -> None:
    if not rows:
        return
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    session.execute(dialect.insert(model).values(rows).on_conflict_do_nothing())


def _keep_tokens(session: Session, shop_id: int, visitor_id: int, tokens: Iterable[str]) -> None:
    rows = [
        {"shop_id": shop_id, "visitor_id": visitor_id, "token": t[:255]} for t in sorted(set(tokens)) if t
    ]
    _insert(session, VisitorToken, rows)


def _keep_event(session: Session, visitor_id: int, event_id: int) -> None:
    held = session.scalar(
        sa.select(sa.func.count()).select_from(VisitorEvent).where(VisitorEvent.visitor_id == visitor_id)
    )
    if (held or 0) < MAX_EVENTS:
        _insert(session, VisitorEvent, [{"visitor_id": visitor_id, "event_id": event_id}])


def _lead_of_tokens(session: Session, shop_id: int, tokens: tuple[str, ...]) -> Lead | None:
    """The lead a signed cart or order with one of these tokens named (carts and orders are only made
    from store-signed events)."""
    if not tokens:
        return None
    for model in (Cart, Order):
        lead_id = session.scalar(
            sa.select(model.lead_id)
            .where(
                model.shop_id == shop_id,
                model.lead_id.is_not(None),
                sa.or_(model.cart_token.in_(tokens), model.checkout_token.in_(tokens)),
            )
            .limit(1)
        )
        if lead_id is not None:
            return session.get(Lead, lead_id)
    return None
