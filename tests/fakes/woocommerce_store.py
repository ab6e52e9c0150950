"""A local fake WooCommerce REST API (wc/v3) over real HTTP, with WooCommerce's validation rules.

Start it with `with FakeWooStore() as fake:` and point a client at `fake.url`. Over plain http the
`woocommerce` package signs every request with one-legged OAuth 1.0a (HMAC-SHA256, the secret + "&");
the fake checks that signature as WooCommerce does, and also takes Basic auth and
`consumer_key`/`consumer_secret` query parameters (what the package sends over https).
State: `coupons`, `webhooks` (secrets kept, never shown, as in WooCommerce), `orders`, `customers` (seed
them), `calls`. Faults: `fail_next(n, status)`. `delivery(topic, resource)` builds a signed delivery.
Coupons follow WooCommerce's REST schema: read-only, unknown and setter-less fields (`date_expires_gmt`)
are dropped silently, `date_expires` is read in the site's zone unless it carries an offset. Webhooks count
failed deliveries (`failed_delivery`). `/wp-json/` (public) and `settings/general/woocommerce_currency`
serve the site's name, time zone and currency.
Not modelled: OAuth timestamp and nonce checks, the creation ping, coupon usage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import math
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

API = "/wp-json/wc/v3"
DISCOUNT_TYPES = ("percent", "fixed_cart", "fixed_product")
WEBHOOK_STATUSES = ("active", "paused", "disabled")
WEBHOOK_RESOURCES = ("coupon", "customer", "order", "product")
MAX_DELIVERY_FAILURES = 5  # the woocommerce_max_webhook_delivery_failures filter's default
WEBHOOK_EVENTS = ("created", "updated", "deleted", "restored")
# The REST coupon schema (WC_REST_Coupons_V2_Controller::get_item_schema): JSON type, and whether a POST sets
# it. WooCommerce sets a writable field only through a `set_<field>` method of WC_Coupon: `date_expires_gmt`
# has none, so it is silently dropped (as are read-only and unknown fields); `date_expires` is read in the
# site's time zone unless it carries an offset (WC_Data::set_date_prop).
COUPON_SCHEMA: dict[str, tuple[str, bool]] = {
    "id": ("integer", False), "code": ("string", True), "amount": ("string", True),
    "status": ("string", True), "date_created": ("date-time", False),
    "date_created_gmt": ("date-time", False), "date_modified": ("date-time", False),
    "date_modified_gmt": ("date-time", False), "discount_type": ("string", True),
    "description": ("string", True), "date_expires": ("date-time", True),
    "date_expires_gmt": ("date-time", False), "usage_count": ("integer", False),
    "individual_use": ("boolean", True), "product_ids": ("array", True),
    "excluded_product_ids": ("array", True), "usage_limit": ("integer", True),
    "usage_limit_per_user": ("integer", True), "limit_usage_to_x_items": ("integer", True),
    "free_shipping": ("boolean", True), "product_categories": ("array", True),
    "excluded_product_categories": ("array", True), "exclude_sale_items": ("boolean", True),
    "minimum_amount": ("string", True), "maximum_amount": ("string", True),
    "email_restrictions": ("array", True), "used_by": ("array", False), "meta_data": ("array", True),
}  # fmt: skip
_WC_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|[-+]\d{2}:\d{2})?")
ROUTES = Map([
    Rule(f"{API}/coupons", endpoint="coupons", methods=["GET", "POST"]),
    Rule(f"{API}/coupons/<int:item>", endpoint="coupon", methods=["GET", "DELETE"]),
    Rule(f"{API}/webhooks", endpoint="webhooks", methods=["GET", "POST"]),
    Rule(f"{API}/webhooks/<int:item>", endpoint="webhook", methods=["GET", "PUT", "DELETE"]),
    Rule(f"{API}/orders", endpoint="orders", methods=["GET"]),
    Rule(f"{API}/customers", endpoint="customers", methods=["GET"]),
    Rule(f"{API}/system_status", endpoint="system_status", methods=["GET"]),
    Rule(f"{API}/settings/general/<option>", endpoint="setting", methods=["GET"]),
    Rule("/wp-json/", endpoint="index", methods=["GET"]),
])  # fmt: skip


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    auth: str  # oauth1 | basic | query | none | refused


MESSAGES = {
    "woocommerce_rest_cannot_view": "Sorry, you cannot list resources.",
    "woocommerce_rest_authentication_error": "Invalid signature - provided signature does not match.",
    "rest_no_route": "No route was found matching the URL and request method.",
    "rest_missing_callback_param": "Missing parameter(s): code",
    "woocommerce_rest_coupon_code_already_exists": "The coupon code already exists",
    "woocommerce_rest_shop_coupon_invalid_id": "Invalid ID.",
    "woocommerce_rest_webhook_invalid_topic": "Webhook topic is required and must be valid.",
    "woocommerce_rest_webhook_invalid_delivery_url": "Webhook delivery URL must be a valid URL.",
    "woocommerce_rest_webhook_invalid_status": "Webhook status must be valid.",
    "woocommerce_rest_webhook_invalid_id": "ID is invalid.",
    "woocommerce_rest_trash_not_supported": "Webhooks do not support trashing.",
    "rest_invalid_param": "Invalid parameter(s).",
}


class WooError(Exception):
    """A WooCommerce REST error: `{"code", "message", "data": {"status", ...}}`."""

    def __init__(self, status: int, code: str, message: str = "", **data: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.data = status, code, message or MESSAGES[code], data


class FakeWooStore:
    """One WooCommerce store with one REST API key."""

    def __init__(
        self,
        consumer_key: str = "ck_test",
        consumer_secret: str = "cs_test",
        *,
        name: str = "Fake Store",
        timezone_string: str = "UTC",
        currency: str = "USD",
        language: str = "fr_FR",
    ) -> None:
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        # WordPress's General Settings: an empty timezone_string means a manual "UTC+2"-style offset.
        self.name, self.timezone_string, self.gmt_offset = name, timezone_string, 0.0
        self.currency = currency
        self.language = language  # WordPress's site language, get_locale() ("en_US" on a fresh install)
        self.coupons: dict[int, dict[str, Any]] = {}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.orders: list[dict[str, Any]] = []
        self.customers: list[dict[str, Any]] = []
        self.calls: list[Call] = []
        self._ids = itertools.count(1001)
        self._faults: list[int] = []
        self._lock = threading.Lock()
        self._server: Any = None

    @property
    def url(self) -> str:
        """The store's site URL (the API is under /wp-json/wc/v3)."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeWooStore:
        """Serve on 127.0.0.1, on a free port, in a daemon thread."""
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        serve = self._server.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeWooStore:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def failed_delivery(self, hook_id: int) -> None:
        """One failed delivery (WC_Webhook::failed_delivery): past 5 failures in a row, disabled. The count
        is not in the REST schema, so no REST update resets it; a new webhook starts at 0."""
        with self._lock:
            hook = self.webhooks[hook_id]
            if hook["failure_count"] > MAX_DELIVERY_FAILURES:
                hook["status"] = "disabled"
            else:
                hook["failure_count"] += 1

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """Answer the next `n` requests with `status` whatever they ask."""
        with self._lock:
            self._faults.extend([status] * n)

    def seed(self, orders: Iterable[dict[str, Any]] = (), customers: Iterable[dict[str, Any]] = ()) -> None:
        """Add orders and customers (REST-shaped) for the list endpoints."""
        with self._lock:
            self.orders.extend(orders)
            self.customers.extend(customers)

    def delivery(self, topic: str, resource: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
        """URL, body and headers of the delivery an active webhook for `topic` would make."""
        hook = next(h for h in self.webhooks.values() if h["topic"] == topic and h["status"] == "active")
        raw = json.dumps(resource, separators=(",", ":")).encode()
        signature = base64.b64encode(hmac.new(hook["secret"].encode(), raw, hashlib.sha256).digest())
        resource_name, _, event = topic.partition(".")
        headers = {
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": f"{self.url}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource_name,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature.decode(),
            "X-WC-Webhook-ID": str(hook["id"]),
            "X-WC-Webhook-Delivery-ID": hashlib.sha256(raw).hexdigest()[:32],
        }
        return hook["delivery_url"], raw, headers

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI entry point."""
        request = Request(environ)
        return self._answer(request)(environ, start_response)

    def _answer(self, request: Request) -> Response:
        auth = self._auth(request)
        body = request.get_json(silent=True) if request.data else None
        with self._lock:
            self.calls.append(Call(request.method, request.path, request.args.to_dict(), body, auth))
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            return _json(
                {"code": "fake_fault", "message": "Injected fault.", "data": {"status": fault}}, fault
            )
        try:
            if request.path == "/wp-json/":
                return self._index(request, auth)
            if auth in ("none", "refused"):
                code = "cannot_view" if auth == "none" else "authentication_error"
                raise WooError(401, f"woocommerce_rest_{code}")
            try:
                endpoint, args = ROUTES.bind_to_environ(request.environ).match()
            except HTTPException:
                raise WooError(404, "rest_no_route") from None
            with self._lock:
                handler: Callable[..., Response] = getattr(self, f"_{endpoint}")
                return handler(request, body, **args)
        except WooError as exc:
            return _json(_error(exc.status, exc.code, exc.message, **exc.data), exc.status)

    def _auth(self, request: Request) -> str:
        """How the request authenticated: oauth1, basic, query, none or refused."""
        args = request.args
        if "oauth_signature" in args:
            ok = args.get("oauth_consumer_key") == self.consumer_key and self._oauth_ok(request)
            return "oauth1" if ok else "refused"
        if request.authorization is not None:
            pair = (request.authorization.username, request.authorization.password)
            return "basic" if pair == (self.consumer_key, self.consumer_secret) else "refused"
        if "consumer_key" in args:
            pair = (args.get("consumer_key"), args.get("consumer_secret"))
            return "query" if pair == (self.consumer_key, self.consumer_secret) else "refused"
        return "none"

    def _oauth_ok(self, request: Request) -> bool:
        """WooCommerce's check: sorted, doubly encoded parameters; method & URL & params; secret + '&'."""
        params = sorted((k, v) for k, v in request.args.items() if k != "oauth_signature")
        pairs = "%26".join(f"{_rfc3986(k)}%3D{_rfc3986(v)}" for k, v in params)
        base = f"{request.method}&{quote(request.base_url, safe='')}&{pairs}"
        digest = hmac.new(f"{self.consumer_secret}&".encode(), base.encode(), hashlib.sha256).digest()
        return hmac.compare_digest(base64.b64encode(digest).decode(), request.args.get("oauth_signature", ""))

    def _coupons(self, request: Request, body: Any) -> Response:
        if request.method == "GET":
            code = request.args.get("code")
            wanted = (code or "").strip().lower()  # a code lookup finds published coupons only
            coupons = self.coupons.values()
            found = [c for c in coupons if code is None or (c["code"], c["status"]) == (wanted, "publish")]
            return _page(request, [self._shown(c) for c in found])
        coupon = _valid_coupon(body, self.zone)
        if any(c["code"] == coupon["code"] and c["status"] == "publish" for c in self.coupons.values()):
            raise WooError(400, "woocommerce_rest_coupon_code_already_exists")
        coupon.update(id=next(self._ids), date_created_gmt=_now())
        self.coupons[coupon["id"]] = coupon
        return _json(self._shown(coupon), 201)

    @property
    def zone(self) -> tzinfo:
        """The site's time zone (wp_timezone()): the zone name, else the manual offset."""
        if self.timezone_string:
            return ZoneInfo(self.timezone_string)
        return timezone(timedelta(hours=self.gmt_offset))

    def coupon_expired(self, code: str, at: datetime) -> bool:
        """Whether WooCommerce refuses this code at `at` as expired (WC_Discounts: now > date_expires)."""
        coupon = next(c for c in self.coupons.values() if c["code"] == code.strip().lower())
        expires = coupon["expires_at"]
        return expires is not None and at.timestamp() > expires.timestamp()

    def coupons_shown(self) -> list[dict[str, Any]]:
        """The coupons as GET /coupons shows them."""
        with self._lock:
            return [self._shown(c) for c in self.coupons.values()]

    def _shown(self, coupon: dict[str, Any]) -> dict[str, Any]:
        """A coupon as the REST API shows it: dates in the site's zone and in GMT, both without offset."""
        shown = {k: v for k, v in coupon.items() if k != "expires_at"}
        expires = coupon["expires_at"]
        local = expires.astimezone(self.zone) if expires is not None else None
        shown["date_expires"] = local.strftime("%Y-%m-%dT%H:%M:%S") if local else None
        shown["date_expires_gmt"] = expires.strftime("%Y-%m-%dT%H:%M:%S") if expires else None
        return shown

    def _coupon(self, request: Request, _body: Any, item: int) -> Response:
        coupon = self.coupons.get(item)
        if coupon is None:
            raise WooError(404, "woocommerce_rest_shop_coupon_invalid_id")
        if request.method == "DELETE":
            if request.args.get("force", "").lower() in ("true", "1"):
                del self.coupons[item]
            else:
                coupon["status"] = "trash"
        return _json(self._shown(coupon))

    def _webhooks(self, request: Request, body: Any) -> Response:
        if request.method == "GET":
            status = request.args.get("status", "all")
            return _page(
                request, [_public(h) for h in self.webhooks.values() if status in ("all", h["status"])]
            )
        body = body if isinstance(body, dict) else {}
        if not _valid_topic(body.get("topic")):
            raise WooError(400, "woocommerce_rest_webhook_invalid_topic")
        url = body.get("delivery_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise WooError(400, "woocommerce_rest_webhook_invalid_delivery_url")
        hook = {
            "id": next(self._ids),
            "name": body.get("name") or "",
            "status": "active",
            "topic": body["topic"],
        }
        hook.update(delivery_url=url, secret=body.get("secret") or "generated", date_created_gmt=_now())
        hook["failure_count"] = 0
        self._update_webhook(hook, {"status": body.get("status")})
        self.webhooks[hook["id"]] = hook
        return _json(_public(hook), 201)

    def _webhook(self, request: Request, body: Any, item: int) -> Response:
        hook = self.webhooks.get(item)
        if hook is None:
            raise WooError(400, "woocommerce_rest_webhook_invalid_id")
        if request.method == "PUT":
            self._update_webhook(hook, body if isinstance(body, dict) else {})
        elif request.method == "DELETE":
            if request.args.get("force", "").lower() not in ("true", "1"):
                raise WooError(501, "woocommerce_rest_trash_not_supported")
            del self.webhooks[item]
        return _json(_public(hook))

    def _update_webhook(self, hook: dict[str, Any], changes: dict[str, Any]) -> None:
        status = changes.get("status")
        if status and status not in WEBHOOK_STATUSES:
            raise WooError(400, "woocommerce_rest_webhook_invalid_status")
        if "topic" in changes and not _valid_topic(changes["topic"]):
            raise WooError(400, "woocommerce_rest_webhook_invalid_topic")
        hook.update(
            {k: v for k, v in changes.items() if k in ("name", "topic", "delivery_url", "secret") and v}
        )
        hook["status"] = status or hook["status"]

    def _orders(self, request: Request, _body: Any) -> Response:
        after = request.args.get("modified_after")
        gmt = request.args.get("dates_are_gmt", "").lower() in ("true", "1")
        field = "date_modified_gmt" if gmt else "date_modified"
        found = [o for o in self.orders if after is None or o.get(field, "") > after]
        key = {"id": "id", "modified": field, "date": "date_created_gmt"}[request.args.get("orderby", "date")]
        return _page(request, sorted(found, key=lambda o: o.get(key, ""), reverse=_descending(request)))

    def _customers(self, request: Request, _body: Any) -> Response:
        # WooCommerce lists customers with WP_User_Query: modified_after is ignored there.
        key = "id" if request.args.get("orderby") == "id" else "date_created_gmt"
        return _page(
            request, sorted(self.customers, key=lambda c: c.get(key, ""), reverse=_descending(request))
        )

    def _system_status(self, _request: Request, _body: Any) -> Response:
        environment = {
            "home_url": self.url,
            "site_url": self.url,
            "version": "9.9.0",
            "wp_version": "6.8",
            "language": self.language,
        }
        return _json(
            {"environment": environment, "settings": {"currency": self.currency, "api_enabled": True}}
        )

    def _setting(self, _request: Request, _body: Any, option: str) -> Response:
        """GET settings/general/<id> (WC_REST_Setting_Options_Controller): one option of the General tab."""
        if option != "woocommerce_currency":
            raise WooError(404, "rest_setting_setting_invalid", "Invalid setting.")
        setting = {"id": option, "label": "Currency", "type": "select", "default": "USD"}
        return _json({**setting, "value": self.currency, "group_id": "general"})

    def _index(self, request: Request, auth: str) -> Response:
        """GET /wp-json/: public site data (WP_REST_Server::get_index), filtered by `_fields`.

        WooCommerce's keys are not WordPress credentials: on a site using application passwords, WordPress
        answers Basic auth with them outside the wc/ routes by 401 (modelled here whatever the site)."""
        if auth in ("basic", "refused") and request.authorization is not None:
            raise WooError(
                401, "invalid_username", "Unknown username. Check again or try your email address."
            )
        index = {
            "name": self.name,
            "description": "",
            "url": self.url,
            "home": self.url,
            "gmt_offset": self.gmt_offset,
            "timezone_string": self.timezone_string,
            "namespaces": ["wp/v2", "wc/v3"],
            "authentication": {},
            "routes": {},
        }
        fields = [f for f in request.args.get("_fields", "").split(",") if f]
        return _json({k: v for k, v in index.items() if not fields or k in fields})


def _valid_coupon(body: Any, zone: tzinfo) -> dict[str, Any]:
    """A new coupon from a POST body, as WooCommerce would store it; refuses what its REST layer refuses."""
    if not isinstance(body, dict) or not str(body.get("code") or "").strip():
        raise WooError(400, "rest_missing_callback_param", params=["code"])
    wrong = [k for k, v in body.items() if k in COUPON_SCHEMA and not _of_type(v, COUPON_SCHEMA[k][0])]
    if body.get("discount_type", "fixed_cart") not in DISCOUNT_TYPES:
        wrong.append("discount_type")
    if wrong:
        raise WooError(400, "rest_invalid_param", f"Invalid parameter(s): {', '.join(wrong)}", params=wrong)
    coupon: dict[str, Any] = {
        key: ([] if kind == "array" else False if kind == "boolean" else None)
        for key, (kind, _) in COUPON_SCHEMA.items()
        if kind != "date-time"
    }
    coupon.update(discount_type="fixed_cart", amount="0", description="", status="publish", usage_count=0)
    for key, value in body.items():
        if key in COUPON_SCHEMA and COUPON_SCHEMA[key][1] and key != "date_expires" and value is not None:
            coupon[key] = value  # what has no setter, is read-only or is unknown is ignored, silently
    coupon["expires_at"] = _wc_date(body.get("date_expires"), zone)
    coupon["code"] = body["code"].strip().lower()  # the woocommerce_coupon_code filter lower-cases codes
    for key in ("amount", "minimum_amount", "maximum_amount"):
        coupon[key] = _decimal(coupon[key]) if coupon[key] not in (None, "") else "0.00"
    return coupon


def _of_type(value: Any, kind: str) -> bool:
    """WordPress's REST type check (rest_validate_value_from_schema); "date-time" is not a JSON type,
    so WordPress does not check it."""
    if value is None:
        return kind == "date-time"
    checks: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, str) and v.lstrip("-").isdigit())
        ),
        "boolean": lambda v: isinstance(v, bool) or v in (0, 1, "0", "1", "true", "false"),
        "array": lambda v: isinstance(v, list),
        "date-time": lambda v: True,
    }
    return checks[kind](value)


