"""WooCommerce REST resources (webhook bodies and polled objects) turned into neutral facts.

`recovery_link` lives in connectors.woocommerce.values; the `… as recovery_link` import keeps it here too.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.base import (
    Activity,
    CartSnapshot,
    CustomerSeen,
    Fact,
    LineItem,
    OrderCancelled,
    OrderPlaced,
    PayloadError,
    discounts_by_code,
)
from connectors.woocommerce.values import money, optional_id, optional_money, resource_id
from connectors.woocommerce.values import recovery_link as recovery_link

CART_STATUSES = frozenset({"checkout-draft", "pending", "failed"})
PLACED_STATUSES = frozenset({"processing", "completed", "on-hold"})
CANCELLED_STATUSES = frozenset({"cancelled", "refunded"})
# Written on the order by the companion WordPress plugin: the same token it sends for the cart, and the
# link that restores that cart (its `?relance_restore=<token>` on the store's cart page).
CART_META_KEY = "_relance_cart_token"
RESTORE_META_KEY = "_relance_recovery_url"
# The shopper's language on the order: the companion plugin's (the WordPress locale the shopper checked out
# in), else WPML's (WooCommerce Multilingual keeps the order's language code in `wpml_language`). Core
# WooCommerce records none, and Polylang keeps it in a taxonomy the REST order does not show.
LOCALE_META_KEYS = ("_relance_locale", "wpml_language")
_ATTRIBUTION = {  # WooCommerce order attribution (core since 8.5) -> CartSnapshot/OrderPlaced source
    "_wc_order_attribution_source_type": "source_type",
    "_wc_order_attribution_referrer": "referrer",
    "_wc_order_attribution_session_entry": "landing_page",
    "_wc_order_attribution_utm_source": "utm_source",
    "_wc_order_attribution_utm_medium": "utm_medium",
    "_wc_order_attribution_utm_campaign": "utm_campaign",
    "_wc_order_attribution_utm_content": "utm_content",
    "_wc_order_attribution_utm_term": "utm_term",
}


def customer_facts(topic: str, payload: Mapping[str, Any]) -> list[Fact]:
    """CustomerSeen for a customer resource, plus account_created on customer.created."""
    external_id = resource_id(payload.get("id"), "id")
    billing = _mapping(payload, "billing")
    email = _email(payload.get("email")) or _email(billing.get("email"))
    seen = CustomerSeen(
        external_id=external_id,
        email=email,
        first_name=_text(payload, "first_name") or _text(billing, "first_name"),
        last_name=_text(payload, "last_name") or _text(billing, "last_name"),
        country=_text(billing, "country") or _text(_mapping(payload, "shipping"), "country"),
        created_at=_utc(payload, "date_created_gmt"),
        updated_at=_utc(payload, "date_modified_gmt"),
    )
    if topic != "customer.created":
        return [seen]
    occurred_at = seen.created_at or seen.updated_at
    if occurred_at is None:
        raise PayloadError("customer.created without date_created_gmt")
    return [seen, Activity("account_created", occurred_at, f"customer:{external_id}", external_id, email)]


def order_facts(payload: Mapping[str, Any]) -> list[Fact]:
    """Facts of one order resource, chosen by its status; other statuses give none."""
    order_id = resource_id(payload.get("id"), "id")
    status = _text(payload, "status")
    if status is None:
        raise PayloadError("order without a status")
    if status in CART_STATUSES:
        return _checkout(order_id, payload)
    if status in PLACED_STATUSES:
        return _placed(order_id, payload)
    if status in CANCELLED_STATUSES:
        return [OrderCancelled(order_id=order_id, occurred_at=_times(payload)[1])]
    return []


def cart_token(payload: Mapping[str, Any], order_id: str) -> str:
    """The cart identity of an order: the companion plugin's token, else `wc-order:<id>`."""
    for entry in _meta(payload):
        value = entry.get("value")
        if entry.get("key") == CART_META_KEY and isinstance(value, str) and value.strip():
            return value.strip()[:255]
    return f"wc-order:{order_id}"


