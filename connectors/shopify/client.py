"""Shopify Admin GraphQL client for one shop: cost-aware pacing, retries and typed errors.

Requests go to `{origin}/admin/api/{version}/graphql.json`, where origin is `https://{shop}` or, for a
local mock store, `api_origin` (settings `SHOPIFY_API_ORIGIN`); with an override the shop travels in the
`X-Shopify-Shop-Domain` header so one mock can tell shops apart.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import requests

from connectors.base import (
    FOREIGN_CODE,
    CodeTaken,
    DiscountRef,
    DiscountSpec,
    StoreError,
    made_by_relance,
)
from connectors.shopify import graphql as gql

DEFAULT_TIMEOUT = (5.0, 20.0)  # (connect, read) seconds
MAX_PAGES = 50


class TokenProvider(Protocol):
    """Returns the shop's current access token; `force_refresh` asks for a new one after a 401."""

    def __call__(self, *, force_refresh: bool = False) -> str: ...


@dataclass(frozen=True)
class ShopInfo:
    """What Relance keeps about the shop itself."""

    name: str
    currency: str
    timezone: str
    domain: str


@dataclass(frozen=True)
class _Bucket:
    available: float
    maximum: float
    restore_rate: float
    seen_at: float


class ShopifyClient:
    """StoreClient for one Shopify shop over the GraphQL Admin API."""

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        api_version: str = gql.API_VERSION,
        api_origin: str | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        token_provider: TokenProvider | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_attempts: int = 5,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        origin = (api_origin or f"https://{shop_domain}").rstrip("/")
        self.shop_domain = shop_domain
        self.endpoint = f"{origin}/admin/api/{api_version}/graphql.json"
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_origin:
            self._headers["X-Shopify-Shop-Domain"] = shop_domain
        self._token = access_token
        self._provider = token_provider
        self._http = session or requests.Session()
        self._sleep, self._clock = sleep, clock
        self._max_attempts, self._timeout = max_attempts, timeout
        self._bucket: _Bucket | None = None
        self._costs: dict[str, float] = {}

    def find_discount(self, code: str) -> DiscountRef | None:
        """Relance's discount with this code, if the shop has one; the merchant's or another app's
        discount with the same code is not ours to send (create_discount then reports it)."""
        node = self._lookup(code)
        if node is None or not _basic(node) or not made_by_relance(_title(node), code):
            return None
        return _ref(code, node)

    def create_discount(self, spec: DiscountSpec) -> DiscountRef:
        """Create the code; a code already taken by our own earlier attempt is returned, not duplicated."""
        payload = self.execute(gql.CREATE_DISCOUNT, gql.discount_variables(spec))["discountCodeBasicCreate"]
        try:
            _raise_user_errors(payload["userErrors"])
        except CodeTaken as taken:
            node = self._lookup(spec.code)
            if node is None:
                raise
            if _basic(node) and _title(node) == spec.title:
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
            (n["topic"], n["uri"]): n["id"]
            for n in self._pages(gql.LIST_WEBHOOKS, {}, "webhookSubscriptions")
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

    def shop_info(self) -> ShopInfo:
        """Name, currency, time zone and myshopify domain of the shop."""
        shop = self.execute(gql.SHOP)["shop"]
        return ShopInfo(shop["name"], shop["currencyCode"], shop["ianaTimezone"], shop["myshopifyDomain"])

    def recent_abandoned_checkouts(self, since: datetime) -> list[dict[str, Any]]:
        """Checkouts updated since `since`, shaped like checkouts/update webhook payloads."""
        variables = {"first": gql.PAGE_SIZE, "query": gql.updated_since(since)}
        return [
            gql.checkout_payload(n)
            for n in self._pages(gql.ABANDONED_CHECKOUTS, variables, "abandonedCheckouts")
        ]

    def recent_orders(self, since: datetime) -> list[dict[str, Any]]:
        """Orders updated since `since`, shaped like orders/create webhook payloads."""
        variables = {"first": gql.PAGE_SIZE, "query": gql.updated_since(since)}
        return [gql.order_payload(n) for n in self._pages(gql.ORDERS, variables, "orders")]

    def _pages(self, query: str, variables: Mapping[str, Any], field: str) -> Iterator[dict[str, Any]]:
        after = None
        for _ in range(MAX_PAGES):
            connection = self.execute(query, {**variables, "after": after})[field]
            yield from connection["nodes"]
            if not connection["pageInfo"]["hasNextPage"]:
                return
            after = connection["pageInfo"]["endCursor"]

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one document and return its `data`, waiting out throttling and retrying transient failures."""
        refreshed, failure = False, "unavailable"
        for attempt in range(self._max_attempts):
            if (delay := self._pace_delay(query)) > 0:
                self._sleep(delay)  # proactive: the last answer said the bucket cannot pay for this yet
            try:
                response = self._post(query, variables)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = "timeout" if isinstance(exc, requests.Timeout) else "connection_error"
                self._sleep(_backoff(attempt))
                continue
            if response.status_code == 401 and self._provider is not None and not refreshed:
                refreshed = True
                self._token = self._provider(force_refresh=True)
                continue
            failure = self._check_status(response, query, attempt)
            if failure:
                continue
            body = _json(response)
            self._observe(query, body)
            failure = self._check_errors(body.get("errors"), query, attempt)
            if not failure:
                data: dict[str, Any] = body.get("data") or {}
                return data
        raise StoreError(
            f"Shopify still failing after {self._max_attempts} attempts", transient=True, code=failure
        )

    def _post(self, query: str, variables: Mapping[str, Any] | None) -> requests.Response:
        if self._provider is not None:
            self._token = self._provider()
        headers = {**self._headers, "X-Shopify-Access-Token": self._token}
        body = {"query": query, "variables": dict(variables or {})}
        return self._http.post(self.endpoint, json=body, headers=headers, timeout=self._timeout)

    def _check_status(self, response: requests.Response, query: str, attempt: int) -> str:
        """'' when the response can be read; a failure name after waiting when it should be retried."""
        status = response.status_code
        if status == 401:
            raise StoreError("Shopify rejected the access token", code="unauthorized")
        if status == 429:
            self._observe(query, _json(response, strict=False))
            retry_after = _seconds(response.headers.get("Retry-After"))
            if retry_after is not None:
                self._sleep(retry_after)
            elif self._pace_delay(query) <= 0:
                self._sleep(_backoff(attempt))
            return "throttled"
        if status >= 500:
            self._sleep(_backoff(attempt))
            return f"http_{status}"
        if status >= 400:
            raise StoreError(f"Shopify answered HTTP {status}", code=f"http_{status}")
        return ""

    def _check_errors(self, errors: Any, query: str, attempt: int) -> str:
        """'' without errors; raises StoreError for permanent ones; waits and names retryable ones."""
        if not errors:
            return ""
        code = _error_code(errors)
        if code == "THROTTLED":
            if self._pace_delay(query) <= 0:  # otherwise the loop waits before the retry
                self._sleep(_backoff(attempt))
            return "throttled"
        if code == "INTERNAL_SERVER_ERROR":
            self._sleep(_backoff(attempt))
            return "internal_error"
        raise StoreError(f"Shopify GraphQL error: {_messages(errors)}", code=code.lower() or "graphql_error")

    def _observe(self, query: str, body: Mapping[str, Any]) -> None:
        """Remember the bucket level and this document's requested cost from `extensions.cost`."""
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus")
        if status:
            self._bucket = _Bucket(
                float(status["currentlyAvailable"]),
                float(status["maximumAvailable"]),
                float(status["restoreRate"]),
                self._clock(),
            )
        if cost.get("requestedQueryCost") is not None:
            self._costs[query] = float(cost["requestedQueryCost"])

    def _pace_delay(self, query: str) -> float:
        """Seconds until the bucket can afford this document again (0 when it can now)."""
        bucket, need = self._bucket, self._costs.get(query)
        if bucket is None or need is None or bucket.restore_rate <= 0:
            return 0.0
        level = bucket.available + (self._clock() - bucket.seen_at) * bucket.restore_rate
        missing = min(need, bucket.maximum) - min(level, bucket.maximum)
        return 0.0 if missing <= 0 else missing / bucket.restore_rate + random.uniform(0.005, 0.02)


def _backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2.0**attempt) * random.uniform(0.5, 1.0)


def _seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None


def _json(response: requests.Response, strict: bool = True) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    if strict:
        raise StoreError(
            "Shopify answered with something that is not a JSON object", transient=True, code="bad_body"
        )
    return {}


def _error_code(errors: Any) -> str:
    if isinstance(errors, list):
        for error in errors:
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            if code:
                return str(code)
    return ""


def _messages(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    return str(errors)


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


def _basic(node: Mapping[str, Any]) -> bool:
    """A DiscountCodeBasic: the only kind of discount Relance creates."""
    return (node.get("codeDiscount") or {}).get("__typename") == "DiscountCodeBasic"


def _title(node: Mapping[str, Any]) -> str:
    return str((node.get("codeDiscount") or {}).get("title") or "")


def _ref(code: str, node: Mapping[str, Any]) -> DiscountRef:
    status = (node.get("codeDiscount") or {}).get("status")
    return DiscountRef(code=code, platform_id=str(node["id"]), active=status != "EXPIRED")
