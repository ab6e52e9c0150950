"""WooCommerce REST API v3 client for one store: coupons, webhooks, credentials, reconciliation."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests
from requests.auth import HTTPBasicAuth
from woocommerce.oauth import OAuth

from connectors.base import (
    FOREIGN_CODE,
    CodeTaken,
    DiscountRef,
    DiscountSpec,
    StoreError,
    made_by_relance,
)

CODE_TAKEN = "woocommerce_rest_coupon_code_already_exists"
DISCOUNT_TYPES = {"percentage": "percent", "fixed_amount": "fixed_cart"}
PER_PAGE = 100
USER_AGENT = "WooCommerce-Python-REST-API/3.0.0"  # what the `woocommerce` package sends
Params = Mapping[str, str] | None


@dataclass(frozen=True)
class WebhookStatus:
    """One webhook as the store reports it (`status`: active, paused or disabled)."""

    webhook_id: str
    topic: str
    delivery_url: str
    status: str


class WooClient:
    """StoreClient for one WooCommerce store over its REST API (`woocommerce` signs plain-http calls)."""

    def __init__(
        self,
        store_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 20,
        attempts: int = 4,
        query_string_auth: bool = False,
        session: requests.Session | None = None,
    ) -> None:
        # The caller's session decides where connections may go (the bridge passes a guarded one).
        self._url = store_url.rstrip("/")
        self._keys = (consumer_key, consumer_secret)
        self._http = session if session is not None else requests.Session()
        self._timeout = timeout
        self._query_string_auth = query_string_auth
        self._sleep = sleep
        self._attempts = max(1, attempts)

    def find_discount(self, code: str) -> DiscountRef | None:
        """Relance's coupon with this code, if the store has one; the merchant's or another plugin's
        coupon with the same code is not ours to send (create_discount then reports it)."""
        ours = [c for c in self._coupons(code) if made_by_relance(c.get("description"), code)]
        return _discount_ref(ours[0]) if ours else None

    def create_discount(self, spec: DiscountSpec) -> DiscountRef:
        """Create a single-use coupon, or return ours from an earlier try; raises CodeTaken or StoreError."""
        try:
            return _discount_ref(_object(self._send("POST", "coupons", data=coupon_body(spec))))
        except CodeTaken as taken:
            # A retried job (or POST) whose first request landed but whose answer was lost.
            existing = self._coupons(spec.code)
            ours = [c for c in existing if _is_ours(c, spec)]
            if ours:
                return _discount_ref(ours[0])
            if not existing:
                raise
            message = f"POST coupons: {spec.code.lower()} belongs to another coupon of the store"
            raise CodeTaken(message, code=FOREIGN_CODE) from taken

    def _coupons(self, code: str) -> list[dict[str, Any]]:
        """The published coupons with this code (WooCommerce stores codes lower-case)."""
        wanted = code.strip().lower()
        found = self._send("GET", "coupons", params={"code": wanted})
        return [c for c in _objects(found) if str(c.get("code", "")).lower() == wanted]

    def delete_discount(self, ref: DiscountRef) -> None:
        """Delete the coupon for good; a coupon that is already gone is fine."""
        try:
            self._send("DELETE", f"coupons/{int(ref.platform_id)}", params={"force": "true"})
        except StoreError as exc:
            if not exc.code.endswith("_invalid_id"):
                raise

    def register_webhooks(self, delivery_url: str, secret: str, topics: Sequence[str]) -> list[str]:
        """Make one active webhook per topic deliver to `delivery_url` signed with `secret`; their ids."""
        if not secret:
            raise ValueError("refusing to register webhooks without a secret")
        if not delivery_url:
            raise ValueError("a delivery URL is required")
        existing = self.webhook_statuses()
        ids = []
        for topic in topics:
            ours = _ours(existing, topic, delivery_url)
            for duplicate in ours[1:]:  # one delivery per change, whoever made the copies
                self._send("DELETE", f"webhooks/{duplicate.webhook_id}", params={"force": "true"})
            match = ours[0] if ours else None
            if match is None:
                body = {"name": f"Relance {topic}", "topic": topic, "delivery_url": delivery_url}
                saved = self._send("POST", "webhooks", data={**body, "secret": secret, "status": "active"})
            else:  # the store never shows a secret, so set ours; re-enable what failures disabled
                changes = {"secret": secret, **({"status": "active"} if match.status == "disabled" else {})}
                saved = self._send("PUT", f"webhooks/{match.webhook_id}", data=changes)
            ids.append(str(_object(saved).get("id", "")))
        return ids

    def webhook_statuses(self) -> list[WebhookStatus]:
        """Every webhook of the store with its status."""
        return [_webhook_status(w) for w in self._pages("webhooks", {"status": "all"})]

    def check_credentials(self) -> None:
        """One authenticated call; raises StoreError(code="unauthorized") when the keys are refused."""
        self._send("GET", "webhooks", params={"per_page": "1"})

    def recent_orders(self, since: datetime) -> list[dict[str, Any]]:
        """Orders modified since `since`, newest first, in the webhook body's shape."""
        params = {"modified_after": _gmt(since), "dates_are_gmt": "true", "orderby": "modified"}
        return list(self._pages("orders", params))

    def recent_customers(self, since: datetime) -> list[dict[str, Any]]:
        """Customers registered since `since` (the customers endpoint has no modified filter)."""
        recent = []
        for customer in self._pages("customers", {"orderby": "registered_date"}):
            if str(customer.get("date_created_gmt") or "") < _gmt(since):
                break  # newest first: the rest registered earlier
            recent.append(customer)
        return recent

    def _pages(
        self, endpoint: str, params: Mapping[str, str], max_pages: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Items of a collection, page by page, newest first (new items push old ones, none is skipped)."""
        for page in range(1, max_pages + 1):
            query = {**params, "order": "desc", "per_page": str(PER_PAGE), "page": str(page)}
            items = _objects(self._send("GET", endpoint, params=query))
            yield from items
            if len(items) < PER_PAGE:
                return

    def _send(self, method: str, endpoint: str, *, data: object = None, params: Params = None) -> Any:
        """The JSON answer of one call; raises StoreError (CodeTaken for a taken coupon code)."""
        response = self._exchange(method, endpoint, data=data, params=params)
        return _answer(response, f"{method} {endpoint}")

    def _exchange(
        self, method: str, endpoint: str, *, data: object = None, params: Params = None
    ) -> requests.Response:
        """The first answer not worth retrying; 429, 5xx and network failures are retried."""
        what, response = f"{method} {endpoint}", None
        for attempt in range(1, self._attempts + 1):
            if attempt > 1:
                self._sleep(_backoff(attempt - 1, response))
            try:
                response = self._api_call(method, endpoint, data, dict(params or {}))
            except (requests.Timeout, requests.ConnectionError):
                response = None
                continue
            except requests.RequestException as exc:
                raise StoreError(f"{what}: {type(exc).__name__}", code="request_failed") from exc
            if not _retryable(response.status_code):
                return response
        if response is None:
            raise StoreError(
                f"{what}: no answer after {self._attempts} attempts", transient=True, code="network"
            )
        raise _http_error(response, what)

    def _api_call(
        self, method: str, endpoint: str, data: object, params: dict[str, str]
    ) -> requests.Response:
        """One request as the `woocommerce` package builds it, sent through this client's session."""
        url, auth = f"{self._url}/wp-json/wc/v3/{endpoint}", None
        headers = {"user-agent": USER_AGENT, "accept": "application/json"}
        body = None
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode()
            headers["content-type"] = "application/json;charset=utf-8"
        if not self._url.startswith("https"):  # plain http (a local store): OAuth 1.0a in the query
            signed = OAuth(
                url=f"{url}?{urlencode(params)}",
                consumer_key=self._keys[0],
                consumer_secret=self._keys[1],
                version="wc/v3",
                method=method,
            )
            url, params = signed.get_oauth_url(), {}
        elif self._query_string_auth:
            params = {**params, "consumer_key": self._keys[0], "consumer_secret": self._keys[1]}
        else:
            auth = HTTPBasicAuth(*self._keys)
        return self._http.request(
            method, url, params=params, data=body, headers=headers, auth=auth, timeout=self._timeout
        )


def coupon_body(spec: DiscountSpec) -> dict[str, Any]:
    """The POST /coupons body of a single-use, expiring, individually used code."""
    if spec.kind not in DISCOUNT_TYPES:
        raise ValueError(f"unknown discount kind {spec.kind!r}")
    if spec.value <= 0:
        raise ValueError("a discount must be worth something")
    body: dict[str, Any] = {
        "code": spec.code.strip().lower(),
        "discount_type": DISCOUNT_TYPES[spec.kind],
        "amount": format(spec.value, "f"),
        "description": spec.title,
        "date_expires_gmt": _gmt(spec.ends_at),
        "individual_use": True,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
    }
    if spec.email:
        body["email_restrictions"] = [spec.email.strip().lower()]
    if spec.minimum_subtotal is not None:
        body["minimum_amount"] = format(spec.minimum_subtotal, "f")
    return body


def _is_ours(coupon: Mapping[str, Any], spec: DiscountSpec) -> bool:
    """The coupon our create would have made: the same description and the same e-mail restriction."""
    emails = coupon.get("email_restrictions") or []
    found = {str(e).strip().lower() for e in emails} if isinstance(emails, list) else {None}
    wanted = {spec.email.strip().lower()} if spec.email else set()
    return str(coupon.get("description") or "").strip() == spec.title.strip() and found == wanted


def _answer(response: requests.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise _http_error(response, what)
    try:
        return response.json()
    except ValueError as exc:
        raise StoreError(f"{what}: the answer is not JSON", code="bad_response") from exc


def _http_error(response: requests.Response, what: str) -> StoreError:
    """WooCommerce's `{"code", "message"}` error as a typed exception."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    wc_code, status = str(body.get("code") or ""), response.status_code
    message = f"{what}: HTTP {status} {wc_code} {str(body.get('message') or '')[:200]}".strip()
    if status in (401, 403):
        return StoreError(message, code="unauthorized")
    if wc_code == CODE_TAKEN:
        return CodeTaken(message, code=wc_code)
    return StoreError(message, transient=_retryable(status), code=wc_code or f"http_{status}")


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _backoff(retry: int, response: requests.Response | None) -> float:
    """Exponential backoff with full jitter, or the store's numeric Retry-After (at most 30 s)."""
    asked = response.headers.get("Retry-After", "") if response is not None else ""
    if asked.isdigit():
        return min(float(asked), 30.0)
    return random.uniform(0, min(8.0, 0.5 * 2**retry))


def _discount_ref(coupon: Mapping[str, Any]) -> DiscountRef:
    limit, used = coupon.get("usage_limit"), coupon.get("usage_count") or 0
    used_up = isinstance(limit, int) and limit > 0 and isinstance(used, int) and used >= limit
    active = coupon.get("status", "publish") == "publish" and not used_up
    return DiscountRef(code=str(coupon.get("code", "")), platform_id=str(coupon.get("id", "")), active=active)


def _webhook_status(webhook: Mapping[str, Any]) -> WebhookStatus:
    return WebhookStatus(
        webhook_id=str(webhook.get("id", "")),
        topic=str(webhook.get("topic", "")),
        delivery_url=str(webhook.get("delivery_url", "")),
        status=str(webhook.get("status", "")),
    )


def _ours(webhooks: Sequence[WebhookStatus], topic: str, delivery_url: str) -> list[WebhookStatus]:
    """Webhooks for a topic that deliver to us, active ones first."""
    ours = [w for w in webhooks if w.topic == topic and w.delivery_url == delivery_url]
    return sorted(ours, key=lambda w: w.status != "active")


def _objects(found: Any) -> list[dict[str, Any]]:
    if not isinstance(found, list):
        raise StoreError("the store answered something other than a list", code="bad_response")
    return [item for item in found if isinstance(item, dict)]


def _object(found: Any) -> dict[str, Any]:
    if not isinstance(found, dict):
        raise StoreError("the store answered something other than an object", code="bad_response")
    return found


def _gmt(moment: datetime) -> str:
    """UTC without an offset, as WooCommerce's `*_gmt` fields and `dates_are_gmt` expect."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S")
