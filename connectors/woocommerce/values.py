"""Checked reads of the values WooCommerce and the companion plugin send: amounts, ids and recovery links."""

from __future__ import annotations

from decimal import Decimal, DecimalException
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from connectors.base import PayloadError

_MAX_MONEY = Decimal(10) ** 15  # no store total reaches it: a bigger "amount" is garbage, not money
_MAX_DECIMALS = 10


def money(value: object, what: str) -> Decimal:
    """An amount as WooCommerce or the plugin writes it ("12.50"; a JSON number, which the pipeline reads
    as a Decimal): finite, 0 <= amount < 10**15, at most ten decimals; PayloadError otherwise.

    Never negative: a price, a line subtotal, an order total and a coupon's discount are all >= 0 (an order's
    negative fees cannot take its total below zero), so a negative one is a damaged payload."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise PayloadError(f"{what} is not an amount")
    try:
        amount = Decimal(str(value).strip())
    except DecimalException as exc:
        raise PayloadError(f"{what} is not an amount") from exc
    exponent = amount.as_tuple().exponent  # "n", "N" or "F" for NaN and infinity
    if not isinstance(exponent, int) or exponent < -_MAX_DECIMALS or not 0 <= amount < _MAX_MONEY:
        raise PayloadError(f"{what} is out of range")
    return amount


def optional_money(value: object) -> Decimal | None:
    """`money`, or None where it would refuse the value (an amount whose absence is not an error)."""
    try:
        return money(value, "amount")
    except PayloadError:
        return None


def resource_id(value: object, what: str) -> str:
    """A WooCommerce (WordPress post or user) id, 0 < id < 2**63, as a decimal string; digit strings too."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise PayloadError(f"{what} is not an id")
    return str(value)


def optional_id(value: object, what: str) -> str | None:
    """`resource_id`, or None for the ways WooCommerce and PHP say "none": null, 0, "0" and ""."""
    return None if value in (None, 0, "0", "") else resource_id(value, what)


def recovery_link(value: object) -> str | None:
    """An http(s) link the bridge can append `&coupon=<code>` to: no fragment, no coupon of its own."""
    text = value.strip() if isinstance(value, str) else ""
    if not text.startswith(("https://", "http://")) or len(text) > 2000 or not text.isprintable():
        return None
    if any(char.isspace() for char in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(key == "coupon" for key, _ in pairs):
        query = urlencode([(key, v) for key, v in pairs if key != "coupon"])
    return urlunsplit(parts._replace(query=query, fragment=""))
