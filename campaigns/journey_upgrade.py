"""The rules document of the single-offer era, converted into journeys.

Before journeys, `campaign` held one offer (discount, expiry, minimum cart, holdout, hot-lead offers, one
English template). A shop that never changed those gets the new default journeys; a shop that did gets an
equivalent journey: one step right after abandonment carrying its code and its own template, and the same
offer for leads becoming hot when it had those on. Welcome and browse journeys are added switched off, so
the upgrade sends nothing the merchant did not ask for. Pure: the bridge applies it to every document it
reads (a live version, an old one being restored).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from campaigns.journey_defaults import default_journeys
from campaigns.settings import MOVED_FIELDS

# The single-offer era's defaults: a document that holds exactly these made no choice worth keeping.
LEGACY_DEFAULTS: dict[str, Any] = {
    "discount_kind": "percentage",
    "discount_value": 10,
    "code_expiry_hours": 24,
    "frequency_cap_days": 7,
    "minimum_cart_value": 0,
    "holdout_share": 0.1,
    "hot_lead_offers": True,
}
LEGACY_SUBJECT = "{{ merchant_name }}: your cart is waiting, with {{ discount }} off"
LEGACY_BODY = """\
Hi {{ first_name or "there" }},

You left these items in your cart at {{ merchant_name }}:
{% for item in items %}
- {{ item.quantity }} \u00d7 {{ item.title }} ({{ item.price }})
{% endfor %}

Use the code {{ code }} for {{ discount }} off. It expires on {{ expires_text }}.

Complete your order: {{ recovery_url }}

See you soon,
{{ merchant_name }}

You receive this email because you started an order at {{ merchant_name }}. \
Unsubscribe: {{ unsubscribe_url }}
"""
# The single-offer era allowed up to 365 days between offers; pressure windows stop at 90.
MAX_WINDOW_DAYS = 90


def _legacy_email(campaign: Mapping[str, Any]) -> dict[str, Any] | None:
    """The old template with a missing subject or body filled in as the old defaults did; None if absent."""
    email = campaign.get("email")
    if not isinstance(email, Mapping):
        return None
    return {"subject": email.get("subject", LEGACY_SUBJECT), "body": email.get("body", LEGACY_BODY)}


def _edited(campaign: Mapping[str, Any]) -> bool:
    """True when the campaign's offer fields say something the defaults do not."""
    for name, default in LEGACY_DEFAULTS.items():
        if name in campaign and campaign[name] != default:
            return True
    email = _legacy_email(campaign)
    return email is not None and email != {"subject": LEGACY_SUBJECT, "body": LEGACY_BODY}


def _legacy_offer(campaign: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": campaign.get("discount_kind", "percentage"),
        "value": campaign.get("discount_value", 10),
        "expires_hours": campaign.get("code_expiry_hours", 24),
        "minimum_order": campaign.get("minimum_cart_value", 0),
    }


def _legacy_messages(campaign: Mapping[str, Any], fallback: dict[str, Any]) -> dict[str, Any]:
    email = _legacy_email(campaign)
    if email is not None:
        # The old template was written for the single offer: it keeps its one locale (English, then).
        return {"en": email}
    return copy.deepcopy(fallback)


def converted_journeys(campaign: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The journeys equivalent to a campaign block of the single-offer era."""
    if not _edited(campaign):
        return default_journeys()
    shipped = {journey["key"]: journey for journey in default_journeys()}
    offer, share = _legacy_offer(campaign), campaign.get("holdout_share", 0.1)
    code_messages = shipped["cart"]["steps"][-1]["messages"]
    cart = {
        **shipped["cart"],
        "audience": {"tiers": None, "segment": None},
        "holdout_share": share,
        "steps": [
            {
                "after_minutes": 1,
                "max_delay_hours": None,
                "offer": offer,
                "messages": _legacy_messages(campaign, code_messages),
            }
        ],
    }
    hot = {
        **shipped["hot-lead"],
        "enabled": bool(campaign.get("hot_lead_offers", True)),
        "holdout_share": share,
    }
    hot["steps"] = [{**hot["steps"][0], "offer": copy.deepcopy(offer)}]
    others = [{**shipped[key], "enabled": False} for key in ("welcome", "browse")]
    return [cart, hot, *others]


def converted_pressure(campaign: Mapping[str, Any]) -> dict[str, Any] | None:
    """The frequency cap as pressure: one email per N days (0 days: no limit)."""
    days = campaign.get("frequency_cap_days", 7)
    if days == LEGACY_DEFAULTS["frequency_cap_days"]:
        return None  # the default: keep the new default pressure
    return {"max_emails": 1, "window_days": min(days, MAX_WINDOW_DAYS), "min_gap_hours": 0} if days else {}


def upgrade_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """A rules document with `journeys`: an older one is converted, a current one returned as it is."""
    upgraded = dict(document)
    campaign = dict(upgraded.get("campaign") or {})
    if "journeys" not in upgraded:
        upgraded["journeys"] = converted_journeys(campaign)
        pressure = converted_pressure(campaign)
        if pressure == {}:
            campaign["pressure"] = None
        elif pressure is not None:
            campaign["pressure"] = pressure
    if any(name in campaign for name in MOVED_FIELDS):
        campaign = {key: value for key, value in campaign.items() if key not in MOVED_FIELDS}
    if "campaign" in upgraded:
        upgraded["campaign"] = campaign
    return upgraded
