"""Offer messages: the merchant's template rendered as a subject, plain text and HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from campaigns.formatting import format_expiry, format_money
from campaigns.templating import TemplateProblem, render_template

if TYPE_CHECKING:
    from campaigns.journeys import StepMessage

_HTML_LAYOUT = """\
<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
{% for paragraph in paragraphs %}<p>{{ paragraph | linkify(links) }}</p>
{% endfor %}<img src="{{ open_pixel_url }}" width="1" height="1" alt="">
</body></html>
"""


@dataclass(frozen=True)
class MessageItem:
    """One cart line (or product viewed) as the message shows it."""

    title: str
    quantity: int
    price: Decimal
    variant: str | None = None
    image_url: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Brand:
    """The merchant's look in emails: the sender name, the logo (https) and the brand colour."""

    name: str
    logo_url: str | None = None
    color: str = "#1f2937"


@dataclass(frozen=True)
class MessageContext:
    """Everything one step's message needs; `timezone` and `locale` are the customer's, else the shop's.

    A reminder (or a code step whose code could not be issued) has no code, discount or expiry."""

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


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready for delivery."""

    subject: str
    text: str
    html: str


def linkify(text: str, links: tuple[str, ...] = ()) -> Markup:
    """Escape text, turn the given URLs (ours, never a customer's) into links and line breaks into <br>.

    Customers control parts of the text (their first name, cart item titles), so a URL that merely appears in
    it stays plain text; only the exact addresses Relance put in the message become links.
    """
    wanted = sorted(
        {link for link in links if link.startswith(("https://", "http://"))}, key=len, reverse=True
    )
    pattern = re.compile("|".join(re.escape(link) for link in wanted)) if wanted else None
    lines = []
    for line in text.splitlines():
        parts, position = [], 0
        for match in pattern.finditer(line) if pattern else ():
            parts.append(escape(line[position : match.start()]))
            parts.append(Markup('<a href="{0}">{0}</a>').format(match.group(0)))
            position = match.end()
        parts.append(escape(line[position:]))
        lines.append(Markup("").join(parts))
    return Markup("<br>\n").join(lines)


def _html_layout() -> Any:
    """Compile our own HTML wrapper; autoescape makes every merchant or customer string safe."""
    env = SandboxedEnvironment(autoescape=True)
    env.filters["linkify"] = linkify
    return env.from_string(_HTML_LAYOUT)


_LAYOUT = _html_layout()


def template_variables(context: MessageContext) -> dict[str, Any]:
    """Return the placeholders a merchant template can use."""
    return {
        "merchant_name": context.merchant_name,
        "first_name": context.first_name or "",
        "items": [
            {
                "title": item.title,
                "quantity": item.quantity,
                "price": format_money(item.price, context.currency),
            }
            for item in context.items
        ],
        "currency": context.currency or "",
        "code": context.code or "",
        "discount": context.discount or "",
        "expires_text": format_expiry(context.expires_at, context.timezone) if context.expires_at else "",
        # Clicks feed scoring, so the tracked link wins when there is one (in both parts).
        "recovery_url": context.tracked_recovery_url or context.recovery_url,
        "unsubscribe_url": context.unsubscribe_url,
    }


def _render_part(source: str, part: str, variables: dict[str, Any]) -> str:
    """Render the subject or the body, naming the part in any TemplateProblem."""
    try:
        return render_template(source, variables)
    except TemplateProblem as problem:
        raise TemplateProblem(f"{part}: {problem}") from problem


def render_step_message(message: StepMessage, context: MessageContext) -> RenderedMessage:
    """Render one journey step's message (the customer's locale's) as subject, text and HTML."""
    variables = template_variables(context)
    # One line only: a line break in a subject would inject mail headers.
    subject = " ".join(_render_part(message.subject, "subject", variables).split())
    text = _render_part(message.body, "body", variables).strip() + "\n"
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    links = (variables["recovery_url"], context.unsubscribe_url)  # the only URLs the HTML makes links of
    html = _LAYOUT.render(paragraphs=paragraphs, links=links, open_pixel_url=context.open_pixel_url)
    return RenderedMessage(subject=subject, text=text, html=html)
