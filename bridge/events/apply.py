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
from bridge.events import locales, visitors
from bridge.infra.context import Context
from bridge.leads import carts, deferred, erasure, products
from bridge.leads.alert_events import order_follow_up
from bridge.leads.emails import normalize_email
from bridge.leads.people import apply_customer, find_lead, lead_for, set_consent
from bridge.shops import updates
from connectors import base as facts

FollowUp = Callable[[], None]
STOREFRONT_PREFIX = "collect/"  # storefront events: anyone can send them (bridge.events.collect)


@dataclass
class Applied:
    """What applying facts changed, and what to do once the transaction has committed."""

    touched_leads: set[int] = field(default_factory=set)
    follow_ups: list[FollowUp] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)  # the ids of the orders applied


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
        deferred.add_activity(
            t.session, lead, fact.kind, fact.occurred_at, fact.ref, t.event_id, t.storefront
        )
        if fact.product_id and fact.kind in PRODUCT_ACTIONS:
            seen = [products.Seen(fact.product_id, fact.variant_id)]  # a storefront's ids, never its words
            _products(t, lead.id, PRODUCT_ACTIONS[fact.kind], fact.ref, fact.occurred_at, seen)
    return lead


# The activities that name a product, and what a lead did with it (bridge.leads.products).
PRODUCT_ACTIONS = {"product_view": "viewed", "add_to_cart": "added"}


def _products(
    t: Target, lead_id: int, action: str, ref: str, at: datetime, seen: list[products.Seen]
) -> None:
    """Record a lead's products; the ones new to the shop are looked up on the store after the commit (when
    the transaction defers its writes, those are found by `deferred.flush`)."""
    new = deferred.record(t.session, t.shop, lead_id, action, ref, at, seen)
    if new and products.can_look_up(t.shop):
        redis, shop_id = t.ctx.redis, t.shop.id

        def look_up() -> None:
            products.queue_lookups(redis, shop_id, new)

        t.out.follow_ups.append(look_up)


def _cart(t: Target, fact: facts.CartSnapshot) -> Lead | None:
    lead = carts.apply_snapshot(t.session, t.shop, fact, t.now)
    locales.on_cart(t.session, t.shop.id, fact)
    seen = products.seen_lines(fact.items, fact.currency)
    if seen:  # carts/* carry no buyer: the cart's lead comes from its checkout, before or after
        cart = carts.find_cart(t.session, t.shop.id, fact.checkout_token, fact.token)
        token = cart and (cart.cart_token or cart.checkout_token)
        if cart is not None and cart.lead_id is not None and token:
            _products(t, cart.lead_id, "added", f"cart:{token}", fact.updated_at, seen)
    if lead is not None:  # the storefront visitor that used this cart or checkout is this lead
        visitors.identify_by_tokens(t.session, t.ctx, t.shop, lead, (fact.token, fact.checkout_token), t.now)
    return lead


def _order(t: Target, fact: facts.OrderPlaced) -> Lead | None:
    lead = carts.apply_order(t.session, t.ctx.redis, t.shop, fact, t.now, t.out.follow_ups)
    t.out.orders.append(fact.order_id)  # its alerts: one step per shop after the commit (`order_alerts`)
    locales.on_order(t.session, t.shop.id, fact)
    seen = products.seen_lines(fact.items, fact.currency)
    if lead is not None and seen:
        _products(t, lead.id, "bought", f"order:{fact.order_id}", fact.created_at, seen)
    if lead is not None:
        tokens = (fact.cart_token, fact.checkout_token)
        visitors.identify_by_tokens(t.session, t.ctx, t.shop, lead, tokens, t.now)
    return lead


def _visitor(t: Target, fact: facts.VisitorSeen) -> Lead | None:
    return visitors.seen(t.session, t.ctx, t.shop, t.event_id, t.now, not t.storefront, fact)


def _cancellation(t: Target, fact: facts.OrderCancelled) -> None:
    carts.cancel_order(t.session, t.shop, fact)


def _shop_update(t: Target, fact: facts.ShopUpdated) -> None:
    updates.apply_shop_update(t.session, t.shop, fact)


def _scopes(t: Target, fact: facts.ScopesGranted) -> None:
    updates.record_scopes(t.session, t.shop, fact)


def _privacy(
    t: Target, fact: facts.CustomerRedact | facts.DataRequest | facts.ShopRedact | facts.AppUninstalled
) -> None:
    write_deferred(t.session, t.ctx, {t.shop.id: t.shop}, t.out.follow_ups)  # the erasure reads them
    step = erasure.apply(t.session, t.ctx, t.shop, fact, t.now)
    if step is not None:
        t.out.follow_ups.append(step)


def order_alerts(ctx: Context, shop_id: int, order_ids: Sequence[str]) -> list[FollowUp]:
    """The after-commit step that tells the alerts of some orders of a shop (none without orders)."""
    return [order_follow_up(ctx, shop_id, order_ids)] if order_ids else []


def write_deferred(
    session: Session, ctx: Context, shops: dict[int, Shop], follow_ups: list[FollowUp]
) -> None:
    """Write the activities and product occurrences the transaction deferred (before anything reads them);
    the new products' lookups join the steps after the commit."""
    follow_ups += deferred.lookups(ctx.redis, shops, deferred.flush(session))


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
    facts.VisitorSeen: _visitor,
    **dict.fromkeys(erasure.PRIVACY_FACTS, _privacy),  # redactions, data requests, uninstalls: leads.erasure
}