def order_locale(payload: Mapping[str, Any]) -> str | None:
    """The shopper's language the order carries in its meta (LOCALE_META_KEYS, in that order), as given."""
    found: dict[str, str] = {}
    for entry in _meta(payload):
        key, value = entry.get("key"), entry.get("value")
        if key in LOCALE_META_KEYS and isinstance(value, str) and 0 < len(value.strip()) <= 35:
            found.setdefault(key, value.strip())
    return next((found[key] for key in LOCALE_META_KEYS if key in found), None)


def _restore_link(payload: Mapping[str, Any]) -> str | None:
    """The companion plugin's cart-restore link, else None: the bridge then sends shoppers to the cart page.

    Never the order's `payment_url`: the order-pay page charges the order as it stands, so a recovery coupon
    applied to the shopper's cart session would not discount it.
    """
    for entry in _meta(payload):
        if entry.get("key") == RESTORE_META_KEY:
            return recovery_link(entry.get("value"))
    return None


def _checkout(order_id: str, payload: Mapping[str, Any]) -> list[Fact]:
    created, modified = _times(payload)
    buyer = _buyer(payload, modified)
    if buyer is None or buyer.email is None:
        return []  # nobody to recover: a draft before the shopper typed an email
    lines = _lines(payload)
    items = tuple(_line(line) for line in lines)
    snapshot = CartSnapshot(
        token=cart_token(payload, order_id),
        checkout_token=order_id,
        email=buyer.email,
        customer_external_id=buyer.external_id,
        currency=_currency(payload),
        subtotal=sum((_line_subtotal(line) for line in lines), Decimal(0)),
        items=items,
        recovery_url=_restore_link(payload),
        updated_at=modified,
        source=_source(payload),
        locale=buyer.locale,
    )
    started = Activity("checkout_started", created, f"order:{order_id}", buyer.external_id, buyer.email)
    return [buyer, snapshot, started]


def _placed(order_id: str, payload: Mapping[str, Any]) -> list[Fact]:
    created, modified = _times(payload)
    buyer = _buyer(payload, modified)
    external_id, email = (buyer.external_id, buyer.email) if buyer else (None, None)
    order = OrderPlaced(
        order_id=order_id,
        cart_token=cart_token(payload, order_id),
        checkout_token=order_id,
        email=email,
        customer_external_id=external_id,
        total=money(payload.get("total"), "total"),
        currency=_currency(payload),
        discount_codes=_coupon_codes(payload),
        created_at=created,
        source=_source(payload),
        discounts=_coupon_discounts(payload),
        locale=order_locale(payload),
        items=tuple(_line(line) for line in _lines(payload)),
    )
    placed = Activity("order_placed", created, f"order:{order_id}", external_id, email)
    return [*([buyer] if buyer else []), order, placed]


def _buyer(payload: Mapping[str, Any], updated_at: datetime) -> CustomerSeen | None:
    billing = _mapping(payload, "billing")
    external_id = optional_id(payload.get("customer_id"), "customer_id")
    email = _email(billing.get("email"))
    if external_id is None and email is None:
        return None
    return CustomerSeen(
        external_id=external_id,
        email=email,
        first_name=_text(billing, "first_name"),
        last_name=_text(billing, "last_name"),
        country=_text(billing, "country"),
        updated_at=updated_at,
        locale=order_locale(payload),
    )


