"""The journeys every new shop starts with, with messages written by us in French, English, German,
Spanish, Italian and Dutch (campaigns/email_texts_cart.py and email_texts_lead.py).

The bodies are plain text with placeholders; the email layout adds the products, the button to the cart,
the code block with its expiry and the legal footer. A code step's text reads well without a code too:
when the code cannot be issued (budget spent, a live code already held) the step goes out as a reminder.
"""

from __future__ import annotations

import copy
from typing import Any

from campaigns.email_texts_cart import CART_1, CART_2, CART_CODE, HOT_CART
from campaigns.email_texts_lead import BROWSE, HOT_LEAD, WELCOME_1, WELCOME_2


def _step(after: int, messages: dict[str, Any], offer: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"after_minutes": after, "max_delay_hours": None, "offer": offer, "messages": messages}


def _offer(value: int, hours: int) -> dict[str, Any]:
    return {"kind": "percentage", "value": value, "expires_hours": hours, "minimum_order": 0}


DEFAULT_JOURNEYS: list[dict[str, Any]] = [
    {
        "key": "cart-hot",
        "name": "Panier abandonné, lead chaud",
        "trigger": "cart_abandoned",
        "enabled": True,
        "audience": {"tiers": ["hot"], "segment": None},
        "holdout_share": 0.1,
        "tier": None,
        "min_views": 2,
        "priority": None,
        "steps": [_step(30, HOT_CART, _offer(15, 6))],
    },
    {
        "key": "cart",
        "name": "Panier abandonné",
        "trigger": "cart_abandoned",
        "enabled": True,
        "audience": {"tiers": ["cold", "warm", "customer"], "segment": None},
        "holdout_share": 0.1,
        "tier": None,
        "min_views": 2,
        "priority": None,
        "steps": [_step(60, CART_1), _step(24 * 60, CART_2), _step(72 * 60, CART_CODE, _offer(10, 48))],
    },
    {
        "key": "hot-lead",
        "name": "Lead devenu chaud",
        "trigger": "tier_entered",
        "enabled": True,
        "audience": {"tiers": None, "segment": None},
        "holdout_share": 0.1,
        "tier": "hot",
        "min_views": 2,
        "priority": None,
        "steps": [_step(1, HOT_LEAD, _offer(10, 6))],
    },
    {
        "key": "welcome",
        "name": "Bienvenue",
        "trigger": "signup",
        "enabled": True,
        "audience": {"tiers": None, "segment": None},
        "holdout_share": 0.1,
        "tier": None,
        "min_views": 2,
        "priority": None,
        "steps": [_step(1, WELCOME_1), _step(3 * 24 * 60, WELCOME_2)],
    },
    {
        "key": "browse",
        "name": "Navigation sans ajout au panier",
        "trigger": "browse_abandoned",
        "enabled": True,
        "audience": {"tiers": None, "segment": None},
        "holdout_share": 0.1,
        "tier": None,
        "min_views": 2,
        "priority": None,
        "steps": [_step(120, BROWSE)],
    },
]


def default_journeys() -> list[dict[str, Any]]:
    """A fresh copy of the shipped journeys (callers may change it)."""
    return copy.deepcopy(DEFAULT_JOURNEYS)
