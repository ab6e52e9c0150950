"""Shopify Admin GraphQL API for one shop: cost-aware pacing, retries and typed errors.

Requests go to `{origin}/admin/api/{version}/graphql.json`, where origin is `https://{shop}` or, for a
local mock store, `api_origin` (settings `SHOPIFY_API_ORIGIN`); with an override the shop travels in the
`X-Shopify-Shop-Domain` header so one mock can tell shops apart.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from connectors.base import StoreError
from connectors.shopify.graphql import API_VERSION

DEFAULT_TIMEOUT = (5.0, 20.0)  # (connect, read) seconds
MAX_PAGES = 50


class TokenProvider(Protocol):
    """Returns the shop's current access token; `force_refresh` asks for a new one after a 401."""

    def __call__(self, *, force_refresh: bool = False) -> str: ...


@dataclass(frozen=True)
class _Bucket:
    available: float
    maximum: float
    restore_rate: float
    seen_at: float


class AdminApi:
    """The GraphQL Admin API of one shop: `execute` a document, read a connection page by page."""

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        api_version: str = API_VERSION,
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

    def pages(self, query: str, variables: Mapping[str, Any], field: str) -> Iterator[dict[str, Any]]:
        """The nodes of connection `field`, page after page (at most MAX_PAGES pages)."""
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
