"""An offer's message as its shop's template renders it, and the link that brings the shopper back."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session

import campaigns
from bridge.db.models import Cart, Lead, Offer, Shop
from bridge.infra.context import Context
from bridge.outreach import tracking


def render(
    ctx: Context, session: Session, offer: Offer, settings: campaigns.CampaignSettings
) -> campaigns.RenderedMessage:
    """The offer's message as its shop's template renders it (the same every time: tokens carry no time).

    `settings` are the shop's live campaign settings, read once by the job that renders.
    """
    shop, lead = session.get(Shop, offer.shop_id), session.get(Lead, offer.lead_id)
    cart = session.get(Cart, offer.cart_id) if offer.cart_id else None
    assert shop is not None and lead is not None and offer.code and offer.expires_at
    lines = (cart.items or {}).get("lines", []) if cart else []
    items = tuple(campaigns.MessageItem(i["title"], int(i["quantity"]), Decimal(i["price"])) for i in lines)
    recovery = recovery_url(shop, cart, offer.code)
    context = campaigns.MessageContext(
        merchant_name=settings.sender_name or shop.name or shop.domain,
        first_name=lead.first_name,
        items=items,
        currency=offer.currency or shop.currency,
        code=offer.code,
        discount=campaigns.format_discount(offer.kind, offer.value, offer.currency or shop.currency),
        expires_at=offer.expires_at,
        # The live settings always carry a zone (the shop's when the merchant set none): the same fallback.
        timezone=settings.timezone or campaigns.zone_or_utc(shop.timezone).key,
        recovery_url=recovery,
        unsubscribe_url=tracking.unsubscribe_url(ctx, offer),
        open_pixel_url=tracking.open_url(ctx, offer),
        tracked_recovery_url=tracking.click_url(ctx, offer, recovery),
    )
    return campaigns.render_offer_message(settings, context)


def recovery_url(shop: Shop, cart: Cart | None, code: str) -> str:
    """The link that brings the shopper back with the code applied."""
    if shop.platform == "shopify":
        base = f"https://{shop.domain}"
        target = "/cart"
        if cart is not None and cart.recovery_url:
            parts = urlsplit(cart.recovery_url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        return f"{base}/discount/{quote(code)}?redirect={quote(target, safe='')}"
    if cart is not None and cart.recovery_url:
        sep = "&" if "?" in cart.recovery_url else "?"
        return f"{cart.recovery_url}{sep}coupon={quote(code.lower())}"
    return f"{shop.domain.rstrip('/')}/cart/?coupon={quote(code.lower())}"
