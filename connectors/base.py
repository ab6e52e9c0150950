"""Platform-neutral facts and the small interface every store connector implements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol


class PayloadError(ValueError):
    """An authentic payload that cannot be turned into facts (kept as a failed event)."""


class StoreError(RuntimeError):
    """A store API call failed; `transient` says whether a retry may succeed."""

    def __init__(self, message: str, *, transient: bool = False, code: str = "") -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code


class CodeTaken(StoreError):
    """The store already has a discount with this code."""


# StoreError.code of a CodeTaken whose discount is not Relance's (the merchant's or another app's).
FOREIGN_CODE = "code_taken_by_another_discount"


@dataclass(frozen=True)
class Envelope:
    """Who sent a delivery and what it is: the identity that de-duplicates it."""

    topic: str
    delivery_key: str
    triggered_at: datetime | None = None


@dataclass(frozen=True)
class CustomerSeen:
    external_id: str | None
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    country: str | None = None
    accepts_marketing: bool | None = None  # None: the payload does not say
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # The platform withheld the person's name and contact (Shopify: protected customer data not granted).
    redacted: bool = False
    # The language the person shops in, as the store gave it ("fr", "fr-FR", "fr_FR"); the bridge
    # normalises it (campaigns.locales). None: the payload does not say.
    locale: str | None = None


@dataclass(frozen=True)
class ConsentChanged:
    external_id: str | None
    email: str | None
    accepts_marketing: bool
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Activity:
    # One of scoring.ACTIVITY_KINDS: scoring owns the words (the rules, their labels, the admin form) and
    # connectors only emit four of them (account_created, add_to_cart, checkout_started, order_placed);
    # tests/unit/connectors hold every fact we emit to that list, since neither package imports the other.
    kind: str
    occurred_at: datetime
    ref: str = ""
    external_id: str | None = None
    email: str | None = None
    # The product a storefront view or add-to-cart was about (the store's own ids), when the event names one.
    product_id: str | None = None
    variant_id: str | None = None


@dataclass(frozen=True)
class LineItem:
    title: str
    quantity: int
    price: Decimal
    product_id: str | None = None
    variant_id: str | None = None
    sku: str | None = None
    # What the payload says of the product itself, when it says it (None: it does not): the variant's own
    # name, the product's title apart from the variant, and a picture of it.
    variant_title: str | None = None
    product_title: str | None = None
    image_url: str | None = None


@dataclass(frozen=True)
class CartSnapshot:
    token: str | None
    checkout_token: str | None
    email: str | None
    customer_external_id: str | None
    currency: str | None
    subtotal: Decimal
    items: tuple[LineItem, ...]
    recovery_url: str | None
    updated_at: datetime
    source: Mapping[str, str] = field(default_factory=dict)
    accepts_marketing: bool | None = None
    completed: bool = False
    locale: str | None = None  # the shopper's language as the store gave it (CustomerSeen.locale)


@dataclass(frozen=True)
class OrderPlaced:
    order_id: str
    cart_token: str | None
    checkout_token: str | None
    email: str | None
    customer_external_id: str | None
    total: Decimal
    currency: str | None
    discount_codes: tuple[str, ...]
    created_at: datetime
    source: Mapping[str, str] = field(default_factory=dict)
    # What the order got from each code, keyed by the upper-cased code; a code whose amount the
    # payload does not give (or gives unreadably) is absent: its cost is unknown, not zero.
    discounts: Mapping[str, Decimal] = field(default_factory=dict)
    locale: str | None = None  # the buyer's language as the store gave it (CustomerSeen.locale)
    items: tuple[LineItem, ...] = ()  # what was bought (the product store's "bought")


def discounts_by_code(amounts: Iterable[tuple[str | None, Decimal | None]]) -> dict[str, Decimal]:
    """`OrderPlaced.discounts` from (code, amount) pairs: summed per upper-cased code; a code with any
    missing or negative amount is left out, since part of its cost would be unknown."""
    totals: dict[str, Decimal] = {}
    unknown: set[str] = set()
    for raw_code, amount in amounts:
        code = (raw_code or "").strip().upper()
        if not code:
            continue
        if amount is None or not amount.is_finite() or amount < 0:
            unknown.add(code)
        else:
            totals[code] = totals.get(code, Decimal(0)) + amount
    return {code: total for code, total in totals.items() if code not in unknown}


@dataclass(frozen=True)
class OrderCancelled:
    order_id: str
    occurred_at: datetime


# The privacy and lifecycle facts carry the shop their payload names (`shop_domain`, None when it names
# none): one app secret signs every shop's deliveries, so a captured body can be sent again with another
# shop's header, and the bridge must not act on it for that shop.


@dataclass(frozen=True)
class CustomerRedact:
    external_id: str | None
    email: str | None
    shop_domain: str | None = None


@dataclass(frozen=True)
class DataRequest:
    external_id: str | None
    email: str | None
    request_id: str | None = None
    shop_domain: str | None = None


@dataclass(frozen=True)
class ShopRedact:
    shop_domain: str | None = None


@dataclass(frozen=True)
class AppUninstalled:
    shop_domain: str | None = None


@dataclass(frozen=True)
class ShopUpdated:
    """The shop's own details as the store now has them (None: the payload does not say)."""

    name: str | None
    currency: str | None
    timezone: str | None
    updated_at: datetime | None = None
    primary_locale: str | None = None  # the shop's default language, as the store gave it


