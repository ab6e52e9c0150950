"""Money, discounts, percentages and expiry times as CLDR writes them in the reader's language (Babel)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, numbers
from babel.dates import format_datetime

from campaigns.locales import babel_locale, language_of, normalize_locale

# What a free-shipping offer is called; the other kinds are an amount or a percentage CLDR formats.
FREE_SHIPPING = {
    "fr": "livraison offerte",
    "en": "free shipping",
    "de": "kostenloser Versand",
    "es": "envío gratis",
    "it": "spedizione gratuita",
    "nl": "gratis verzending",
}
_SHORT_DAY = re.compile(r"(?<!E)E{1,3}(?!E)")  # E, EE, EEE: the abbreviated weekday


def zone_or_utc(name: str | None) -> ZoneInfo:
    """Return the named time zone, or UTC when the name is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" names a folder
        return ZoneInfo("UTC")


def format_money(amount: Decimal, currency: str | None, locale: str = "en") -> str:
    """An amount as the locale writes it: "1 234,50 €" in French, "€1,234.50" in English."""
    where = babel_locale(locale)
    code = (currency or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        return numbers.format_decimal(amount, format="#,##0.00", locale=where)
    return numbers.format_currency(amount, code, locale=where)


def format_percent(value: Decimal, locale: str = "en") -> str:
    """A percentage given in points (12.5 is "12,5 %" in French, "12.5%" in English)."""
    return format_percent_of(value / 100, babel_locale(locale))


def format_percent_of(ratio: Decimal, where: Locale) -> str:
    """A ratio (0.125) as a percentage, keeping its decimals."""
    return numbers.format_percent(ratio, locale=where, decimal_quantization=False)


def format_discount(kind: str, value: Decimal, currency: str | None, locale: str = "en") -> str:
    """A discount as customers read it: "10 %", "5,00 €" or "livraison offerte"."""
    if kind == "free_shipping":
        return FREE_SHIPPING.get(language_of(normalize_locale(locale) or "en"), FREE_SHIPPING["en"])
    if kind == "percentage":
        return format_percent_of(value / 100, babel_locale(locale))
    return format_money(value, currency, locale)


def expiry_pattern(where: Locale) -> str:
    """The locale's pattern for a weekday, day and month in words, and the time (no year: a code lives
    at most a month).

    CLDR's skeleton for "weekday, day, month" gives an abbreviated weekday; as ICU does for a skeleton
    asking for a longer field, the weekday is widened to its full name. Date and time are joined by the
    locale's own full date-time pattern ("{1}, {0}").
    """
    date = _SHORT_DAY.sub("EEEE", where.datetime_skeletons["MMMMEd"].pattern)
    time = where.time_formats["short"].pattern
    joined: str = where.datetime_formats["full"]
    return joined.replace("{1}", date).replace("{0}", time)


def format_expiry(expires_at: datetime, timezone: str | None, locale: str = "en") -> str:
    """An expiry in the reader's time zone and language: "samedi 5 décembre, 15:43"."""
    where = babel_locale(locale)
    local = expires_at.astimezone(zone_or_utc(timezone))
    return format_datetime(local, expiry_pattern(where), locale=where)
