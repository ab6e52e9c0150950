"""Shopify webhook payloads turned into platform-neutral facts, one handler per topic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from connectors.base import (
    Activity,
    CartSnapshot,
    ConsentChanged,
    CustomerSeen,
    Fact,
    OrderCancelled,
    OrderPlaced,
    PayloadError,
    ScopesGranted,
    ShopUpdated,
)
from connectors.shopify import compliance
from connectors.shopify.fields import (
    Fields,
    cart_token,
    discount_amounts,
    discount_codes,
    item_currency,
    line_items,
    marketing_consent,
    traffic_source,
)

# The fields a customer record always fills in at least one of (Shopify requires a name, an e-mail or a
# phone): all empty means Shopify withheld them, as it does from an app without protected customer data
# (level 2) approval.
_PERSONAL_FIELDS = ("email", "phone", "first_name", "last_name")


def redacted(customer: Fields) -> bool:
    """True when a customer object with an id arrives with every personal field empty (withheld)."""
    if customer.id("id") is None:
        return False
    return all(customer.text(name) is None for name in _PERSONAL_FIELDS)


def _customer_seen(payload: Fields) -> CustomerSeen:
    return CustomerSeen(
        external_id=payload.required("id", payload.id),
        email=payload.email("email"),
        first_name=payload.text("first_name"),
        last_name=payload.text("last_name"),
        country=payload.obj("default_address").text("country_code"),
        accepts_marketing=marketing_consent(payload),
        created_at=payload.when("created_at"),
        updated_at=payload.when("updated_at"),
        redacted=redacted(payload),
        # Customer.locale in GraphQL; the REST-shaped customers/* sample does not show it, some payloads do.
        locale=payload.soft_text("locale"),
    )


def _customer_updated(payload: Fields) -> list[Fact]:
    return [_customer_seen(payload)]


def _customer_created(payload: Fields) -> list[Fact]:
    seen = _customer_seen(payload)
    created_at = payload.first_when("created_at", "updated_at")
    ref = f"customer:{seen.external_id}"
    return [seen, Activity("account_created", created_at, ref, seen.external_id, seen.email)]


def _consent(payload: Fields) -> list[Fact]:
    consent = payload.obj("email_marketing_consent")
    state = consent.required("state", consent.text)
    external_id, email = payload.id("customer_id"), payload.email("email_address")
    if external_id is None and email is None:
        raise PayloadError("customer_id and email_address are both missing")
    subscribed = state.lower() == "subscribed"
    return [ConsentChanged(external_id, email, subscribed, consent.when("consent_updated_at"))]


def _cart(payload: Fields) -> list[Fact]:
    # Carts carry no buyer: the bridge joins them to a lead through the checkout's `cart_token`.
    token = cart_token(payload.text("token") or payload.text("id"))
    if token is None:
        raise PayloadError("token is missing")
    items, subtotal = line_items(payload)
    snapshot = CartSnapshot(
        token=token,
        checkout_token=None,
        email=None,
        customer_external_id=None,
        currency=payload.text("currency") or item_currency(payload),
        subtotal=subtotal,
        items=items,
        recovery_url=None,
        updated_at=payload.first_when("updated_at", "created_at"),
    )
    # One add_to_cart per cart: every delivery for a cart yields this same activity (ref and time).
    added_at = payload.first_when("created_at", "updated_at")
    return [snapshot, Activity("add_to_cart", added_at, ref=f"cart:{token}")]


def _buyer(payload: Fields, contact_email: str | None, seen_at: datetime) -> CustomerSeen | None:
    """The buyer of a checkout or order, when it has an e-mail or a customer id; their locale is the one
    they checked out in (`customer_locale`), else their account's."""
    customer = payload.obj("customer")
    billing = payload.obj("billing_address")
    # The account's own e-mail goes with its id (as in customers/*); the contact e-mail is for guests.
    external_id, email = customer.id("id"), customer.email("email") or contact_email
    if external_id is None and email is None:
        return None
    accepts = payload.flag("buyer_accepts_marketing")
    return CustomerSeen(
        external_id=external_id,
        email=email,
        first_name=customer.text("first_name") or billing.text("first_name"),
        last_name=customer.text("last_name") or billing.text("last_name"),
        country=customer.obj("default_address").text("country_code") or billing.text("country_code"),
        accepts_marketing=marketing_consent(customer) if accepts is None else accepts,
        created_at=customer.when("created_at"),
        updated_at=seen_at,
        redacted=redacted(customer),
        locale=payload.soft_text("customer_locale") or customer.soft_text("locale"),
    )


