"""A step's message as its journey and the customer's locale render it, and the link that brings the
shopper back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
from bridge.db.models import Cart, Lead, Offer, Shop
from bridge.infra.context import Context
from bridge.leads import products, rules
from bridge.outreach import tracking
from campaigns.journeys import with_variant

# Before journeys, an offer had no step: it reads as the default cart journey's code step.
LEGACY_STEP = ("cart", -1)


def step_messages(session: Session, offer: Offer) -> tuple[str, dict[str, campaigns.StepMessage]]:
    """The trigger of the offer's journey and its step's messages per locale (the journey as it is now:
    edits reach waiting steps), as the offer's A/B variant has them (the step's own once the variant is
    gone, e.g. promoted)."""
    key, index = (offer.journey_key, offer.step) if offer.journey_key else LEGACY_STEP
    journeys = rules.journeys_for(session, offer.shop_id)
    journey = next((j for j in journeys if j.key == key), None)
    if journey is None or index is None or index >= len(journey.steps):
        shipped = campaigns.load_journeys(campaigns.default_journeys())
        journey = next(j for j in shipped if j.key == LEGACY_STEP[0])
        index = LEGACY_STEP[1]
    return journey.trigger, dict(with_variant(journey.steps[index], offer.variant).messages)


def pick_locale(
    messages: dict[str, Any], lead: Lead, cart: Cart | None, shop: Shop, fallback: str
) -> tuple[str, str]:
    """(the message's tag, the locale to write it in): the customer's locale, else the shop's primary
    locale, else the merchant's setting, else the first locale the step has. A customer whose language
    the message speaks keeps their region for dates and money ("fr-CA" reading the "fr" message)."""
    customer = (cart.locale if cart else None) or lead.locale
    shop_locale = (shop.state or {}).get("primary_locale")
    tag = campaigns.choose_locale(messages, customer, shop_locale, fallback) or next(iter(messages))
    wanted = campaigns.normalize_locale(customer)
    if wanted is not None and wanted.split("-")[0] == tag.split("-")[0]:
        return tag, wanted
    return tag, tag


def _items(session: Session, cart: Cart | None) -> tuple[campaigns.MessageItem, ...]:
    """The cart's lines; a line without a picture takes the product store's (bridge.leads.products)."""
    lines = (cart.items or {}).get("lines", []) if cart else []
    known = (
        products.products_by_id(session, cart.shop_id, (str(ln.get("product_id") or "") for ln in lines))
        if cart
        else {}
    )
    items = []
    for line in lines:
        product = known.get(str(line.get("product_id") or ""))
        items.append(
            campaigns.MessageItem(
                title=str(line.get("title") or ""),
                quantity=int(line.get("quantity") or 1),
                price=Decimal(str(line.get("price") or 0)),
                variant=line.get("variant_title") or line.get("variant") or None,
                image_url=line.get("image_url")
                or line.get("image")
                or (product.image_url if product else None),
                url=product.url if product else None,
            )
        )
    return tuple(items)


VIEWED_SHOWN = 6  # products viewed offered to a browse block (it shows fewer)


def viewed_items(
    session: Session, lead: Lead, currency: str | None, shop_currency: str | None
) -> tuple[campaigns.MessageItem, ...]:
    """What the lead viewed, the latest first, for the messages' browse blocks: products with a title and
    a price in the message's currency (a price in another currency, or none, cannot be shown)."""
    items = []
    for view in products.lead_products(session, lead.id, actions=("viewed",), limit=VIEWED_SHOWN * 3):
        if not view.title or view.price is None or (view.currency or shop_currency) != currency:
            continue
        items.append(
            campaigns.MessageItem(
                title=view.title, quantity=1, price=view.price, image_url=view.image_url, url=view.url
            )
        )
    return tuple(items[:VIEWED_SHOWN])


def live_code(session: Session, offer: Offer, now: datetime) -> Offer | None:
    """A code step that could not mint a code recalls the customer's live code from another run."""
    if offer.code is not None or offer.lead_id is None or offer.decision != "live_code_exists":
        return None
    return session.scalar(
        sa.select(Offer)
        .where(
            Offer.lead_id == offer.lead_id,
            Offer.code.is_not(None),
            Offer.holdout.is_(False),
            Offer.status.in_(campaigns.LIVE_STATUSES),
            Offer.expires_at > now,
        )
        .order_by(Offer.expires_at.desc())
        .limit(1)
    )


def render(
    ctx: Context, session: Session, offer: Offer, settings: campaigns.CampaignSettings
) -> campaigns.RenderedMessage:
    """The step's message in the customer's locale (the same every time: tokens carry no time).

    `settings` are the shop's live campaign settings, read once by the job that renders.
    """
    shop, lead = session.get(Shop, offer.shop_id), session.get(Lead, offer.lead_id)
    cart = session.get(Cart, offer.cart_id) if offer.cart_id else None
    assert shop is not None and lead is not None
    trigger, messages = step_messages(session, offer)
    tag, locale = pick_locale(messages, lead, cart, shop, settings.locale)
    offer.locale = tag
    coded = live_code(session, offer, ctx.now()) or offer
    currency = coded.currency or offer.currency or shop.currency
    recovery = recovery_url(shop, cart, coded.code)
    name = settings.sender_name or shop.name or shop.domain
    context = campaigns.MessageContext(
        merchant_name=name,
        first_name=lead.first_name,
        items=_items(session, cart),
        currency=currency,
        code=coded.code,
        discount=(campaigns.format_discount(coded.kind, coded.value, currency) if coded.code else None),
        expires_at=coded.expires_at if coded.code else None,
        # The live settings always carry a zone (the shop's when the merchant set none): the same fallback.
        timezone=settings.timezone or campaigns.zone_or_utc(shop.timezone).key,
        recovery_url=recovery,
        unsubscribe_url=tracking.unsubscribe_url(ctx, offer),
        open_pixel_url=tracking.open_url(ctx, offer),
        tracked_recovery_url=tracking.click_url(ctx, offer, recovery),
        locale=locale,
        brand=campaigns.Brand(name=name, logo_url=settings.logo_url, color=settings.brand_color),
        trigger=trigger,
        minimum_order=coded.minimum_order if coded.code else None,
        viewed=viewed_items(session, lead, currency, shop.currency),
    )
    return campaigns.render_step_message(messages[tag], context)


def recovery_url(shop: Shop, cart: Cart | None, code: str | None) -> str:
    """The link that brings the shopper back, with the code applied when there is one."""
    if shop.platform == "shopify":
        base = f"https://{shop.domain}"
        target = "/cart"
        if cart is not None and cart.recovery_url:
            parts = urlsplit(cart.recovery_url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        if code is None:
            return f"{base}{target}"
        return f"{base}/discount/{quote(code)}?redirect={quote(target, safe='')}"
    if cart is not None and cart.recovery_url:
        if code is None:
            return cart.recovery_url
        sep = "&" if "?" in cart.recovery_url else "?"
        return f"{cart.recovery_url}{sep}coupon={quote(code.lower())}"
    if code is None:
        return f"{shop.domain.rstrip('/')}/cart/"
    return f"{shop.domain.rstrip('/')}/cart/?coupon={quote(code.lower())}"
