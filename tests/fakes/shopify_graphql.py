"""GraphQL half of the fake Shopify: the real 2026-10 schema, a cost model, and the operations we send.

Cost model (a simplification of Shopify's calculated query cost): a mutation costs 10 points; in a query
a scalar costs 0, an object 1 plus its fields, a connection 2 plus `first` times its selection.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import json
import os
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    VariableNode,
    build_client_schema,
)

ROOT = Path(__file__).resolve().parents[2]
# Shopify's published schema, as `make test` fetches it (the Makefile's `schema` target: npm's
# @shopify/dev-mcp package, sha256 pinned); SHOPIFY_ADMIN_SCHEMA may name another copy.
SCHEMA_PATH = ROOT / ".cache" / "shopify" / "admin_2026-10.json.gz"
MUTATION_COST = 10
MAX_QUERY_COST = 1000
_SINCE = re.compile(r"updated_at:>=\s*'?([^' ]+)'?")


class SchemaMissing(FileNotFoundError):
    """The Admin schema file is not there: the tests that talk GraphQL cannot run."""


def schema_path() -> Path:
    """Where the Admin schema is; SchemaMissing, saying how to get it, when it is not there."""
    path = Path(os.environ.get("SHOPIFY_ADMIN_SCHEMA") or SCHEMA_PATH)
    if not path.is_file():
        raise SchemaMissing(
            f"Shopify's Admin API schema is missing ({path}). `make test` fetches it before the tests "
            "(or run `make schema`: npm pack @shopify/dev-mcp, sha256 checked, into .cache/shopify/)."
        )
    return path


@functools.cache
def admin_schema() -> GraphQLSchema:
    """Shopify's published Admin API schema for 2026-10 (built once per process)."""
    with gzip.open(schema_path()) as raw:
        return build_client_schema(json.load(raw)["data"], assume_valid=True)


