"""WooCommerce install (key exchange through /wc-auth) and the companion plugin's signed cart events."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, redirect, render_template_string, request, session
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import Nonce, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.infra.crypto import Vault, new_key
from bridge.infra.web import context
from bridge.shops import registry, woo_access
from bridge.shops.stores import make_client
from connectors.base import StoreError

log = logging.getLogger(__name__)
bp = Blueprint("woo_app", __name__)

PENDING, CLAIMED, DONE, FAILED = "woo_install", "woo_claimed", "woo_done", "woo_failed"
KEY_FIELDS = ("user_id", "consumer_key", "consumer_secret")
NONCE_TTL = timedelta(hours=1)


@bp.get("/install/woocommerce")
def install() -> ResponseReturnValue:
    """Send the merchant to the store's own key-exchange page with a one-time user_id.

    Only for a store the operator allowed, at a public internet address (bridge.shops.woo_access). An install
    link opens a page whose button starts the install (POST): a mail scanner or a chat's link preview that
    fetches the link does not use it up.
    """
    ctx = context()
    invite = request.args.get("invite", "")
    try:
        store = woo_access.admit(ctx, request.args.get("store_url"), invite, request.remote_addr, spend=False)
    except woo_access.Refused as exc:
        return jsonify(error=str(exc)), exc.status
    if invite and not woo_access.allow_listed(ctx.settings, store):
        html = render_template_string(_CONFIRM, store=store, invite=invite)
        return html, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return _start(ctx, store)


@bp.post("/install/woocommerce")
def install_confirmed() -> ResponseReturnValue:
    """The install link's button: the link is used up here, and the install starts."""
    ctx = context()
    try:
        store = woo_access.admit(
            ctx, request.form.get("store_url"), request.form.get("invite", ""), request.remote_addr
        )
    except woo_access.Refused as exc:
        return jsonify(error=str(exc)), exc.status
    return _start(ctx, store)


def _start(ctx: Context, store: str) -> ResponseReturnValue:
    nonce, now = secrets.token_urlsafe(32), ctx.now()
    with transaction(ctx.sessions) as db:
        db.execute(
            sa.delete(Nonce).where(
                Nonce.purpose.in_((PENDING, CLAIMED, DONE, FAILED, *woo_access.INVITES)),
                Nonce.expires_at < now,
            )
        )
        db.add(Nonce(value=nonce, purpose=PENDING, subject=store, expires_at=now + NONCE_TTL))
    session["woo_install"] = nonce  # only this browser is shown the setup values afterwards
    public = ctx.settings.public_url.rstrip("/")
    params = {
        "app_name": "Relance",
        "scope": "read_write",
        "user_id": nonce,
        "return_url": f"{public}/install/woocommerce/done",
        "callback_url": f"{public}/auth/woocommerce/callback",
    }
    return redirect(f"{store}/wc-auth/v1/authorize?{urlencode(params)}")


@bp.post("/auth/woocommerce/callback")
def callback() -> Response | tuple[Response, int]:
    """The store posts the new keys here (unsigned): accept them for a live one-time user_id only."""
    ctx = context()
    keys = request.get_json(silent=True, force=True)
    if not isinstance(keys, dict) or not all(_short_text(keys.get(f)) for f in KEY_FIELDS):
        return jsonify(error="expected JSON with user_id, consumer_key and consumer_secret"), 400
    if keys.get("key_permissions", "read_write") != "read_write":
        return jsonify(error="Relance needs read_write access to create coupons and webhooks"), 400
    store = _claim(ctx, keys["user_id"])
    if store is None:
        return jsonify(error="unknown, expired or already used installation; start again from Relance"), 401
    # Answering anything but 200 makes WooCommerce delete the keys: right when they do not work.
    client = make_client(ctx, store, keys["consumer_key"], keys["consumer_secret"], timeout=10, attempts=2)
    try:
        client.check_credentials()
    except StoreError as exc:
        message, status = _check_failure(store, exc)
        _finish(ctx, keys["user_id"], FAILED, message)
        return jsonify(error=message), status
    shop_id = _save(ctx, store, keys)
    # Registration calls the store several times: a job, so the store gets its 200 well within 60 s.
    # If Redis is down, the periodic reconciliation registers the missing webhooks.
    job_id = jobnames.register_woo_webhooks_id(shop_id, secrets.token_hex(4))
    queue.enqueue(ctx.redis, jobnames.REGISTER_WOO_WEBHOOKS, shop_id, job_id=job_id, queue=queue.MAINTENANCE)
    return jsonify(ok=True)


def _save(ctx: Context, store: str, keys: dict[str, str]) -> int:
    """Store the shop and its keys, and what the merchant's return page shows; the shop's id."""
    with transaction(ctx.sessions) as db:
        shop, api_key = upsert_shop(
            db, ctx.vault, store, keys["consumer_key"], keys["consumer_secret"], ctx.now()
        )
        shop_id, shop_key = shop.id, shop.shop_key
    ctx.signers.forget()
    _finish(ctx, keys["user_id"], DONE, ctx.vault.encrypt(json.dumps({"k": shop_key, "a": api_key})) or "")
    log.info("woocommerce shop %s installed", shop_id)
    return shop_id


