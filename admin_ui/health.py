"""Plumbing health: queues, failed jobs, pending events, the sweep, and the store connection."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from redis.exceptions import RedisError
from rq.registry import FailedJobRegistry

from admin_ui.access import admin_url, shop_id
from admin_ui.blueprint import bp
from admin_ui.support import audit, db
from bridge.db.models import Cart, Event, Shop
from bridge.infra import jobnames, queue
from bridge.infra.web import context
from bridge.outreach.sweep import LAST_SWEEP_KEY
from bridge.shops import registry, updates

NOTICES = {
    "queued": lazy_gettext("Webhook registration was queued; the status below updates once the job ran."),
    "unavailable": lazy_gettext("Webhooks cannot be re-registered for this shop (see the note below)."),
    "redis_down": lazy_gettext("The job queue is unreachable; try again in a moment."),
}


def _queues() -> dict[str, Any]:
    redis = context().redis
    try:
        depths = queue.queue_depths(redis)
        failed = {name: FailedJobRegistry(name, connection=redis).count for name in queue.QUEUES}
    except (RedisError, OSError):
        return {"reachable": False, "rows": []}
    rows = [{"name": name, "waiting": depths[name], "failed": failed[name]} for name in queue.QUEUES]
    return {"reachable": True, "rows": rows}


def _sweep_run() -> datetime | None:
    """When the abandonment sweep last ran (it records the time in Redis); else None."""
    with contextlib.suppress(Exception):
        raw = context().redis.get(LAST_SWEEP_KEY)
        if raw:
            return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else str(raw))
    return None


def registration_job(shop: Shop) -> tuple[str | None, str, str]:
    """(job name, job id, why not) of the platform's webhook registration for this shop."""
    if (shop.state or {}).get("demo"):
        return (
            None,
            "",
            gettext("The demo store has no webhooks to register: the demo signs and plays its own."),
        )
    if shop.uninstalled_at is not None:
        return None, "", gettext("The shop has uninstalled Relance.")
    if shop.platform == "shopify":
        return jobnames.SETUP_SHOP, jobnames.setup_shop_id(shop.id), ""
    if shop.platform == "woocommerce":
        return jobnames.REGISTER_WOO_WEBHOOKS, jobnames.register_woo_webhooks_id(shop.id, "admin"), ""
    return (
        None,
        "",
        gettext("No webhook registration exists for platform %(platform)s.", platform=shop.platform),
    )


def _store(shop: Shop) -> dict[str, Any]:
    state = shop.state or {}
    hooks = state.get("woo_webhooks") if shop.platform == "woocommerce" else state.get("webhooks")
    return {
        "platform": shop.platform,
        "domain": shop.domain,
        "demo": bool(state.get("demo")),
        "installed_at": shop.installed_at,
        "uninstalled_at": shop.uninstalled_at,
        "has_token": bool(shop.access_token_enc or shop.consumer_key_enc),
        "token_expires_at": shop.token_expires_at,
        "refresh_expires_at": shop.refresh_expires_at,
        "refresh_ok": shop.refresh_expires_at is None or shop.refresh_expires_at > context().now(),
        "hooks": hooks or {},
        "scopes": state.get(updates.SCOPE, ""),
        "disconnected_at": shop.disconnected_at,
        "reconnect_url": reconnect_url(shop),
    }


def reconnect_url(shop: Shop) -> str:
    """The install link that gives Relance new WooCommerce REST keys for this store."""
    public = context().settings.public_url.rstrip("/")
    return f"{public}/install/woocommerce?{urlencode({'store_url': shop.domain})}"


@bp.get("/health")
def health() -> str:
    """Queues, failed jobs, oldest pending event, last sweep, store connection, API access."""
    return _health_page()


def _health_page(new_api_key: str = "") -> str:
    session, shop_key = db(), shop_id()
    shop = session.get(Shop, shop_key)
    assert shop is not None
    oldest = session.scalar(
        sa.select(sa.func.min(Event.received_at)).where(Event.shop_id == shop_key, Event.status == "pending")
    )
    failed_events = session.scalar(
        sa.select(sa.func.count()).where(Event.shop_id == shop_key, Event.status == "failed")
    )
    last_abandoned = session.scalar(sa.select(sa.func.max(Cart.abandoned_at)).where(Cart.shop_id == shop_key))
    job, _, why_not = registration_job(shop)
    return render_template(
        "admin_ui/health.html",
        queues=_queues(),
        oldest_pending=oldest,
        failed_events=failed_events or 0,
        last_abandoned=last_abandoned,
        sweep_run=_sweep_run(),
        store=_store(shop),
        withheld=updates.redacted_summary(shop),
        can_register=job is not None,
        why_not=why_not,
        notice=str(NOTICES.get(request.args.get("done", ""), "")),
        new_api_key=new_api_key,
        active="health",
    )


@bp.post("/health/api-key")
def rotate_api_key() -> ResponseReturnValue:
    """A new API key for the JSON API, shown once on this answer (never in a URL, never stored in clear)."""
    shop = db().get(Shop, shop_id())
    assert shop is not None
    key = registry.new_api_key(shop)
    audit("api_key.replaced")
    db().commit()
    response = make_response(_health_page(new_api_key=key))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/health/webhooks")
def reregister_webhooks() -> ResponseReturnValue:
    """Queue the platform's webhook registration job for this shop."""
    shop = db().get(Shop, shop_id())
    assert shop is not None
    job, job_id, _ = registration_job(shop)
    if job is None:
        return redirect(admin_url("admin.health", done="unavailable"))
    audit("webhooks.reregister", platform=shop.platform)
    db().commit()
    queued = queue.enqueue(context().redis, job, shop.id, job_id=job_id, queue=queue.MAINTENANCE)
    return redirect(admin_url("admin.health", done="queued" if queued else "redis_down"))
