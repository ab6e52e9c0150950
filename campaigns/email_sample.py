"""A sample customer and cart, in each language we write, for the admin's live preview of an email."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from campaigns.formatting import format_discount
from campaigns.locales import language_of, normalize_locale
from campaigns.messages import Brand, MessageContext, MessageItem

SAMPLE_NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
# First name, then (title, variant) of two products: plausible for a small shop in that language.
_PEOPLE = {
    "fr": ("Camille", ("Chemise en lin", "Taille M · Bleu ciel"), ("Sac cabas en toile", "Naturel")),
    "en": ("Alex", ("Linen shirt", "Size M · Sky blue"), ("Canvas tote bag", "Natural")),
    "de": ("Lena", ("Leinenhemd", "Größe M · Himmelblau"), ("Canvas-Tragetasche", "Natur")),
    "es": ("Lucía", ("Camisa de lino", "Talla M · Azul cielo"), ("Bolso de lona", "Natural")),
    "it": ("Giulia", ("Camicia di lino", "Taglia M · Azzurro"), ("Borsa in tela", "Naturale")),
    "nl": ("Sanne", ("Linnen overhemd", "Maat M · Hemelsblauw"), ("Canvas draagtas", "Naturel")),
}


def sample_items(locale: str, image_base: str | None = None) -> tuple[MessageItem, ...]:
    """Two sample products in the locale's language (with images under `image_base` when given)."""
    _, first, second = _PEOPLE.get(language_of(normalize_locale(locale) or "en"), _PEOPLE["en"])
    return (
        MessageItem(
            first[0], 1, Decimal("49.00"), first[1], f"{image_base}/shirt.png" if image_base else None
        ),
        MessageItem(
            second[0], 2, Decimal("18.50"), second[1], f"{image_base}/tote.png" if image_base else None
        ),
    )


def sample_context(
    locale: str,
    trigger: str,
    with_code: bool,
    *,
    merchant_name: str = "Atelier Lune",
    currency: str = "EUR",
    timezone: str = "Europe/Paris",
    now: datetime = SAMPLE_NOW,
    brand: Brand | None = None,
    shop_url: str = "https://shop.example",
    public_url: str = "https://relance.example",
    image_base: str | None = None,
) -> MessageContext:
    """A realistic message context for a preview: a cart (or the products viewed, for a browse or hot lead
    journey; nothing for a welcome), with a 10 % code valid two days when `with_code`."""
    tag = normalize_locale(locale) or "en"
    first_name = _PEOPLE.get(language_of(tag), _PEOPLE["en"])[0]
    products = sample_items(tag, image_base)
    browsing = trigger in ("browse_abandoned", "tier_entered")
    return MessageContext(
        merchant_name=merchant_name,
        first_name=first_name,
        items=products if trigger == "cart_abandoned" else (),
        currency=currency,
        code="RL7KQ2M9XW4P" if with_code else None,
        discount=format_discount("percentage", Decimal(10), currency, locale=tag) if with_code else None,
        expires_at=now + timedelta(hours=48) if with_code else None,
        timezone=timezone,
        recovery_url=f"{shop_url}/cart" if trigger == "cart_abandoned" else shop_url,
        unsubscribe_url=f"{public_url}/u/example",
        open_pixel_url=f"{public_url}/t/o/example.gif",
        locale=tag,
        brand=brand,
        viewed=products if browsing else (),
        trigger=trigger,
    )
