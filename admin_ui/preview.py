"""The email preview: a journey step's draft message in one locale, rendered for a sample customer exactly
as the step's emails are rendered (`campaigns.render_step_message`)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

import campaigns
from bridge.db.models import Shop
from bridge.infra.web import context
from bridge.leads import rules
from campaigns.templating import TemplateProblem, message_problems

SAMPLE_ITEMS = (
    campaigns.MessageItem("Linen shirt", 1, Decimal("49.00")),
    campaigns.MessageItem("Canvas tote bag", 2, Decimal("18.50")),
)
SAMPLE_CODE = "RL7KQ2M9XW4P"


def _campaign(document: Mapping[str, Any]) -> campaigns.CampaignSettings:
    """The draft's campaign settings, or the defaults when they do not validate."""
    try:
        return campaigns.load_stored_campaign(document.get("campaign") or {})
    except ValidationError:
        return campaigns.load_campaign(rules.defaults()["campaign"])


def _discount(offer: Any, currency: str, locale: str = "en") -> str | None:
    """The step's discount as the email shows it, or None without a (readable) offer."""
    if not isinstance(offer, Mapping) or not offer.get("kind"):
        return None
    if offer["kind"] == "free_shipping":
        return campaigns.format_discount("free_shipping", Decimal(0), currency, locale=locale)
    try:
        value = Decimal(str(offer.get("value", 0)))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    return campaigns.format_discount(str(offer["kind"]), value, currency, locale=locale)


def _expiry_hours(offer: Any) -> int:
    hours = offer.get("expires_hours") if isinstance(offer, Mapping) else None
    return hours if isinstance(hours, int) and 0 < hours <= 720 else 48


def sample_context(
    session: Session,
    shop_id: int,
    document: Mapping[str, Any],
    locale: str,
    offer: Any,
    trigger: str = "cart_abandoned",
) -> campaigns.MessageContext:
    """A sample customer's message context (campaigns.sample_context: a cart, or the products viewed, in
    the locale's language) with this shop's name, currency, zone and brand, and the step's own offer."""
    campaign = _campaign(document)
    shop = session.get(Shop, shop_id)
    currency = (shop.currency if shop else None) or "EUR"
    domain = (shop.domain if shop else "example.myshopify.com").removeprefix("https://")
    name = campaign.sender_name or (shop.name if shop and shop.name else domain)
    discount, now = _discount(offer, currency, locale), context().now()
    sample = campaigns.sample_context(
        locale,
        trigger,
        discount is not None,
        merchant_name=name,
        currency=currency,
        timezone=campaigns.zone_or_utc(campaign.timezone or (shop.timezone if shop else None)).key,
        now=now,
        brand=campaigns.Brand(name=name, logo_url=campaign.logo_url, color=campaign.brand_color),
        shop_url=f"https://{domain}",
        public_url=context().settings.public_url,
    )
    if discount is None:
        return sample
    return dataclasses.replace(
        sample, discount=discount, expires_at=now + timedelta(hours=_expiry_hours(offer))
    )


def step_preview(
    session: Session,
    shop_id: int,
    document: Mapping[str, Any],
    step: Mapping[str, Any],
    where: str,
    locale: str,
) -> dict[str, Any]:
    """{"ok": True, "subject", "text"} for a sample customer, or {"ok": False, "errors": {where: [...]}}
    (`where`: the locale's path in the form, "steps.0.messages.fr")."""
    message = (step.get("messages") or {}).get(locale)
    if not isinstance(message, Mapping):
        return {"ok": False, "errors": {where: [f"No message in {locale!r}."]}}
    subject, body = str(message.get("subject", "")), str(message.get("body", ""))
    if problems := message_problems(subject, body):
        return {"ok": False, "errors": {where: [f"{locale} — {problem}" for problem in problems]}}
    sample = sample_context(session, shop_id, document, locale, step.get("offer"))
    try:
        rendered = campaigns.render_step_message(campaigns.StepMessage(subject, body), sample)
    except TemplateProblem as exc:
        return {"ok": False, "errors": {where: [f"{locale} — {exc}"]}}
    return {"ok": True, "subject": rendered.subject, "text": rendered.text}


def as_json(found: Mapping[str, Any]) -> str:
    """The preview as JSON for the page's script (which inserts it as text, never as HTML)."""
    return json.dumps(found)