def upsert_shop(
    db: Session, vault: Vault, store: str, consumer_key: str, consumer_secret: str, now: datetime
) -> tuple[Shop, str | None]:
    """Create the shop or refresh its REST keys (the rest is kept); the API key when it is new."""
    shop = registry.by_domain(db, "woocommerce", store)
    api_key = None
    if shop is None:
        api_key = new_key("rl_")
        shop = registry.new_shop("woocommerce", store, urlsplit(store).netloc, "wc/v3", api_key)
        db.add(shop)
    shop.consumer_key_enc = vault.encrypt(consumer_key)
    shop.consumer_secret_enc = vault.encrypt(consumer_secret)
    if not shop.webhook_secret_enc:  # kept on reinstall: the plugin's signing keeps working
        shop.webhook_secret_enc = vault.encrypt(registry.new_webhook_secret())
    shop.installed_at, shop.uninstalled_at = now, None
    shop.disconnected_at = None  # new keys: reconnected (store name, zone and currency are read right after)
    db.flush()
    return shop, api_key


def _short_text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= 255


def _claim(ctx: Context, value: str) -> str | None:
    """The store URL of a live install nonce, which this call uses up; None when it is not live."""
    with transaction(ctx.sessions) as db:
        row = db.get(Nonce, value)
        if row is None or row.purpose != PENDING or row.expires_at <= ctx.now():
            return None
        store = row.subject
        used = db.execute(
            sa.update(Nonce)
            .where(Nonce.value == value, Nonce.purpose == PENDING)
            .values(purpose=CLAIMED)
            .execution_options(synchronize_session=False)
        )
        return store if cast(sa.CursorResult[Any], used).rowcount == 1 else None


def _finish(ctx: Context, value: str, purpose: str, subject: str) -> None:
    """Keep the outcome under the nonce for the page the merchant lands on."""
    with transaction(ctx.sessions) as db:
        db.execute(
            sa.update(Nonce)
            .where(Nonce.value == value)
            .values(purpose=purpose, subject=subject[:255], expires_at=ctx.now() + NONCE_TTL)
        )


def _check_failure(store: str, exc: StoreError) -> tuple[str, int]:
    if exc.code == "unauthorized":
        return f"{store} refused the API keys it sent; nothing was stored, please try again", 401
    if exc.code in ("network", "request_failed"):
        return f"Relance could not reach {store}; nothing was stored, please try again", 502
    return f"{store} did not answer its REST API as expected ({exc.code or 'error'}); is it reachable?", 502


@bp.get("/install/woocommerce/done")
def done() -> Page:
    """The page the store sends the merchant back to: the outcome and the plugin's setup values."""
    ctx = context()
    user_id = request.args.get("user_id", "")[:128]
    if request.args.get("success") != "1":
        return _page(NOT_CONNECTED, "Access was declined in WooCommerce; nothing was stored.", 200)
    with ctx.sessions() as db:
        row = db.get(Nonce, user_id) if user_id else None
        if row is None or row.expires_at <= ctx.now():
            return _page("Unknown installation", "This link is unknown or expired; please install again.")
        if row.purpose != DONE:
            reason = row.subject if row.purpose == FAILED else "Relance did not receive your store's keys."
            return _page(NOT_CONNECTED, f"{reason} Please start the installation again.")
        found = json.loads(ctx.vault.decrypt(row.subject) or "{}")
        shop = registry.by_key(db, found.get("k", ""))
        if shop is None:
            return _page("Unknown installation", "This shop is no longer connected.")
        if session.get("woo_install") != user_id:  # a leaked link shows no secret
            return _page(CONNECTED, f"{shop.domain} is connected. {OTHER_BROWSER}", 200)
        values = {
            "Bridge URL": ctx.settings.public_url.rstrip("/"),
            "Shop key": shop.shop_key,
            "Signing secret": ctx.vault.decrypt(shop.webhook_secret_enc) or "",
        }
        if found.get("a"):
            values["Relance API key (shown for this installation only: keep it safe)"] = found["a"]
        message = f"{shop.domain} is connected. In WordPress, open Settings → Relance and paste:"
        return _page(CONNECTED, message, 200, values)


CONNECTED, NOT_CONNECTED = "Relance is connected", "Relance was not connected"
OTHER_BROWSER = "Open this page in the browser that started the installation to see the plugin's settings."
_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem">
<h1>{{ title }}</h1><p>{{ message }}</p>
{% if values %}<dl>{% for name, value in values.items() %}<dt><strong>{{ name }}</strong></dt>
<dd><code style="user-select:all;word-break:break-all">{{ value }}</code></dd>{% endfor %}</dl>
<p>Webhooks for orders and customers are being registered on your store.</p>{% endif %}
</body></html>"""


_CONFIRM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Connect Relance</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem">
<h1>Connect {{ store }} to Relance</h1>
<p>Your store will ask you to approve Relance's access to its REST API. This link works once.</p>
<form method="post" action="/install/woocommerce">
<input type="hidden" name="store_url" value="{{ store }}">
<input type="hidden" name="invite" value="{{ invite }}">
<button type="submit">Continue to my store</button></form>
</body></html>"""

Page = tuple[str, int, dict[str, str]]


def _page(title: str, message: str, status: int = 400, values: dict[str, str] | None = None) -> Page:
    """A small page that is never cached and never leaks its address as a referrer."""
    html = render_template_string(_PAGE, title=title, message=message, values=values or {})
    return html, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
