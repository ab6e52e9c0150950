"""Shopify install and token helpers: shop validation, signed queries, code grant, expiring tokens, JWTs.

The HTTP helpers take a `requests.Session` and an optional `api_origin` (settings `SHOPIFY_API_ORIGIN`)
that replaces `https://{shop}` for a local mock store; the shop is then sent in `X-Shopify-Shop-Domain`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests

from connectors.base import StoreError

SHOP_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
ADMIN_STORE_PREFIX = "admin.shopify.com/store/"
# OAuth URNs, not secrets
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105
# What Relance asks the merchant for; shopify.app.toml's [access_scopes] must say the same (a test checks).
# read_orders covers carts/*, checkouts/*, orders/* and abandonedCheckouts; write_customers writes marketing
# consent back (customerEmailMarketingConsentUpdate); write_pixels and read_customer_events run the pixel;
# read_locales reads the shop's primary locale (shopLocales), the language messages fall back to;
# read_products describes, once each, the products leads view, add and buy (product(id:)).
SCOPES = (
    "read_customers",
    "write_customers",
    "read_orders",
    "write_discounts",
    "write_pixels",
    "read_customer_events",
    "read_locales",
    "read_products",
)
LEEWAY = 10  # seconds of clock skew allowed on session tokens, as both Shopify libraries do
TIMEOUT = (5.0, 20.0)


class SessionTokenError(ValueError):
    """A session token (App Bridge ID token) that must not be trusted."""


@dataclass(frozen=True)
class TokenSet:
    """An access token as Shopify issued it; the expiry fields are None for non-expiring tokens."""

    access_token: str
    scope: str
    expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None


def valid_shop_domain(value: str | None) -> str | None:
    """The shop's `x.myshopify.com` domain from user input, or None when it is not one."""
    text = (value or "").strip().lower()
    for scheme in ("https://", "http://"):
        text = text.removeprefix(scheme)
    if text.startswith(ADMIN_STORE_PREFIX):
        text = text.removeprefix(ADMIN_STORE_PREFIX).split("/", 1)[0] + ".myshopify.com"
    text = text.rstrip("/")
    return text if SHOP_PATTERN.fullmatch(text) else None


def _epoch(now: datetime | float) -> float:
    return now.timestamp() if isinstance(now, datetime) else float(now)


def _signed_message(args: Mapping[str, str | Sequence[str]]) -> str | None:
    """Shopify's canonical `k=v&...` text over every parameter except hmac/signature (None if malformed)."""
    pairs = []
    for key, raw in args.items():
        if key in ("hmac", "signature"):
            continue
        if key.endswith("[]"):
            values = [raw] if isinstance(raw, str) else list(raw)
            key, value = key[:-2], json.dumps([str(v) for v in values])
        elif isinstance(raw, str):
            value = raw
        elif len(raw) == 1:
            value = str(raw[0])
        else:
            return None  # a repeated plain parameter is ambiguous: refuse it
        key = key.replace("%", "%25").replace("=", "%3D")
        pairs.append(f"{key}={value.replace('%', '%25')}".replace("&", "%26"))
    return "&".join(sorted(pairs))


def verify_query_hmac(
    args: Mapping[str, str | Sequence[str]], secret: str, now: datetime | float, max_age: float = 300
) -> bool:
    """True when a Shopify-signed query string (install, callback, admin load) is authentic and fresh."""
    sent = args.get("hmac")
    stamp = args.get("timestamp")
    if not isinstance(sent, str) or not isinstance(stamp, str) or not stamp.isdigit():
        return False
    if abs(_epoch(now) - int(stamp)) > max_age:
        return False
    message = _signed_message(args)
    if message is None:
        return False
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sent.lower())


def _origin(shop: str, api_origin: str | None) -> str:
    if valid_shop_domain(shop) != shop:
        raise ValueError(f"not a shop domain: {shop!r}")
    return (api_origin or f"https://{shop}").rstrip("/")


def authorize_url(
    shop: str,
    api_key: str,
    scopes: Sequence[str] | str,
    redirect_uri: str,
    state: str,
    api_origin: str | None = None,
) -> str:
    """Where to send the merchant to approve the app (offline token: no per-user grant option)."""
    scope = scopes if isinstance(scopes, str) else ",".join(scopes)
    query = urlencode({"client_id": api_key, "scope": scope, "redirect_uri": redirect_uri, "state": state})
    return f"{_origin(shop, api_origin)}/admin/oauth/authorize?{query}"


