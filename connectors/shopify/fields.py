"""Typed, path-aware reads of Shopify webhook payload fields (REST-shaped JSON)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

from connectors.base import LineItem, PayloadError, discounts_by_code

T = TypeVar("T")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_MAX_QUANTITY = 1_000_000
_MAX_AMOUNT_DIGITS = 15  # no shop total reaches 10**15; bigger "amounts" are garbage, not money


def parse_timestamp(text: str) -> datetime:
    """An ISO-8601 timestamp as an aware UTC datetime (naive means UTC); raises ValueError."""
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59-05:00 does not fit in UTC
        raise ValueError(f"timestamp out of range: {text[:40]!r}") from exc


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # shortest repr: 19.99 stays 19.99
    if isinstance(value, str):
        return Decimal(value.strip())
    raise TypeError(type(value).__name__)


class Fields:
    """Typed reads of one JSON object; errors name the field's path in the payload."""

    def __init__(self, data: object, path: str = "") -> None:
        if not isinstance(data, Mapping):
            raise PayloadError(f"{path or 'payload'} must be an object, got {type(data).__name__}")
        self._data: Mapping[object, object] = data
        self._path = path

    def where(self, key: str) -> str:
        """The dotted path of `key` inside the payload, for messages."""
        return f"{self._path}.{key}" if self._path else key

    def _wrong(self, key: str, expected: str) -> PayloadError:
        got = type(self._data.get(key)).__name__
        return PayloadError(f"{self.where(key)} must be {expected}, got {got}")

    def required(self, key: str, read: Callable[[str], T | None]) -> T:
        """`read(key)`, or PayloadError when the field is absent or null."""
        value = read(key)
        if value is None:
            raise PayloadError(f"{self.where(key)} is missing")
        return value

    def has(self, key: str) -> bool:
        """Whether the object holds `key`, even as null."""
        return key in self._data

    def obj(self, key: str) -> Fields:
        """The nested object at `key` (empty when absent or null)."""
        value = self._data.get(key)
        return Fields({} if value is None else value, self.where(key))

    def objects(self, key: str) -> list[Fields]:
        """The list of objects at `key` (empty when absent or null)."""
        value = self._data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "a list")
        return [Fields(item, f"{self.where(key)}[{i}]") for i, item in enumerate(value)]

    def text(self, key: str) -> str | None:
        """A stripped string; None when absent, null or blank."""
        value = self._data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string")
        return value.strip() or None

    def soft_text(self, key: str, limit: int = 64) -> str | None:
        """A short optional string (a locale, say): anything else, or a longer one, reads as None rather
        than failing the whole payload."""
        value = self._data.get(key)
        if not isinstance(value, str) or len(value.strip()) > limit:
            return None
        return value.strip() or None

    def texts(self, key: str) -> list[str] | None:
        """A list of strings, stripped, blanks dropped; None when absent or null."""
        value = self._data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(key, "a list of strings")
        return [item.strip() for item in value if item.strip()]

    def email(self, key: str) -> str | None:
        """An e-mail address, stripped and lower-cased."""
        value = self.text(key)
        return value.lower() if value else None

    def flag(self, key: str) -> bool | None:
        """A JSON boolean, or None when absent."""
        value = self._data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self._wrong(key, "a boolean")

    def id(self, key: str) -> str | None:
        """A 64-bit Shopify id as a decimal string (never through a float)."""
        value = self._data.get(key)
        if isinstance(value, str):  # some tools send ids as digit strings
            digits = value.strip()
            value = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 20 else value
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer id")
        if not 0 < value < 2**64:
            raise PayloadError(f"{self.where(key)} is out of range for an id")
        return str(value)

    def money(self, key: str) -> Decimal | None:
        """An amount ("398.00", Decimal, int or float) as an exact Decimal."""
        value = self._data.get(key)
        if value is None:
            return None
        try:
            amount = _decimal(value)
        except (InvalidOperation, TypeError) as exc:
            raise self._wrong(key, "a decimal amount") from exc
        if not amount.is_finite() or amount.adjusted() >= _MAX_AMOUNT_DIGITS:
            raise PayloadError(f"{self.where(key)} is not a plausible amount: {str(value)[:40]!r}")
        return amount

    def quantity(self, key: str) -> int | None:
        """A non-negative item count."""
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer")
        if not 0 <= value <= _MAX_QUANTITY:
            raise PayloadError(f"{self.where(key)} is out of range: {value}")
        return value

    def when(self, key: str) -> datetime | None:
        """An ISO-8601 timestamp converted to UTC."""
        value = self.text(key)
        if value is None:
            return None
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise PayloadError(f"{self.where(key)} is not an ISO-8601 timestamp: {value[:40]!r}") from exc

    def first_when(self, *keys: str) -> datetime:
        """The first of `keys` holding a timestamp; PayloadError when none does."""
        for key in keys:
            moment = self.when(key)
            if moment is not None:
                return moment
        raise PayloadError(f"{' and '.join(self.where(k) for k in keys)} are missing")

    def first_money(self, *keys: str) -> Decimal | None:
        """The first of `keys` holding an amount (a zero amount counts)."""
        for key in keys:
            amount = self.money(key)
            if amount is not None:
                return amount
        return None


