"""The shopper's locale on leads and carts, from the facts that carry one: normalised to a BCP 47 tag, the
newer fact winning, an unknown locale never erasing a known one, an older fact only filling in a gap."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bridge.db.models import Cart, Lead
from bridge.leads import carts
from campaigns.locales import normalize_locale
from connectors import base as facts


def _newest(fact_time: datetime | None, stored: datetime | None) -> bool:
    """The fact is at least as new as what the row holds (a fact without a time counts as new)."""
    return fact_time is None or stored is None or fact_time >= stored


def on_lead(lead: Lead | None, fact: facts.CustomerSeen) -> None:
    """After the profile was applied: the fact's locale when it is the newest profile (its time is the
    lead's profile time) or the lead has none."""
    locale = normalize_locale(fact.locale)
    if lead is None or locale is None or lead.redacted_at is not None:
        return
    if lead.locale is None or _newest(fact.updated_at, lead.profile_updated_at):
        lead.locale = locale


def on_cart(session: Session, shop_id: int, snap: facts.CartSnapshot) -> None:
    """After the snapshot was applied: its locale when it is the cart's newest state, or the cart has none."""
    locale = normalize_locale(snap.locale)
    if locale is None:
        return
    cart = carts.find_cart(session, shop_id, snap.checkout_token, snap.token)
    if cart is not None and (cart.locale is None or _newest(snap.updated_at, cart.last_activity_at)):
        cart.locale = locale


def on_order(session: Session, shop_id: int, order: facts.OrderPlaced) -> None:
    """The order's locale on its cart, unless the cart holds a newer one."""
    locale = normalize_locale(order.locale)
    if locale is None:
        return
    cart: Cart | None = carts.find_cart(session, shop_id, order.checkout_token, order.cart_token)
    if cart is not None and (cart.locale is None or _newest(order.created_at, cart.last_activity_at)):
        cart.locale = locale