def query_cost(document: DocumentNode, variables: dict[str, Any]) -> int:
    """Requested cost of the document's first operation under the simple model above."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST
    return sum(_cost(s, variables) for s in operation.selection_set.selections)


def _cost(node: SelectionNode, variables: dict[str, Any]) -> int:
    if isinstance(node, InlineFragmentNode):
        return sum(_cost(s, variables) for s in node.selection_set.selections)
    if not isinstance(node, FieldNode) or node.selection_set is None:
        return 0
    inner = sum(_cost(s, variables) for s in node.selection_set.selections)
    first = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
    if isinstance(first, VariableNode):
        size = variables.get(first.name.value)
    else:
        size = int(first.value) if isinstance(first, IntValueNode) else None
    return 1 + inner if size is None else 2 + int(size) * inner


def _page(
    items: list[dict[str, Any]], first: int | None, after: str | None, query: str | None
) -> dict[str, Any]:
    match = _SINCE.search(query or "")
    if match:
        since = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
        items = [i for i in items if datetime.fromisoformat(i["updatedAt"].replace("Z", "+00:00")) >= since]
    start = int(after) if after else 0
    page = items[start : start + (first or 50)]
    end = start + len(page)
    info = {"hasNextPage": end < len(items), "hasPreviousPage": start > 0}
    return {"nodes": page, "pageInfo": {**info, "startCursor": str(start), "endCursor": str(end)}}


def _error(field: list[str], code: str | None, message: str) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message, "extraInfo": None}


def _consent_error(field: list[str], code: str, message: str) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message}  # this error type has no extraInfo


# Fields Shopify refuses (ACCESS_DENIED) unless the token was granted this scope.
REQUIRED_SCOPES = {
    "customerEmailMarketingConsentUpdate": "write_customers",
    "shopLocales": "read_locales",
    "product": "read_products",
}


class FakeAdminData:
    """The shop's records and the resolvers of every operation Relance sends."""

    def __init__(self, shop: str) -> None:
        schema_path()  # a fake store without the schema would answer 500s: say what is missing instead
        self.shop = {"name": "Relance Test", "currencyCode": "EUR", "ianaTimezone": "Europe/Paris"}
        self.shop["myshopifyDomain"] = shop
        self.discounts: dict[str, dict[str, Any]] = {}  # lower-cased code -> node (+ "code", "input")
        self.webhooks: list[dict[str, Any]] = []
        self.checkouts: list[dict[str, Any]] = []  # GraphQL-shaped AbandonedCheckout nodes
        self.orders: list[dict[str, Any]] = []  # GraphQL-shaped Order nodes
        self.customers: dict[str, dict[str, Any]] = {}  # gid -> GraphQL-shaped Customer node
        self.consent_updates: list[dict[str, Any]] = []  # each accepted emailMarketingConsent input
        self.products: dict[str, dict[str, Any]] = {}  # gid -> GraphQL-shaped Product node (none: null)
        # The shop's languages (ShopLocale); Shopify always has exactly one primary locale.
        self.locales: list[dict[str, Any]] = [
            {"locale": "fr", "name": "French", "primary": True, "published": True},
            {"locale": "en", "name": "English", "primary": False, "published": True},
        ]
        self._ids = itertools.count(1001)

    def root(self) -> dict[str, Any]:
        """Root value for graphql-core: each field our documents use, as a resolver."""
        return {
            "discountCodeBasicCreate": self._create_discount,
            "discountCodeFreeShippingCreate": self._create_free_shipping,
            "shopLocales": lambda _info, published=False: [
                entry for entry in self.locales if entry["published"] or not published
            ],
            "codeDiscountNodeByCode": lambda _info, code: self.discounts.get(code.lower()),
            "discountCodeDelete": self._delete_discount,
            "discountCodeDeactivate": self._deactivate_discount,
            "webhookSubscriptions": lambda _info, first=None, after=None, **_: _page(
                self.webhooks, first, after, None
            ),
            "webhookSubscriptionCreate": self._create_webhook,
            "webhookSubscriptionDelete": self._delete_webhook,
            "shop": self.shop,
            "abandonedCheckouts": lambda _info, first=None, after=None, query=None, **_: _page(
                self._with_locales(self.checkouts), first, after, query
            ),
            "orders": lambda _info, first=None, after=None, query=None, **_: _page(
                self._with_locales(self.orders), first, after, query
            ),
            "customerEmailMarketingConsentUpdate": self._update_email_consent,
            "product": lambda _info, id: self.products.get(id),
        }

    def primary_locale(self) -> str:
        """The shop's primary locale (what a customer who never chose one has as Customer.locale)."""
        return str(next(entry["locale"] for entry in self.locales if entry["primary"]))

    def _with_locales(self, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """As Shopify: Customer.locale is never null; a customer who never chose one has the shop's."""
        shown = []
        for node in nodes:
            customer = node.get("customer")
            if customer and not customer.get("locale"):
                node = {**node, "customer": {**customer, "locale": self.primary_locale()}}
            shown.append(node)
        return shown

    def _update_email_consent(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        """As Shopify: only SUBSCRIBED, UNSUBSCRIBED and PENDING can be set, on a customer with an email."""
        customer = self.customers.get(input["customerId"])
        consent = input["emailMarketingConsent"]
        field = ["input", "customerId"]
        if customer is None:
            return {"customer": None, "userErrors": [_consent_error(field, "INVALID", "Customer not found")]}
        email = customer.get("defaultEmailAddress")
        if not email or not email.get("emailAddress"):
            message = "An email address is required to update the marketing consent"
            return {"customer": None, "userErrors": [_consent_error(field, "INVALID", message)]}
        if consent["marketingState"] not in ("SUBSCRIBED", "UNSUBSCRIBED", "PENDING"):
            path = ["input", "emailMarketingConsent", "marketingState"]
            return {"customer": None, "userErrors": [_consent_error(path, "INCLUSION", "is not included")]}
        email["marketingState"] = consent["marketingState"]
        email["marketingUpdatedAt"] = consent.get("consentUpdatedAt")
        self.consent_updates.append({"customerId": input["customerId"], **consent})
        return {"customer": customer, "userErrors": []}

    def _create_discount(self, _info: Any, basicCodeDiscount: dict[str, Any]) -> dict[str, Any]:
        data = basicCodeDiscount
        errors = self._discount_errors(data)
        if errors:
            return {"codeDiscountNode": None, "userErrors": errors}
        node = {
            "id": f"gid://shopify/DiscountCodeNode/{next(self._ids)}",
            "code": data["code"],
            "input": data,
            "codeDiscount": {"__typename": "DiscountCodeBasic", "title": data["title"], "status": "ACTIVE"},
        }
        self.discounts[data["code"].lower()] = node
        return {"codeDiscountNode": node, "userErrors": []}

    def _create_free_shipping(self, _info: Any, freeShippingCodeDiscount: dict[str, Any]) -> dict[str, Any]:
        data = freeShippingCodeDiscount
        errors = self._discount_errors(
            data, "freeShippingCodeDiscount", ("code", "title", "startsAt", "context")
        )
        if errors:
            return {"codeDiscountNode": None, "userErrors": errors}
        node = {
            "id": f"gid://shopify/DiscountCodeNode/{next(self._ids)}",
            "code": data["code"],
            "input": data,
            "codeDiscount": {
                "__typename": "DiscountCodeFreeShipping",
                "title": data["title"],
                "status": "ACTIVE",
            },
        }
        self.discounts[data["code"].lower()] = node
        return {"codeDiscountNode": node, "userErrors": []}

    def _discount_errors(
        self,
        data: dict[str, Any],
        argument: str = "basicCodeDiscount",
        required: tuple[str, ...] = ("code", "title", "startsAt", "customerGets", "context"),
    ) -> list[dict[str, Any]]:
        field = [argument]
        errors = [_error([*field, k], "BLANK", f"{k} can't be blank") for k in required if not data.get(k)]
        if data.get("customerSelection") is not None and data.get("context") is not None:
            message = "Only one of context or customerSelection can be provided."
            errors.append(_error([*field, "customerSelection"], "INVALID", message))
        if errors:
            return errors
        if data["code"].lower() in self.discounts:
            errors.append(
                _error([*field, "code"], "TAKEN", "Code must be unique. Please try a different code.")
            )
        if len(data["context"]) != 1:
            errors.append(_error([*field, "context"], "INVALID", "Specify exactly one context."))
        percentage = ((data.get("customerGets") or {}).get("value") or {}).get("percentage")
        if percentage is not None and not 0 <= percentage <= 1:
            errors.append(_error([*field, "customerGets"], "VALUE_OUTSIDE_RANGE", "Percentage is 0..1."))
        if data.get("endsAt") and data["endsAt"] <= data["startsAt"]:
            errors.append(_error([*field, "endsAt"], "END_DATE_BEFORE_START_DATE", "Ends before it starts."))
        subtotal = ((data.get("minimumRequirement") or {}).get("subtotal") or {}).get(
            "greaterThanOrEqualToSubtotal"
        )
        if subtotal is not None and Decimal(str(subtotal)) <= 0:
            path = [*field, "minimumRequirement", "subtotal", "greaterThanOrEqualToSubtotal"]
            errors.append(_error(path, "GREATER_THAN", "Minimum subtotal must be greater than 0"))
        return errors

    def _by_id(self, gid: str) -> dict[str, Any] | None:
        return next((n for n in self.discounts.values() if n["id"] == gid), None)

    def _delete_discount(self, _info: Any, id: str) -> dict[str, Any]:
        node = self._by_id(id)
        if node is None:
            return {
                "deletedCodeDiscountId": None,
                "userErrors": [_error(["id"], "INVALID", "Discount not found")],
            }
        del self.discounts[node["code"].lower()]
        return {"deletedCodeDiscountId": id, "userErrors": []}

    def _deactivate_discount(self, _info: Any, id: str) -> dict[str, Any]:
        node = self._by_id(id)
        if node is None:
            return {"codeDiscountNode": None, "userErrors": [_error(["id"], "INVALID", "Discount not found")]}
        node["codeDiscount"]["status"] = "EXPIRED"
        return {"codeDiscountNode": node, "userErrors": []}

    def _create_webhook(self, _info: Any, topic: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
        uri = webhookSubscription.get("uri")
        if not uri:
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": ["uri"], "message": "can't be blank"}],
            }
        if any(w["topic"] == topic and w["uri"] == uri for w in self.webhooks):
            taken = {"field": ["uri"], "message": "Address for this topic has already been taken"}
            return {"webhookSubscription": None, "userErrors": [taken]}
        sub = {"id": f"gid://shopify/WebhookSubscription/{next(self._ids)}", "topic": topic, "uri": uri}
        self.webhooks.append(sub)
        return {"webhookSubscription": sub, "userErrors": []}

    def _delete_webhook(self, _info: Any, id: str) -> dict[str, Any]:
        before = len(self.webhooks)
        self.webhooks = [w for w in self.webhooks if w["id"] != id]
        if len(self.webhooks) == before:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "not found"}],
            }
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}
