"""Shopify install helpers: shop domains, signed query strings, token requests and session tokens."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import responses

from connectors.base import StoreError
from connectors.shopify import oauth

SECRET = "shpss_" + "5ec7e7" * 6  # as long as a real app secret: PyJWT warns under 32 bytes
API_KEY = "test-api-key"
SHOP = "demo.myshopify.com"
TOKEN_URL = f"https://{SHOP}/admin/oauth/access_token"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("demo.myshopify.com", "demo.myshopify.com"),
        ("https://Demo.myshopify.com/", "demo.myshopify.com"),
        ("http://demo-2.myshopify.com", "demo-2.myshopify.com"),
        ("  DEMO.MYSHOPIFY.COM  ", "demo.myshopify.com"),
        ("admin.shopify.com/store/demo", "demo.myshopify.com"),
        ("https://admin.shopify.com/store/demo/apps/relance", "demo.myshopify.com"),
        ("evil.com", None),
        ("demo.myshopify.com.evil.com", None),
        ("evil.com/demo.myshopify.com", None),
        ("demo.myshopify.com/admin", None),
        ("demo.myshopify.com:443", None),
        ("-demo.myshopify.com", None),
        ("de_mo.myshopify.com", None),
        ("demo.myshopify.io", None),
        (".myshopify.com", None),
        ("admin.shopify.com/store/", None),
        ("admin.shopify.com/store/evil.com#", None),
        ("", None),
        (None, None),
    ],
)
def test_valid_shop_domain(given: str | None, expected: str | None) -> None:
    assert oauth.valid_shop_domain(given) == expected


def sign(message: str) -> str:
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_args() -> dict[str, Any]:
    # Shopify's canonical text: sorted pairs, array params as a JSON list, `&` and `%` escaped.
    message = f'code=abc&ids=["1", "2"]&shop={SHOP}&state=a%26b%25c&timestamp={STAMP}'
    return {
        "code": "abc",
        "shop": SHOP,
        "state": "a&b%c",
        "timestamp": STAMP,
        "ids[]": ["1", "2"],
        "hmac": sign(message),
    }


def test_query_hmac_accepts_a_real_signature_with_array_params() -> None:
    assert oauth.verify_query_hmac(signed_args(), SECRET, NOW)


def test_query_hmac_accepts_single_values_given_as_lists() -> None:
    args = {k: v if isinstance(v, list) else [v] for k, v in signed_args().items()}
    args["hmac"], args["timestamp"] = args["hmac"][0], args["timestamp"][0]
    assert oauth.verify_query_hmac(args, SECRET, NOW.timestamp())


@pytest.mark.parametrize(
    "change",
    [
        {"shop": "evil.myshopify.com"},
        {"ids[]": ["1", "3"]},
        {"extra": "x"},
        {"hmac": "0" * 64},
        {"hmac": None},
        {"code": ["abc", "def"]},
    ],
)
def test_query_hmac_rejects_tampering(change: dict[str, Any]) -> None:
    args = {**signed_args(), **change}
    args = {k: v for k, v in args.items() if v is not None}
    assert not oauth.verify_query_hmac(args, SECRET, NOW)


def test_query_hmac_rejects_another_secret() -> None:
    assert not oauth.verify_query_hmac(signed_args(), "another", NOW)


@pytest.mark.parametrize("offset", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(days=1)])
def test_query_hmac_rejects_stale_or_future_timestamps(offset: timedelta) -> None:
    assert not oauth.verify_query_hmac(signed_args(), SECRET, NOW + offset)


def test_query_hmac_max_age_is_configurable() -> None:
    assert oauth.verify_query_hmac(signed_args(), SECRET, NOW + timedelta(hours=1), max_age=86400)


def test_authorize_url_asks_for_an_offline_token() -> None:
    url = oauth.authorize_url(SHOP, API_KEY, ["read_orders", "write_discounts"], "https://r.test/cb", "n0nce")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", SHOP, "/admin/oauth/authorize")
    query = parse_qs(parts.query)
    assert query == {
        "client_id": [API_KEY],
        "scope": ["read_orders,write_discounts"],
        "redirect_uri": ["https://r.test/cb"],
        "state": ["n0nce"],
    }


def test_authorize_url_refuses_a_foreign_host() -> None:
    with pytest.raises(ValueError, match="not a shop domain"):
        oauth.authorize_url("evil.com", API_KEY, "read_orders", "https://r.test/cb", "n")


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


EXPIRING = {
    "access_token": "shpat_new",
    "scope": "read_orders,write_discounts",
    "expires_in": 3600,
    "refresh_token": "shprt_new",
    "refresh_token_expires_in": 7776000,
}


def posted(http: responses.RequestsMock) -> dict[str, Any]:
    body = http.calls[0].request.body
    assert body is not None
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def test_exchange_code_requests_an_expiring_offline_token(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, json=EXPIRING)
    tokens = oauth.exchange_code(requests.Session(), SHOP, API_KEY, SECRET, "c0de", now=NOW)
    assert posted(http) == {"client_id": API_KEY, "client_secret": SECRET, "code": "c0de", "expiring": "1"}
    assert tokens == oauth.TokenSet(
        "shpat_new",
        "read_orders,write_discounts",
        NOW + timedelta(hours=1),
        "shprt_new",
        NOW + timedelta(days=90),
    )


def test_exchange_code_can_ask_for_a_non_expiring_token(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, json={"access_token": "shpat_x", "scope": "read_orders"})
    tokens = oauth.exchange_code(requests.Session(), SHOP, API_KEY, SECRET, "c0de", expiring=False)
    assert "expiring" not in posted(http)
    assert (tokens.expires_at, tokens.refresh_token, tokens.refresh_expires_at) == (None, None, None)


def test_refresh_sends_the_refresh_grant(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, json=EXPIRING)
    tokens = oauth.refresh(requests.Session(), SHOP, API_KEY, SECRET, "shprt_old", now=NOW)
    body = posted(http)
    assert (body["grant_type"], body["refresh_token"]) == ("refresh_token", "shprt_old")
    assert tokens.refresh_token == "shprt_new"


def test_token_exchange_trades_a_session_token(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, json=EXPIRING)
    oauth.token_exchange(requests.Session(), SHOP, API_KEY, SECRET, "jwt.here")
    assert posted(http) == {
        "client_id": API_KEY,
        "client_secret": SECRET,
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": "jwt.here",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
        "expiring": "1",
    }


def test_migrate_to_expiring_exchanges_the_old_offline_token(http: responses.RequestsMock) -> None:
    http.post("http://127.0.0.1:8765/admin/oauth/access_token", json=EXPIRING)
    session = requests.Session()
    oauth.migrate_to_expiring(session, SHOP, API_KEY, SECRET, "shpat_old", api_origin="http://127.0.0.1:8765")
    body = posted(http)
    assert body["subject_token"] == "shpat_old"
    assert body["subject_token_type"] == body["requested_token_type"] == oauth.OFFLINE_TOKEN
    assert http.calls[0].request.headers["X-Shopify-Shop-Domain"] == SHOP


@pytest.mark.parametrize(
    ("status", "body", "code", "transient"),
    [
        (
            400,
            {"error": "invalid_request", "error_description": "code already used"},
            "invalid_request",
            False,
        ),
        (401, {"error": "invalid_client"}, "invalid_client", False),
        (503, "<html>down</html>", "http_503", True),
        (200, {"unexpected": True}, "http_200", False),
    ],
)
def test_token_failures_are_store_errors(
    http: responses.RequestsMock, status: int, body: Any, code: str, transient: bool
) -> None:
    if isinstance(body, str):
        http.post(TOKEN_URL, status=status, body=body)
    else:
        http.post(TOKEN_URL, status=status, json=body)
    with pytest.raises(StoreError) as raised:
        oauth.refresh(requests.Session(), SHOP, API_KEY, SECRET, "shprt_old")
    assert (raised.value.code, raised.value.transient) == (code, transient)
    assert SECRET not in str(raised.value)


def test_token_requests_refuse_a_foreign_host() -> None:
    with pytest.raises(ValueError, match="not a shop domain"):
        oauth.refresh(requests.Session(), "evil.com", API_KEY, SECRET, "shprt")


def session_token(**changes: Any) -> str:
    claims: dict[str, Any] = {
        "iss": f"https://{SHOP}/admin",
        "dest": f"https://{SHOP}",
        "aud": API_KEY,
        "sub": "42",
        "exp": int(NOW.timestamp()) + 60,
        "nbf": int(NOW.timestamp()) - 1,
        "iat": int(NOW.timestamp()) - 1,
        "jti": "b7c1f4a2",
        "sid": "s1",
    }
    claims.update(changes)
    key = claims.pop("key", SECRET)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="HS256")


def test_session_token_valid_with_bearer_prefix() -> None:
    claims = oauth.decode_session_token("Bearer " + session_token(), API_KEY, SECRET, now=NOW)
    assert claims["dest"] == f"https://{SHOP}" and claims["sub"] == "42"


def test_session_token_allows_ten_seconds_of_skew() -> None:
    token = session_token(exp=int(NOW.timestamp()) - 5, nbf=int(NOW.timestamp()) + 5)
    assert oauth.decode_session_token(token, API_KEY, SECRET, now=NOW)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"aud": "another-app"}, "(?i)audience"),
        ({"exp": int(NOW.timestamp()) - 11}, "expired"),
        ({"nbf": int(NOW.timestamp()) + 11}, "not yet valid"),
        ({"iss": "https://other.myshopify.com/admin"}, "same shop"),
        ({"dest": "https://evil.com", "iss": "https://evil.com/admin"}, "same shop"),
        ({"dest": f"http://{SHOP}", "iss": f"http://{SHOP}/admin"}, "same shop"),
        ({"dest": None}, "dest"),
        ({"key": "shpss_" + "0" * 32}, "Signature"),
    ],
)
def test_session_token_rejected(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(oauth.SessionTokenError, match=why):
        oauth.decode_session_token(session_token(**changes), API_KEY, SECRET, now=NOW)


def test_session_token_rejects_another_algorithm() -> None:
    token = jwt.encode({"aud": API_KEY}, "", algorithm="none")
    with pytest.raises(oauth.SessionTokenError):
        oauth.decode_session_token(token, API_KEY, SECRET, now=NOW)
