"""Alerts: the sales address for hot-lead emails and the daily digest, subscriptions to signed events (list,
add, edit, delete, send a test, new secret) and the delivery log."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import exc as sa_exc

from admin_ui.access import admin_url, principal, shop_id
from admin_ui.blueprint import bp
from admin_ui.support import db
from bridge.infra.web import context
from bridge.leads import rescore
from bridge.outreach import alert_settings, alerts
from campaigns.alerts import EVENT_TYPES, FORMATS

EVENT_NAMES = {
    "lead.tier_changed": lazy_gettext("A lead changed tier"),
    "lead.hot": lazy_gettext("A lead became hot"),
    "cart.abandoned": lazy_gettext("A cart was abandoned"),
    "cart.recovered": lazy_gettext("A cart was recovered"),
    "offer.sent": lazy_gettext("An offer was sent"),
    "offer.redeemed": lazy_gettext("An offer was redeemed"),
    "journey.exited": lazy_gettext("A journey ended"),
}
FORMAT_NAMES = {"json": lazy_gettext("Signed JSON"), "slack": lazy_gettext("Slack incoming webhook")}
CHANNEL_NAMES = {
    "webhook": lazy_gettext("webhook"),
    "slack": lazy_gettext("Slack"),
    "email": lazy_gettext("email"),
    "digest": lazy_gettext("digest"),
}


def _notice(done: str) -> str:
    notices = {
        "saved": lambda: _("Saved as a new version of the rules."),
        "unchanged": lambda: _("Nothing changed, so no new version was saved."),
        "tested": lambda: _("A test event was queued; its delivery shows in the log below in a moment."),
        "conflict": lambda: _("Someone saved a change at the same time. Reload the page and try again."),
    }
    return notices[done]() if done in notices else ""


def _render(status: int = 200, **extra: Any) -> tuple[str, int]:
    session, shop = db(), shop_id()
    current = alert_settings.view(session, shop)
    editing = extra.pop("editing", None) or request.args.get("edit", "")
    form = extra.pop("form", None) or next(
        (s for s in current["subscriptions"] if s["key"] == editing),
        {"events": [], "format": "json", "enabled": True},
    )
    html = render_template(
        "admin_ui/alerts.html",
        a=extra.pop("settings_form", None) or current,
        subscriptions=current["subscriptions"],
        form=form,
        editing=editing if any(s["key"] == editing for s in current["subscriptions"]) else "",
        deliveries=alerts.deliveries(session, shop, limit=50),
        event_types=[(t, EVENT_NAMES[t]) for t in EVENT_TYPES],
        event_names=EVENT_NAMES,
        formats=[(f, FORMAT_NAMES[f]) for f in FORMATS],
        channel_names=CHANNEL_NAMES,
        errors=extra.pop("errors", {}),
        secrets=extra.pop("secrets", {}),
        notice=_notice(request.args.get("done", "")),
        active="alerts",
        **extra,
    )
    return html, status


@bp.get("/alerts")
def alerts_page() -> tuple[str, int]:
    """The alerts settings, the subscriptions and the delivery log."""
    return _render()


@bp.post("/alerts/settings")
def alerts_settings_submit() -> ResponseReturnValue:
    """Save the sales address and the email options."""
    current = alert_settings.view(db(), shop_id())
    posted = {
        "sales_email": request.form.get("sales_email", "").strip() or None,
        "hot_email": request.form.get("hot_email") == "1",
        "digest": request.form.get("digest") == "1",
    }
    return _save({**current, **posted}, settings_form={**current, **posted})


@bp.post("/alerts/subscriptions")
def alerts_subscription_submit() -> ResponseReturnValue:
    """Add a subscription, or change the one named by `editing`."""
    current = alert_settings.view(db(), shop_id())
    editing = request.form.get("editing", "")
    posted = {
        "key": editing or request.form.get("key", "").strip(),
        "url": request.form.get("url", "").strip(),
        "events": request.form.getlist("events"),
        "format": request.form.get("format", "json"),
        "enabled": request.form.get("enabled") == "1",
    }
    subscriptions = [s for s in current["subscriptions"] if s["key"] != editing]
    index = next(
        (i for i, s in enumerate(current["subscriptions"]) if s["key"] == editing), len(subscriptions)
    )
    subscriptions.insert(index, posted)
    return _save({**current, "subscriptions": subscriptions}, form=posted, editing=editing, index=index)


@bp.post("/alerts/subscriptions/<key>/delete")
def alerts_subscription_delete(key: str) -> ResponseReturnValue:
    """Remove a subscription (its secret goes with it)."""
    current = alert_settings.view(db(), shop_id())
    kept = [s for s in current["subscriptions"] if s["key"] != key]
    if len(kept) == len(current["subscriptions"]):
        abort(404)
    return _save({**current, "subscriptions": kept})


@bp.post("/alerts/subscriptions/<key>/test")
def alerts_subscription_test(key: str) -> ResponseReturnValue:
    """Queue a test event to one subscription."""
    if alerts.send_test(context(), shop_id(), key) is None:
        abort(404)
    return redirect(admin_url("admin.alerts_page", done="tested"))


@bp.post("/alerts/subscriptions/<key>/secret")
def alerts_subscription_secret(key: str) -> ResponseReturnValue:
    """Replace a subscription's signing secret and show the new one, once."""
    secret = alert_settings.rotate(context(), db(), shop_id(), key, principal().actor)
    if secret is None:
        abort(404)
    db().commit()
    return _render(secrets={key: secret})


def _save(document: dict[str, Any], index: int | None = None, **shown: Any) -> ResponseReturnValue:
    session, shop = db(), shop_id()
    saved = alert_settings.save(context(), session, shop, document, principal().actor)
    if saved.errors:
        session.rollback()
        return _render(422, errors=_for_form(saved.errors, index), **shown)
    if saved.row is None:
        return redirect(admin_url("admin.alerts_page", done="unchanged"))
    version = saved.row.version
    try:
        session.commit()
    except sa_exc.IntegrityError:
        session.rollback()
        return redirect(admin_url("admin.alerts_page", done="conflict"))
    rescore.enqueue_rescore(context(), shop, version)
    if saved.secrets:  # shown once, on this page: never in a URL, never again
        return _render(secrets=saved.secrets)
    return redirect(admin_url("admin.alerts_page", done="saved"))


def _for_form(errors: dict[str, list[str]], index: int | None) -> dict[str, list[str]]:
    """Errors by the form's field names: `alerts.sales_email` → `sales_email`, the edited subscription's
    `alerts.subscriptions.3.url` → `url`; others keep their path."""
    prefix = f"alerts.subscriptions.{index}." if index is not None else None
    found: dict[str, list[str]] = {}
    for path, messages in errors.items():
        name = path.removeprefix("alerts.")
        if prefix and path.startswith(prefix):
            name = path.removeprefix(prefix).split(".")[0]
        found.setdefault(name, []).extend(messages)
    return found
