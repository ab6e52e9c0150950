"""Requests from inside the Shopify admin: App Bridge session tokens mapped to a shop, and framing rules.

App Bridge sends `Authorization: Bearer <session token>` on the app's own requests (and `id_token=` on
document loads). A token that does not verify gets 401 with `X-Shopify-Retry-Invalid-Session-Request: 1`,
which tells App Bridge to fetch a fresh token and retry (tokens only live a minute).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec
from urllib.parse import urlsplit

from flask import Response, g, jsonify, make_response, request
from flask.typing import ResponseReturnValue

from bridge.infra.context import Context
from bridge.infra.observability import frame_ancestors_header
from bridge.infra.web import context
from bridge.shops import registry
from connectors.shopify import oauth

RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"
P = ParamSpec("P")


def session_claims(ctx: Context, header_or_token: str | None) -> dict[str, Any] | None:
    """Verified claims of a session token (current or previous app secret), or None."""
    key = ctx.settings.shopify_api_key
    for secret in (ctx.settings.shopify_api_secret, ctx.settings.shopify_previous_secret):
        if not (secret and key and header_or_token):
            continue
        try:
            return oauth.decode_session_token(header_or_token, key, secret, now=ctx.now())
        except oauth.SessionTokenError:
            continue
    return None


def shop_domain(claims: dict[str, Any]) -> str:
    """The shop a verified session token speaks for (`decode_session_token` checked it is one)."""
    return str(urlsplit(str(claims["dest"])).hostname)


def shop_from_session_token(ctx: Context, authorization_header: str | None) -> int | None:
    """The id of the installed Shopify shop a session token belongs to, or None."""
    claims = session_claims(ctx, authorization_header)
    return None if claims is None else _installed_shop_id(ctx, claims)


def _installed_shop_id(ctx: Context, claims: dict[str, Any]) -> int | None:
    with ctx.sessions() as session:
        shop = registry.by_domain(session, "shopify", shop_domain(claims))
        if shop is None or shop.uninstalled_at is not None:
            return None
        return shop.id


def _presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header
    return request.args.get("id_token") or None


def session_token_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
    """Admin views: verify the session token, set `g.shop_id` and `g.shop_domain`, let the shop frame us."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        ctx = context()
        claims = session_claims(ctx, _presented_token())
        shop_id = _installed_shop_id(ctx, claims) if claims else None
        if claims is None or shop_id is None:
            response = jsonify(error="invalid or expired Shopify session token")
            response.status_code = 401
            response.headers[RETRY_HEADER] = "1"
            return response
        g.shop_id, g.shop_domain = shop_id, shop_domain(claims)
        response = make_response(view(*args, **kwargs))
        response.headers["Content-Security-Policy"] = frame_ancestors_header(g.shop_domain)
        return response

    return wrapper
