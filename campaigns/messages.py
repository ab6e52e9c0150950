"""Journey step messages: the merchant's words rendered in the designed email, as subject, text and HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from campaigns.email_layout import (
    RTL_LANGUAGES,
    ProductRow,
    linkify,
    render_html,
    safe_color,
    safe_image,
    text_color_on,
)
from campaigns.email_strings import LayoutStrings, strings_for
from campaigns.formatting import format_expiry, format_money
from campaigns.locales import language_of, normalize_locale
from campaigns.templating import TemplateProblem, render_template

if TYPE_CHECKING:
    from campaigns.journeys import StepMessage

__all__ = [
    "Brand",
    "MessageContext",
    "MessageItem",
    "RenderedMessage",
    "linkify",
    "render_step_message",
    "template_variables",
]
PREHEADER_CHARS = 120
MAX_PRODUCTS = 8  # a longer cart is summed up in one line: the email stays short (Gmail clips past 102 KB)
_BREAKS = re.compile(r"[ \t\r\n\v\f\x1c-\x1f\x85\u2028\u2029]+")  # every line break, and runs of spaces


@dataclass(frozen=True)
class MessageItem:
    """One cart line (or product viewed) as the message shows it; `price` is the unit price."""

    title: str
    quantity: int
    price: Decimal
    variant: str | None = None
    image_url: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Brand:
    """The merchant's look in emails: the sender name, the logo (https, its display size) and the colour."""

    name: str
    logo_url: str | None = None
    color: str = "#1f2937"
    logo_width: int = 160
    logo_height: int = 48


