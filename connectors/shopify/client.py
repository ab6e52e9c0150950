"""Shopify store operations for one shop over the Admin GraphQL API (connectors.shopify.admin_api):
discount codes, webhook subscriptions, marketing consent, the shop's details and reconciliation reads.

The `name as name` imports keep the names that lived here before admin_api.py importable from here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import (
    FOREIGN_CODE,
    CodeTaken,
    DiscountRef,
    DiscountSpec,
    ProductDetails,
    StoreError,
    made_by_relance,
)
from connectors.shopify import graphql as gql
from connectors.shopify.admin_api import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from connectors.shopify.admin_api import MAX_PAGES as MAX_PAGES
from connectors.shopify.admin_api import AdminApi
from connectors.shopify.admin_api import TokenProvider as TokenProvider
from connectors.shopify.payloads import checkout_payload, order_payload


@dataclass(frozen=True)
class ShopInfo:
    """What Relance keeps about the shop itself."""

    name: str
    currency: str
    timezone: str
    domain: str


class ShopifyClient(AdminApi):
    """StoreClient for one Shopify shop: what Relance does with the shop's Admin API (AdminApi)."""

    def find_discount(self, code: str) -> DiscountRef | None:
        """Relance's discount with this code, if the shop has one; the merchant's or another app's
        discount with the same code is not ours to send (create_discount then reports it)."""
        node = self._lookup(code)
        if node is None or not _ours_kind(node) or not made_by_relance(_title(node), code):
            return None
        return _ref(code, node)

    def create_discount(self, spec: DiscountSpec) -> DiscountRef:
        """Create the code (a basic discount, or a free-shipping one); a code already taken by our own
        earlier attempt is returned, not duplicated."""
        document, answer = gql.discount_document(spec)
        payload = self.execute(document, gql.discount_variables(spec))[answer]
        try:
            _raise_user_errors(payload["userErrors"])
        except CodeTaken as taken:
            node = self._lookup(spec.code)
            if node is None:
                raise
            if _ours_kind(node) and _title(node) == spec.title:
                return _ref(spec.code, node)
            message = f"{spec.code} belongs to another discount of the shop ({_title(node)!r})"
            raise CodeTaken(message, code=FOREIGN_CODE) from taken
        return _ref(spec.code, payload["codeDiscountNode"])

    def delete_discount(self, ref: DiscountRef) -> None:
        """Delete the discount; one that is already gone counts as deleted."""
        payload = self.execute(gql.DELETE_DISCOUNT, {"id": ref.platform_id})["discountCodeDelete"]
        if payload["userErrors"]:
            node = self._lookup(ref.code)
            if node is not None and node["id"] == ref.platform_id:
                _raise_user_errors(payload["userErrors"])

    def deactivate_discount(self, ref: DiscountRef) -> DiscountRef:
        """Pause the discount but keep it on the store (it shows as expired)."""
        payload = self.execute(gql.DEACTIVATE_DISCOUNT, {"id": ref.platform_id})["discountCodeDeactivate"]
        _raise_user_errors(payload["userErrors"])
        return DiscountRef(code=ref.code, platform_id=ref.platform_id, active=False)

    def _lookup(self, code: str) -> dict[str, Any] | None:
        node: dict[str, Any] | None = self.execute(gql.FIND_DISCOUNT, {"code": code})[
            "codeDiscountNodeByCode"
        ]
        return node

    def register_webhooks(self, address: str, topics: Iterable[str]) -> list[str]:
        """Subscribe `address` to each topic unless already subscribed; the subscription ids, in order."""
        existing = {
            (n["topic"], n["uri"]): n["id"] for n in self.pages(gql.LIST_WEBHOOKS, {}, "webhookSubscriptions")
        }
        ids = []
        for topic in dict.fromkeys(gql.webhook_topic(t) for t in topics):
            ids.append(existing.get((topic, address)) or self._create_webhook(topic, address))
        return ids

    def unregister_webhook(self, subscription_id: str) -> None:
        """Delete one webhook subscription."""
        payload = self.execute(gql.DELETE_WEBHOOK, {"id": subscription_id})["webhookSubscriptionDelete"]
        _raise_user_errors(payload["userErrors"], code="webhook_rejected")

    def _create_webhook(self, topic: str, address: str) -> str:
        variables = {"topic": topic, "sub": {"uri": address, "format": "JSON"}}
        payload = self.execute(gql.CREATE_WEBHOOK, variables)["webhookSubscriptionCreate"]
        _raise_user_errors(payload["userErrors"], code="webhook_rejected")
        return str(payload["webhookSubscription"]["id"])

    def set_email_marketing_consent(self, customer_external_id: str, subscribed: bool, at: datetime) -> str:
        """Record the customer's email marketing consent on Shopify as of `at`; the state Shopify now holds.

        Needs the write_customers scope (without it Shopify answers ACCESS_DENIED: a permanent error)."""
        variables = gql.email_consent_variables(customer_external_id, subscribed, at)
        payload = self.execute(gql.UPDATE_EMAIL_CONSENT, variables)["customerEmailMarketingConsentUpdate"]
        _raise_user_errors(payload["userErrors"], code="consent_rejected")
        email = ((payload.get("customer") or {}).get("defaultEmailAddress")) or {}
        return str(email.get("marketingState") or ("SUBSCRIBED" if subscribed else "UNSUBSCRIBED"))

    def save_web_pixel(self, settings: Mapping[str, str]) -> dict[str, Any]:
        """Create the shop's web pixel with `settings`, or update the one it has (a reinstall, with a new
        address); the mutation's answer, `{"webPixel": {"id", "settings"} | None, "userErrors": [...]}`."""
        variables: dict[str, Any] = {"webPixel": {"settings": json.dumps(settings)}}
        payload: dict[str, Any] = self.execute(gql.PIXEL_CREATE, variables)["webPixelCreate"] or {}
        if any(e.get("code") == "TAKEN" for e in payload.get("userErrors") or []):
            found = (self.execute(gql.PIXEL_FIND).get("webPixel") or {}).get("id")
            if found:
                payload = self.execute(gql.PIXEL_UPDATE, {"id": found, **variables})["webPixelUpdate"] or {}
        return payload

    def primary_locale(self) -> str | None:
        """The shop's primary locale ("fr", "en", ...), from shopLocales; needs the read_locales scope
        (a StoreError without it)."""
        return gql.primary_locale(self.execute(gql.SHOP_LOCALES).get("shopLocales"))

    def shop_info(self) -> ShopInfo:
        """Name, currency, time zone and myshopify domain of the shop."""
        shop = self.execute(gql.SHOP)["shop"]
        return ShopInfo(shop["name"], shop["currencyCode"], shop["ianaTimezone"], shop["myshopifyDomain"])

    def product_details(self, product_id: str) -> ProductDetails | None:
        """The product's title, handle, storefront link, featured picture, collections (handles) and tags;
        None when the shop no longer has it. Needs the read_products scope (ACCESS_DENIED without it)."""
        node = self.execute(gql.PRODUCT, {"id": gql.gid("Product", product_id)}).get("product")
        return gql.product_details(product_id, node)

    def recent_abandoned_checkouts(self, since: datetime) -> list[dict[str, Any]]:
        """Checkouts updated since `since`, shaped like checkouts/update webhook payloads."""
        variables = {"first": gql.PAGE_SIZE, "query": gql.updated_since(since)}
        return [
            checkout_payload(n) for n in self.pages(gql.ABANDONED_CHECKOUTS, variables, "abandonedCheckouts")
        ]

    def recent_orders(self, since: datetime) -> list[dict[str, Any]]:
        """Orders updated since `since`, shaped like orders/create webhook payloads."""
        variables = {"first": gql.PAGE_SIZE, "query": gql.updated_since(since)}
        return [order_payload(n) for n in self.pages(gql.ORDERS, variables, "orders")]


