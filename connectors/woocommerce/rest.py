"""WooCommerce REST API v3 for one store: signed calls (the `woocommerce` package's way), retries and
typed errors."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from requests.auth import HTTPBasicAuth
from woocommerce.oauth import OAuth

from connectors.base import CodeTaken, StoreError

CODE_TAKEN = "woocommerce_rest_coupon_code_already_exists"
PER_PAGE = 100
USER_AGENT = "WooCommerce-Python-REST-API/3.0.0"  # what the `woocommerce` package sends
Params = Mapping[str, str] | None


class RestApi:
    """One store's REST API: `send` a call, read a collection's `pages`, read the site's public index."""

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

    def pages(
        self, endpoint: str, params: Mapping[str, str], max_pages: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Items of a collection, page by page, newest first (new items push old ones, none is skipped)."""
        for page in range(1, max_pages + 1):
            query = {**params, "order": "desc", "per_page": str(PER_PAGE), "page": str(page)}
            items = json_objects(self.send("GET", endpoint, params=query))
            yield from items
            if len(items) < PER_PAGE:
                return

    def site_index(self, params: Mapping[str, str]) -> Any:
        """The JSON of WordPress's public /wp-json/ index (the site's name and time zone)."""
        response = self._exchange("GET", "", params=params, index=True)
        return _answer(response, "GET /wp-json/")

    def send(self, method: str, endpoint: str, *, data: object = None, params: Params = None) -> Any:
        """The JSON answer of one call; raises StoreError (CodeTaken for a taken coupon code)."""
        response = self._exchange(method, endpoint, data=data, params=params)
        return _answer(response, f"{method} {endpoint}")

    def _exchange(
        self, method: str, endpoint: str, *, data: object = None, params: Params = None, index: bool = False
    ) -> requests.Response:
        """The first answer not worth retrying; 429, 5xx and network failures are retried."""
        what, response = f"{method} {endpoint}", None
        for attempt in range(1, self._attempts + 1):
            if attempt > 1:
                self._sleep(_backoff(attempt - 1, response))
            try:
                if index:
                    response = self._index(dict(params or {}))
                else:
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

    def _index(self, params: dict[str, str]) -> requests.Response:
        # Public, and without the keys: they are WooCommerce's, not WordPress credentials (sites using
        # application passwords answer Basic auth outside wc/ routes with 401).
        return self._http.get(f"{self._url}/wp-json/", params=params, timeout=self._timeout)

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


def json_objects(found: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list answer (other items dropped); StoreError when it is not a list."""
    if not isinstance(found, list):
        raise StoreError("the store answered something other than a list", code="bad_response")
    return [item for item in found if isinstance(item, dict)]


def json_object(found: Any) -> dict[str, Any]:
    """A JSON object answer; StoreError when it is anything else."""
    if not isinstance(found, dict):
        raise StoreError("the store answered something other than an object", code="bad_response")
    return found