@dataclass(frozen=True)
class MessageContext:
    """Everything one step's message needs; `timezone` and `locale` are the customer's, else the shop's.

    `locale` is the language the message is written in (see locales.choose_message): the layout's words,
    dates and money follow it. A reminder (or a code step whose code could not be issued) has no code,
    discount or expiry. `trigger` is the journey's: it says in the footer why the customer gets the email.
    """

    merchant_name: str
    first_name: str | None
    items: tuple[MessageItem, ...]
    currency: str | None
    code: str | None
    discount: str | None
    expires_at: datetime | None
    timezone: str
    recovery_url: str
    unsubscribe_url: str
    open_pixel_url: str
    tracked_recovery_url: str | None = None
    locale: str = "en"
    brand: Brand | None = None
    viewed: tuple[MessageItem, ...] = ()
    trigger: str = "cart_abandoned"
    minimum_order: Decimal | None = None


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready for delivery; `sender_name` (the brand's) and `locale` go in its headers."""

    subject: str
    text: str
    html: str
    sender_name: str = ""
    locale: str = ""


def _item_variables(items: tuple[MessageItem, ...], context: MessageContext) -> list[dict[str, Any]]:
    return [
        {
            "title": item.title,
            "quantity": item.quantity,
            "price": format_money(item.price, context.currency, context.locale),
            "variant": item.variant or "",
        }
        for item in items
    ]


def template_variables(context: MessageContext) -> dict[str, Any]:
    """Return the placeholders a merchant template can use (money and dates in the message's locale)."""
    minimum = context.minimum_order
    return {
        "merchant_name": sender_name(context),
        "first_name": context.first_name or "",
        "items": _item_variables(context.items, context),
        "viewed": _item_variables(context.viewed, context),
        "currency": context.currency or "",
        "code": context.code or "",
        "discount": context.discount or "",
        "expires_text": (
            format_expiry(context.expires_at, context.timezone, context.locale) if context.expires_at else ""
        ),
        "minimum_order": format_money(minimum, context.currency, context.locale) if minimum else "",
        # Clicks feed scoring, so the tracked link wins when there is one (in both parts).
        "recovery_url": context.tracked_recovery_url or context.recovery_url,
        "unsubscribe_url": context.unsubscribe_url,
    }


def sender_name(context: MessageContext) -> str:
    """Who the email is from, as the customer knows the shop: the brand's name, else the merchant's."""
    return context.brand.name if context.brand and context.brand.name else context.merchant_name


def _render_part(source: str, part: str, variables: dict[str, Any]) -> str:
    """Render the subject or the body, naming the part in any TemplateProblem."""
    try:
        return render_template(source, variables)
    except TemplateProblem as problem:
        raise TemplateProblem(f"{part}: {problem}") from problem


def _products(context: MessageContext, words: LayoutStrings) -> tuple[str, list[ProductRow], str]:
    """The heading, rows and "and N more" of the products block: the cart's lines, or what a lead viewed."""
    browsing = context.trigger in ("browse_abandoned", "tier_entered")
    items = (context.viewed or context.items) if browsing else context.items
    heading = words.viewed_heading if browsing and context.viewed else words.cart_heading
    rows = [
        ProductRow(
            title=item.title,
            price=format_money(item.price, context.currency, context.locale),
            variant=item.variant or None,
            quantity=None if browsing else words.quantity.format(quantity=item.quantity),
            image_url=safe_image(item.image_url),
        )
        for item in items[:MAX_PRODUCTS]
    ]
    hidden = len(items) - len(rows)
    return heading, rows, words.more.format(count=hidden) if hidden > 0 else ""


def _html_view(
    context: MessageContext, subject: str, paragraphs: list[str], variables: dict[str, Any]
) -> dict[str, Any]:
    """Everything the HTML layout shows, already formatted in the message's locale."""
    words = strings_for(context.locale)
    brand = context.brand
    color = safe_color(brand.color if brand else None)
    heading, rows, more = _products(context, words)
    sender = sender_name(context)
    tag = normalize_locale(context.locale) or "en"
    return {
        "lang": tag,
        "dir": "rtl" if language_of(tag) in RTL_LANGUAGES else "ltr",
        "subject": subject,
        "preheader": paragraphs[1 if len(paragraphs) > 1 else 0][:PREHEADER_CHARS] if paragraphs else "",
        "sender": sender,
        "logo_url": safe_image(brand.logo_url) if brand else None,
        "logo_width": brand.logo_width if brand else 0,
        "logo_height": brand.logo_height if brand else 0,
        "color": color,
        "button_text": text_color_on(color),
        "paragraphs": paragraphs,
        "links": (variables["recovery_url"], context.unsubscribe_url),
        "code": context.code,
        "code_label": words.code_label,
        "code_hint": words.code_hint,
        "expiry": words.code_expiry.format(date=variables["expires_text"])
        if variables["expires_text"]
        else "",
        "button_url": variables["recovery_url"],
        "button_label": words.button(context.trigger),
        "products": rows,
        "products_heading": heading,
        "products_more": more,
        "sent_by": words.sent_by.format(merchant=sender),
        "why": words.why(context.trigger),
        "unsubscribe_intro": words.unsubscribe_intro,
        "unsubscribe": words.unsubscribe,
        "unsubscribe_url": context.unsubscribe_url,
        "colon": words.colon,
        "open_pixel_url": context.open_pixel_url,
    }


def _text_part(body: str, view: dict[str, Any]) -> str:
    """The plain-text alternative: the body, the products, the code, the link and the footer."""
    colon = view["colon"]
    lines = [body.strip(), ""]
    if view["products"]:
        lines.append(f"{view['products_heading']}{colon.rstrip()}")
        for row in view["products"]:
            details = ", ".join(part for part in (row.variant, row.quantity, row.price) if part)
            lines.append(f"- {row.title} ({details})")
        if view["products_more"]:
            lines.append(view["products_more"])
        lines.append("")
    if view["code"]:
        lines += [f"{view['code_label']}{colon}{view['code']}"] + ([view["expiry"]] if view["expiry"] else [])
        lines.append("")
    lines += [f"{view['button_label']}{colon}{view['button_url']}", "", "-- "]
    lines += [f"{view['sent_by']} {view['why']}", view["unsubscribe_intro"]]
    lines.append(f"{view['unsubscribe']}{colon}{view['unsubscribe_url']}")
    return "\n".join(lines) + "\n"


def render_step_message(message: StepMessage, context: MessageContext) -> RenderedMessage:
    """Render one journey step's message (the locale's words) as subject, plain text and designed HTML."""
    variables = template_variables(context)
    # One line only: a line break in a subject would inject mail headers. No-break spaces stay (CLDR's
    # "10 %", "12,50 €").
    subject = _BREAKS.sub(" ", _render_part(message.subject, "subject", variables)).strip()
    body = _render_part(message.body, "body", variables).strip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    view = _html_view(context, subject, paragraphs, variables)
    return RenderedMessage(
        subject=subject,
        text=_text_part(body, view),
        html=render_html(view),
        sender_name=context.brand.name if context.brand else context.merchant_name,
        locale=context.locale,
    )
