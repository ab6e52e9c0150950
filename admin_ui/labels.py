"""The names the admin shows for stored codes (statuses, tiers) in the page's language; unknown ones as is."""

from __future__ import annotations

from flask_babel import lazy_gettext

NAMES = {
    # carts
    "active": lazy_gettext("active"),
    "abandoned": lazy_gettext("abandoned"),
    "recovered": lazy_gettext("recovered"),
    "converted": lazy_gettext("converted"),
    # offers (and carts: expired)
    "planned": lazy_gettext("planned"),
    "created": lazy_gettext("created"),
    "sent": lazy_gettext("sent"),
    "redeemed": lazy_gettext("redeemed"),
    "expired": lazy_gettext("expired"),
    "failed": lazy_gettext("failed"),
    "suppressed": lazy_gettext("suppressed"),
    "cancelled": lazy_gettext("cancelled"),
    "holdout": lazy_gettext("holdout"),
    # events
    "pending": lazy_gettext("pending"),
    "processed": lazy_gettext("processed"),
    "ignored": lazy_gettext("ignored"),
    # lead tiers
    "cold": lazy_gettext("cold"),
    "warm": lazy_gettext("warm"),
    "hot": lazy_gettext("hot"),
    "customer": lazy_gettext("customer"),
    # rule versions
    "live": lazy_gettext("live"),
}


# The guides' words beside a tier's name (scoring.vocabulary.TIER_WORDS), in the page's language.
TIER_WORDS = {
    "warm": lazy_gettext("marketing-qualified (MQL)"),
    "hot": lazy_gettext("sales-qualified (SQL)"),
}


def label(code: str | None) -> str:
    """The shown name of a status or tier code ("abandoned" → "abandonné" in French)."""
    if code is None:
        return "—"
    found = NAMES.get(code)
    return code if found is None else str(found)


def tier_label(code: str | None) -> str:
    """A tier's name with the guides' word beside it ("warm · marketing-qualified (MQL)", in French "tiède ·
    qualifié marketing (MQL)"); a tier without one (cold, customer) by its name alone."""
    words = TIER_WORDS.get(code or "")
    return label(code) if words is None else f"{label(code)} · {words}"