def _raise_user_errors(errors: Sequence[Mapping[str, Any]], code: str = "") -> None:
    """Turn `userErrors` into CodeTaken (the code already exists) or a permanent StoreError."""
    if not errors:
        return
    message = "; ".join(f"{'.'.join(e.get('field') or [])}: {e.get('message')}" for e in errors)
    for error in errors:
        field = list(error.get("field") or [""])
        if error.get("code") == "TAKEN" or (error.get("code") == "DUPLICATE" and field[-1] == "code"):
            raise CodeTaken(message, code="taken")
    first = str(errors[0].get("code") or "").lower()
    raise StoreError(message, transient=False, code=code or first or "user_error")


# The kinds of code discounts Relance creates (the merchant's buy-x-get-y or app discounts never are ours).
OUR_KINDS = ("DiscountCodeBasic", "DiscountCodeFreeShipping")


def _ours_kind(node: Mapping[str, Any]) -> bool:
    """A kind of discount Relance creates: a basic one, or a free-shipping one."""
    return (node.get("codeDiscount") or {}).get("__typename") in OUR_KINDS


def _title(node: Mapping[str, Any]) -> str:
    return str((node.get("codeDiscount") or {}).get("title") or "")


def _ref(code: str, node: Mapping[str, Any]) -> DiscountRef:
    status = (node.get("codeDiscount") or {}).get("status")
    return DiscountRef(code=code, platform_id=str(node["id"]), active=status != "EXPIRED")
