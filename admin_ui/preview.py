"""The email preview: the draft template rendered for a sample customer, exactly as offers are rendered."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

import campaigns
from bridge.db.models import Shop
from bridge.infra.web import context
from bridge.leads import rules
from campaigns.templating import TemplateProblem, body_problems, template_problems

SAMPLE_ITEMS = (
    campaigns.MessageItem("Linen shirt", 1, Decimal("49.00")),
    campaigns.MessageItem("Canvas tote bag", 2, Decimal("18.50")),
)


def _campaign(document: dict[str, Any]) -> campaigns.CampaignSettings:
    """The draft's campaign settings, or the defaults when they are invalid."""
    try:
        return campaigns.load_campaign(document.get("campaign") or {})
    except ValidationError:
        return campaigns.load_campaign(rules.defaults()["campaign"])


def render_preview(session: Session, shop_id: int, document: dict[str, Any]) -> dict[str, Any]:
    """{"ok": True, "subject", "text"} for a sample cart, or {"ok": False, "errors": {...}}."""
    email = (document.get("campaign") or {}).get("email") or {}
    subject, body = str(email.get("subject", "")), str(email.get("body", ""))
    errors = {}
    if problems := template_problems(subject):
        errors["campaign.email.subject"] = problems
    if problems := body_problems(body):
        errors["campaign.email.body"] = problems
    if errors:
        return {"ok": False, "errors": errors}
    campaign = _campaign(document)
    shop = session.get(Shop, shop_id)
    currency = (shop.currency if shop else None) or "EUR"
    domain = shop.domain if shop else "example.myshopify.com"
    now = context().now()
    sample = campaigns.MessageContext(
        merchant_name=campaign.sender_name or (shop.name if shop and shop.name else domain),
        first_name="Ana",
        items=SAMPLE_ITEMS,
        currency=currency,
        code="RL7KQ2M9XW4P",
        discount=campaigns.format_discount("percentage", Decimal(10), currency),
        expires_at=now + timedelta(hours=24),
        # as the live email: the campaign's time zone, else the shop's (bridge.leads.rules fills it in)
        timezone=campaigns.zone_or_utc(campaign.timezone or (shop.timezone if shop else None)).key,
        recovery_url=f"https://{domain.removeprefix('https://')}/cart",
        unsubscribe_url=f"{context().settings.public_url}/u/example",
        open_pixel_url=f"{context().settings.public_url}/t/o/example.gif",
    )
    try:
        message = campaigns.render_step_message(campaigns.StepMessage(subject, body), sample)
    except TemplateProblem as exc:
        part = "campaign.email.subject" if str(exc).startswith("subject") else "campaign.email.body"
        return {"ok": False, "errors": {part: [str(exc)]}}
    return {"ok": True, "subject": message.subject, "text": message.text}


def as_json(found: dict[str, Any]) -> str:
    """The preview as JSON for the page's script (which inserts it as text, never as HTML)."""
    return json.dumps(found)
