"""The companion WordPress plugin's events: signature over timestamp and body, identity, facts.

Cart events (cart.updated, checkout.email, cart.emptied), product views on single product pages
(product.viewed: a logged-in customer's names them; a guest's are the session's history until a signed
event names the shopper), newsletter sign-ups the visitor consented to (newsletter.signup), and the
farewell when the merchant deactivates the plugin. Every event carries the session key: the session is a
visitor (`VisitorSeen`, client id "wp:<session key>") identified by the events that name the shopper.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.base import (
    Activity,
    AppUninstalled,
    CartSnapshot,
    ConsentChanged,
    CustomerSeen,
    Envelope,
    Fact,
    LineItem,
    PayloadError,
    VisitorSeen,
)
from connectors.woocommerce.values import money, optional_id, recovery_link
from connectors.woocommerce.webhooks import header

TIMESTAMP_HEADER = "X-Relance-Timestamp"
SIGNATURE_HEADER = "X-Relance-Signature"
TOLERANCE_SECONDS = 300
TOPIC_PREFIX = "wordpress/"
DEACTIVATED = "plugin.deactivated"  # the merchant turned the plugin off: Relance stops for this store
VIEWED, SIGNUP = "product.viewed", "newsletter.signup"
EVENTS = frozenset({"cart.updated", "checkout.email", "cart.emptied", DEACTIVATED, VIEWED, SIGNUP})
VISITOR_PREFIX = "wp:"  # a plugin session as a storefront visitor's client id
MAX_KEY_LENGTH = 255


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WordPressEvents:
    """WebhookAdapter for the signed cart events of the Relance WordPress plugin."""

    platform = "wordpress"

    def __init__(
        self, clock: Callable[[], datetime] = _utcnow, tolerance_seconds: int = TOLERANCE_SECONDS
    ) -> None:
        self._clock = clock
        self._tolerance = tolerance_seconds

    def is_ping(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """Always False: the plugin signs every request it sends, its connection test included."""
        return False

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> bool:
        """True when the signature of `timestamp.body` matches one of `secrets` and the timestamp is fresh."""
        stamp = (header(headers, TIMESTAMP_HEADER) or "").strip()
        sent = (header(headers, SIGNATURE_HEADER) or "").strip().encode("utf-8", "replace")
        if not sent or not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            return False
        if abs(self._clock().timestamp() - int(stamp)) > self._tolerance:
            return False  # an old (or future) request replayed: refused whatever its signature
        return any(
            hmac.compare_digest(sign(raw, secret, stamp).encode(), sent) for secret in secrets if secret
        )

    def envelope(self, raw: bytes, headers: Mapping[str, str]) -> Envelope:
        """Topic `wordpress/<event>` and the key `wp:<session_key>:<sha256 of the body>`."""
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        body = body if isinstance(body, dict) else {}
        event = body.get("event")
        topic = TOPIC_PREFIX + (event if isinstance(event, str) and event in EVENTS else "invalid")
        session = body.get("session_key")
        session = session.strip()[:64] if isinstance(session, str) and session.strip() else "-"
        key = f"wp:{session}:{hashlib.sha256(raw).hexdigest()}"
        if len(key) > MAX_KEY_LENGTH:
            key = f"wp:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
        return Envelope(topic=topic, delivery_key=key, triggered_at=_moment(body.get("ts")))

    def normalize(self, topic: str, payload: Mapping[str, object]) -> list[Fact]:
        """CartSnapshot, the shopper when an email was captured, and add_to_cart or checkout_started."""
        if not isinstance(payload, Mapping):
            raise PayloadError("payload is not a JSON object")
        event = topic.removeprefix(TOPIC_PREFIX)
        if not topic.startswith(TOPIC_PREFIX) or event not in EVENTS:
            raise PayloadError(f"not a companion plugin event: {topic[:60]!r}")
        if event == DEACTIVATED:
            return [AppUninstalled()]
        if event == VIEWED:
            return _viewed(payload)
        if event == SIGNUP:
            return _signup(payload)
        cart = cart_snapshot(payload, emptied=event == "cart.emptied")
        found: list[Fact] = []
        if cart.email:
            # No time on purpose: this fact must not make the store's own profile look older.
            found.append(
                CustomerSeen(external_id=cart.customer_external_id, email=cart.email, locale=cart.locale)
            )
        found.append(cart)
        who = (cart.customer_external_id, cart.email)
        if event == "cart.updated" and cart.items:
            found.append(Activity("add_to_cart", cart.updated_at, f"cart:{cart.token}", *who))
        elif event == "checkout.email":
            # With a block-checkout draft order, the order webhook names the same checkout: one activity.
            ref = f"order:{cart.checkout_token}" if cart.checkout_token else f"checkout:{cart.token}"
            found.append(Activity("checkout_started", cart.updated_at, ref, *who))
        visitor = _visitor(payload, cart.updated_at, (cart.token,), *who)
        return found if visitor is None else [*found, visitor]


def _viewed(payload: Mapping[str, Any]) -> list[Fact]:
    """A product page seen: the session's sighting, and a product view when a customer is named."""
    at = _moment(payload.get("ts"))
    if at is None:
        raise PayloadError("event without a valid ts")
    product = optional_id(payload.get("product_id"), "product_id")
    if product is None:
        raise PayloadError("product.viewed without a product_id")
    who = (optional_id(payload.get("customer_id"), "customer_id"), _email(payload.get("email")))
    found: list[Fact] = []
    if who[0] or who[1]:
        found.append(Activity("product_view", at, view_ref(product, at), *who))
    visitor = _visitor(payload, at, (), *who)
    return found if visitor is None else [*found, visitor]