def _token_set(body: Mapping[str, Any], now: datetime) -> TokenSet:
    def after(seconds: Any) -> datetime | None:
        return now + timedelta(seconds=int(seconds)) if seconds else None

    return TokenSet(
        access_token=str(body["access_token"]),
        scope=str(body.get("scope", "")),
        expires_at=after(body.get("expires_in")),
        refresh_token=body.get("refresh_token"),
        refresh_expires_at=after(body.get("refresh_token_expires_in")),
    )


def _request_token(
    session: requests.Session, shop: str, body: dict[str, str], api_origin: str | None, now: datetime | None
) -> TokenSet:
    """POST to /admin/oauth/access_token and read the token; failures become StoreError."""
    url = f"{_origin(shop, api_origin)}/admin/oauth/access_token"
    headers = {"Accept": "application/json", "X-Shopify-Shop-Domain": shop}
    try:
        response = session.post(url, json=body, headers=headers, timeout=TIMEOUT)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise StoreError(f"Shopify token endpoint unreachable: {type(exc).__name__}", transient=True) from exc
    status = response.status_code
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    if status >= 400 or "access_token" not in answer:
        code = str(answer.get("error") or f"http_{status}")
        detail = answer.get("error_description") or code
        raise StoreError(
            f"Shopify refused the token request: {detail}",
            transient=status >= 500 or status == 429,
            code=code,
        )
    return _token_set(answer, now or datetime.now(UTC))


def exchange_code(
    session: requests.Session,
    shop: str,
    api_key: str,
    secret: str,
    code: str,
    expiring: bool = True,
    *,
    api_origin: str | None = None,
    now: datetime | None = None,
) -> TokenSet:
    """Trade an authorization code for an offline token (expiring, with a refresh token, by default)."""
    body = {"client_id": api_key, "client_secret": secret, "code": code}
    if expiring:
        body["expiring"] = "1"
    return _request_token(session, shop, body, api_origin, now)


def refresh(
    session: requests.Session,
    shop: str,
    api_key: str,
    secret: str,
    refresh_token: str,
    *,
    api_origin: str | None = None,
    now: datetime | None = None,
) -> TokenSet:
    """A new access/refresh token pair for an expiring offline token; persist both at once."""
    body = {"client_id": api_key, "client_secret": secret, "grant_type": "refresh_token"}
    body["refresh_token"] = refresh_token
    return _request_token(session, shop, body, api_origin, now)


def _exchange(subject: str, subject_type: str, api_key: str, secret: str) -> dict[str, str]:
    return {
        "client_id": api_key,
        "client_secret": secret,
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject,
        "subject_token_type": subject_type,
        "requested_token_type": OFFLINE_TOKEN,
        "expiring": "1",
    }


def token_exchange(
    session: requests.Session,
    shop: str,
    api_key: str,
    secret: str,
    session_token: str,
    *,
    api_origin: str | None = None,
    now: datetime | None = None,
) -> TokenSet:
    """Trade a verified App Bridge session token for an expiring offline token (Shopify-managed install)."""
    body = _exchange(session_token, ID_TOKEN, api_key, secret)
    return _request_token(session, shop, body, api_origin, now)


def migrate_to_expiring(
    session: requests.Session,
    shop: str,
    api_key: str,
    secret: str,
    old_token: str,
    *,
    api_origin: str | None = None,
    now: datetime | None = None,
) -> TokenSet:
    """Swap a non-expiring offline token for an expiring one (the old token stops working)."""
    body = _exchange(old_token, OFFLINE_TOKEN, api_key, secret)
    return _request_token(session, shop, body, api_origin, now)


def _host_shop(url: Any) -> str | None:
    host = urlsplit(str(url)).hostname if isinstance(url, str) and url.startswith("https://") else None
    return host if host and valid_shop_domain(host) == host else None


def decode_session_token(
    header_or_token: str, api_key: str, secret: str, now: datetime | float | None = None
) -> dict[str, Any]:
    """Verified claims of an App Bridge session token (HS256, aud = API key, iss/dest on one shop)."""
    token = header_or_token.strip().removeprefix("Bearer ").strip()
    options: Any = {
        "require": ["iss", "dest", "aud", "exp", "nbf"],
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
    }
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], audience=api_key, options=options
        )
    except jwt.PyJWTError as exc:
        raise SessionTokenError(f"invalid session token: {exc}") from exc
    moment = _epoch(now) if now is not None else datetime.now(UTC).timestamp()
    if float(claims["exp"]) <= moment - LEEWAY:
        raise SessionTokenError("session token expired")
    if max(float(claims["nbf"]), float(claims.get("iat", 0))) > moment + LEEWAY:
        raise SessionTokenError("session token not yet valid")
    shop = _host_shop(claims["dest"])
    if shop is None or _host_shop(claims["iss"]) != shop:
        raise SessionTokenError("session token issuer and destination are not the same shop")
    return claims