def _lines(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = payload.get("line_items") or []
    if not isinstance(lines, list) or not all(isinstance(line, Mapping) for line in lines):
        raise PayloadError("line_items is not a list of objects")
    return lines


def _line_subtotal(line: Mapping[str, Any]) -> Decimal:
    """The line before coupons and without tax (what the cart page calls its subtotal)."""
    return money(line.get("subtotal", line.get("total")), "line subtotal")


def _line(line: Mapping[str, Any]) -> LineItem:
    quantity = line.get("quantity")
    if isinstance(quantity, float) and quantity.is_integer():
        quantity = int(quantity)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= 10**6:
        raise PayloadError("line item quantity is not a count")
    subtotal = _line_subtotal(line)  # the unit price keeps the store's precision
    return LineItem(
        title=html.unescape(_text(line, "name") or ""),
        quantity=quantity,
        price=(subtotal / quantity).quantize(subtotal) if quantity else subtotal,
        product_id=optional_id(line.get("product_id"), "product_id"),
        variant_id=optional_id(line.get("variation_id"), "variation_id"),
        sku=_text(line, "sku"),
        # WooCommerce 8+ names the parent product of a variation apart, and shows the line's picture.
        product_title=_soft_text(line, "parent_name"),
        image_url=_image(line),
    )


def _soft_text(data: Mapping[str, Any], key: str) -> str | None:
    """Text the reading can do without: anything else reads as absent, never as an error."""
    value = data.get(key)
    if not isinstance(value, str):
        return None
    return html.unescape(value.strip())[:255] or None


def _image(line: Mapping[str, Any]) -> str | None:
    """The line's `image.src` when it is an http(s) address (the field is absent before WooCommerce 8)."""
    image = line.get("image")
    src = image.get("src") if isinstance(image, Mapping) else None
    if isinstance(src, str) and src.strip().lower().startswith(("https://", "http://")):
        return src.strip()[:2048]
    return None


def _coupon_codes(payload: Mapping[str, Any]) -> tuple[str, ...]:
    lines = payload.get("coupon_lines") or []
    if not isinstance(lines, list) or not all(isinstance(line, Mapping) for line in lines):
        raise PayloadError("coupon_lines is not a list of objects")
    codes = (_text(line, "code") for line in lines)
    return tuple(dict.fromkeys(code.lower() for code in codes if code))


def _coupon_discounts(payload: Mapping[str, Any]) -> dict[str, Decimal]:
    """What the order got from each coupon (`coupon_lines[].discount`, without tax), by upper-cased
    code; an unreadable line or amount is left out, never an error."""
    lines = payload.get("coupon_lines")
    pairs: list[tuple[str | None, Decimal | None]] = []
    for line in lines if isinstance(lines, list) else []:
        code = line.get("code") if isinstance(line, Mapping) else None
        if isinstance(code, str):
            pairs.append((code, optional_money(line.get("discount"))))
    return discounts_by_code(pairs)


def _source(payload: Mapping[str, Any]) -> dict[str, str]:
    source = {}
    for entry in _meta(payload):
        key, value = entry.get("key"), entry.get("value")
        if isinstance(key, str) and key in _ATTRIBUTION and isinstance(value, str) and value.strip():
            source[_ATTRIBUTION[key]] = value.strip()
    return source


def _meta(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    meta = payload.get("meta_data") or []
    if not isinstance(meta, list):
        raise PayloadError("meta_data is not a list")
    return [entry for entry in meta if isinstance(entry, Mapping)]


def _times(payload: Mapping[str, Any]) -> tuple[datetime, datetime]:
    created = _utc(payload, "date_created_gmt")
    modified = _utc(payload, "date_modified_gmt") or created
    if created is None or modified is None:
        raise PayloadError("order without date_created_gmt or date_modified_gmt")
    return created, modified


def _utc(data: Mapping[str, Any], key: str) -> datetime | None:
    """A `*_gmt` field: ISO 8601 without an offset, in UTC."""
    value = _text(data, key)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PayloadError(f"{key} is not a date: {value[:40]!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None or value == []:  # PHP encodes an empty array as []
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(f"{key} is not an object")
    return value


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{key} is not text")
    return value.strip() or None


def _email(value: object) -> str | None:
    if not isinstance(value, str) or "@" not in value:
        return None
    return value.strip()


def _currency(payload: Mapping[str, Any]) -> str | None:
    currency = _text(payload, "currency")
    return currency.upper() if currency and len(currency) == 3 and currency.isalpha() else None
