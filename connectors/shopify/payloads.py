"""Shopify's GraphQL reconciliation reads (graphql.ABANDONED_CHECKOUTS, graphql.ORDERS) reshaped into the
REST payloads that checkouts/update and orders/create webhooks deliver (the fields we can rebuild)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit


def legacy_id(global_id: str | None) -> int | str | None:
    """The numeric REST id inside a global id such as gid://shopify/Order/123."""
    if not global_id:
        return None
    tail = global_id.rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else tail


def _money(bag: Mapping[str, Any] | None) -> str | None:
    return None if not bag else str(bag["shopMoney"]["amount"])


def _customer(node: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not node:
        return None
    mail = node.get("defaultEmailAddress") or {}
    state = mail.get("marketingState")
    return {
        "id": legacy_id(node.get("id")),
        "email": mail.get("emailAddress"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "email_marketing_consent": {"state": state.lower()} if state else None,
        "locale": node.get("locale"),
    }


def _line_items(connection: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    items = []
    for line in (connection or {}).get("nodes", []):
        price = (line.get("originalUnitPriceSet") or {}).get("shopMoney") or {}
        items.append(
            {
                "title": line.get("title"),
                "variant_title": line.get("variantTitle"),
                "quantity": line.get("quantity"),
                "sku": line.get("sku"),
                "price": price.get("amount"),
                "product_id": legacy_id((line.get("product") or {}).get("id")),
                "variant_id": legacy_id((line.get("variant") or {}).get("id")),
            }
        )
    return items


def _common(node: Mapping[str, Any]) -> dict[str, Any]:
    customer = _customer(node.get("customer"))
    total = node.get("totalPriceSet") or {}
    return {
        "id": legacy_id(node["id"]),
        "admin_graphql_api_id": node["id"],
        "customer": customer,
        "email": node.get("email") or (customer or {}).get("email"),
        "total_price": _money(total),
        "subtotal_price": _money(node.get("subtotalPriceSet")),
        "currency": node.get("currencyCode") or (total.get("shopMoney") or {}).get("currencyCode"),
        "discount_codes": [{"code": code} for code in node.get("discountCodes") or []],
        "line_items": _line_items(node.get("lineItems")),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
    }


def checkout_token_from_url(url: str | None) -> str | None:
    """The checkout token in a recovery URL such as https://shop/123/checkouts/<token>/recover?key=..."""
    parts = urlsplit(url or "").path.strip("/").split("/")
    if len(parts) >= 3 and parts[-1] == "recover" and "checkouts" in parts[:-2]:
        return parts[-2]
    return None


def checkout_payload(node: Mapping[str, Any]) -> dict[str, Any]:
    """A GraphQL AbandonedCheckout as the REST-shaped checkouts/update payload (fields we can rebuild)."""
    url = node.get("abandonedCheckoutUrl")
    return {
        **_common(node),
        "token": checkout_token_from_url(url),
        "cart_token": None,
        "abandoned_checkout_url": url,
        "completed_at": node.get("completedAt"),
    }


def order_payload(node: Mapping[str, Any]) -> dict[str, Any]:
    """A GraphQL Order as the REST-shaped orders/create payload (fields we can rebuild)."""
    return {
        **_common(node),
        "name": node.get("name"),
        "cart_token": node.get("cartToken"),
        "checkout_token": node.get("checkoutToken"),
        "buyer_accepts_marketing": node.get("customerAcceptsMarketing"),
        "customer_locale": node.get("customerLocale"),
        "source_name": node.get("sourceName"),
        "cancelled_at": node.get("cancelledAt"),
    }