def _wc_date(value: Any, zone: tzinfo) -> datetime | None:
    """WC_Data::set_date_prop for a string: ISO 8601 with its own offset, else in the site's zone."""
    if not isinstance(value, str) or not value:
        return None
    found = _WC_DATE.fullmatch(value)
    if found is None:
        return None  # not modelled: WooCommerce runs other strings through strtotime()
    year, month, day, hour, minute, second = (int(found.group(n)) for n in range(1, 7))
    offset = found.group(7)
    moment = datetime(year, month, day, hour, minute, second)
    if offset is None:
        return moment.replace(tzinfo=zone).astimezone(UTC)
    return datetime.fromisoformat(f"{value[:19]}{'+00:00' if offset == 'Z' else offset}").astimezone(UTC)


def _decimal(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):.2f}"
    except InvalidOperation:
        raise WooError(400, "rest_invalid_param", "Invalid parameter(s): amount", params=["amount"]) from None


def _valid_topic(topic: Any) -> bool:
    resource, _, event = str(topic or "").lower().partition(".")
    return (resource == "action" and bool(event)) or (
        resource in WEBHOOK_RESOURCES and event in WEBHOOK_EVENTS
    )


def _public(hook: dict[str, Any]) -> dict[str, Any]:
    resource, _, event = hook["topic"].partition(".")
    hidden = ("secret", "failure_count")
    return {**{k: v for k, v in hook.items() if k not in hidden}, "resource": resource, "event": event}


def _page(request: Request, items: list[dict[str, Any]]) -> Response:
    try:
        per_page, page = int(request.args.get("per_page", "10")), int(request.args.get("page", "1"))
    except ValueError:
        per_page, page = 0, 0
    if not 1 <= per_page <= 100 or page < 1:
        raise WooError(400, "rest_invalid_param", "Invalid parameter(s): per_page", params=["per_page"])
    response = _json(items[(page - 1) * per_page : page * per_page])
    response.headers["X-WP-Total"] = str(len(items))
    response.headers["X-WP-TotalPages"] = str(math.ceil(len(items) / per_page))
    return response


def _descending(request: Request) -> bool:
    return request.args.get("order", "desc") == "desc"


def _rfc3986(text: str) -> str:
    return quote(text, safe="~").replace("%", "%25")


def _error(status: int, code: str, message: str, **data: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status, **data}}


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json; charset=UTF-8")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