def view_ref(product_id: str, at: datetime) -> str:
    """One product view a product a day (the storefront's ref, bridge.events.collect)."""
    return f"view:{product_id}:{at.date().isoformat()}"


def _signup(payload: Mapping[str, Any]) -> list[Fact]:
    """A newsletter sign-up: consent given and the activity; nothing without the visitor's consent."""
    at = _moment(payload.get("ts"))
    if at is None:
        raise PayloadError("event without a valid ts")
    email = _email(payload.get("email"))
    if email is None:
        raise PayloadError("newsletter.signup without an email")
    if payload.get("marketing_consent") is not True:
        return []  # the plugin sends consented sign-ups only: anything else is not one
    customer = optional_id(payload.get("customer_id"), "customer_id")
    found: list[Fact] = [
        CustomerSeen(external_id=customer, email=email, locale=_locale(payload.get("locale"))),
        ConsentChanged(customer, email, True, at),
        Activity("newsletter_signup", at, "newsletter", customer, email),
    ]
    visitor = _visitor(payload, at, (), customer, email)
    return found if visitor is None else [*found, visitor]


def _visitor(
    payload: Mapping[str, Any],
    at: datetime,
    tokens: tuple[str | None, ...],
    external_id: str | None,
    email: str | None,
) -> VisitorSeen | None:
    """The session as a storefront visitor (None without a session key)."""
    session = payload.get("session_key")
    if not isinstance(session, str) or not session.strip():
        return None
    kept = tuple(token for token in tokens if token)
    return VisitorSeen(VISITOR_PREFIX + session.strip()[:64], at, kept, external_id, email)


def cart_snapshot(payload: Mapping[str, Any], *, emptied: bool = False) -> CartSnapshot:
    """The cart the plugin describes (an emptied cart keeps its identity, without items)."""
    token = _text(payload.get("cart_token"), "cart_token", required=True)
    updated_at = _moment(payload.get("ts"))
    if updated_at is None:
        raise PayloadError("event without a valid ts")
    items = () if emptied else tuple(_line(line) for line in _list(payload.get("items"), "items"))
    subtotal = Decimal(0) if emptied else money(payload.get("subtotal", "0"), "subtotal")
    return CartSnapshot(
        token=token,
        checkout_token=optional_id(payload.get("order_id"), "order_id"),
        email=_email(payload.get("email")),
        customer_external_id=optional_id(payload.get("customer_id"), "customer_id"),
        currency=_currency(payload.get("currency")),
        subtotal=subtotal,
        items=items,
        recovery_url=recovery_link(payload.get("recovery_url")),
        updated_at=updated_at,
        accepts_marketing=True if payload.get("marketing_consent") is True else None,
        locale=_locale(payload.get("locale")),
    )


def sign(raw: bytes, secret: str, timestamp: str | int) -> str:
    """The plugin's signature: base64 of HMAC-SHA256 over `timestamp + "." + body`."""
    message = str(timestamp).encode("ascii") + b"." + raw
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()).decode()


def _line(line: object) -> LineItem:
    if not isinstance(line, Mapping):
        raise PayloadError("an item is not an object")
    quantity = line.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= 10**6:
        raise PayloadError("item quantity is not a count")
    return LineItem(
        title=(_text(line.get("title"), "title") or "")[:255],
        quantity=quantity,
        price=money(line.get("price", "0"), "item price"),
        product_id=optional_id(line.get("product_id"), "product_id"),
        variant_id=optional_id(line.get("variation_id"), "variation_id"),
    )


def _moment(value: object) -> datetime | None:
    """A unix time in seconds (the plugin's `ts`)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: object, what: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise PayloadError(f"{what} is missing")
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{what} is not text")
    text = value.strip()
    if required and not 0 < len(text) <= 255:
        raise PayloadError(f"{what} is empty or too long")
    return text or None


def _list(value: object, what: str) -> list[Any]:
    if value is None or value == {}:  # PHP encodes an empty array as [] but an empty object as {}
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{what} is not a list")
    return value


def _email(value: object) -> str | None:
    if not isinstance(value, str) or "@" not in value or len(value) > 320:
        return None
    return value.strip() or None


def _locale(value: object) -> str | None:
    """The shopper's WordPress locale ("fr_FR", or WPML's "fr"); anything else reads as unknown."""
    if isinstance(value, str) and 0 < len(value.strip()) <= 35:
        return value.strip()
    return None


def _currency(value: object) -> str | None:
    if isinstance(value, str) and len(value.strip()) == 3 and value.strip().isalpha():
        return value.strip().upper()
    return None
