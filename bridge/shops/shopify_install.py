"""The Shopify app's install: the code grant, and the token exchange for the embedded admin.

Checks run before anything is written: a request that fails one gets a 4xx with the reason and leaves
the database as it was. Slow store calls (shop details, webhook subscriptions, pixel) run in a job
(bridge.shops.shopify_setup).
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

import requests
import sqlalchemy as sa
from flask import Blueprint, Response, abort, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from sqlalchemy import exc as sa_exc

from bridge.db import transaction
from bridge.db.models import Nonce
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.infra.web import context
from bridge.shops import sessions, tokens
from connectors.base import StoreError
from connectors.shopify import oauth

bp = Blueprint("shopify_app", __name__)

SCOPES = oauth.SCOPES
SHOP_SUFFIX = ".myshopify.com"
STATE_PURPOSE = "shopify_state"
STATE_TTL = timedelta(minutes=10)


@bp.get("/install/shopify")
def install() -> ResponseReturnValue:
    """Start the code grant: validate the shop, remember a one-time state, send the merchant to Shopify."""
    ctx = _configured()
    shop = oauth.valid_shop_domain(request.args.get("shop"))
    if shop is None:
        abort(400, "shop must be a shop domain such as example.myshopify.com")
    if "hmac" in request.args and not signed_by_shopify(ctx):
        abort(401, "the request signature (hmac) is invalid or too old")
    state, now = secrets.token_urlsafe(32), ctx.now()
    with transaction(ctx.sessions) as session:
        session.execute(sa.delete(Nonce).where(Nonce.purpose == STATE_PURPOSE, Nonce.expires_at <= now))
        session.add(Nonce(value=state, purpose=STATE_PURPOSE, subject=shop, expires_at=now + STATE_TTL))
    redirect_uri = f"{ctx.settings.public_url}/auth/shopify/callback"
    target = oauth.authorize_url(shop, ctx.settings.shopify_api_key, SCOPES, redirect_uri, state)
    return redirect(target, 302)


@bp.get("/auth/shopify/callback")
def callback() -> ResponseReturnValue:
    """Finish the code grant: check signature, shop and state, trade the code for an expiring token."""
    ctx = _configured()
    if not signed_by_shopify(ctx):
        abort(401, "the callback signature (hmac) is invalid or too old")
    shop = oauth.valid_shop_domain(request.args.get("shop"))
    if shop is None:
        abort(400, "shop must be a shop domain such as example.myshopify.com")
    if not _take_state(ctx, request.args.get("state", ""), shop):
        abort(400, "unknown, used or expired state: start the installation again")
    code = request.args.get("code") or abort(400, "the callback carries no authorization code")
    try:
        granted = _grant(ctx, oauth.exchange_code, shop, code)  # expiring=True is its default
    except StoreError as exc:
        abort(502 if exc.transient else 400, f"Shopify did not accept the authorization code: {exc}")
    finish_install(ctx, shop, granted)
    return redirect(admin_url(ctx, shop, request.args.get("host")), 302)


@bp.route("/auth/shopify/session", methods=["GET", "POST"])
def session_token() -> ResponseReturnValue:
    """Embedded admin's first load: trade a verified session token for an expiring offline token (once)."""
    ctx = _configured()
    presented = request.headers.get("Authorization", "") or request.args.get("id_token", "")
    claims = sessions.session_claims(ctx, presented)
    if claims is None:
        return _retry_session("invalid or expired Shopify session token")
    shop = sessions.shop_domain(claims)
    exchanged = not tokens.has_live_token(ctx, shop)
    if exchanged:
        raw = presented.strip().removeprefix("Bearer ").strip()
        try:
            granted = _grant(ctx, oauth.token_exchange, shop, raw)
        except StoreError as exc:
            if exc.transient:
                abort(502, "Shopify's token endpoint is unavailable, try again")
            return _retry_session(f"Shopify refused the session token: {exc.code}")
        finish_install(ctx, shop, granted)
    if request.method == "GET":
        return redirect(admin_url(ctx, shop, request.args.get("host")), 302)
    return jsonify(ok=True, shop=shop, exchanged=exchanged)


