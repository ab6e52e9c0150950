"""A local fake Shopify shop over real HTTP: the OAuth token endpoint and the Admin GraphQL endpoint.

Start it with `with FakeShopify() as fake:` (or `fake.start()` / `fake.stop()`), then point the code under
test at `fake.url` (`api_origin` / SHOPIFY_API_ORIGIN). GraphQL documents are validated against Shopify's
published schema and executed by graphql-core; a leaky bucket answers THROTTLED as Shopify does.
Fault hooks: `fail_next`, `throttle_next`, `delay_next`; tokens: `require_token`, `revoke_token`,
`new_auth_code`. Until a token is required or issued, any token is accepted.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt
from graphql import GraphQLError, OperationDefinitionNode, execute_sync, parse, validate
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.shopify_graphql import (
    MAX_QUERY_COST,
    REQUIRED_SCOPES,
    FakeAdminData,
    admin_schema,
    query_cost,
)

GRAPHQL_PATH = re.compile(r"/admin/api/[0-9a-z-]+/graphql\.json")
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"
BAD_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


@dataclass(frozen=True)
class Call:
    """One request the fake answered."""

    path: str
    operation: str | None
    variables: dict[str, Any]
    outcome: str  # ok | throttled | failed | unauthorized | invalid | token | refused | denied
    cost: int = 0
    shop: str | None = None


@dataclass
class _Faults:
    fail: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    throttle: int = 0
    delay: list[float] = field(default_factory=list)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *_args: Any) -> None:
        """Keep test and benchmark output clean."""


class FakeShopify:
    """One fake shop with a Shopify-like leaky bucket (points, points per second)."""

    def __init__(
        self,
        bucket_size: float = 1000,
        restore_rate: float = 100,
        clock: Callable[[], float] = time.monotonic,
        *,
        shop: str = "relance-test.myshopify.com",
        api_key: str = "test-api-key",
        api_secret: str = "shpss_" + "fa4e" * 8,  # 38 bytes like a real secret (PyJWT warns under 32)
        scopes: str = "read_customers,write_customers,read_orders,write_discounts,read_locales",
    ) -> None:
        self.shop, self.api_key, self.api_secret, self.scopes = shop, api_key, api_secret, scopes
        self.bucket_size, self.restore_rate, self._clock = float(bucket_size), float(restore_rate), clock
        self._available, self._leaked_at = self.bucket_size, clock()
        self.data = FakeAdminData(shop)
        self.calls: list[Call] = []
        self.throttled_count = 0
        self.max_throttle_streak = 0  # most THROTTLED answers in a row
        self._streak = 0
        self.tokens: set[str] = set()  # accepted access tokens, once any was required or issued
        self._check_tokens = False
        self.refresh_tokens: dict[str, str] = {}
        self.auth_codes: set[str] = set()
        self._faults = _Faults()
        self._lock = threading.Lock()
        self._server: Any = None
        self.url = ""

    # -- lifecycle and hooks -----------------------------------------------------------------------

    def start(self) -> FakeShopify:
        """Serve on 127.0.0.1 on a free port in a daemon thread; `url` is then set."""
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeShopify:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def discounts(self) -> dict[str, dict[str, Any]]:
        """Discount nodes by lower-cased code (each keeps the create input under "input")."""
        return self.data.discounts

    def fail_next(self, n: int = 1, status: int = 503, retry_after: str | None = None) -> None:
        """Answer the next `n` requests (any endpoint) with `status`."""
        self._faults.fail, self._faults.fail_status, self._faults.retry_after = n, status, retry_after

    def throttle_next(self, n: int = 1) -> None:
        """Answer the next `n` GraphQL requests THROTTLED whatever the bucket holds."""
        self._faults.throttle = n

    def delay_next(self, seconds: float, n: int = 1) -> None:
        """Hold the next `n` requests for `seconds` before handling them (to cause client timeouts)."""
        self._faults.delay.extend([seconds] * n)

    def require_token(self, *tokens: str) -> None:
        """Accept these access tokens (and tokens the fake issues) and refuse any other with 401."""
        self.tokens.update(tokens)
        self._check_tokens = True

    def revoke_token(self, token: str) -> None:
        """Refuse this access token from now on (as when an expiring token's hour is over)."""
        self.tokens.discard(token)

    def new_auth_code(self) -> str:
        """An authorization code the token endpoint will accept once."""
        code = secrets.token_hex(8)
        self.auth_codes.add(code)
        return code

    def seed(
        self,
        checkouts: Iterable[dict[str, Any]] = (),
        orders: Iterable[dict[str, Any]] = (),
        customers: Iterable[dict[str, Any]] = (),
    ) -> None:
        """Add GraphQL-shaped AbandonedCheckout, Order and Customer nodes (customers by their `id`)."""
        self.data.checkouts.extend(checkouts)
        self.data.orders.extend(orders)
        self.data.customers.update({c["id"]: c for c in customers})

    # -- HTTP ------------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI application."""
        request = Request(environ)
        with self._lock:
            delay = self._faults.delay.pop(0) if self._faults.delay else 0.0
        time.sleep(delay)
        return self._dispatch(request)(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            failing = self._faults.fail > 0
            self._faults.fail -= int(failing)
        if failing:
            self._record(request, None, {}, "failed")
            headers = {"Retry-After": self._faults.retry_after} if self._faults.retry_after else {}
            return Response('{"errors": "Service unavailable"}', self._faults.fail_status, headers)
        if request.method == "POST" and request.path == "/admin/oauth/access_token":
            return self._token_endpoint(request)
        if request.method == "POST" and GRAPHQL_PATH.fullmatch(request.path):
            return self._graphql(request)
        return Response('{"errors": "Not Found"}', 404, content_type="application/json")

    def _record(
        self, request: Request, operation: str | None, variables: dict[str, Any], outcome: str, cost: int = 0
    ) -> None:
        shop = request.headers.get("X-Shopify-Shop-Domain")
        with self._lock:
            self.calls.append(Call(request.path, operation, variables, outcome, cost, shop))

    def _graphql(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        query, variables = str(body.get("query") or ""), dict(body.get("variables") or {})
        if self._check_tokens and request.headers.get("X-Shopify-Access-Token") not in self.tokens:
            self._record(request, None, variables, "unauthorized")
            return _json({"errors": BAD_TOKEN}, 401)
        try:
            document = parse(query)
        except GraphQLError as exc:
            return self._invalid(request, variables, [exc])
        errors = validate(admin_schema(), document)
        if errors:
            return self._invalid(request, variables, errors)
        ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        name = ops[0].name.value if ops and ops[0].name else None
        denied = self._denied(ops)
        if denied:
            self._record(request, name, variables, "denied")
            return _json({"errors": denied, "data": {e["path"][0]: None for e in denied}})
        cost = query_cost(document, variables)
        if cost > MAX_QUERY_COST:
            return self._invalid(
                request, variables, [GraphQLError(f"Query cost {cost} exceeds {MAX_QUERY_COST}")]
            )
        with self._lock:
            admitted = self._admit(cost)
            extensions = {"cost": self._cost(cost, admitted)}
            result = (
                execute_sync(admin_schema(), document, self.data.root(), variable_values=variables)
                if admitted
                else None
            )
        self._record(request, name, variables, "ok" if admitted else "throttled", cost)
        if result is None:
            throttled = {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": _DOCS}}
            return _json({"errors": [throttled], "extensions": extensions})
        answer: dict[str, Any] = {"data": result.data, "extensions": extensions}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        return _json(answer)

    def _denied(self, ops: list[OperationDefinitionNode]) -> list[dict[str, Any]]:
        """Shopify's ACCESS_DENIED errors for top-level fields whose scope was not granted."""
        granted = set(self.scopes.split(","))
        errors = []
        for op in ops:
            for selection in op.selection_set.selections:
                field = getattr(getattr(selection, "name", None), "value", "")
                scope = REQUIRED_SCOPES.get(field)
                if scope and scope not in granted:
                    errors.append(
                        {
                            "message": f"Access denied for {field} field. Required access: `{scope}`"
                            " access scope.",
                            "path": [field],
                            "extensions": {
                                "code": "ACCESS_DENIED",
                                "requiredAccess": f"`{scope}` access scope.",
                            },
                        }
                    )
        return errors

    def _admit(self, cost: int) -> bool:
        """Charge `cost` to the bucket unless it cannot pay (or a throttle is injected); track streaks."""
        now = self._clock()
        self._available = min(self.bucket_size, self._available + (now - self._leaked_at) * self.restore_rate)
        self._leaked_at = now
        forced = self._faults.throttle > 0
        self._faults.throttle -= int(forced)
        admitted = not forced and self._available >= cost
        if admitted:
            self._available -= cost
            self._streak = 0
        else:
            self.throttled_count += 1
            self._streak += 1
            self.max_throttle_streak = max(self.max_throttle_streak, self._streak)
        return admitted

    def _cost(self, requested: int, admitted: bool) -> dict[str, Any]:
        status = {
            "maximumAvailable": self.bucket_size,
            "currentlyAvailable": int(self._available),
            "restoreRate": self.restore_rate,
        }
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": requested if admitted else None,
            "throttleStatus": status,
        }

    def _invalid(
        self, request: Request, variables: dict[str, Any], errors: Iterable[GraphQLError]
    ) -> Response:
        self._record(request, None, variables, "invalid")
        return _json({"errors": [e.formatted for e in errors]})

    # -- OAuth token endpoint ----------------------------------------------------------------------

    def _token_endpoint(self, request: Request) -> Response:
        body = request.get_json(silent=True) or request.form.to_dict()
        if (body.get("client_id"), body.get("client_secret")) != (self.api_key, self.api_secret):
            self._record(request, "oauth", {}, "refused")
            return _json({"error": "invalid_client", "error_description": "unknown client"}, 401)
        grant = body.get("grant_type", "authorization_code")
        with self._lock:
            problem = self._grant_problem(body)
            expiring = body.get("expiring") == "1" or grant == "refresh_token"
            answer = None if problem else self._issue(expiring)
        self._record(request, "oauth", {"grant_type": grant}, "refused" if problem else "token")
        if problem:
            return _json({"error": "invalid_request", "error_description": problem}, 400)
        return _json(answer)

    def _grant_problem(self, body: dict[str, Any]) -> str | None:
        """Why this grant is refused (consuming single-use codes and refresh tokens), or None."""
        grant = body.get("grant_type")
        if grant is None:
            code = body.get("code", "")
            if code not in self.auth_codes:
                return "The authorization code was not found or was already used"
            self.auth_codes.discard(code)
            return None
        if grant == "refresh_token":
            return (
                None if self.refresh_tokens.pop(body.get("refresh_token", ""), None) else "bad refresh token"
            )
        if grant == TOKEN_EXCHANGE and body.get("subject_token_type") == ID_TOKEN:
            try:
                jwt.decode(
                    body.get("subject_token", ""),
                    self.api_secret,
                    algorithms=["HS256"],
                    audience=self.api_key,
                )
            except jwt.PyJWTError:
                return "invalid_subject_token"
            return None
        if grant == TOKEN_EXCHANGE and body.get("subject_token_type") == OFFLINE_TOKEN:
            old = body.get("subject_token", "")
            if old not in self.tokens:
                return "invalid_subject_token"
            self.tokens.discard(old)  # migration revokes the non-expiring token
            return None
        return "unsupported grant"

    def _issue(self, expiring: bool) -> dict[str, Any]:
        token = "shpat_" + secrets.token_hex(16)
        self.tokens.add(token)
        self._check_tokens = True
        answer: dict[str, Any] = {"access_token": token, "scope": self.scopes}
        if expiring:
            refresh = "shprt_" + secrets.token_hex(16)
            self.refresh_tokens[refresh] = token
            answer.update(expires_in=3600, refresh_token=refresh, refresh_token_expires_in=7_776_000)
        return answer


_DOCS = "https://shopify.dev/api/usage/rate-limits"


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status, content_type="application/json")