def cart_token(value: str | None) -> str | None:
    """A cart token without the `?key=…` suffix storefront tokens carry since 2024-06 (PLATFORMS §2)."""
    if value is None:
        return None
    return value.split("?", 1)[0].strip() or None


def line_items(payload: Fields) -> tuple[tuple[LineItem, ...], Decimal]:
    """The payload's line items and the sum of their line prices (`line_price`, else price * quantity)."""
    items: list[LineItem] = []
    total = Decimal(0)
    for line in payload.objects("line_items"):
        item = LineItem(
            title=line.text("title") or "",
            quantity=line.required("quantity", line.quantity),
            price=line.required("price", line.money),
            product_id=line.id("product_id"),
            variant_id=line.id("variant_id"),
            sku=line.text("sku"),
            variant_title=line.soft_text("variant_title", 255),
        )
        line_price = line.money("line_price")
        total += item.price * item.quantity if line_price is None else line_price
        items.append(item)
    return tuple(items), total


def traffic_source(payload: Fields) -> dict[str, str]:
    """Landing page, referrer, source name and the UTM tags of the landing page's query string."""
    landing = payload.text("landing_site")
    source = {
        "landing_page": landing,
        "referrer": payload.text("referring_site"),
        "source_name": payload.text("source_name"),
    }
    try:
        query = parse_qs(urlsplit(landing).query) if landing else {}
    except ValueError:  # a malformed URL loses its UTM tags, not the whole event
        query = {}
    for key in UTM_KEYS:
        source[key] = query[key][0].strip() if query.get(key) else None
    return {key: value for key, value in source.items() if value}


def marketing_consent(customer: Fields) -> bool | None:
    """`email_marketing_consent.state == "subscribed"` (pre-2025-01 payloads), else the legacy flag."""
    state = customer.obj("email_marketing_consent").text("state")
    if state is not None:
        return state.lower() == "subscribed"
    return customer.flag("accepts_marketing")


def discount_codes(payload: Fields) -> tuple[str, ...]:
    """The codes of `discount_codes[].code`, as the shopper typed them."""
    codes = (entry.text("code") for entry in payload.objects("discount_codes"))
    return tuple(code for code in codes if code)


def discount_amounts(payload: Fields) -> dict[str, Decimal]:
    """What the order got from each code (`discount_codes[].amount`, the calculated amount once the
    order exists), by upper-cased code; an unreadable entry or amount is left out, never an error."""
    pairs: list[tuple[str | None, Decimal | None]] = []
    try:
        entries = payload.objects("discount_codes")
    except PayloadError:
        return {}
    for entry in entries:
        try:
            code = entry.text("code")
        except PayloadError:
            continue
        try:
            amount = entry.money("amount")
        except PayloadError:
            amount = None
        pairs.append((code, amount))
    return discounts_by_code(pairs)


def item_currency(payload: Fields) -> str | None:
    """Shop currency of the first line item (`price_set.shop_money`): carts carry no `currency`."""
    for line in payload.objects("line_items"):
        return line.obj("price_set").obj("shop_money").text("currency_code")
    return None