def _configured() -> Context:
    ctx = context()
    if not (ctx.settings.shopify_api_key and ctx.settings.shopify_api_secret):
        abort(503, "the Shopify app is not configured (SHOPIFY_API_KEY, SHOPIFY_API_SECRET)")
    return ctx


class TokenTrade(Protocol):
    """One of Shopify's token endpoints (`oauth.exchange_code`, `oauth.token_exchange`)."""

    def __call__(
        self,
        session: requests.Session,
        shop: str,
        api_key: str,
        secret: str,
        value: str,
        /,
        *,
        api_origin: str | None = None,
        now: datetime | None = None,
    ) -> oauth.TokenSet: ...


def _grant(ctx: Context, trade: TokenTrade, shop: str, value: str) -> oauth.TokenSet:
    """Call one of Shopify's token endpoints (code grant, token exchange) with our app credentials."""
    s = ctx.settings
    with requests.Session() as http:
        return trade(
            http, shop, s.shopify_api_key, s.shopify_api_secret, value,
            api_origin=s.shopify_api_origin or None, now=ctx.now(),
        )  # fmt: skip


def _retry_session(message: str) -> tuple[Response, int]:
    response = jsonify(error=message)
    response.headers[sessions.RETRY_HEADER] = "1"
    return response, 401


def signed_by_shopify(ctx: Context) -> bool:
    """True when this request's query string is signed by Shopify (current or previous secret) and fresh."""
    args = {k: (v if k.endswith("[]") or len(v) > 1 else v[0]) for k, v in request.args.lists()}
    found = (ctx.settings.shopify_api_secret, ctx.settings.shopify_previous_secret)
    return any(oauth.verify_query_hmac(args, secret, ctx.now()) for secret in found if secret)


def _take_state(ctx: Context, state: str, shop: str) -> bool:
    """Consume the state nonce issued for this shop; False if unknown, used or expired."""
    if not state:
        return False
    with transaction(ctx.sessions) as session:
        taken = session.execute(
            sa.delete(Nonce).where(
                Nonce.value == state,
                Nonce.purpose == STATE_PURPOSE,
                Nonce.subject == shop,
                Nonce.expires_at > ctx.now(),
            )
        )
        return cast(sa.CursorResult[Any], taken).rowcount == 1


def admin_url(ctx: Context, shop: str, host: str | None = None) -> str:
    """Relance's page inside the shop's Shopify admin (`https://{decoded host}/apps/{client id}`).

    Landing on our own /admin/ after an install would show the standalone sign-in page: the embedded
    page only opens inside the admin, which loads it with a session token. Without a usable `host`,
    the shop's page on admin.shopify.com is built from its name.
    """
    base = _admin_host(shop, host) or f"admin.shopify.com/store/{shop.removesuffix(SHOP_SUFFIX)}"
    return f"https://{base}/apps/{ctx.settings.shopify_api_key}"


def _admin_host(shop: str, host: str | None) -> str | None:
    """Shopify's `host` parameter decoded, when it is this shop's admin (never another site)."""
    try:
        decoded = base64.b64decode(
            _padded(host or "").replace("-", "+").replace("_", "/"), validate=True
        ).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    name = shop.removesuffix(SHOP_SUFFIX)
    return decoded if decoded in (f"admin.shopify.com/store/{name}", f"{shop}/admin") else None


def _padded(text: str) -> str:
    return text + "=" * (-len(text) % 4)


def finish_install(ctx: Context, domain: str, granted: oauth.TokenSet) -> int:
    """Store the shop's tokens (same row on reinstall) and queue its setup job; the shop's id."""
    version = ctx.settings.shopify_api_version
    for attempt in range(2):
        try:
            with transaction(ctx.sessions) as session:
                shop_id = tokens.save_offline_token(
                    session, ctx.vault, domain, granted, ctx.now(), version
                ).id
            break
        except sa_exc.IntegrityError:  # the same shop installing twice at once: the second one updates
            if attempt:
                raise
    ctx.signers.forget()
    job_id = jobnames.setup_shop_id(shop_id)
    queue.enqueue(ctx.redis, jobnames.SETUP_SHOP, shop_id, job_id=job_id, queue=queue.MAINTENANCE)
    return shop_id