def _checkout(payload: Fields) -> list[Fact]:
    # Since API 2026-04 checkouts have no `id`: `token` is their identity (orders carry it as checkout_token).
    token = payload.required("token", payload.text)
    customer = payload.obj("customer")
    email = payload.email("email") or customer.email("email")
    updated_at = payload.first_when("updated_at", "created_at")
    items, line_total = line_items(payload)
    subtotal = payload.first_money("subtotal_price", "total_line_items_price")
    snapshot = CartSnapshot(
        token=cart_token(payload.text("cart_token")),
        checkout_token=token,
        email=email,
        customer_external_id=customer.id("id"),
        currency=payload.text("currency"),
        subtotal=line_total if subtotal is None else subtotal,
        items=items,
        recovery_url=payload.text("abandoned_checkout_url"),
        updated_at=updated_at,
        source=traffic_source(payload),
        accepts_marketing=payload.flag("buyer_accepts_marketing"),
        completed=payload.when("completed_at") is not None,
        locale=payload.soft_text("customer_locale"),
    )
    seen = _buyer(payload, email, updated_at)
    if seen is None:
        return [snapshot]
    started_at = payload.first_when("created_at", "updated_at")
    started = Activity("checkout_started", started_at, f"checkout:{token}", seen.external_id, seen.email)
    return [seen, snapshot, started]


def _order(payload: Fields) -> list[Fact]:
    order_id = payload.required("id", payload.id)
    customer = payload.obj("customer")
    email = payload.email("email") or payload.email("contact_email") or customer.email("email")
    created_at = payload.required("created_at", payload.when)
    order = OrderPlaced(
        order_id=order_id,
        cart_token=cart_token(payload.text("cart_token")),
        checkout_token=payload.text("checkout_token"),
        email=email,
        customer_external_id=customer.id("id"),
        total=payload.required("total_price", payload.money),
        currency=payload.text("currency"),
        discount_codes=discount_codes(payload),
        created_at=created_at,
        source=traffic_source(payload),
        discounts=discount_amounts(payload),
        locale=payload.soft_text("customer_locale"),
        items=line_items(payload)[0],
    )
    seen = _buyer(payload, email, payload.when("updated_at") or created_at)
    if seen is None:
        return [order, Activity("order_placed", created_at, f"order:{order_id}")]
    placed = Activity("order_placed", created_at, f"order:{order_id}", seen.external_id, seen.email)
    return [seen, order, placed]


def _order_cancelled(payload: Fields) -> list[Fact]:
    order_id = payload.required("id", payload.id)
    return [OrderCancelled(order_id, payload.first_when("cancelled_at", "updated_at"))]


def _shop_updated(payload: Fields) -> list[Fact]:
    currency = payload.text("currency")
    if currency is not None and not (len(currency) == 3 and currency.isalpha()):
        raise PayloadError(f"currency is not an ISO 4217 code: {currency[:20]!r}")
    return [
        ShopUpdated(
            name=payload.text("name"),
            currency=currency.upper() if currency else None,
            timezone=payload.text("iana_timezone"),
            updated_at=payload.when("updated_at"),
            primary_locale=payload.soft_text("primary_locale"),
        )
    ]


def _scopes_updated(payload: Fields) -> list[Fact]:
    current = payload.required("current", payload.texts)
    return [ScopesGranted(tuple(sorted(set(current))), payload.when("updated_at"))]


HANDLERS: dict[str, Callable[[Fields], list[Fact]]] = {
    "customers/create": _customer_created,
    "customers/update": _customer_updated,
    "customers_email_marketing_consent/update": _consent,
    "carts/create": _cart,
    "carts/update": _cart,
    "checkouts/create": _checkout,
    "checkouts/update": _checkout,
    "orders/create": _order,
    "orders/paid": _order,
    "orders/cancelled": _order_cancelled,
    **compliance.HANDLERS,
    "shop/update": _shop_updated,
    "app/scopes_update": _scopes_updated,
}


def facts_for(topic: str, payload: object) -> list[Fact]:
    """Facts carried by one payload of `topic`; [] for topics Relance ignores; PayloadError if unreadable."""
    handler = HANDLERS.get(topic)
    if handler is None:
        return []
    try:
        return handler(Fields(payload))
    except PayloadError as exc:
        raise PayloadError(f"{topic}: {exc}") from exc
