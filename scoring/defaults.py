"""The default scoring rules document (DESIGN §6), as merchants see and edit it."""

from __future__ import annotations

from typing import Any

# A short built-in list; merchants extend it in their own criterion.
DISPOSABLE_EMAIL_DOMAINS: tuple[str, ...] = (
    "mailinator.com",
    "yopmail.com",
    "guerrillamail.com",
    "sharklasers.com",
    "10minutemail.com",
    "temp-mail.org",
    "trashmail.com",
    "getnada.com",
    "maildrop.cc",
    "dispostable.com",
    "throwawaymail.com",
    "fakeinbox.com",
)

DEFAULT_SCORING: dict[str, Any] = {
    "activities": {
        "newsletter_signup": {"points": 5},
        "account_created": {"points": 5, "first_only": True},
        "product_view": {"points": 2, "cap": {"points": 10, "period": "day"}},
        "add_to_cart": {"points": 15},
        "checkout_started": {"points": 20},
        "cart_abandoned": {"points": 0},
        "email_open": {"points": 2},
        "promo_email_open": {"points": 15},
        "email_click": {"points": 5},
        "email_reply": {"points": 10},
        "content_download": {"points": 10},
        "order_placed": {"points": 0},  # the customer tier comes from the profile
        # Sales outcomes move no score until the merchant weighs them (the queue's history keeps them).
        "sales_contacted": {"points": 0},
        "sales_won": {"points": 0},
        "sales_not_a_fit": {"points": 0},
    },
    "criteria": [
        {
            "field": "accepts_marketing",
            "operator": "eq",
            "value": True,
            "points": 5,
            "label": "Accepts marketing",
        },
        {
            "field": "email_domain",
            "operator": "in",
            "value": list(DISPOSABLE_EMAIL_DOMAINS),
            "points": -20,
            "label": "Disposable email",
        },
    ],
    "decay": {"half_life_days": 30},
    "tiers": {"warm": 40, "hot": 80},
    "minimum": 0,
    "maximum": 100,
}
