"""Plain-English formatting of money, discounts and expiry times for offer messages."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "ISK", "HUF", "TWD", "VND"})
# Our own names: strftime's %A and %B follow the process locale, which a pure core must not read.
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_money(amount: Decimal, currency: str | None) -> str:
    """Return an amount such as "€5.00", "¥500" or "5.00 CHF"."""
    code = (currency or "").upper()
    places = 0 if code in ZERO_DECIMAL_CURRENCIES else 2
    number = f"{amount.quantize(Decimal(1).scaleb(-places)):,.{places}f}"
    if code in SYMBOLS:
        return f"{SYMBOLS[code]}{number}"
    return f"{number} {code}" if code else number


def format_discount(kind: str, value: Decimal, currency: str | None) -> str:
    """Return a discount as customers read it: "10 %" or "€5.00"."""
    if kind == "percentage":
        return f"{value.normalize():f} %"
    return format_money(value, currency)


def zone_or_utc(name: str | None) -> ZoneInfo:
    """Return the named time zone, or UTC when the name is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" names a folder
        return ZoneInfo("UTC")


def format_expiry(expires_at: datetime, timezone: str | None) -> str:
    """Return an expiry such as "Thursday 26 November at 14:00 (Europe/Paris)"."""
    zone = zone_or_utc(timezone)
    local = expires_at.astimezone(zone)
    day = DAY_NAMES[local.weekday()]
    month = MONTH_NAMES[local.month - 1]
    return f"{day} {local.day} {month} at {local:%H:%M} ({zone.key})"
