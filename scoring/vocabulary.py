"""The fixed words of scoring: activity kinds, tiers, criterion fields and operators."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# The one list of activity kinds. Connectors emit four of them without importing scoring (the contracts
# keep the two apart); tests/unit/connectors/test_activity_kinds.py holds what they emit to this list.
ACTIVITY_KINDS: tuple[str, ...] = (
    "newsletter_signup",
    "account_created",
    "product_view",
    "add_to_cart",
    "checkout_started",
    "cart_abandoned",
    "email_open",
    "promo_email_open",
    "email_click",
    "email_reply",
    "content_download",
    "order_placed",
    # A salesperson's outcomes with a prospect (bridge.leads.prospects): one of each per stay in the queue.
    "sales_contacted",
    "sales_won",
    "sales_not_a_fit",
)

KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "newsletter_signup": "Signed up to the newsletter",
        "account_created": "Created an account",
        "product_view": "Viewed a product",
        "add_to_cart": "Added to cart",
        "checkout_started": "Started checkout",
        "cart_abandoned": "Abandoned a cart",
        "email_open": "Opened an email",
        "promo_email_open": "Opened a promotional email",
        "email_click": "Clicked a link in an email",
        "email_reply": "Replied to an email",
        "content_download": "Downloaded content",
        "order_placed": "Placed an order",
        "sales_contacted": "Contacted by sales",
        "sales_won": "Won by sales",
        "sales_not_a_fit": "Not a fit for sales",
    }
)

TIERS: tuple[str, ...] = ("cold", "warm", "hot", "customer")
# The guides' words beside the tiers' names (the names stay: they are stored, filtered on and sent).
TIER_WORDS: Mapping[str, str] = MappingProxyType(
    {"warm": "marketing-qualified (MQL)", "hot": "sales-qualified (SQL)"}
)


def tier_label(tier: str) -> str:
    """A tier with the guides' word beside it: "warm · marketing-qualified (MQL)"; "cold" stays "cold"."""
    words = TIER_WORDS.get(tier)
    return f"{tier} · {words}" if words else tier


CAP_PERIODS: tuple[str, ...] = ("day", "week", "month")

# Criterion fields and the type of their values. `email_domain` is derived from the
# profile's email (the part after "@", lower case); string comparisons ignore case. `segment` names
# segments of the rules document (scoring.segments), for "affinity: shirts, +10".
PROFILE_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "email_domain": "string",
        "country": "string",
        "source": "string",
        "accepts_marketing": "boolean",
        "is_customer": "boolean",
        "orders_count": "number",
        "total_spent": "number",
        "segment": "string",  # a segment key of the same rules document: the lead belongs to it
    }
)

OPERATORS: tuple[str, ...] = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte")

LIST_OPERATORS: frozenset[str] = frozenset({"in", "not_in"})

OPERATORS_BY_TYPE: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "string": frozenset({"eq", "ne", "in", "not_in"}),
        "boolean": frozenset({"eq", "ne"}),
        "number": frozenset(OPERATORS),
    }
)