@dataclass(frozen=True)
class ScopesGranted:
    """The access scopes the merchant has now granted the app."""

    scopes: tuple[str, ...]
    updated_at: datetime | None = None


@dataclass(frozen=True)
class VisitorSeen:
    """A storefront browser: the web pixel's client id, or the companion plugin's session as "wp:<key>",
    with the cart or checkout tokens it used, and whom the event names, if anyone (`external_id`, `email`).
    Only an event the store signed (the plugin's) identifies the visitor by them; its earlier history then
    joins that lead."""

    client_id: str
    occurred_at: datetime
    tokens: tuple[str, ...] = ()
    external_id: str | None = None
    email: str | None = None


Fact = (
    CustomerSeen
    | ConsentChanged
    | Activity
    | CartSnapshot
    | OrderPlaced
    | OrderCancelled
    | CustomerRedact
    | DataRequest
    | ShopRedact
    | AppUninstalled
    | ShopUpdated
    | ScopesGranted
    | VisitorSeen
)


@dataclass(frozen=True)
class DiscountSpec:
    """What a one-time code must be on the store.

    Single use, valid from `starts_at` to `ends_at`. Bound to the store's customer when
    `customer_external_id` is known (Shopify) and to `email` where the store can (WooCommerce); a guest
    with neither gets a code anyone could type, bounded by its one use and its short expiry."""

    code: str
    title: str
    kind: str  # one of DISCOUNT_KINDS
    value: Decimal  # percent (10 = 10 %) or an amount in `currency`; ignored for "free_shipping"
    currency: str | None
    starts_at: datetime
    ends_at: datetime
    customer_external_id: str | None = None
    email: str | None = None
    minimum_subtotal: Decimal | None = None  # the order's subtotal must reach it (None or 0: no minimum)

    @property
    def minimum(self) -> Decimal | None:
        """The subtotal the order must reach, or None when there is no minimum."""
        wanted = self.minimum_subtotal
        return wanted if wanted is not None and wanted.is_finite() and wanted > 0 else None


DISCOUNT_KINDS = ("percentage", "fixed_amount", "free_shipping")


def relance_title(reason: str, code: str) -> str:
    """The title (WooCommerce: description) Relance gives a code: "Relance <reason> <CODE>"."""
    return f"Relance {reason.replace('_', ' ')} {code}"


def made_by_relance(title: object, code: str) -> bool:
    """Whether a discount's title (WooCommerce: description) is one Relance gives its codes,
    "Relance <reason> <CODE>" (relance_title)."""
    if not isinstance(title, str):
        return False
    words = title.split()
    return len(words) >= 3 and words[0] == "Relance" and words[-1].upper() == code.strip().upper()


@dataclass(frozen=True)
class DiscountRef:
    """A discount as the store knows it."""

    code: str
    platform_id: str
    active: bool = True


class WebhookAdapter(Protocol):
    """Inbound side of a connector: authenticity, identity and normalization."""

    platform: str

    def is_ping(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """True for an unsigned request the platform sends only to test the address (answered 200 and
        not stored); never true for a delivery that carries a signature."""
        ...

    def verify(self, raw: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> bool:
        """True when the delivery is signed with one of `secrets`."""
        ...

    def envelope(self, raw: bytes, headers: Mapping[str, str]) -> Envelope:
        """Topic and de-duplication key of a verified delivery."""
        ...

    def normalize(self, topic: str, payload: Mapping[str, object]) -> list[Fact]:
        """Facts carried by one payload; raises PayloadError when it cannot be read."""
        ...


@dataclass(frozen=True)
class ProductDetails:
    """A product as the store's API describes it (what the payloads do not say)."""

    product_id: str
    title: str | None
    handle: str | None = None
    url: str | None = None
    image_url: str | None = None
    collections: tuple[str, ...] = ()  # Shopify collections' handles, WooCommerce categories' slugs
    tags: tuple[str, ...] = ()
    price: Decimal | None = (
        None  # the lowest variant's (Shopify) or the product's current price (WooCommerce)
    )
    currency: str | None = None  # None: the shop's currency (WooCommerce prices are in it)


class StoreClient(Protocol):
    """Outbound side of a connector, bound to one shop's credentials."""

    def find_discount(self, code: str) -> DiscountRef | None:
        """Relance's discount with this code, if the store has one (someone else's is not returned)."""
        ...

    def create_discount(self, spec: DiscountSpec) -> DiscountRef:
        """Create the code, or return our own from an earlier attempt; raises CodeTaken (code
        FOREIGN_CODE when the code belongs to someone else's discount) or StoreError."""
        ...

    def delete_discount(self, ref: DiscountRef) -> None:
        """Remove (or deactivate) a discount."""
        ...

    def product_details(self, product_id: str) -> ProductDetails | None:
        """The product's title, link, picture, collections (or categories) and tags; None when the store
        no longer has it. Raises StoreError (transient when a retry may succeed)."""
        ...
