"""The GraphQL documents Relance sends to the Shopify Admin API (2026-10), their variables and results.

Every document here is validated against Shopify's published schema by `tests/.../test_graphql_schema.py`.
The reconciliation reads (ABANDONED_CHECKOUTS, ORDERS) are reshaped into the payloads webhooks deliver by
connectors.shopify.payloads, so they go through the same normalization path; the `name as name` imports
keep the names that lived here before payloads.py importable from here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.base import DISCOUNT_KINDS, DiscountSpec, ProductDetails
from connectors.shopify.payloads import checkout_payload as checkout_payload
from connectors.shopify.payloads import checkout_token_from_url as checkout_token_from_url
from connectors.shopify.payloads import legacy_id as legacy_id
from connectors.shopify.payloads import order_payload as order_payload

API_VERSION = "2026-10"

USER_ERRORS = "userErrors { field code message extraInfo }"

CREATE_DISCOUNT = f"""
mutation RelanceDiscountCreate($input: DiscountCodeBasicInput!) {{
  discountCodeBasicCreate(basicCodeDiscount: $input) {{
    codeDiscountNode {{ id codeDiscount {{ ... on DiscountCodeBasic {{ title status }} }} }}
    {USER_ERRORS}
  }}
}}
"""

# A free-shipping code is another kind of discount on Shopify, with its own mutation (and no customerGets).
CREATE_FREE_SHIPPING = f"""
mutation RelanceFreeShippingCreate($input: DiscountCodeFreeShippingInput!) {{
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) {{
    codeDiscountNode {{ id codeDiscount {{ ... on DiscountCodeFreeShipping {{ title status }} }} }}
    {USER_ERRORS}
  }}
}}
"""

FIND_DISCOUNT = """
query RelanceDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
    codeDiscount {
      __typename
      ... on DiscountCodeBasic { title status }
      ... on DiscountCodeBxgy { title status }
      ... on DiscountCodeFreeShipping { title status }
      ... on DiscountCodeApp { title status }
    }
  }
}
"""

DELETE_DISCOUNT = f"""
mutation RelanceDiscountDelete($id: ID!) {{
  discountCodeDelete(id: $id) {{ deletedCodeDiscountId {USER_ERRORS} }}
}}
"""

DEACTIVATE_DISCOUNT = f"""
mutation RelanceDiscountDeactivate($id: ID!) {{
  discountCodeDeactivate(id: $id) {{
    codeDiscountNode {{
      id
      codeDiscount {{
        ... on DiscountCodeBasic {{ title status }}
        ... on DiscountCodeFreeShipping {{ title status }}
      }}
    }}
    {USER_ERRORS}
  }}
}}
"""

LIST_WEBHOOKS = """
query RelanceWebhooks($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CREATE_WEBHOOK = """
mutation RelanceWebhookCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

DELETE_WEBHOOK = """
mutation RelanceWebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}
"""

_PIXEL_FIELDS = "webPixel { id settings } userErrors { field code message }"
PIXEL_CREATE = f"""
mutation RelancePixelCreate($webPixel: WebPixelInput!) {{
  webPixelCreate(webPixel: $webPixel) {{ {_PIXEL_FIELDS} }}
}}
"""
PIXEL_UPDATE = f"""
mutation RelancePixelUpdate($id: ID!, $webPixel: WebPixelInput!) {{
  webPixelUpdate(id: $id, webPixel: $webPixel) {{ {_PIXEL_FIELDS} }}
}}
"""
PIXEL_FIND = "query RelancePixel { webPixel { id } }"

SHOP = "query RelanceShop { shop { name currencyCode ianaTimezone myshopifyDomain } }"
# Needs the read_locales scope (or read_markets_home): kept apart from SHOP, so that an install that has not
# granted it still reads the shop's details.
SHOP_LOCALES = "query RelanceShopLocales { shopLocales { locale primary } }"

# Needs the write_customers scope. Only SUBSCRIBED, UNSUBSCRIBED and PENDING may be set.
UPDATE_EMAIL_CONSENT = """
mutation RelanceEmailConsent($input: CustomerEmailMarketingConsentUpdateInput!) {
  customerEmailMarketingConsentUpdate(input: $input) {
    customer { id defaultEmailAddress { marketingState marketingUpdatedAt } }
    userErrors { field code message }
  }
}
"""

# Page sizes keep one page near 600 points, well under Shopify's 1000-point cap per query.
PAGE_SIZE = 10
_MONEY = "{ shopMoney { amount currencyCode } }"
_CUSTOMER = "customer { id firstName lastName locale defaultEmailAddress { emailAddress marketingState } }"
_LINE_ITEMS = (
    "lineItems(first: 10) { nodes { title variantTitle quantity sku variant { id } product { id }"
    " originalUnitPriceSet { shopMoney { amount } } } }"
)

ABANDONED_CHECKOUTS = f"""
query RelanceAbandonedCheckouts($first: Int!, $after: String, $query: String) {{
  abandonedCheckouts(first: $first, after: $after, query: $query) {{
    nodes {{
      id abandonedCheckoutUrl discountCodes createdAt updatedAt completedAt
      totalPriceSet {_MONEY}
      subtotalPriceSet {_MONEY}
      {_CUSTOMER}
      {_LINE_ITEMS}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

ORDERS = f"""
query RelanceOrders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{
      id name email cartToken checkoutToken currencyCode discountCodes customerAcceptsMarketing
      customerLocale sourceName createdAt updatedAt cancelledAt
      totalPriceSet {_MONEY}
      subtotalPriceSet {_MONEY}
      {_CUSTOMER}
      {_LINE_ITEMS}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

# Needs the read_products scope. A product the shop no longer has answers `product: null`.
PRODUCT = """
query RelanceProduct($id: ID!) {
  product(id: $id) {
    id title handle onlineStoreUrl tags
    featuredMedia { preview { image { url } } }
    priceRangeV2 { minVariantPrice { amount currencyCode } }
    collections(first: 20) { nodes { handle title } }
  }
}
"""

DOCUMENTS: dict[str, str] = {
    "CREATE_DISCOUNT": CREATE_DISCOUNT,
    "CREATE_FREE_SHIPPING": CREATE_FREE_SHIPPING,
    "FIND_DISCOUNT": FIND_DISCOUNT,
    "DELETE_DISCOUNT": DELETE_DISCOUNT,
    "DEACTIVATE_DISCOUNT": DEACTIVATE_DISCOUNT,
    "LIST_WEBHOOKS": LIST_WEBHOOKS,
    "CREATE_WEBHOOK": CREATE_WEBHOOK,
    "DELETE_WEBHOOK": DELETE_WEBHOOK,
    "PIXEL_CREATE": PIXEL_CREATE,
    "PIXEL_UPDATE": PIXEL_UPDATE,
    "PIXEL_FIND": PIXEL_FIND,
    "SHOP": SHOP,
    "SHOP_LOCALES": SHOP_LOCALES,
    "UPDATE_EMAIL_CONSENT": UPDATE_EMAIL_CONSENT,
    "ABANDONED_CHECKOUTS": ABANDONED_CHECKOUTS,
    "ORDERS": ORDERS,
    "PRODUCT": PRODUCT,
}

# A recovery code is an order discount: it should not stack with other order discounts, but it
# should still work on carts that carry product sales or free shipping.
COMBINES_WITH = {"orderDiscounts": False, "productDiscounts": True, "shippingDiscounts": True}
# A free-shipping code is a shipping discount: it may go with order and product discounts, not with
# another shipping discount.
FREE_SHIPPING_COMBINES_WITH = {"orderDiscounts": True, "productDiscounts": True, "shippingDiscounts": False}


def iso(moment: datetime) -> str:
    """ISO-8601 UTC text as Shopify expects it (naive datetimes are taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gid(kind: str, external_id: str) -> str:
    """Shopify global id for a REST-style numeric id (already global ids pass through)."""
    return external_id if external_id.startswith("gid://") else f"gid://shopify/{kind}/{external_id}"


def discount_document(spec: DiscountSpec) -> tuple[str, str]:
    """The mutation that creates `spec`'s kind of code, and the field its answer comes under."""
    if spec.kind not in DISCOUNT_KINDS:
        raise ValueError(f"unknown discount kind {spec.kind!r}")
    if spec.kind == "free_shipping":
        return CREATE_FREE_SHIPPING, "discountCodeFreeShippingCreate"
    return CREATE_DISCOUNT, "discountCodeBasicCreate"


def discount_variables(spec: DiscountSpec) -> dict[str, Any]:
    """Variables of discount_document(spec): a single-use code, for one customer when the customer is
    known; a guest's code is open to anyone (`all`), bounded by its one use and its expiry."""
    if spec.customer_external_id:
        context: dict[str, Any] = {"customers": {"add": [gid("Customer", spec.customer_external_id)]}}
    else:
        context = {"all": "ALL"}
    data: dict[str, Any] = {
        "title": spec.title,
        "code": spec.code,
        "startsAt": iso(spec.starts_at),
        "endsAt": iso(spec.ends_at),
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "context": context,
    }
    if spec.kind == "free_shipping":
        data["destination"] = {"all": True}
        data["combinesWith"] = dict(FREE_SHIPPING_COMBINES_WITH)
    else:
        data["customerGets"] = {"value": _value(spec), "items": {"all": True}}
        data["combinesWith"] = dict(COMBINES_WITH)
    minimum = spec.minimum
    if minimum is not None:
        data["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": str(minimum)}}
    return {"input": data}


def _value(spec: DiscountSpec) -> dict[str, Any]:
    """`customerGets.value` of a percentage or fixed-amount code."""
    if spec.kind == "percentage":
        return {"percentage": float(spec.value / Decimal(100))}
    if spec.kind == "fixed_amount":
        return {"discountAmount": {"amount": str(spec.value), "appliesOnEachItem": False}}
    raise ValueError(f"unknown discount kind {spec.kind!r}")


def primary_locale(shop_locales: object) -> str | None:
    """The `locale` of the entry marked `primary` in a shopLocales answer (None when none is)."""
    for entry in shop_locales if isinstance(shop_locales, list) else []:
        if isinstance(entry, dict) and entry.get("primary") is True and isinstance(entry.get("locale"), str):
            return str(entry["locale"])
    return None


def email_consent_variables(customer_external_id: str, subscribed: bool, at: datetime) -> dict[str, Any]:
    """Variables of UPDATE_EMAIL_CONSENT: the customer's email marketing state as of `at`."""
    consent: dict[str, Any] = {
        "marketingState": "SUBSCRIBED" if subscribed else "UNSUBSCRIBED",
        "consentUpdatedAt": iso(at),
    }
    if subscribed:
        consent["marketingOptInLevel"] = "SINGLE_OPT_IN"
    return {"input": {"customerId": gid("Customer", customer_external_id), "emailMarketingConsent": consent}}


def webhook_topic(topic: str) -> str:
    """GraphQL enum form of a topic: "orders/paid" -> "ORDERS_PAID"."""
    return topic.strip().replace("/", "_").upper()


def updated_since(since: datetime) -> str:
    """Search-syntax filter for records updated at or after `since`."""
    return f"updated_at:>='{iso(since)}'"


def product_details(product_id: str, node: object) -> ProductDetails | None:
    """A PRODUCT answer's product as ProductDetails (None when the shop no longer has it); collections by
    handle, tags as the merchant typed them."""
    if not isinstance(node, dict):
        return None
    media = node.get("featuredMedia") or {}
    image = ((media.get("preview") or {}).get("image") or {}) if isinstance(media, dict) else {}
    collections = ((node.get("collections") or {}).get("nodes")) or []
    lowest = (node.get("priceRangeV2") or {}).get("minVariantPrice") or {}
    return ProductDetails(
        product_id=product_id,
        title=_text(node.get("title")),
        handle=_text(node.get("handle")),
        url=_text(node.get("onlineStoreUrl")),
        image_url=_text(image.get("url")) if isinstance(image, dict) else None,
        collections=tuple(h for c in collections if isinstance(c, dict) and (h := _text(c.get("handle")))),
        tags=tuple(t for tag in node.get("tags") or [] if (t := _text(tag))),
        price=_amount(lowest.get("amount")),
        currency=_text(lowest.get("currencyCode")),
    )


def _amount(value: object) -> Decimal | None:
    """A money amount as Shopify writes it ("12.50"); None when it is not one."""
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int) else None
    except ArithmeticError:
        return None
    return amount if amount is not None and amount.is_finite() and amount >= 0 else None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None
